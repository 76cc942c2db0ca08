/* fmtfloat.c: shortest round-trip decimal text of float64/float32 (an exact 128-bit integer method,
 * printf and strtod outside its range) and of unsigned integers. */
#include "fmtfloat.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint64_t pow10_u64[20] = {
    1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull, 100000000ull,
    1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull, 10000000000000ull,
    100000000000000ull, 1000000000000000ull, 10000000000000000ull, 100000000000000000ull,
    1000000000000000000ull, 10000000000000000000ull,
};

char *fmt_u64(char *p, uint64_t u) {
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    while (n) *p++ = tmp[--n];
    return p;
}

/* Text of (-1)^neg * t * 10^e10, styled as Python's repr: positional for exponents -4..15 (with at
 * least one fraction digit), else d.ddde+XX. */
static int fmt_decimal(char *out, int neg, uint64_t t, int e10) {
    char dig[21];
    int nd = (int)(fmt_u64(dig, t) - dig);
    while (nd > 1 && dig[nd - 1] == '0') nd--, e10++;
    int x = nd - 1 + e10; /* exponent in scientific notation */
    char *p = out;
    if (neg) *p++ = '-';
    if (x >= -4 && x <= 15) {
        if (x >= 0) {
            for (int k = 0; k <= x; k++) *p++ = k < nd ? dig[k] : '0';
            *p++ = '.';
            if (nd > x + 1) {
                memcpy(p, dig + x + 1, (size_t)(nd - x - 1));
                p += nd - x - 1;
            } else *p++ = '0';
        } else {
            *p++ = '0';
            *p++ = '.';
            for (int k = 0; k < -x - 1; k++) *p++ = '0';
            memcpy(p, dig, (size_t)nd);
            p += nd;
        }
    } else {
        *p++ = dig[0];
        if (nd > 1) {
            *p++ = '.';
            memcpy(p, dig + 1, (size_t)(nd - 1));
            p += nd - 1;
        }
        *p++ = 'e';
        *p++ = x < 0 ? '-' : '+';
        unsigned ax = (unsigned)(x < 0 ? -x : x);
        if (ax < 10) *p++ = '0';
        p = fmt_u64(p, ax);
    }
    *p = 0;
    return (int)(p - out);
}

/* Parse the digits and exponent of printf's "%.Ne" output. */
static void parse_e_format(const char *s, uint64_t *t, int *e10) {
    uint64_t v = 0;
    int frac = 0, seen_point = 0;
    for (; *s && *s != 'e'; s++) {
        if (*s == '.') seen_point = 1;
        else if (*s >= '0' && *s <= '9') {
            v = v * 10 + (uint64_t)(*s - '0');
            frac += seen_point;
        }
    }
    *t = v;
    *e10 = (*s == 'e' ? atoi(s + 1) : 0) - frac;
}

/* %.15e round-trips for every normal double exactly when a decimal of at most 15 digits does, so
 * the search starts there; subnormals have fewer digits and start at 1. */
int json_fmt_double_slow(char *out, double d) {
    char buf[40];
    int neg = signbit(d) != 0;
    double a = fabs(d);
    if (a == 0) return fmt_decimal(out, neg, 0, 0);
    for (int prec = a < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, a);
        if (prec == 17 || strtod(buf, NULL) == a) break;
    }
    uint64_t t;
    int e10;
    parse_e_format(buf, &t, &e10);
    return fmt_decimal(out, neg, t, e10);
}

int json_fmt_float_slow(char *out, float f) {
    char buf[40];
    int neg = signbit(f) != 0;
    float a = fabsf(f);
    if (a == 0) return fmt_decimal(out, neg, 0, 0);
    for (int prec = a < FLT_MIN ? 1 : 6; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*e", prec - 1, (double)a);
        if (prec == 9 || strtof(buf, NULL) == a) break;
    }
    uint64_t t;
    int e10;
    parse_e_format(buf, &t, &e10);
    return fmt_decimal(out, neg, t, e10);
}

typedef unsigned __int128 u128;

/* Shortest decimal in the rounding interval of the binary float m * 2^e (m normalized to mbits
 * bits), nearest to it among the shortest. Exact integer arithmetic: the value and the interval
 * ends are scaled by 10^s into 128-bit fixed point with k fraction bits, where s puts the value
 * in [10^(P-1), 10^(P+1)) so the interval is wider than 1 unit. Returns 0 with t * 10^e10, or -1
 * when the value is outside the range this handles (the caller falls back to printf). */
static int shortest_fast(uint64_t m, int e, int mbits, int P, uint64_t *t_out, int *e10_out) {
    int E = e + mbits - 1;                       /* value in [2^E, 2^(E+1)) */
    int x_est = (E * 78913) >> 18;               /* floor(E*log10(2)): x_est is X or X-1 */
    int s = P - 1 - x_est;
    int k = 2 - e - s;
    if (s < 0 || s > 27 || k < 0 || k > 100) return -1;
    uint64_t p5 = 1;
    for (int i = 0; i < s; i++) p5 *= 5;
    int lower_closer = m == (1ull << (mbits - 1)); /* interval below is half as wide */
    u128 C = (u128)(4 * m) * p5;
    u128 A = (u128)(4 * m - (lower_closer ? 1 : 2)) * p5;
    u128 B = (u128)(4 * m + 2) * p5;
    u128 mask = ((u128)1 << k) - 1;
    if ((C >> k) >> 63) return -1;               /* keep everything in 64 bits */
    int incl = (m & 1) == 0;                     /* ties go to the even mantissa */
    uint64_t aq = (uint64_t)(A >> k), bq = (uint64_t)(B >> k);
    uint64_t L = ((A & mask) == 0 && incl) ? aq : aq + 1;
    uint64_t U = ((B & mask) == 0 && !incl) ? bq - 1 : bq;
    if (L > U) return -1;
    /* Largest power of ten with a multiple in [L, U]. */
    int j = 0;
    while (j < 19 && (U / pow10_u64[j + 1]) * pow10_u64[j + 1] >= L) j++;
    uint64_t p = pow10_u64[j];
    uint64_t tl = (L + p - 1) / p, tu = U / p;
    /* Nearest to the exact value C / 2^k / p. */
    uint64_t cq = (uint64_t)(C >> k);
    uint64_t t = cq / p;
    u128 r = C - (((u128)t * p) << k);
    u128 half2 = (u128)p << k;
    if (2 * r > half2 || (2 * r == half2 && (t & 1))) t++;
    if (t < tl) t = tl;
    if (t > tu) t = tu;
    *t_out = t;
    *e10_out = j - s;
    return 0;
}

int json_fmt_double(char *out, double d) {
    uint64_t bits;
    memcpy(&bits, &d, 8);
    int neg = (int)(bits >> 63);
    int be = (int)((bits >> 52) & 0x7FF);
    uint64_t frac = bits & ((1ull << 52) - 1);
    if (be == 0 && frac == 0) return fmt_decimal(out, neg, 0, 0);
    if (be != 0 && be != 0x7FF) {
        uint64_t t;
        int e10;
        if (shortest_fast(frac | (1ull << 52), be - 1075, 53, 17, &t, &e10) == 0)
            return fmt_decimal(out, neg, t, e10);
    }
    return json_fmt_double_slow(out, d);
}

int json_fmt_float(char *out, float f) {
    uint32_t bits;
    memcpy(&bits, &f, 4);
    int neg = (int)(bits >> 31);
    int be = (int)((bits >> 23) & 0xFF);
    uint32_t frac = bits & ((1u << 23) - 1);
    if (be == 0 && frac == 0) return fmt_decimal(out, neg, 0, 0);
    if (be != 0 && be != 0xFF) {
        uint64_t t;
        int e10;
        if (shortest_fast(frac | (1u << 23), be - 150, 24, 9, &t, &e10) == 0)
            return fmt_decimal(out, neg, t, e10);
    }
    return json_fmt_float_slow(out, f);
}
