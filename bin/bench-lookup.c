/* bench-lookup: look each graph up in a benchmark table by its graph hash and add what the table
 * knows (accuracies, training time, ...): the oracle of every search experiment.
 *
 * The key is the NAS-Bench-101 graph hash (graph_key: NB101 graphs are pruned first, as
 * nasbench.query does), so isomorphic cells find the same entry. The table is the project's copy
 * of each benchmark (what `graph-parse SPACE` emits), or any record stream given with --table. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_parse.h"
#include "digest_map.h"
#include "graph.h"
#include "graph_hash.h"
#include "opts.h"
#include "record.h"
#include "stream.h"
#include "util.h"

static void usage(void) {
    printf("Usage: bench-lookup [OPTIONS] < graphs > graphs-with-accuracies\n"
           "Look each graph record up in its space's benchmark table by graph hash and add the table's\n"
           "fields (accuracies, training time, parameters, and the cell's \"arch\" string: NB201's official\n"
           "one, ENAS's list form) that the record does not already have.\n"
           "\n"
           "Adds: \"lookup\": \"found\" | \"not-found\" | \"invalid\" (the graph is not a valid cell of its\n"
           "space; NB101 cells are pruned first, as nasbench does), and \"bench_id\": the table's id.\n"
           "A found NB101 cell may have no accuracy fields: only 20,001 of 423,624 have accuracies.\n"
           "\n"
           "Spaces without a built-in table: enas12 (no data ships) and nb101x (NB101's operations in\n"
           "cells of up to 8 nodes: NAS-Bench-101 holds none of more than 7 nodes or 9 edges). Their valid\n"
           "graphs are \"not-found\" (and a note says why, once per space); an nb101x cell that would fit\n"
           "NB101 is not looked up in NB101's table either: write it with space nb101 for that. A --table\n"
           "stream may hold graphs of any space, these two included.\n"
           "\n"
           "Options:\n"
           "  --table FILE     use this record stream as the table (any spaces) instead of the\n"
           "                   built-in tables of data/ (loaded on first use of each space)\n"
           "  --missing MODE   what to do with not-found or invalid graphs: keep (default), drop, fail\n"
           OPTS_FORCE_HELP("      ")
           "  -q, --quiet      only errors and warnings on stderr (no progress)\n"
           "  -v, --verbose    also a summary on stderr (records read and written)\n"
           "  -h, --help       show this help and exit\n"
           "\n"
           "A missing graph with --missing fail is bad data (exit 1).\n"
           "\n"
           OPTS_EXIT_HELP);
}

/* Fields of a table record that describe the graph rather than its measurements, not copied. "arch"
 * is copied: it names the cell (a decoded NB201 cell gets its official arch string), and in every
 * space with one (NB201, ENAS: fixed topology) isomorphic cells are the same cell. */
static const char *const structural[] = {"v", "id", "space", "ops", "edges", "hash", "lookup", "bench_id", NULL};

static int is_structural(const msgpack_object *key) {
    for (const char *const *s = structural; *s; s++)
        if (obj_is_str(key, *s)) return 1;
    return 0;
}

typedef struct {
    int64_t id;          /* the table record's id, or -1 */
    size_t off, len;     /* its measurement fields: one msgpack map in table.bytes */
} entry;

typedef struct {
    digest_map index[SPACE_COUNT]; /* graph hash -> entry number, per space */
    entry *e;
    size_t count, cap;
    msgpack_sbuffer bytes;
    int loaded[SPACE_COUNT];
    int no_table[SPACE_COUNT]; /* no built-in table ships for the space (only without --table) */
} table;

/* The entry of a graph hash in a space, or NULL. */
static const entry *find(const table *t, int space, const uint8_t key[16]) {
    const uint64_t *i = dmap_get(&t->index[space], key);
    return i ? &t->e[*i] : NULL;
}

/* Add one table record (msgpack bytes). where: for messages. */
static void add_record(table *t, const msgpack_object *rec, const char *where) {
    const space_info *sp;
    graph g;
    char why[256];
    if (graph_read(rec, &sp, &g, why, sizeof why) != 0) die(EXIT_DATA, "table %s: %s", where, why);
    uint8_t key[16];
    const char *hex;
    uint32_t hexlen;
    if (rec_get_str(rec, "hash", &hex, &hexlen) == 1) {
        if (hash_from_hex(hex, hexlen, key) != 0) die(EXIT_DATA, "table %s: field \"hash\" is not 32 hex digits", where);
    } else if (graph_key(sp, &g, key) != 0) {
        die(EXIT_DATA, "table %s: the graph has no input->output path", where);
    }
    if (!dmap_put(&t->index[sp->id], key, t->count)) return; /* the first entry of a hash wins (NB101 lists each cell once) */
    if (t->count == t->cap) t->e = xrealloc(t->e, (t->cap = t->cap ? 2 * t->cap : 1024) * sizeof *t->e);
    entry *e = &t->e[t->count];
    int64_t id;
    e->id = rec_get_i64(rec, "id", &id) == 1 ? id : -1;
    /* The measurement fields, stored as one msgpack map. */
    const msgpack_object_kv *kv = rec->via.map.ptr;
    uint32_t n = 0;
    for (uint32_t i = 0; i < rec->via.map.size; i++)
        if (!is_structural(&kv[i].key)) n++;
    e->off = t->bytes.size;
    msgpack_packer pk;
    msgpack_packer_init(&pk, &t->bytes, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, n);
    for (uint32_t i = 0; i < rec->via.map.size; i++) {
        if (is_structural(&kv[i].key)) continue;
        msgpack_pack_object(&pk, kv[i].key);
        msgpack_pack_object(&pk, kv[i].val);
    }
    e->len = t->bytes.size - e->off;
    t->count++;
}

static void add_raw(void *ctx, const char *rec, size_t len) {
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    if (msgpack_unpack_next(&u, rec, len, &off) != MSGPACK_UNPACK_SUCCESS) die(EXIT_DATA, "internal: bad table record");
    add_record(ctx, &u.data, "built-in");
    msgpack_unpacked_destroy(&u);
}

static void load_builtin(table *t, const space_info *sp) {
    t->loaded[sp->id] = 1;
    const char *path = bench_default_file(sp);
    if (!path) { /* enas12, nb101x: no table ships; every graph is not-found */
        t->no_table[sp->id] = 1;
        return;
    }
    char *p = xstrdup(path);
    char *acc = sp->id == SPACE_NB101 ? xstrdup(data_path("nb101/val_accuracies.csv.zst")) : NULL;
    record_sink sink;
    sink_init(&sink, add_raw, t);
    bench_parse(sp, p, acc, &sink);
    sink_destroy(&sink);
    free(p);
    free(acc);
}

static void load_stream(table *t, const char *path) {
    rec_reader *r = rr_open(path);
    const msgpack_object *rec;
    char where[512];
    while ((rec = rr_next(r))) {
        snprintf(where, sizeof where, "%s: record %llu", path, (unsigned long long)rr_count(r));
        add_record(t, rec, where);
    }
    rr_close(r);
    for (int s = 0; s < SPACE_COUNT; s++) t->loaded[s] = 1;
}

/* Does the record have a field with this (string) key? */
static int has_key(const msgpack_object *rec, const msgpack_object *key) {
    const msgpack_object_kv *kv = rec->via.map.ptr;
    for (uint32_t i = 0; i < rec->via.map.size; i++)
        if (kv[i].key.via.str.size == key->via.str.size &&
            memcmp(kv[i].key.via.str.ptr, key->via.str.ptr, key->via.str.size) == 0)
            return 1;
    return 0;
}

enum { MISSING_KEEP, MISSING_DROP, MISSING_FAIL };

/* Why a space has no built-in table. */
static const char *no_table_reason(const space_info *sp) {
    if (sp->id == SPACE_NB101X)
        return "no benchmark table has nb101x cells (NAS-Bench-101 holds cells of at most 7 nodes and 9 edges; "
               "an nb101x cell that fits is looked up only as space nb101)";
    return "no benchmark table ships for this space";
}

int main(int argc, char **argv) {
    tool_init(argv[0]);
    const char *table_path = NULL;
    int missing = MISSING_KEEP;
    static const struct option opts[] = {
        {"table", required_argument, 0, 't'},
        {"missing", required_argument, 0, 'm'},
        OPTS_QV_LONG,
        OPTS_FORCE_LONG,
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    opterr = 0; /* our own messages, through die_usage */
    int c;
    while ((c = getopt_long(argc, argv, ":hqv" OPTS_FORCE, opts, NULL)) != -1) {
        switch (c) {
        case 't': table_path = optarg; break;
        case 'm':
            missing = opt_word("--missing", optarg, (const char *const[]){"keep", "drop", "fail", NULL});
            break;
        case 'h': usage(); return EXIT_OK;
        default: opt_common(c, argv);
        }
    }
    opt_operands(argc, argv, 0, "the graphs are read from stdin");

    table t = {0};
    msgpack_sbuffer_init(&t.bytes);
    for (int s = 0; s < SPACE_COUNT; s++) dmap_init(&t.index[s]);
    if (table_path) load_stream(&t, table_path);

    rec_reader *r = rr_open(NULL);
    rec_writer *w = rw_open(NULL, 0);
    msgpack_packer *pk = rw_packer(w);
    const msgpack_object *rec;
    uint64_t n_found = 0, n_missing = 0;
    int noted[SPACE_COUNT] = {0};
    static const char *const drop[] = {"lookup", "bench_id", NULL};
    while ((rec = rr_next(r))) {
        const space_info *sp;
        graph g;
        char why[256];
        if (graph_read(rec, &sp, &g, why, sizeof why) != 0) rr_fail(r, "%s", why);
        if (!t.loaded[sp->id]) load_builtin(&t, sp);
        /* Valid as the benchmark sees it: NB101 cells after pruning. */
        graph pruned = g;
        int valid = !(space_nb101_rules(sp) && graph_prune(&pruned) != 0) &&
                    graph_check(sp, &pruned, why, sizeof why) == 0;
        const entry *e = NULL;
        if (valid) {
            uint8_t key[16];
            graph_hash(sp, &pruned, key);
            e = find(&t, sp->id, key);
        }
        const char *status = e ? "found" : valid ? "not-found" : "invalid";
        if (!e) {
            n_missing++;
            if (missing == MISSING_FAIL) {
                if (valid && t.no_table[sp->id]) rr_fail(r, "%s graph: %s", sp->name, no_table_reason(sp));
                if (valid) rr_fail(r, "graph not found in the %s table", sp->name);
                rr_fail(r, "invalid %s graph: %s", sp->name, why);
            }
            if (missing == MISSING_DROP) continue;
            if (valid && t.no_table[sp->id] && !noted[sp->id]) {
                noted[sp->id] = 1;
                note(VERB_NORMAL, "%s: record %llu: %s graph: %s; its graphs are not-found", rr_name(r),
                     (unsigned long long)rr_count(r), sp->name, no_table_reason(sp));
            }
        } else {
            n_found++;
        }
        /* The table's fields that the record does not have yet. */
        msgpack_unpacked fields;
        msgpack_unpacked_init(&fields);
        const msgpack_object_kv *kv = NULL;
        uint32_t nkv = 0, n_new = 1 + (e && e->id >= 0);
        if (e) {
            size_t off = 0;
            if (msgpack_unpack_next(&fields, t.bytes.data + e->off, e->len, &off) != MSGPACK_UNPACK_SUCCESS)
                die(EXIT_DATA, "internal error: unreadable table entry");
            kv = fields.data.via.map.ptr;
            nkv = fields.data.via.map.size;
            for (uint32_t i = 0; i < nkv; i++)
                if (!has_key(rec, &kv[i].key)) n_new++;
        }
        size_t raw_len;
        const char *raw = rr_raw(r, &raw_len);
        pack_enriched_begin(pk, rec, raw, raw_len, drop, n_new);
        pack_kv_str(pk, "lookup", status);
        if (e && e->id >= 0) pack_kv_i64(pk, "bench_id", e->id);
        for (uint32_t i = 0; i < nkv; i++) {
            if (has_key(rec, &kv[i].key)) continue;
            msgpack_pack_object(pk, kv[i].key);
            msgpack_pack_object(pk, kv[i].val);
        }
        rw_end_record(w);
        msgpack_unpacked_destroy(&fields);
    }
    rw_close(w);
    rr_close(r);
    if (verbosity() == VERB_VERBOSE || (verbosity() == VERB_NORMAL && isatty(2)))
        say("%llu found, %llu not found or invalid", (unsigned long long)n_found, (unsigned long long)n_missing);
    for (int s = 0; s < SPACE_COUNT; s++) dmap_free(&t.index[s]);
    free(t.e);
    msgpack_sbuffer_destroy(&t.bytes);
    return EXIT_OK;
}
