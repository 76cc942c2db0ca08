/* propose.h: what the search loop's baseline proposers (random-propose, evo-propose) share: the
 * set of graph keys of a stream (graph_key: isomorphism-aware, NB101 cells pruned first), one pass
 * over the evaluated stream and over a pool of candidate cells, and the "proposal" field they add.
 *
 * Keys are kept per space, so that streams of several spaces never mix. Nothing here returns an
 * error: a record that is not a graph record dies naming it (exit 1), through the stream reader. */
#ifndef SVGE_PROPOSE_H
#define SVGE_PROPOSE_H

#include <getopt.h>
#include <msgpack.h>
#include <stdint.h>

#include "digest_map.h"
#include "graph.h"
#include "stream.h"

/* The options both proposers take: -p/--pool POOL, -n/--count Q (1..PROPOSE_MAX_Q), --require FIELD,
 * -s/--seed S (default PROPOSE_DEFAULT_SEED). PROPOSE_LONGOPTS goes into a tool's long option table,
 * "p:n:s:" into its short options; propose_option handles them. */
#define PROPOSE_MAX_Q 1000000
#define PROPOSE_DEFAULT_SEED 1
enum { PROPOSE_OPT_REQUIRE = 0x180 };
#define PROPOSE_LONGOPTS                                                                           \
    {"pool", required_argument, NULL, 'p'}, {"count", required_argument, NULL, 'n'},              \
    {"require", required_argument, NULL, PROPOSE_OPT_REQUIRE}, {"seed", required_argument, NULL, 's'}

typedef struct {
    const char *pool, *require; /* NULL if not given */
    uint64_t q;                 /* 0 if not given */
    uint32_t seed;
} propose_opts;

/* Set po's defaults. */
void propose_opts_init(propose_opts *po);
/* If getopt_long's c (value optarg) is one of the shared options, store it and return 1; else 0.
 * A bad value is a usage error. */
int propose_option(int c, const char *arg, propose_opts *po);

/* A set of graph keys, one digest map per space; each key maps to a caller's value. */
typedef struct {
    digest_map m[SPACE_COUNT];
} key_set;

void keyset_init(key_set *s);
void keyset_free(key_set *s);
/* The value of key in space sp, or NULL. */
uint64_t *keyset_get(const key_set *s, const space_info *sp, const uint8_t key[16]);
/* Insert key with val if absent: 1 if inserted, 0 if it was there. */
int keyset_put(key_set *s, const space_info *sp, const uint8_t key[16], uint64_t val);

/* The graph of a record of r (dies naming the record if it has none) and its graph_key. Returns 0,
 * or -1 if the cell has no input->output path (then it has no key and equals no valid cell). */
int propose_graph_key(const rec_reader *r, const msgpack_object *rec, const space_info **sp, graph *g,
                      uint8_t key[16]);

/* Called on each record of a stream with its graph (sp, g). */
typedef void (*propose_record_fn)(void *ctx, const rec_reader *r, const msgpack_object *rec,
                                  const space_info *sp, const graph *g);

/* Read the evaluated stream (path; NULL or "-": stdin): put every record's key into evaluated (value:
 * its 0-based position) and call each (if not NULL) on every record. Returns the record count. */
uint64_t propose_read_evaluated(const char *path, key_set *evaluated, propose_record_fn each, void *ctx);

/* Called on each candidate of a pool (the record last read from r; rr_raw gives its bytes): its
 * 0-based record number in the pool and its key. */
typedef void (*propose_pool_fn)(void *ctx, const rec_reader *r, const msgpack_object *rec, uint64_t recno,
                                const space_info *sp, const uint8_t key[16]);

/* One pass over a pool of cells (path): every record that has the field require (if not NULL) and
 * whose key is not in seen yet (the first record of a key counts; cells without an input->output
 * path are passed over) is put into seen, its value the number of candidates before it, and fn is
 * called on it. Returns the pool's record count. */
uint64_t propose_scan_pool(const char *path, const char *require, key_set *seen, propose_pool_fn fn, void *ctx);

/* Begin packing a record (its msgpack bytes, e.g. a copy of rr_raw) with the field "proposal" last
 * (an old "proposal" is dropped); the caller then packs its value (a map) and ends the record. */
void propose_begin(msgpack_packer *pk, const char *raw, size_t len);

#endif
