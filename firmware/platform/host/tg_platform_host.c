/*
 * The platform API as a native process: the console is a pseudo-terminal.
 *
 * At start the process opens a pty pair, puts it in raw mode, prints
 * "TG_PTY=<slave path>" as the first line on stdout and waits for a host to
 * open the slave before it boots, like QEMU's "wait=on" serial socket: a
 * banner written earlier would be thrown away, because opening a serial
 * port (pyserial does so) flushes its input queue. After the host has
 * opened the port the process waits TG_HOST_SETTLE_MS more for that flush
 * to be over, then speaks the protocol on the master side. A host that
 * disconnects and reconnects finds the DUT still running, like a board.
 *
 * The process ends when its parent exits, so a crashed test or runner
 * leaves nothing behind.
 */
#define _XOPEN_SOURCE 600
#define _DEFAULT_SOURCE

#include "tg_platform.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* How long to wait for a host to open the pty, and for its open to finish. */
#define TG_HOST_CONNECT_TIMEOUT_MS 600000
#define TG_HOST_SETTLE_MS 300

struct tg_host {
    int master;
    pid_t parent;
    struct timespec start;
};

static struct tg_host host = {-1, 0, {0, 0}};

static void tg_host_fail(const char *what)
{
    fprintf(stderr, "tinygen host platform: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void tg_host_check_parent(void)
{
    if (getppid() != host.parent) {
        exit(0);
    }
}

/* Until a host opens the slave, the master reports a hang-up. */
static void tg_host_wait_for_connection(const char *name)
{
    int waited = 0;
    for (;;) {
        struct pollfd p = {host.master, POLLIN, 0};
        int r = poll(&p, 1, 50);
        if (r >= 0 && (p.revents & POLLHUP) == 0) {
            break;
        }
        /* POLLHUP makes poll return at once: sleep so the timeout is real. */
        (void)poll(NULL, 0, 50);
        tg_host_check_parent();
        waited += 50;
        if (waited >= TG_HOST_CONNECT_TIMEOUT_MS) {
            fprintf(stderr, "tinygen host platform: nobody opened %s within %d s; exiting\n",
                    name, TG_HOST_CONNECT_TIMEOUT_MS / 1000);
            exit(3);
        }
    }
    (void)poll(NULL, 0, TG_HOST_SETTLE_MS);
}

void tg_platform_init(void)
{
    struct termios raw;
    const char *name;
    int slave;

    host.parent = getppid();
    if (clock_gettime(CLOCK_MONOTONIC, &host.start) != 0) {
        tg_host_fail("clock_gettime");
    }
    host.master = posix_openpt(O_RDWR | O_NOCTTY);
    if (host.master < 0) {
        tg_host_fail("posix_openpt");
    }
    if (grantpt(host.master) != 0 || unlockpt(host.master) != 0) {
        tg_host_fail("grantpt/unlockpt");
    }
    name = ptsname(host.master);
    if (name == NULL) {
        tg_host_fail("ptsname");
    }
    /* Raw mode is kept by the pty after this descriptor closes. */
    slave = open(name, O_RDWR | O_NOCTTY);
    if (slave < 0) {
        tg_host_fail("open pty slave");
    }
    if (tcgetattr(slave, &raw) != 0) {
        tg_host_fail("tcgetattr");
    }
    cfmakeraw(&raw);
    if (tcsetattr(slave, TCSANOW, &raw) != 0) {
        tg_host_fail("tcsetattr");
    }
    (void)close(slave);
    if (fcntl(host.master, F_SETFL, fcntl(host.master, F_GETFL) | O_NONBLOCK) != 0) {
        tg_host_fail("fcntl O_NONBLOCK");
    }
    printf("TG_PTY=%s\n", name);
    fflush(stdout);
    tg_host_wait_for_connection(name);
}

void tg_console_write(const char *s, size_t n)
{
    while (n > 0u) {
        ssize_t done = write(host.master, s, n);
        if (done > 0) {
            s += done;
            n -= (size_t)done;
        } else if (done < 0 && errno == EIO) {
            return;   /* nobody connected: the bytes go nowhere, as on a UART */
        } else if (done < 0 && errno != EAGAIN && errno != EINTR) {
            tg_host_fail("write to pty");
        } else {
            /* Queue full: wait (bounded) for the reader to drain it. */
            struct pollfd p = {host.master, POLLOUT, 0};
            (void)poll(&p, 1, 100);
            tg_host_check_parent();
        }
    }
}

int tg_console_getchar(void)
{
    unsigned char c;
    ssize_t got = read(host.master, &c, 1);
    if (got == 1) {
        return c;
    }
    if (got < 0 && errno != EAGAIN && errno != EINTR && errno != EIO) {
        tg_host_fail("read from pty");
    }
    return -1;
}

uint64_t tg_timestamp_us(void)
{
    struct timespec now;
    int64_t sec;
    int64_t nsec;
    (void)clock_gettime(CLOCK_MONOTONIC, &now);
    sec = (int64_t)now.tv_sec - (int64_t)host.start.tv_sec;
    nsec = (int64_t)now.tv_nsec - (int64_t)host.start.tv_nsec;
    return (uint64_t)(sec * 1000000 + nsec / 1000);
}

void tg_energy_timestamp(void)
{
    /* No GPIO on a host: the edge is only visible in a debug log. */
    if (getenv("TG_HOST_ENERGY_LOG") != NULL) {
        fprintf(stderr, "energy-timestamp %llu\n", (unsigned long long)tg_timestamp_us());
    }
}

void tg_platform_wait(void)
{
    struct pollfd p = {host.master, POLLIN, 0};
    int r = poll(&p, 1, 50);
    if (r > 0 && (p.revents & POLLHUP) != 0) {
        (void)poll(NULL, 0, 50);   /* host gone: poll would not block */
    }
    tg_host_check_parent();
}
