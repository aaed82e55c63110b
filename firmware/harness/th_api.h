/*
 * The submitter-implemented API ("th_*"): what the harness needs from a
 * port. tinygen generates the implementation per board and benchmark from
 * templates/port/submitter_implemented.c.j2; the generated
 * submitter_implemented.h includes this file.
 */
#ifndef TH_API_H
#define TH_API_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Benchmark hooks. */
void th_load_tensor(void);
void th_results(void);
void th_infer(void);
void th_timestamp(void);
void th_pre(void);
void th_post(void);

/* Initialization, in this order, from ee_benchmark_initialize. */
void th_serialport_initialize(void);
void th_timestamp_initialize(void);
void th_final_initialize(void);

/* Console. */
void th_printf(const char *fmt, ...);
int th_vprintf(const char *format, va_list ap);
char th_getchar(void);
void th_command_ready(char volatile *p_command);

/* Thin libc wrappers, so a harness needs nothing else from the C library. */
int th_strncmp(const char *str1, const char *str2, size_t n);
char *th_strncpy(char *dest, const char *src, size_t n);
size_t th_strnlen(const char *str, size_t maxlen);
char *th_strcat(char *dest, const char *src);
char *th_strtok(char *str1, const char *sep);
int th_atoi(const char *str);
void *th_memset(void *b, int c, size_t len);
void *th_memcpy(void *dst, const void *src, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* TH_API_H */
