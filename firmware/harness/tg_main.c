/*
 * Firmware entry point: initialize, then feed received characters to the
 * harness forever. Commands run here, in thread context, so input that
 * arrives while one runs waits in the platform's receive queue.
 */
#include "internally_implemented.h"
#include "tg_platform.h"

int main(void)
{
    ee_benchmark_initialize();
    for (;;) {
        int c = tg_console_getchar();
        if (c == TG_CONSOLE_LOST) {
#ifdef TG_HARNESS_HAS_INPUT_LOST
            ee_serial_input_lost();
#endif
            /* A harness written to the official API has no such hook: the
             * damaged command reaches it as it arrived. */
        } else if (c < 0) {
            tg_platform_wait();
        } else {
            ee_serial_callback((char)c);
        }
    }
}
