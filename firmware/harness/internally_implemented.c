/*
 * The MLPerf Tiny benchmark harness: command line assembly, the command
 * parser and the inference loop.
 *
 * Written for robustness against a host that makes mistakes: every command,
 * valid or not, gets at most one e-[...] line and always ends in m-ready;
 * nothing a host sends can write past a buffer. Commands are executed in
 * the caller's context (the main loop), so characters that arrive during a
 * long inference wait in the platform's receive queue and are parsed after
 * it, in order.
 *
 * Output goes only through th_printf, input only through ee_serial_callback,
 * and the model only through th_load_tensor / th_infer / th_results.
 */
#include "internally_implemented.h"

#ifndef TG_BUFFER_ATTR
#define TG_BUFFER_ATTR
#endif

#ifndef MAX_DB_INPUT_SIZE
#error "submitter_implemented.h must define MAX_DB_INPUT_SIZE (bytes of one input)"
#endif

#ifndef TG_PROFILE_STRING
#define TG_PROFILE_STRING "tinygen harness"
#endif

#ifndef TH_VENDOR_NAME_STRING
#define TH_VENDOR_NAME_STRING "unspecified"
#endif

#ifndef TH_MODEL_VERSION
#define TH_MODEL_VERSION "unknown"
#endif

/* Largest count accepted by `infer` and `db load`: keeps every product and
 * loop counter far from overflow on 32-bit targets. */
#define EE_MAX_COUNT 1000000000u

#define EE_MAX_TOKENS 4u

/* The downloaded input; placed by the build (e.g. SRAM2 on small parts),
 * or storage the port provides (TG_DB_BUFFER_STORAGE, MAX_DB_INPUT_SIZE
 * bytes): tinygen's port passes the model's input tensor, which saves a
 * second copy of the input. */
#ifdef TG_DB_BUFFER_STORAGE
#define ee_db_buffer (TG_DB_BUFFER_STORAGE)
#else
static uint8_t ee_db_buffer[MAX_DB_INPUT_SIZE] TG_BUFFER_ATTR;
#endif

struct ee_state {
    char line[EE_CMD_SIZE + 1u];   /* command being received */
    size_t line_len;
    int line_overflow;             /* more than EE_CMD_SIZE characters seen */
    int line_lost;                 /* the platform dropped input in this line */
    size_t db_expected;            /* bytes announced by `db load N` */
    size_t db_received;            /* bytes appended since then */
    int results_valid;             /* an inference has completed */
};

static struct ee_state ee;

static void ee_ready(void)
{
    th_printf("m-ready\r\n");
}

/* ---- small parsing helpers (no libc: only what the harness needs) ---- */

static int ee_is_space(char c)
{
    return c == ' ' || c == '\t';
}

static int ee_equals(const char *a, const char *b)
{
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

/* Splits line in place on blanks; returns the number of tokens (the rest
 * of the line is ignored beyond max tokens, and reported by the caller). */
static size_t ee_tokenize(char *line, char **tokens, size_t max)
{
    size_t count = 0;
    char *p = line;
    while (*p != '\0') {
        while (ee_is_space(*p)) {
            *p++ = '\0';
        }
        if (*p == '\0') {
            break;
        }
        if (count == max) {
            return max + 1u;
        }
        tokens[count++] = p;
        while (*p != '\0' && !ee_is_space(*p)) {
            p++;
        }
    }
    return count;
}

/* A decimal count: digits only (no sign, no blanks), at most EE_MAX_COUNT.
 * Returns 0 on success, -1 when the text is not such a number.
 *
 * The range is checked before each multiply, so the value never exceeds
 * EE_MAX_COUNT and cannot wrap whatever the width of the arithmetic: with
 * the check after it, a 32-bit target (unsigned long is 32 bits on
 * Cortex-M) took `db load 4294967297` for `db load 1`. */
static int ee_parse_count(const char *text, size_t *out)
{
    uint32_t value = 0;
    if (*text == '\0') {
        return -1;
    }
    for (; *text != '\0'; text++) {
        uint32_t digit;
        if (*text < '0' || *text > '9') {
            return -1;
        }
        digit = (uint32_t)(*text - '0');
        if (value > (EE_MAX_COUNT - digit) / 10u) {
            return -1;
        }
        value = value * 10u + digit;
    }
    *out = (size_t)value;
    return 0;
}

static int ee_hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Printable copy of untrusted text for an error message. */
static void ee_sanitize(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (; *in != '\0' && n + 1u < cap; in++) {
        char c = *in;
        out[n++] = (c >= ' ' && c <= '~' && c != '[' && c != ']') ? c : '?';
    }
    out[n] = '\0';
}

/* ---- commands ---- */

/* One command per line, terse: every byte here is flash on the DUT. */
static void ee_cmd_help(void)
{
    th_printf("%s\r\n", TG_PROFILE_STRING);
    th_printf("help\r\nname\r\nprofile\r\ntimestamp\r\ndb load N (1..%u bytes)\r\ndb HEX\r\n"
              "db print\r\ninfer N [W] (W warm-ups, default %u)\r\nresults\r\n",
              (unsigned)MAX_DB_INPUT_SIZE, (unsigned)EE_DEFAULT_WARMUP);
}

static void ee_db_load(char *arg)
{
    size_t n;
    if (ee_parse_count(arg, &n) != 0 || n == 0u) {
        char shown[24];
        ee_sanitize(arg, shown, sizeof shown);
        th_printf("e-[db load needs a byte count from 1 to %u, got '%s']\r\n",
                  (unsigned)MAX_DB_INPUT_SIZE, shown);
        return;
    }
    if (n > MAX_DB_INPUT_SIZE) {
        th_printf("e-[db load %u exceeds the %u-byte input buffer]\r\n",
                  (unsigned)n, (unsigned)MAX_DB_INPUT_SIZE);
        return;
    }
    ee.db_expected = n;
    ee.db_received = 0;
    th_printf("m-[Expecting %u bytes]\r\n", (unsigned)n);
}

/* Appends one line of hex digits, all or nothing. */
static void ee_db_append(const char *hex)
{
    size_t digits = 0;
    size_t i;
    size_t room = ee.db_expected - ee.db_received;
    if (ee.db_expected == 0u || room == 0u) {
        th_printf("e-[No download in progress: send db load N first]\r\n");
        return;
    }
    for (; hex[digits] != '\0'; digits++) {
        if (ee_hex_value(hex[digits]) < 0) {
            char shown[2] = {'?', '\0'};
            ee_sanitize(hex + digits, shown, sizeof shown);
            th_printf("e-[db: '%s' at position %u is not a hex digit; line ignored]\r\n",
                      shown, (unsigned)(digits + 1u));
            return;
        }
    }
    if (digits % 2u != 0u) {
        th_printf("e-[db: odd number of hex digits (%u); line ignored]\r\n", (unsigned)digits);
        return;
    }
    if (digits / 2u > room) {
        th_printf("e-[db: %u bytes sent but only %u of %u remain; line ignored]\r\n",
                  (unsigned)(digits / 2u), (unsigned)room, (unsigned)ee.db_expected);
        return;
    }
    for (i = 0; i < digits; i += 2u) {
        int hi = ee_hex_value(hex[i]);
        int lo = ee_hex_value(hex[i + 1u]);
        ee_db_buffer[ee.db_received++] = (uint8_t)((hi << 4) | lo);
    }
    if (ee.db_received == ee.db_expected) {
        th_printf("m-load-done\r\n");
    }
}

static void ee_db_print(void)
{
    static const char digits[] = "0123456789abcdef";
    char line[9u + 8u * 3u];
    size_t i = 0;
    if (ee.db_received == 0u) {
        th_printf("e-[db print: the buffer is empty; send db load N and the bytes first]\r\n");
        return;
    }
    while (i < ee.db_received) {
        size_t len = 0;
        size_t k;
        const char *prefix = "m-buffer";
        while (*prefix != '\0') {
            line[len++] = *prefix++;
        }
        for (k = 0; k < 8u && i < ee.db_received; k++, i++) {
            line[len++] = '-';
            line[len++] = digits[ee_db_buffer[i] >> 4];
            line[len++] = digits[ee_db_buffer[i] & 0x0fu];
        }
        line[len] = '\0';
        th_printf("%s\r\n", line);
    }
}

static void ee_cmd_db(char **tokens, size_t count)
{
    if (count == 2u && ee_equals(tokens[1], "print")) {
        ee_db_print();
    } else if (count == 3u && ee_equals(tokens[1], "load")) {
        ee_db_load(tokens[2]);
    } else if (count == 2u && !ee_equals(tokens[1], "load")) {
        ee_db_append(tokens[1]);
    } else {
        th_printf("e-[db needs one of: db load N, db print, db HEX]\r\n");
    }
}

static void ee_cmd_infer(char **tokens, size_t count)
{
    size_t n;
    size_t warmup = EE_DEFAULT_WARMUP;
    if (count < 2u || count > 3u) {
        th_printf("e-[infer needs N [W]: N > 0 timed inferences, W >= 0 warm-ups]\r\n");
        return;
    }
    if (ee_parse_count(tokens[1], &n) != 0 || n == 0u) {
        char shown[24];
        ee_sanitize(tokens[1], shown, sizeof shown);
        th_printf("e-[infer: N must be a whole number from 1 to %u, got '%s']\r\n",
                  (unsigned)EE_MAX_COUNT, shown);
        return;
    }
    if (count == 3u && ee_parse_count(tokens[2], &warmup) != 0) {
        char shown[24];
        ee_sanitize(tokens[2], shown, sizeof shown);
        th_printf("e-[infer: W must be a whole number from 0 to %u, got '%s']\r\n",
                  (unsigned)EE_MAX_COUNT, shown);
        return;
    }
    if (ee.db_received < ee.db_expected) {
        th_printf("e-[infer: download incomplete, %u of %u bytes received]\r\n",
                  (unsigned)ee.db_received, (unsigned)ee.db_expected);
        return;
    }
    ee_infer(n, warmup);
}

void ee_serial_command_parser_callback(char *p_command)
{
    char *tokens[EE_MAX_TOKENS];
    size_t count = ee_tokenize(p_command, tokens, EE_MAX_TOKENS);

    if (count == 0u) {
        /* A bare '%': nothing to do; hosts use it to resynchronize. */
    } else if (count > EE_MAX_TOKENS) {
        th_printf("e-[Too many arguments]\r\n");
    } else if (ee_equals(tokens[0], "name") && count == 1u) {
        th_printf("m-name-dut-[%s]\r\n", TH_VENDOR_NAME_STRING);
    } else if (ee_equals(tokens[0], "profile") && count == 1u) {
        th_printf("m-profile-[%s]\r\n", TG_PROFILE_STRING);
        th_printf("m-model-[%s]\r\n", TH_MODEL_VERSION);
    } else if (ee_equals(tokens[0], "help") && count == 1u) {
        ee_cmd_help();
    } else if (ee_equals(tokens[0], "timestamp") && count == 1u) {
        th_timestamp();
    } else if (ee_equals(tokens[0], "results") && count == 1u) {
        if (ee.results_valid) {
            th_results();
        } else {
            th_printf("e-[No results yet: run infer N first]\r\n");
        }
    } else if (ee_equals(tokens[0], "db")) {
        ee_cmd_db(tokens, count);
    } else if (ee_equals(tokens[0], "infer")) {
        ee_cmd_infer(tokens, count);
    } else if (ee_equals(tokens[0], "name") || ee_equals(tokens[0], "profile")
               || ee_equals(tokens[0], "help") || ee_equals(tokens[0], "timestamp")
               || ee_equals(tokens[0], "results")) {
        char shown[24];
        ee_sanitize(tokens[0], shown, sizeof shown);
        th_printf("e-[%s takes no arguments]\r\n", shown);
    } else {
        char shown[EE_CMD_SIZE + 1u];
        ee_sanitize(tokens[0], shown, sizeof shown);
        th_printf("e-[Unknown command: %s]\r\n", shown);
    }
    ee_ready();
}

void ee_serial_callback(char c)
{
    if (c == '%') {
        if (ee.line_lost) {
            th_printf("e-[Input lost: the receive buffer overflowed while the DUT was busy; "
                      "command ignored. Send one command at a time and wait for m-ready]\r\n");
            ee_ready();
        } else if (ee.line_overflow) {
            th_printf("e-[Command longer than %u characters; ignored]\r\n",
                      (unsigned)EE_CMD_SIZE);
            ee_ready();
        } else {
            ee.line[ee.line_len] = '\0';
            th_command_ready(ee.line);
        }
        ee.line_len = 0;
        ee.line_overflow = 0;
        ee.line_lost = 0;
        return;
    }
    if (c == '\r' || c == '\n') {
        return;
    }
    if (ee.line_len < EE_CMD_SIZE) {
        /* A NUL would silently end the command early; keep it visible as
         * a non-printable byte so the command is reported as garbage. */
        ee.line[ee.line_len++] = c == '\0' ? '\x7f' : c;
    } else {
        ee.line_overflow = 1;
    }
}

void ee_serial_input_lost(void)
{
    ee.line_lost = 1;
}

void ee_infer(size_t n, size_t n_warmup)
{
    size_t i;
    th_load_tensor();
    if (n_warmup > 0u) {
        th_printf("m-warmup-start-%u\r\n", (unsigned)n_warmup);
        for (i = 0; i < n_warmup; i++) {
            th_infer();
        }
        th_printf("m-warmup-done\r\n");
    }
    th_printf("m-infer-start-%u\r\n", (unsigned)n);
    th_timestamp();
    th_pre();
    for (i = 0; i < n; i++) {
        th_infer();
    }
    th_post();
    th_timestamp();
    th_printf("m-infer-done\r\n");
    ee.results_valid = 1;
    th_results();
}

size_t ee_get_buffer(uint8_t *buffer, size_t max_len)
{
    size_t n = ee.db_received < max_len ? ee.db_received : max_len;
    size_t i;
    /* Bytes never downloaded read as zero, not as a previous input. */
    for (i = 0; i < n; i++) {
        buffer[i] = ee_db_buffer[i];
    }
    return n;
}

uint8_t *ee_get_buffer_pointer(void)
{
    return ee_db_buffer;
}

void ee_benchmark_initialize(void)
{
    th_serialport_initialize();
    th_timestamp_initialize();
    th_final_initialize();
    th_printf("m-init-done\r\n");
    ee_ready();
}
