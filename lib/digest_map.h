/* digest_map.h: a map from 16-byte digests (MD5: NAS-Bench-101 graph hashes, graph forms) to
 * 64-bit values, e.g. an index into the caller's array of entries. Open addressing with linear
 * probing, kept at most half full; the digests are uniform, so their first 8 bytes are the hash.
 * Used by bench-lookup's tables, bench_parse's accuracy join and lib/metrics.h's sets.
 * Never fails: allocation dies (exit 3) through xmalloc. */
#ifndef SVGE_DIGEST_MAP_H
#define SVGE_DIGEST_MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t mask, count;  /* capacity - 1 (a power of 2 minus 1), keys held */
    uint8_t (*key)[16];
    uint64_t *val;
    uint8_t *used;
} digest_map;

void dmap_init(digest_map *m);
void dmap_free(digest_map *m);
/* The value of key, or NULL if absent (valid until the next dmap_put). */
uint64_t *dmap_get(const digest_map *m, const uint8_t key[16]);
/* Insert key with val if it is absent: 1 if it was inserted, 0 if it was there (its value unchanged). */
int dmap_put(digest_map *m, const uint8_t key[16], uint64_t val);

#endif
