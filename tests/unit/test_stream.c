/* test_stream: the stream reader's rules that no tool shows alone.
 *
 *   test_stream           UTF-8 validation (utf8.h) and mpscan's nesting limit: "N passed, M failed"
 *   test_stream forget F  read stream F until rr_next returns NULL, print the count, and return 0
 *                         without rr_close: a deferred error must still fail the program (exit 1). */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "mpscan.h"
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
    return check_summary();
}
