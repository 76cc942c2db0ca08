/* digest_map.c: open-addressing map of 16-byte digests (see digest_map.h). */
#include "digest_map.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define INITIAL_CAP 1024

static void alloc(digest_map *m, size_t cap) {
    m->mask = cap - 1;
    m->count = 0;
    m->key = xmalloc(cap * sizeof *m->key);
    m->val = xmalloc(cap * sizeof *m->val);
    m->used = xcalloc(cap, 1);
}

void dmap_init(digest_map *m) { alloc(m, INITIAL_CAP); }

void dmap_free(digest_map *m) {
    free(m->key);
    free(m->val);
    free(m->used);
    *m = (digest_map){0};
}

/* Where key is, or the empty slot where it would go. */
static size_t slot(const digest_map *m, const uint8_t key[16]) {
    uint64_t h;
    memcpy(&h, key, 8);
    size_t i = (size_t)h & m->mask;
    while (m->used[i] && memcmp(m->key[i], key, 16) != 0) i = (i + 1) & m->mask;
    return i;
}

uint64_t *dmap_get(const digest_map *m, const uint8_t key[16]) {
    size_t i = slot(m, key);
    return m->used[i] ? &m->val[i] : NULL;
}

int dmap_put(digest_map *m, const uint8_t key[16], uint64_t val) {
    if (2 * (m->count + 1) > m->mask + 1) {
        digest_map old = *m;
        alloc(m, 2 * (old.mask + 1));
        for (size_t i = 0; i <= old.mask; i++)
            if (old.used[i]) dmap_put(m, old.key[i], old.val[i]);
        dmap_free(&old);
    }
    size_t i = slot(m, key);
    if (m->used[i]) return 0;
    m->used[i] = 1;
    memcpy(m->key[i], key, 16);
    m->val[i] = val;
    m->count++;
    return 1;
}
