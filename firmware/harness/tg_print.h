/*
 * Text formatting for the port without newlib's printf (which is large,
 * and its float support larger still). Used by the generated
 * submitter_implemented.c, never by the harness itself.
 */
#ifndef TG_PRINT_H
#define TG_PRINT_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A subset of printf: %% %c %s %d %i %u %x %X with optional '0' flag,
 * width and the l, ll and z length modifiers. Writes at most cap - 1
 * characters plus a NUL; returns the number written (without the NUL). */
size_t tg_vformat(char *out, size_t cap, const char *fmt, va_list ap);

/* Fixed-point decimal text of v with `decimals` digits (at most 9) after
 * the point, rounded half away from zero; "nan", "inf" or "-inf" when v is
 * not finite, and "inf" beyond 2^63. Returns the length written. */
size_t tg_format_float(char *out, size_t cap, float v, unsigned decimals);

#ifdef __cplusplus
}
#endif

#endif /* TG_PRINT_H */
