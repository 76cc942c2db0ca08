/* propose.c: the proposers' shared key sets and passes over streams (see propose.h). */
#include "propose.h"

#include "graph_hash.h"
#include "opts.h"
#include "record.h"
#include "util.h"

void propose_opts_init(propose_opts *po) { *po = (propose_opts){.seed = PROPOSE_DEFAULT_SEED}; }

int propose_option(int c, const char *arg, propose_opts *po) {
    switch (c) {
    case 'p':
        if (!*arg) die_usage("--pool: empty file name");
        po->pool = arg;
        return 1;
    case 'n': po->q = opt_uint("--count", arg, 1, PROPOSE_MAX_Q); return 1;
    case PROPOSE_OPT_REQUIRE:
        if (!*arg) die_usage("--require: an empty field name");
        po->require = arg;
        return 1;
    case 's': po->seed = (uint32_t)opt_uint("--seed", arg, 0, UINT32_MAX); return 1;
    default: return 0;
    }
}

void keyset_init(key_set *s) {
    for (int i = 0; i < SPACE_COUNT; i++) dmap_init(&s->m[i]);
}

void keyset_free(key_set *s) {
    for (int i = 0; i < SPACE_COUNT; i++) dmap_free(&s->m[i]);
}

uint64_t *keyset_get(const key_set *s, const space_info *sp, const uint8_t key[16]) {
    return dmap_get(&s->m[sp->id], key);
}

int keyset_put(key_set *s, const space_info *sp, const uint8_t key[16], uint64_t val) {
    return dmap_put(&s->m[sp->id], key, val);
}

int propose_graph_key(const rec_reader *r, const msgpack_object *rec, const space_info **sp, graph *g,
                      uint8_t key[16]) {
    char why[256];
    if (graph_read(rec, sp, g, why, sizeof why) != 0) rr_fail(r, "%s", why);
    return graph_key(*sp, g, key);
}

uint64_t propose_read_evaluated(const char *path, key_set *evaluated, propose_record_fn each, void *ctx) {
    rec_reader *r = rr_open(path);
    const msgpack_object *rec;
    while ((rec = rr_next(r))) {
        const space_info *sp;
        graph g;
        uint8_t key[16];
        if (propose_graph_key(r, rec, &sp, &g, key) == 0) keyset_put(evaluated, sp, key, rr_count(r) - 1);
        if (each) each(ctx, r, rec, sp, &g);
    }
    uint64_t n = rr_count(r);
    rr_close(r);
    return n;
}

uint64_t propose_scan_pool(const char *path, const char *require, key_set *seen, propose_pool_fn fn, void *ctx) {
    rec_reader *r = rr_open(path);
    const msgpack_object *rec;
    uint64_t candidates = 0;
    while ((rec = rr_next(r))) {
        if (require && !rec_get(rec, require)) continue;
        const space_info *sp;
        graph g;
        uint8_t key[16];
        if (propose_graph_key(r, rec, &sp, &g, key) != 0) continue;
        if (!keyset_put(seen, sp, key, candidates)) continue;
        candidates++;
        fn(ctx, r, rec, rr_count(r) - 1, sp, key);
    }
    uint64_t n = rr_count(r);
    rr_close(r);
    return n;
}

void propose_begin(msgpack_packer *pk, const char *raw, size_t len) {
    static const char *const drop[] = {"proposal", NULL};
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    if (msgpack_unpack_next(&u, raw, len, &off) != MSGPACK_UNPACK_SUCCESS)
        die(EXIT_DATA, "internal error: unreadable kept record");
    pack_enriched_begin(pk, &u.data, NULL, 0, drop, 1);
    pack_cstr(pk, "proposal");
    msgpack_unpacked_destroy(&u);
}
