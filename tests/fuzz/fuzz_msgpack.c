/* fuzz_msgpack.c: libFuzzer target for the parsers of untrusted record bytes: the structural
 * pre-scan (mpscan), msgpack-c's unpacking of what the scan accepted, graph_read and the JSON writer.
 * Property checked: whatever mpscan accepts, msgpack-c unpacks to exactly the same length. */
#include <msgpack.h>
#include <stdlib.h>

#include "graph.h"
#include "json_write.h"
#include "mpscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char why[256];
    size_t len = 0;
    if (mpscan_object(data, size, 1u << 16, 1u << 12, &len, why, sizeof why) != MPSCAN_OK) return 0;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    msgpack_unpack_return ret = msgpack_unpack_next(&u, (const char *)data, len, &off);
    if (ret == MSGPACK_UNPACK_SUCCESS && off != len) abort(); /* scan and unpacker disagree */
    if (ret == MSGPACK_UNPACK_SUCCESS && u.data.type == MSGPACK_OBJECT_MAP) {
        const space_info *sp;
        graph g;
        if (graph_read(&u.data, &sp, &g, why, sizeof why) == 0) graph_check(sp, &g, why, sizeof why);
        json_buf b = {0};
        json_write(&b, &u.data, why, sizeof why);
        jb_free(&b);
    }
    msgpack_unpacked_destroy(&u);
    return 0;
}
