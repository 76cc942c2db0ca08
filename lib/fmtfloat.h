/* fmtfloat.h: numbers as decimal text: the shortest decimal that reads back to the same float64 or
 * float32 bits (JSON's and Python's repr style), and unsigned integers. Used by json_write. */
#ifndef SVGE_FMTFLOAT_H
#define SVGE_FMTFLOAT_H

#include <stdint.h>

/* Shortest text that reads back (strtod/strtof) to the same bits, the nearest of those if several,
 * always with a '.' or an exponent, styled as Python's repr ("0.1", "1.0", "1e-05", "-1.5e+300").
 * out must hold JSON_NUM_MAX bytes; returns the length (out is NUL-terminated). Not for NaN/Inf. */
#define JSON_NUM_MAX 32
int json_fmt_double(char *out, double d);
int json_fmt_float(char *out, float f);
/* The same by trying printf precisions 15, 16, 17 (6..9 for float; from 1 for subnormals) with
 * strtod/strtof: ten times slower; used outside the exact integer method's range (about 1e-11 to
 * 1e15) and by the unit test as a reference. */
int json_fmt_double_slow(char *out, double d);
int json_fmt_float_slow(char *out, float f);

/* The decimal digits of u at p (at most 20, no NUL); returns the end. */
char *fmt_u64(char *p, uint64_t u);

#endif
