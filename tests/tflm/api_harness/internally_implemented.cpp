/*
 * Test harness to the MLPerf Tiny API (see internally_implemented.h).
 * Written for tinygen's tests; C++ like the official one.
 */
#include "api/internally_implemented.h"

#include "api/submitter_implemented.h"

namespace {

char command[EE_CMD_SIZE + 1];
size_t command_len = 0;
bool command_too_long = false;

uint8_t download[MAX_DB_INPUT_SIZE];
size_t download_expected = 0;
size_t download_received = 0;
bool have_results = false;

bool all_digits(const char *s)
{
    if (s == nullptr || *s == '\0') {
        return false;
    }
    for (; *s != '\0'; ++s) {
        if (*s < '0' || *s > '9') {
            return false;
        }
    }
    return true;
}

}  // namespace

void ee_serial_callback(char c)
{
    if (c == EE_CMD_TERMINATOR) {
        command[command_len] = '\0';
        if (command_too_long) {
            th_printf("e-[Command too long]\r\n");
            th_printf(EE_MSG_READY);
        } else {
            th_command_ready(command);
        }
        command_len = 0;
        command_too_long = false;
    } else if (c != '\r' && c != '\n') {
        if (command_len < EE_CMD_SIZE) {
            command[command_len++] = c;
        } else {
            command_too_long = true;
        }
    }
}

long ee_hexdec(char *hex)
{
    long value = 0;
    for (; *hex != '\0'; ++hex) {
        char c = *hex;
        long digit;
        if (c >= '0' && c <= '9') {
            digit = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            digit = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            digit = c - 'A' + 10;
        } else {
            return -1;
        }
        value = value * 16 + digit;
    }
    return value;
}

arg_claimed_t ee_buffer_parse(char *p_command)
{
    if (th_strncmp(p_command, "db", EE_CMD_SIZE) != 0) {
        return EE_ARG_UNCLAIMED;
    }
    char *arg = strtok(nullptr, EE_CMD_DELIMITER);
    if (arg == nullptr) {
        th_printf("e-[db needs a subcommand]\r\n");
    } else if (th_strncmp(arg, "load", EE_CMD_SIZE) == 0) {
        char *count = strtok(nullptr, EE_CMD_DELIMITER);
        int n = all_digits(count) ? atoi(count) : 0;
        if (n <= 0 || (size_t)n > MAX_DB_INPUT_SIZE) {
            th_printf("e-[db load needs 1 to %u bytes]\r\n", (unsigned)MAX_DB_INPUT_SIZE);
        } else {
            download_expected = (size_t)n;
            download_received = 0;
            th_printf("m-[Expecting %d bytes]\r\n", n);
        }
    } else if (th_strncmp(arg, "print", EE_CMD_SIZE) == 0) {
        for (size_t i = 0; i < download_received; ++i) {
            th_printf(i % 8 == 0 ? "m-buffer-%02x" : "-%02x", download[i]);
            if (i % 8 == 7 || i + 1 == download_received) {
                th_printf("\r\n");
            }
        }
    } else {
        size_t digits = th_strnlen(arg, EE_CMD_SIZE);
        if (digits % 2 != 0 || digits / 2 > download_expected - download_received) {
            th_printf("e-[db: wrong number of hex digits]\r\n");
            return EE_ARG_CLAIMED;
        }
        for (size_t i = 0; i < digits; ++i) {
            char one[2] = {arg[i], '\0'};
            if (ee_hexdec(one) < 0) {
                th_printf("e-[db: not a hex digit]\r\n");
                return EE_ARG_CLAIMED;
            }
        }
        for (size_t i = 0; i < digits; i += 2) {
            char pair[3] = {arg[i], arg[i + 1], '\0'};
            download[download_received++] = (uint8_t)ee_hexdec(pair);
        }
        if (download_received == download_expected) {
            th_printf("m-load-done\r\n");
        }
    }
    return EE_ARG_CLAIMED;
}

arg_claimed_t ee_profile_parse(char *p_command)
{
    if (th_strncmp(p_command, "profile", EE_CMD_SIZE) == 0) {
        th_printf("m-profile-[%s]\r\n", EE_FW_VERSION);
        th_printf("m-model-[%s]\r\n", TH_MODEL_VERSION);
    } else if (th_strncmp(p_command, "help", EE_CMD_SIZE) == 0) {
        th_printf("%s\r\nname, timestamp, profile, db load N, db HEX, db print, infer N [W], "
                  "results\r\n", EE_FW_VERSION);
    } else if (ee_buffer_parse(p_command) == EE_ARG_CLAIMED) {
    } else if (th_strncmp(p_command, "infer", EE_CMD_SIZE) == 0) {
        char *count = strtok(nullptr, EE_CMD_DELIMITER);
        char *warmup = strtok(nullptr, EE_CMD_DELIMITER);
        int n = all_digits(count) ? atoi(count) : 0;
        int w = warmup == nullptr ? 10 : (all_digits(warmup) ? atoi(warmup) : -1);
        if (n <= 0 || w < 0) {
            th_printf("e-[infer needs N > 0 and W >= 0]\r\n");
        } else {
            ee_infer((size_t)n, (size_t)w);
        }
    } else if (th_strncmp(p_command, "results", EE_CMD_SIZE) == 0) {
        if (have_results) {
            th_results();
        } else {
            th_printf("e-[No results yet]\r\n");
        }
    } else {
        return EE_ARG_UNCLAIMED;
    }
    return EE_ARG_CLAIMED;
}

void ee_serial_command_parser_callback(char *p_command)
{
    char *tok = strtok(p_command, EE_CMD_DELIMITER);
    if (tok == nullptr) {
    } else if (th_strncmp(tok, EE_CMD_NAME, EE_CMD_SIZE) == 0) {
        th_printf(EE_MSG_NAME, EE_DEVICE_NAME, TH_VENDOR_NAME_STRING);
    } else if (th_strncmp(tok, EE_CMD_TIMESTAMP, EE_CMD_SIZE) == 0) {
        th_timestamp();
    } else if (ee_profile_parse(tok) == EE_ARG_UNCLAIMED) {
        th_printf(EE_ERR_CMD, tok);
    }
    th_printf(EE_MSG_READY);
}

void ee_infer(size_t n, size_t n_warmup)
{
    th_load_tensor();
    th_printf("m-warmup-start-%u\r\n", (unsigned)n_warmup);
    for (size_t i = 0; i < n_warmup; ++i) {
        th_infer();
    }
    th_printf("m-warmup-done\r\n");
    th_printf("m-infer-start-%u\r\n", (unsigned)n);
    th_timestamp();
    th_pre();
    for (size_t i = 0; i < n; ++i) {
        th_infer();
    }
    th_post();
    th_timestamp();
    th_printf("m-infer-done\r\n");
    have_results = true;
    th_results();
}

size_t ee_get_buffer(uint8_t *buffer, size_t max_len)
{
    size_t n = download_received < max_len ? download_received : max_len;
    th_memcpy(buffer, download, n);
    return n;
}

uint8_t *ee_get_buffer_pointer(void)
{
    return download;
}

void ee_benchmark_initialize(void)
{
    th_serialport_initialize();
    th_timestamp_initialize();
    th_final_initialize();
    th_printf(EE_MSG_INIT_DONE);
    th_printf(EE_MSG_READY);
}
