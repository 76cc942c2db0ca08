/* bench_parse.h: reading the benchmarks' native files into graph records (formats/records.md).
 * Used by graph-parse and, for its built-in tables, by bench-lookup. Errors die with
 * "tool: FILE: line N: problem" (exit 1), or exit 3 on I/O; no function here returns an error. */
#ifndef SVGE_BENCH_PARSE_H
#define SVGE_BENCH_PARSE_H
#include <msgpack.h>
#include "space.h"

/* Where parsed records go: each record is packed into buf with pk, then handed to fn. */
typedef struct {
    void (*fn)(void *ctx, const char *rec, size_t len);
    void *ctx;
    msgpack_sbuffer buf;
    msgpack_packer pk;
} record_sink;
void sink_init(record_sink *s, void (*fn)(void *, const char *, size_t), void *ctx);
void sink_emit(record_sink *s);
void sink_destroy(record_sink *s);

/* The copy in data/ for a space (a path valid until the next data_path call), or NULL (enas12, nb101x). */
const char *bench_default_file(const space_info *sp);
/* Parse a native file of the space (nb101, nb201, enas6, enas12; nb101x has none: exit 2).
 * accpath: nb101 accuracies to join by hash, or NULL. */
void bench_parse(const space_info *sp, const char *path, const char *accpath, record_sink *out);
#endif
