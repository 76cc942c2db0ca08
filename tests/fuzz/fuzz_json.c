/* fuzz_json.c: libFuzzer target for the JSON-lines parser. Properties checked: a parsed document
 * encodes to exactly json_packed_size bytes, and those bytes pass the stream reader's pre-scan. */
#include <stdlib.h>

#include "json_read.h"
#include "mpscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_doc d;
    json_doc_init(&d);
    d.max_nodes = 1u << 12;
    if (json_parse(&d, (const char *)data, size) == 0) {
        size_t want = json_packed_size(&d);
        char *out = malloc(JSON_ENCODE_BOUND(&d) + 1);
        size_t got = json_encode(&d, 0, out);
        if (got != want) abort();
        char why[256];
        size_t len;
        int r = mpscan_object((const uint8_t *)out, got, 1u << 24, 1u << 20, &len, why, sizeof why);
        if (r != MPSCAN_OK || len != got) abort(); /* NaN cannot come from JSON, so this must pass */
        free(out);
    }
    json_doc_free(&d);
    return 0;
}
