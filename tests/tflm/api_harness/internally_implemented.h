/*
 * A benchmark harness written for tinygen's tests to the MLPerf Tiny API,
 * laid out like the official repository's api/ folder: C++, headers
 * included as "api/...", no extern "C" (the official harness has none),
 * and the C library and EE_* macros taken from submitter_implemented.h.
 * It is not the official code: the tests use it to prove that a generated
 * port links and runs against a harness of that shape, unchanged.
 */
#ifndef TEST_API_INTERNALLY_IMPLEMENTED_H
#define TEST_API_INTERNALLY_IMPLEMENTED_H

#include "api/submitter_implemented.h"

#define EE_DEVICE_NAME "dut"
#define EE_FW_VERSION "tinygen test harness (official API layout)"

typedef enum { EE_ARG_CLAIMED, EE_ARG_UNCLAIMED } arg_claimed_t;

void ee_serial_callback(char c);
void ee_serial_command_parser_callback(char *p_command);
void ee_benchmark_initialize(void);
void ee_infer(size_t n, size_t n_warmup);
size_t ee_get_buffer(uint8_t *buffer, size_t max_len);
uint8_t *ee_get_buffer_pointer(void);
arg_claimed_t ee_profile_parse(char *command);
arg_claimed_t ee_buffer_parse(char *command);
long ee_hexdec(char *hex);

#endif
