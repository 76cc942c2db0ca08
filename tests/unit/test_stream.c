/* test_stream: the stream reader's rules that no tool shows alone.
 *
 *   test_stream           UTF-8 validation (utf8.h) and mpscan's nesting limit: "N passed, M failed"
 *   test_stream forget F  read stream F until rr_next returns NULL, print the count, and return 0
 *                         without rr_close: a deferred error must still fail the program (exit 1). */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "mpscan.h"
#include "record.h"
#include "stream.h"
#include "utf8.h"
#include "util.h"

/* msgpack: a map {"x": [[...[]...]]} nested `levels` deep in all (the map is level 1) */
static size_t nested(uint8_t *p, int levels) {
    size_t n = 0;
    p[n++] = 0x81;
    p[n++] = 0xa1;
    p[n++] = 'x';
    for (int i = 2; i < levels; i++) p[n++] = 0x91;
    p[n++] = 0x90;
    return n;
}

/* pack_enriched_begin of the record packed in raw (n bytes) with drop and one new field "new": 1;
 * from its raw bytes if use_raw. The result in out (its size returned). */
static size_t enrich(const char *raw, size_t n, const char *const *drop, int use_raw, char *out, size_t cap) {
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    if (msgpack_unpack_next(&u, raw, n, &off) != MSGPACK_UNPACK_SUCCESS) return 0;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    pack_enriched_begin(&pk, &u.data, use_raw ? raw : NULL, n, drop, 1);
    pack_kv_i64(&pk, "new", 1);
    const size_t len = sb.size <= cap ? sb.size : 0;
    if (len) memcpy(out, sb.data, len);
    msgpack_sbuffer_destroy(&sb);
    msgpack_unpacked_destroy(&u);
    return len;
}

/* A record of `fields` fields k0, k1, ... = 0, 1.5, "s", ... (map 16 beyond 15). */
static size_t record_of(char *out, int fields) {
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, (uint32_t)fields);
    for (int i = 0; i < fields; i++) {
        char k[8];
        snprintf(k, sizeof k, "k%d", i);
        pack_cstr(&pk, k);
        if (i % 3 == 0) msgpack_pack_int(&pk, i);
        else if (i % 3 == 1) msgpack_pack_float(&pk, 1.5f);
        else pack_cstr(&pk, "s");
    }
    memcpy(out, sb.data, sb.size);
    const size_t n = sb.size;
    msgpack_sbuffer_destroy(&sb);
    return n;
}

int main(int argc, char **argv) {
    tool_init(argv[0]);
    if (argc == 3 && strcmp(argv[1], "forget") == 0) {
        rec_reader *r = rr_open(argv[2]);
        unsigned long long n = 0;
        while (rr_next(r)) n++;
        printf("%llu records\n", n);
        return 0; /* no rr_close: the exit check raises a deferred error */
    }
    const unsigned char ok[] = "plain ascii text, 16+ bytes long \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
    CHECK(utf8_invalid_at(ok, sizeof ok - 1) == sizeof ok - 1);
    const unsigned char bad[] = "0123456789abcdef\xff";
    CHECK(utf8_invalid_at(bad, sizeof bad - 1) == 16);
    const unsigned char surrogate[] = "ab\xed\xa0\x80";
    CHECK(utf8_invalid_at(surrogate, sizeof surrogate - 1) == 2);
    const unsigned char overlong[] = "\xc0\xaf";
    CHECK(utf8_invalid_at(overlong, 2) == 0);
    const unsigned char cut[] = "abc\xe2\x82";
    CHECK(utf8_invalid_at(cut, sizeof cut - 1) == 3);

    uint8_t buf[64];
    char why[256];
    size_t len = 0;
    size_t n = nested(buf, MPSCAN_MAX_DEPTH);
    CHECK(mpscan_object(buf, n, 1024, 1024, &len, why, sizeof why) == MPSCAN_OK && len == n);
    n = nested(buf, MPSCAN_MAX_DEPTH + 1);
    CHECK(mpscan_object(buf, n, 1024, 1024, &len, why, sizeof why) == MPSCAN_ERROR);
    CHECK(strstr(why, "nested deeper than 31 levels") != NULL);
    /* siblings do not add up: 40 arrays side by side are 2 levels */
    uint8_t wide[64] = {0xdc, 0, 40};
    memset(wide + 3, 0x90, 40);
    CHECK(mpscan_object(wide, 43, 1024, 1024, &len, why, sizeof why) == MPSCAN_OK && len == 43);

    /* pack_enriched_begin: from the raw bytes the same bytes as packed again (fixmap and map 16),
     * a dropped field packs again, and a non-minimal encoding passes through as it came */
    static const char *const drop_k1[] = {"k1", NULL};
    for (int fields = 3; fields <= 20; fields += 17) {
        char rec[1024], a[1200], b[1200];
        const size_t rn = record_of(rec, fields);
        const size_t la = enrich(rec, rn, NULL, 1, a, sizeof a), lb = enrich(rec, rn, NULL, 0, b, sizeof b);
        CHECK(la > rn && la == lb && memcmp(a, b, la) == 0);
        CHECK((fields <= 14 ? (unsigned char)a[0] == 0x80 + fields + 1 : (unsigned char)a[0] == 0xde));
        const size_t da = enrich(rec, rn, drop_k1, 1, a, sizeof a), db = enrich(rec, rn, drop_k1, 0, b, sizeof b);
        CHECK(da && da == db && memcmp(a, b, da) == 0 && da < la);
    }
    /* {"v": 1 as int64 (0xd3, 9 bytes)}: kept as it came from raw, made minimal when packed again */
    const char wide_int[] = {(char)0x81, (char)0xa1, 'v', (char)0xd3, 0, 0, 0, 0, 0, 0, 0, 1};
    char a[64], b[64];
    const size_t la = enrich(wide_int, sizeof wide_int, NULL, 1, a, sizeof a);
    const size_t lb = enrich(wide_int, sizeof wide_int, NULL, 0, b, sizeof b);
    CHECK(la == 1 + 11 + 5 && (unsigned char)a[0] == 0x82 && memcmp(a + 1, wide_int + 1, 11) == 0);
    CHECK(lb == la - 8 && (unsigned char)b[3] == 0x01);
    return check_summary();
}
