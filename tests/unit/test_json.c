/* test_json.c: lib/fmtfloat.c, lib/json_read.c and lib/json_write.c: float printing, the parser
 * (escapes, surrogates, numbers, limits, malformed input), the msgpack writer and its errors, and
 * JSON -> msgpack -> JSON round trips. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmtfloat.h"
#include "json_read.h"
#include "json_write.h"

static int n_pass, n_fail;

#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        if (cond) n_pass++;                                               \
        else {                                                            \
            n_fail++;                                                     \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);          \
            fprintf(stderr, __VA_ARGS__);                                 \
            fputc('\n', stderr);                                          \
        }                                                                 \
    } while (0)

/* xorshift64*: deterministic test values */
static uint64_t rs = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {
    rs ^= rs >> 12;
    rs ^= rs << 25;
    rs ^= rs >> 27;
    return rs * 2685821657736338717ull;
}

/* ---------------------------------------------------------------- floats */

static void check_double(double d, const char *want) {
    char buf[JSON_NUM_MAX];
    json_fmt_double(buf, d);
    CHECK(strcmp(buf, want) == 0, "double %.17g: got %s, want %s", d, buf, want);
}

static void check_float(float f, const char *want) {
    char buf[JSON_NUM_MAX];
    json_fmt_float(buf, f);
    CHECK(strcmp(buf, want) == 0, "float %.9g: got %s, want %s", (double)f, buf, want);
}

/* fast must read back to the same bits, be no longer than the printf search, and equal it
 * except where a shorter or nearer one exists. Returns 1 if the texts differ. */
static int roundtrip_double(double d) {
    char fast[JSON_NUM_MAX], slow[JSON_NUM_MAX];
    int nf = json_fmt_double(fast, d), ns = json_fmt_double_slow(slow, d);
    double back = strtod(fast, NULL);
    if (memcmp(&back, &d, 8) != 0 || nf > ns || (int)strlen(fast) != nf) {
        CHECK(0, "double %a: fast %s (back %a), slow %s", d, fast, back, slow);
        return 1;
    }
    if (!strchr(fast, '.') && !strchr(fast, 'e')) {
        CHECK(0, "double %a printed as %s: looks like an integer", d, fast);
        return 1;
    }
    return strcmp(fast, slow) != 0;
}

static int roundtrip_float(float f) {
    char fast[JSON_NUM_MAX], slow[JSON_NUM_MAX];
    int nf = json_fmt_float(fast, f), ns = json_fmt_float_slow(slow, f);
    float back = strtof(fast, NULL);
    if (memcmp(&back, &f, 4) != 0 || nf > ns) {
        CHECK(0, "float %a: fast %s, slow %s", (double)f, fast, slow);
        return 1;
    }
    return strcmp(fast, slow) != 0;
}

static void test_floats(void) {
    check_double(0.0, "0.0");
    check_double(-0.0, "-0.0");
    check_double(1.0, "1.0");
    check_double(-2.0, "-2.0");
    check_double(100.0, "100.0");
    check_double(0.1, "0.1");
    check_double(0.3, "0.3");
    check_double(0.1 + 0.2, "0.30000000000000004");
    check_double(1.5, "1.5");
    check_double(123.456, "123.456");
    check_double(0.0001, "0.0001");
    check_double(0.00001, "1e-05");
    check_double(1.5e-7, "1.5e-07");
    check_double(1e15, "1000000000000000.0");
    check_double(1e16, "1e+16");
    check_double(9007199254740992.0, "9007199254740992.0");
    check_double(1e22, "1e+22");
    check_double(1e23, "1e+23");
    check_double(DBL_MAX, "1.7976931348623157e+308");
    check_double(DBL_MIN, "2.2250738585072014e-308");
    check_double(5e-324, "5e-324");
    check_double(-1.5e300, "-1.5e+300");
    check_double(0.9345285892486572, "0.9345285892486572");
    check_double(2.0 / 3.0, "0.6666666666666666");
    check_float(0.0f, "0.0");
    check_float(-0.0f, "-0.0");
    check_float(1.0f, "1.0");
    check_float(0.1f, "0.1");
    check_float(0.3f, "0.3");
    check_float(1.0f / 3.0f, "0.33333334");
    check_float(16777216.0f, "16777216.0");
    check_float(FLT_MAX, "3.4028235e+38");
    check_float(FLT_MIN, "1.1754944e-38");
    check_float(1e-45f, "1e-45");
    check_float(0.93452859f, "0.9345286");

    /* Random bit patterns, random values in [0,1), float32 values widened (as NB101 accuracies),
     * and neighbours of powers of two and ten (the asymmetric-interval and carry cases). */
    int diff = 0, total = 0;
    for (int i = 0; i < 300000; i++) {
        uint64_t b = rnd();
        double d;
        memcpy(&d, &b, 8);
        if (!isfinite(d)) continue;
        diff += roundtrip_double(d), total++;
        d = (double)(rnd() >> 11) / 9007199254740992.0;
        diff += roundtrip_double(d), total++;
        uint32_t fb = (uint32_t)rnd();
        float f;
        memcpy(&f, &fb, 4);
        if (isfinite(f)) {
            diff += roundtrip_double((double)f), total++;
            diff += roundtrip_float(f), total++;
        }
        f = (float)((double)(rnd() >> 40) / 16777216.0);
        diff += roundtrip_float(f), total++;
        diff += roundtrip_double((double)f), total++;
    }
    for (int e = -1074; e <= 1023; e++) {
        double p = ldexp(1.0, e);
        diff += roundtrip_double(p) + roundtrip_double(nextafter(p, 0)) + roundtrip_double(nextafter(p, INFINITY));
        total += 3;
    }
    for (int e = -149; e <= 127; e++) {
        float p = ldexpf(1.0f, e);
        diff += roundtrip_float(p) + roundtrip_float(nextafterf(p, 0)) + roundtrip_float(nextafterf(p, INFINITY));
        total += 3;
    }
    for (int e = -320; e <= 308; e++) {
        char s[16];
        snprintf(s, sizeof s, "1e%d", e);
        double p = strtod(s, NULL);
        diff += roundtrip_double(p) + roundtrip_double(nextafter(p, 0)) + roundtrip_double(nextafter(p, INFINITY));
        total += 3;
    }
    /* Texts may differ from the printf search only where a shorter one exists (asymmetric intervals). */
    CHECK(diff * 10000 < total, "%d of %d texts differ from the printf search", diff, total);
}

/* ---------------------------------------------------------------- parse + write */

static json_doc doc;
static msgpack_sbuffer sbuf;
static msgpack_packer pk;

/* Parse text, pack, unpack, write: the JSON text we print for it, or NULL (error in doc.err). */
static char *reprint(const char *text, size_t len, msgpack_object_type *root_type) {
    static char out[1 << 16];
    static json_buf jb;
    if (json_parse(&doc, text, len) < 0) return NULL;
    msgpack_sbuffer_clear(&sbuf);
    json_pack(&pk, &doc, 0);
    size_t psize = json_packed_size(&doc);
    if (psize != sbuf.size || psize > JSON_ENCODE_BOUND(&doc)) {
        CHECK(0, "packed_size %zu, packed %zu bytes for %.60s", psize, sbuf.size, text);
    } else {
        char *enc = malloc(JSON_ENCODE_BOUND(&doc) + 1);
        size_t n = json_encode(&doc, 0, enc);
        CHECK(n == sbuf.size && memcmp(enc, sbuf.data, n) == 0, "json_encode differs from json_pack: %.60s", text);
        free(enc);
    }
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    if (msgpack_unpack_next(&up, sbuf.data, sbuf.size, &off) != MSGPACK_UNPACK_SUCCESS) {
        CHECK(0, "repacked msgpack does not unpack: %.60s", text);
        msgpack_unpacked_destroy(&up);
        return NULL;
    }
    if (root_type) *root_type = up.data.type;
    char why[256];
    jb.len = 0;
    int rc = json_write(&jb, &up.data, why, sizeof why);
    msgpack_unpacked_destroy(&up);
    if (rc < 0) {
        snprintf(out, sizeof out, "WRITE ERROR: %s", why);
        return out;
    }
    size_t n = jb.len < sizeof out - 1 ? jb.len : sizeof out - 1;
    memcpy(out, jb.p, n);
    out[n] = 0;
    return out;
}

static void ok(const char *in, const char *want) {
    char *got = reprint(in, strlen(in), NULL);
    CHECK(got && strcmp(got, want) == 0, "%s: got %s (%s), want %s", in, got ? got : "error", doc.err, want);
}

static void ok_type(const char *in, msgpack_object_type t, const char *want) {
    msgpack_object_type got_t = MSGPACK_OBJECT_NIL;
    char *got = reprint(in, strlen(in), &got_t);
    CHECK(got && strcmp(got, want) == 0 && got_t == t, "%s: got %s type %d (%s), want %s type %d", in,
          got ? got : "error", (int)got_t, doc.err, want, (int)t);
}

static void bad_n(const char *in, size_t len, const char *msg, long pos) {
    int rc = json_parse(&doc, in, len);
    CHECK(rc < 0 && strstr(doc.err, msg) && (pos < 0 || (long)doc.err_pos == pos),
          "%.40s: rc %d err '%s' at %zu, want '%s' at %ld", in, rc, doc.err, doc.err_pos, msg, pos);
}
static void bad(const char *in, const char *msg, long pos) { bad_n(in, strlen(in), msg, pos); }

static void test_parse(void) {
    ok("{\"a\":1,\"b\":[true,false,null],\"c\":\"x\"}", "{\"a\":1,\"b\":[true,false,null],\"c\":\"x\"}");
    ok(" \t\r\n{ \"a\" : [ 1 , 2 ] , \"b\" : { } , \"c\" : [ ] }\r\n", "{\"a\":[1,2],\"b\":{},\"c\":[]}");
    ok("[]", "[]");
    ok("\"\"", "\"\"");
    ok("{\"\":\"\"}", "{\"\":\"\"}");
    /* escapes, both ways */
    ok("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\\"\\\\/\\b\\f\\n\\r\\t\"");
    ok("\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\"", "\"A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
    ok("\"\\u0000\\u0001\\u001f\\u007f\"", "\"\\u0000\\u0001\\u001f\x7f\"");
    ok("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbf\xbf\xf4\x8f\xbf\xbf\"",
       "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbf\xbf\xf4\x8f\xbf\xbf\"");
    ok("\"a\\nb\xc3\xa9\\\"c\"", "\"a\\nb\xc3\xa9\\\"c\"");
    ok("{\"k\\u0065y\":1}", "{\"key\":1}");
    /* numbers */
    ok_type("0", MSGPACK_OBJECT_POSITIVE_INTEGER, "0");
    ok_type("-0", MSGPACK_OBJECT_POSITIVE_INTEGER, "0");
    ok_type("-1", MSGPACK_OBJECT_NEGATIVE_INTEGER, "-1");
    ok_type("9223372036854775807", MSGPACK_OBJECT_POSITIVE_INTEGER, "9223372036854775807");
    ok_type("-9223372036854775808", MSGPACK_OBJECT_NEGATIVE_INTEGER, "-9223372036854775808");
    ok_type("18446744073709551615", MSGPACK_OBJECT_POSITIVE_INTEGER, "18446744073709551615");
    ok_type("18446744073709551616", MSGPACK_OBJECT_FLOAT64, "1.8446744073709552e+19");
    ok_type("99999999999999999999", MSGPACK_OBJECT_FLOAT64, "1e+20");
    ok_type("-9223372036854775809", MSGPACK_OBJECT_FLOAT64, "-9.223372036854776e+18");
    ok_type("1180591620717411303424", MSGPACK_OBJECT_FLOAT64, "1.1805916207174113e+21"); /* 2^70 */
    ok_type("1.0", MSGPACK_OBJECT_FLOAT64, "1.0");
    ok_type("-0.0", MSGPACK_OBJECT_FLOAT64, "-0.0");
    ok_type("1e2", MSGPACK_OBJECT_FLOAT64, "100.0");
    ok_type("1E-2", MSGPACK_OBJECT_FLOAT64, "0.01");
    ok_type("1e+2", MSGPACK_OBJECT_FLOAT64, "100.0");
    ok("0.1", "0.1");
    ok("0.30000000000000004", "0.30000000000000004");
    ok("0.9345285892486572", "0.9345285892486572");
    ok("0.1000000000000000000000000001", "0.1");
    ok("0.000000000000000000000000000000000000001", "1e-39");
    ok("123456789012345678901234567890", "1.2345678901234568e+29");
    ok("1.7976931348623157e308", "1.7976931348623157e+308");
    ok("4.9e-324", "5e-324");
    ok("1e-400", "0.0");
    ok("-1e-400", "-0.0");
    ok("2.2250738585072011e-308", "2.225073858507201e-308");
    ok("[1.5,-2,3e0]", "[1.5,-2,3.0]");
    /* bin */
    ok("{\"$base64\":\"AAEC/w==\"}", "{\"$base64\":\"AAEC/w==\"}");
    ok_type("{\"$base64\":\"\"}", MSGPACK_OBJECT_BIN, "{\"$base64\":\"\"}");
    ok_type("{\"$base64\":\"AA==\"}", MSGPACK_OBJECT_BIN, "{\"$base64\":\"AA==\"}");
    ok_type("{\"$base64\":\"AAA=\"}", MSGPACK_OBJECT_BIN, "{\"$base64\":\"AAA=\"}");
    ok_type("{\"$base64\":\"QUJD\"}", MSGPACK_OBJECT_BIN, "{\"$base64\":\"QUJD\"}");
    ok("{\"a\":{\"$base64\":\"QUJD\"},\"b\":2}", "{\"a\":{\"$base64\":\"QUJD\"},\"b\":2}");
    ok("{\"\\u0024base64\":\"QUJD\"}", "{\"$base64\":\"QUJD\"}");
    ok("{\"$base64\":\"AA==\",\"x\":1}", "{\"$base64\":\"AA==\",\"x\":1}");
    bad("{\"$base64\":1}", "must be a string", 11);
    bad("{\"$base64\":\"A\"}", "invalid base64", 11);
    bad("{\"$base64\":\"AB==\"}", "invalid base64", -1);
    bad("{\"$base64\":\"A=AA\"}", "invalid base64", -1);
    bad("{\"$base64\":\"AA=A\"}", "invalid base64", -1);
    bad("{\"$base64\":\"AA AA\"}", "invalid base64", -1);

    /* malformed */
    bad("", "empty text", 0);
    bad("   ", "empty text", 3);
    bad("{", "expected a key (a string) or '}', found end of line", 1);
    bad("{\"a\"", "expected ':' after a key", 4);
    bad("{\"a\":", "expected a value, found end of line", 5);
    bad("{\"a\":}", "expected a value", 5);
    bad("{\"a\":1,}", "expected a key", 7);
    bad("{\"a\":1", "expected ',' or '}', found end of line", 6);
    bad("{\"a\":1 \"b\":2}", "expected ',' or '}', found '\"'", 7);
    bad("{'a':1}", "expected a key", 1);
    bad("{a:1}", "expected a key", 1);
    bad("{1:2}", "expected a key", 1);
    bad("[1,]", "expected a value", 3);
    bad("[1 2]", "expected ',' or ']'", 3);
    bad("[1]]", "unexpected ']' after the value", 3);
    bad("{\"a\":1}x", "unexpected 'x' after the value", 7);
    bad("{\"a\":1} {}", "after the value", 8);
    bad("01", "leading zeros", 0);
    bad("-01", "leading zeros", 0);
    bad("1.", "expected a digit after '.'", 2);
    bad("1.e5", "expected a digit after '.'", 2);
    bad(".5", "expected a value", 0);
    bad("+1", "expected a value", 0);
    bad("-", "expected a digit", 1);
    bad("-a", "expected a digit", 1);
    bad("1e", "expected a digit in the exponent", 2);
    bad("1e+", "expected a digit in the exponent", 3);
    bad("0x10", "unexpected 'x'", 1);
    bad("1e400", "out of range", 0);
    bad("-1e99999999999", "out of range", 0);
    bad("tru", "expected a value", 0);
    bad("nul", "expected a value", 0);
    bad("True", "expected a value", 0);
    bad("NaN", "NaN is not JSON", 0);
    bad("[1,NaN]", "NaN is not JSON", 3);
    bad("Infinity", "Infinity is not JSON", 0);
    bad("-Infinity", "Infinity is not JSON", 0);
    bad("\"abc", "unterminated string", 0);
    bad("\"abc\\", "unterminated string", 0);
    bad("[\"a\\x\"]", "invalid escape: backslash followed by 'x'", 3);
    bad("\"\\u12\"", "invalid \\u escape", 1);
    bad("\"\\u12", "invalid \\u escape", 1);
    bad("\"\\uGGGG\"", "invalid \\u escape", 1);
    bad("\"\\ud800\"", "unpaired surrogate \\uD800", 1);
    bad("\"\\ud800x\"", "unpaired surrogate", 1);
    bad("\"\\ud800\\u0041\"", "unpaired surrogate", 1);
    bad("\"\\ud800\\ud800\"", "unpaired surrogate", 1);
    bad("\"ab\\udc00\"", "unpaired surrogate \\uDC00", 3);
    bad("\"a\tb\"", "control character 0x09", 2);
    bad("\"a\nb\"", "control character 0x0a", 2);
    bad_n("\"a\0b\"", 5, "control character 0x00", 2);
    bad_n("{\"a\":1}\0", 8, "unexpected byte 0x00", 7);
    bad("\"\xff\"", "invalid UTF-8", 1);
    bad("\"ab\x80\"", "invalid UTF-8", 3);
    bad("\"\xc0\xaf\"", "invalid UTF-8", 1);          /* overlong '/' */
    bad("\"\xe0\x80\xaf\"", "invalid UTF-8", 1);      /* overlong */
    bad("\"\xed\xa0\x80\"", "invalid UTF-8", 1);      /* encoded surrogate */
    bad("\"\xf4\x90\x80\x80\"", "invalid UTF-8", 1);  /* above U+10FFFF */
    bad("\"\xe2\x82\"", "invalid UTF-8", 1);          /* truncated sequence */
    bad("\"\\n\xff\"", "invalid UTF-8", 3);           /* slow path too */
    bad("\xef\xbb\xbf{}", "expected a value, found byte 0xef", 0); /* no BOM */
    bad("{\"a\":1,\"a\":2}", "duplicate key \"a\"", 7);
    bad("{\"a\":1,\"\\u0061\":2}", "duplicate key \"a\"", 7);
    bad("{\"x\":{\"b\":1,\"c\":2,\"b\":3}}", "duplicate key \"b\"", 18);

    /* a large object: duplicates found by sorting */
    {
        static char big[200000];
        size_t at = 0;
        big[at++] = '{';
        for (int i = 0; i < 5000; i++) at += (size_t)sprintf(big + at, "%s\"k%d\":%d", i ? "," : "", i % 4999, i);
        big[at++] = '}';
        bad_n(big, at, "duplicate key \"k0\"", -1);
        at = 0;
        big[at++] = '{';
        for (int i = 0; i < 5000; i++) at += (size_t)sprintf(big + at, "%s\"k%d\":%d", i ? "," : "", i, i);
        big[at++] = '}';
        CHECK(json_parse(&doc, big, at) == 0 && doc.nodes[0].n == 5000, "5000 distinct keys: %s", doc.err);
    }

    /* depth: JSON_MAX_DEPTH nested containers parse and print; one more does not */
    {
        char deep[256];
        int n = 0;
        for (int i = 0; i < JSON_MAX_DEPTH; i++) deep[n++] = '[';
        for (int i = 0; i < JSON_MAX_DEPTH; i++) deep[n++] = ']';
        deep[n] = 0;
        ok(deep, deep);
        n = 0;
        for (int i = 0; i < JSON_MAX_DEPTH + 1; i++) deep[n++] = '[';
        for (int i = 0; i < JSON_MAX_DEPTH + 1; i++) deep[n++] = ']';
        deep[n] = 0;
        bad(deep, "nesting deeper than 31 levels", JSON_MAX_DEPTH);
        n = 0;
        for (int i = 0; i < 40; i++) n += sprintf(deep + n, "%s", i % 2 ? "[ " : "{\"\":"); /* {"":[ {"":[ ... */
        bad(deep, "nesting deeper", -1);
    }

    /* node limit */
    doc.max_nodes = 4;
    bad("[1,2,3,4]", "more than 4 values", 7);
    CHECK(json_parse(&doc, "[1,2,3]", 7) == 0, "4 values under a limit of 4");
    doc.max_nodes = 0;

    /* a line with every escape and random code points survives parse -> pack -> write -> parse */
    for (int round = 0; round < 200; round++) {
        char text[4096], *p = text;
        *p++ = '"';
        for (int i = 0; i < 200; i++) {
            uint32_t cp = (uint32_t)(rnd() % 0x110000);
            if (rnd() % 2) cp %= 0x80;
            if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0x41;
            if (rnd() % 4 == 0) {
                if (cp >= 0x10000) {
                    uint32_t v = cp - 0x10000;
                    p += sprintf(p, "\\u%04X\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
                } else p += sprintf(p, "\\u%04x", cp);
            } else if (cp < 0x20 || cp == '"' || cp == '\\') {
                p += sprintf(p, "\\u%04x", cp);
            } else if (cp < 0x80) *p++ = (char)cp;
            else if (cp < 0x800) *p++ = (char)(0xC0 | cp >> 6), *p++ = (char)(0x80 | (cp & 63));
            else if (cp < 0x10000)
                *p++ = (char)(0xE0 | cp >> 12), *p++ = (char)(0x80 | ((cp >> 6) & 63)), *p++ = (char)(0x80 | (cp & 63));
            else
                *p++ = (char)(0xF0 | cp >> 18), *p++ = (char)(0x80 | ((cp >> 12) & 63)),
                *p++ = (char)(0x80 | ((cp >> 6) & 63)), *p++ = (char)(0x80 | (cp & 63));
        }
        *p++ = '"';
        *p = 0;
        char *once = reprint(text, strlen(text), NULL);
        static char first[1 << 16];
        CHECK(once != NULL && strncmp(once, "WRITE", 5) != 0, "random string: %s", doc.err);
        if (!once) continue;
        strcpy(first, once);
        char *twice = reprint(first, strlen(first), NULL);
        CHECK(twice && strcmp(first, twice) == 0, "random string changes on a second round");
    }

    /* numbers: random doubles printed, parsed, printed again */
    for (int i = 0; i < 100000; i++) {
        uint64_t b = rnd();
        double d;
        memcpy(&d, &b, 8);
        if (!isfinite(d)) continue;
        char num[JSON_NUM_MAX];
        int n = json_fmt_double(num, d);
        if (json_parse(&doc, num, (size_t)n) < 0 || doc.nodes[0].type != JSON_FLOAT ||
            memcmp(&doc.nodes[0].v.f, &d, 8) != 0) {
            CHECK(0, "double %a printed %s parses back as %a (%s)", d, num, doc.nodes[0].v.f, doc.err);
            break;
        }
        int64_t iv = (int64_t)rnd();
        n = snprintf(num, sizeof num, "%lld", (long long)iv);
        if (json_parse(&doc, num, (size_t)n) < 0 ||
            (iv < 0 ? doc.nodes[0].type != JSON_INT || doc.nodes[0].v.i != iv
                    : doc.nodes[0].type != JSON_UINT || doc.nodes[0].v.u != (uint64_t)iv)) {
            CHECK(0, "integer %s", num);
            break;
        }
    }
    n_pass++;
}

/* ---------------------------------------------------------------- writer errors */

static int write_packed(char *why, size_t whylen, char *out, size_t outlen) {
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    int rc = -2;
    if (msgpack_unpack_next(&up, sbuf.data, sbuf.size, &off) == MSGPACK_UNPACK_SUCCESS) {
        json_buf jb = {0};
        rc = json_write(&jb, &up.data, why, whylen);
        if (rc == 0 && out) {
            size_t n = jb.len < outlen - 1 ? jb.len : outlen - 1;
            memcpy(out, jb.p, n);
            out[n] = 0;
        }
        jb_free(&jb);
    }
    msgpack_unpacked_destroy(&up);
    return rc;
}

static void pk_str(const char *s) { msgpack_pack_str_with_body(&pk, s, strlen(s)); }

static void test_writer(void) {
    char why[256], out[4096];

    msgpack_sbuffer_clear(&sbuf);
    msgpack_pack_map(&pk, 2);
    pk_str("v");
    msgpack_pack_int(&pk, 1);
    pk_str("ops");
    msgpack_pack_array(&pk, 2);
    pk_str("ok");
    msgpack_pack_str_with_body(&pk, "a\xff", 2);
    CHECK(write_packed(why, sizeof why, NULL, 0) == -1 && strstr(why, "field \"ops\"[1]: string is not valid UTF-8"),
          "invalid UTF-8: %s", why);

    msgpack_sbuffer_clear(&sbuf);
    msgpack_pack_map(&pk, 1);
    pk_str("a");
    msgpack_pack_map(&pk, 1);
    msgpack_pack_int(&pk, 7);
    msgpack_pack_int(&pk, 1);
    CHECK(write_packed(why, sizeof why, NULL, 0) == -1 && strstr(why, "field \"a\": map key 1 is an integer"),
          "int key: %s", why);

    /* a key twice (in a nested map: the stream reader checks only the record's own keys) */
    msgpack_sbuffer_clear(&sbuf);
    msgpack_pack_map(&pk, 1);
    pk_str("m");
    msgpack_pack_map(&pk, 3);
    pk_str("k");
    msgpack_pack_int(&pk, 1);
    pk_str("j");
    msgpack_pack_int(&pk, 2);
    pk_str("k");
    msgpack_pack_int(&pk, 3);
    CHECK(write_packed(why, sizeof why, NULL, 0) == -1 && strstr(why, "field \"m\": key \"k\" appears twice"),
          "duplicate key: %s", why);
    msgpack_sbuffer_clear(&sbuf);
    msgpack_pack_map(&pk, 40);
    for (int i = 0; i < 40; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i == 39 ? 7 : i);
        pk_str(k);
        msgpack_pack_int(&pk, i);
    }
    CHECK(write_packed(why, sizeof why, NULL, 0) == -1 && strstr(why, "key \"k7\" appears twice"),
          "duplicate key in a large map: %s", why);

    msgpack_sbuffer_clear(&sbuf);
    msgpack_pack_map(&pk, 1);
    pk_str("x");
    msgpack_pack_ext_with_body(&pk, "ab", 2, 5);
    CHECK(write_packed(why, sizeof why, NULL, 0) == -1 && strstr(why, "field \"x\": msgpack ext"), "ext: %s", why);

    msgpack_sbuffer_clear(&sbuf);
    msgpack_pack_map(&pk, 1);
    pk_str("b");
    msgpack_pack_map(&pk, 1);
    pk_str("$base64");
    pk_str("QUJD");
    CHECK(write_packed(why, sizeof why, NULL, 0) == -1 && strstr(why, "only key is \"$base64\""), "$base64 map: %s", why);

    msgpack_sbuffer_clear(&sbuf);
    msgpack_pack_map(&pk, 1);
    pk_str("n\x01\"");
    msgpack_pack_map(&pk, 1);
    pk_str("m");
    msgpack_pack_double(&pk, NAN);
    CHECK(write_packed(why, sizeof why, NULL, 0) == -1 && strstr(why, "field \"n\\x01\\x22\".\"m\": NaN"), "NaN: %s",
          why);

    /* the 32 levels msgpack-c can build print; a deeper (hand-made) object is refused */
    msgpack_sbuffer_clear(&sbuf);
    for (int i = 0; i < 31; i++) msgpack_pack_array(&pk, 1);
    msgpack_pack_array(&pk, 0);
    CHECK(write_packed(why, sizeof why, out, sizeof out) == 0 && strlen(out) == 64, "32 levels: %s", why);
    {
        msgpack_object chain[JSON_WRITE_MAX_DEPTH + 1];
        for (int i = 0; i <= JSON_WRITE_MAX_DEPTH; i++) {
            chain[i].type = MSGPACK_OBJECT_ARRAY;
            chain[i].via.array.size = i < JSON_WRITE_MAX_DEPTH;
            chain[i].via.array.ptr = i < JSON_WRITE_MAX_DEPTH ? &chain[i + 1] : NULL;
        }
        json_buf jb = {0};
        CHECK(json_write(&jb, &chain[0], why, sizeof why) == -1 && strstr(why, "nested deeper than 64"), "deep: %s",
              why);
        jb_free(&jb);
    }

    /* bin, float32, all integer widths */
    msgpack_sbuffer_clear(&sbuf);
    msgpack_pack_array(&pk, 9);
    msgpack_pack_bin_with_body(&pk, "\x00\x01\x02\xff", 4);
    msgpack_pack_float(&pk, 0.1f);
    msgpack_pack_float(&pk, 1.0f);
    msgpack_pack_double(&pk, 1.0);
    msgpack_pack_uint64(&pk, UINT64_MAX);
    msgpack_pack_int64(&pk, INT64_MIN);
    msgpack_pack_int8(&pk, -5);
    msgpack_pack_uint16(&pk, 300);
    msgpack_pack_str_with_body(&pk, "\x7f\xc3\xa9", 3);
    CHECK(write_packed(why, sizeof why, out, sizeof out) == 0 &&
              strcmp(out, "[{\"$base64\":\"AAEC/w==\"},0.1,1.0,1.0,18446744073709551615,-9223372036854775808,-5,300,"
                          "\"\x7f\xc3\xa9\"]") == 0,
          "mixed: %s", out);

    /* float32 comes back as float64 with the same value once rounded to float32 */
    for (int i = 0; i < 10000; i++) {
        uint32_t fb = (uint32_t)rnd();
        float f;
        memcpy(&f, &fb, 4);
        if (!isfinite(f)) continue;
        char num[JSON_NUM_MAX];
        int n = json_fmt_float(num, f);
        if (json_parse(&doc, num, (size_t)n) < 0 || (float)doc.nodes[0].v.f != f) {
            CHECK(0, "float %a printed %s", (double)f, num);
            break;
        }
    }
    n_pass++;
}

int main(void) {
    json_doc_init(&doc);
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    test_floats();
    test_parse();
    test_writer();
    json_doc_free(&doc);
    msgpack_sbuffer_destroy(&sbuf);
    printf("test_json: %d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
