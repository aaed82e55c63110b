/*
 * A small formatter: the handful of conversions the benchmark's messages
 * use, and fixed-point floats done with integer arithmetic so that no
 * floating-point printf is linked in.
 */
#include "tg_print.h"

#include <stdint.h>

struct tg_out {
    char *buf;
    size_t cap;
    size_t len;
};

static void tg_put(struct tg_out *o, char c)
{
    if (o->len + 1u < o->cap) {
        o->buf[o->len++] = c;
    }
}

static void tg_put_str(struct tg_out *o, const char *s)
{
    while (*s != '\0') {
        tg_put(o, *s++);
    }
}

/* v /= base, returning the remainder, with 32-bit divisions only: a 64-bit
 * division would link libgcc's __udivmoddi4 (700 bytes on Cortex-M). Long
 * division in 16-bit digits: each partial dividend, remainder * 2^16 plus
 * a digit, fits 32 bits because the remainder is below base (<= 16). */
static unsigned tg_divmod(unsigned long long *v, unsigned base)
{
    uint32_t hi = (uint32_t)(*v >> 32);
    uint32_t lo = (uint32_t)*v;
    uint32_t q_hi;
    uint32_t q_mid;
    uint32_t part;
    if (hi == 0u) {
        *v = lo / base;
        return lo % base;
    }
    q_hi = hi / base;
    part = ((hi % base) << 16) | (lo >> 16);
    q_mid = part / base;
    part = ((part % base) << 16) | (lo & 0xFFFFu);
    *v = ((unsigned long long)q_hi << 32) | (q_mid << 16) | (part / base);
    return part % base;
}

/* Digits of v in the given base, right-aligned in width with fill. */
static void tg_put_unsigned(struct tg_out *o, unsigned long long v, unsigned base,
                            int upper, int negative, unsigned width, char fill)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    unsigned n = 0;
    unsigned len;
    do {
        tmp[n++] = digits[tg_divmod(&v, base)];
    } while (v != 0u);
    len = n + (negative ? 1u : 0u);
    if (negative && fill == '0') {
        tg_put(o, '-');
    }
    for (; len < width; len++) {
        tg_put(o, fill);
    }
    if (negative && fill != '0') {
        tg_put(o, '-');
    }
    while (n > 0u) {
        tg_put(o, tmp[--n]);
    }
}

size_t tg_vformat(char *out, size_t cap, const char *fmt, va_list ap)
{
    struct tg_out o;
    o.buf = out;
    o.cap = cap;
    o.len = 0;
    for (; *fmt != '\0'; fmt++) {
        char fill = ' ';
        unsigned width = 0;
        int longs = 0;
        int is_size = 0;
        if (*fmt != '%') {
            tg_put(&o, *fmt);
            continue;
        }
        fmt++;
        if (*fmt == '0') {
            fill = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9') {
            width = width * 10u + (unsigned)(*fmt - '0');
            fmt++;
        }
        while (*fmt == 'l') {
            longs++;
            fmt++;
        }
        if (*fmt == 'z') {
            is_size = 1;
            fmt++;
        }
        switch (*fmt) {
        case '%':
            tg_put(&o, '%');
            break;
        case 'c':
            tg_put(&o, (char)va_arg(ap, int));
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            tg_put_str(&o, s != NULL ? s : "(null)");
            break;
        }
        case 'd':
        case 'i': {
            long long v;
            unsigned long long mag;
            if (longs >= 2) {
                v = va_arg(ap, long long);
            } else if (longs == 1) {
                v = va_arg(ap, long);
            } else if (is_size) {
                v = (long long)va_arg(ap, size_t);
            } else {
                v = va_arg(ap, int);
            }
            mag = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
            tg_put_unsigned(&o, mag, 10u, 0, v < 0, width, fill);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            unsigned long long v;
            if (longs >= 2) {
                v = va_arg(ap, unsigned long long);
            } else if (longs == 1) {
                v = va_arg(ap, unsigned long);
            } else if (is_size) {
                v = va_arg(ap, size_t);
            } else {
                v = va_arg(ap, unsigned);
            }
            tg_put_unsigned(&o, v, *fmt == 'u' ? 10u : 16u, *fmt == 'X', 0, width, fill);
            break;
        }
        case '\0':
            fmt--; /* a lone '%' at the end: stop at the terminator */
            break;
        default:
            tg_put(&o, '%');
            tg_put(&o, *fmt);
            break;
        }
    }
    if (cap > 0u) {
        out[o.len] = '\0';
    }
    return o.len;
}

size_t tg_format_float(char *out, size_t cap, float v, unsigned decimals)
{
    struct tg_out o;
    uint32_t scale = 1;
    unsigned i;
    int negative = v < 0.0f;
    float mag = negative ? -v : v;
    uint64_t whole;
    uint32_t frac;
    o.buf = out;
    o.cap = cap;
    o.len = 0;
    if (decimals > 9u) {
        decimals = 9u;
    }
    for (i = 0; i < decimals; i++) {
        scale *= 10u;
    }
    if (v != v) {
        tg_put_str(&o, "nan");
    } else if (mag >= 9.2233720e18f) {
        tg_put_str(&o, negative ? "-inf" : "inf");
    } else {
        float rest = 0.0f;
        float scaled;
        /* Only 32-bit float<->integer conversions: they are single FPU
         * instructions, where a 64-bit one pulls libgcc's double-precision
         * arithmetic (several KB) into the image. */
        if (mag < 4294967296.0f) {
            uint32_t w = (uint32_t)mag;
            whole = w;
            rest = mag - (float)w;          /* exact: trunc(mag) is a float */
        } else {
            /* A float this large is an integer: no fraction to print. */
            uint32_t hi = (uint32_t)(mag / 4294967296.0f);
            uint32_t lo = (uint32_t)(mag - (float)hi * 4294967296.0f);
            whole = ((uint64_t)hi << 32) | lo;
        }
        scaled = rest * (float)scale;
        frac = (uint32_t)scaled;
        if (scaled - (float)frac >= 0.5f) {
            frac++;
        }
        if (frac >= scale) {
            frac -= scale;
            whole++;
        }
        if (negative && (whole != 0u || frac != 0u)) {
            tg_put(&o, '-');
        }
        tg_put_unsigned(&o, whole, 10u, 0, 0, 0, ' ');
        if (decimals > 0u) {
            tg_put(&o, '.');
            tg_put_unsigned(&o, frac, 10u, 0, 0, decimals, '0');
        }
    }
    if (cap > 0u) {
        out[o.len] = '\0';
    }
    return o.len;
}
