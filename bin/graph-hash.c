/* graph-hash: add (or check) each graph record's "hash": NAS-Bench-101's iterated-MD5 graph hash,
 * computed on the pruned cell for nb101 (so it equals the official model hash).
 *
 * Records are processed in batches of BATCH so that graph_hash_many can run the MD5s of several
 * graphs side by side (about twice the throughput of one at a time). Each record's output is
 * packed when it is read, with a placeholder hash that is filled in once the batch is hashed, so
 * no record is parsed twice. An error in record N first writes the records before N, exactly as
 * one-at-a-time processing would. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph_hash.h"
#include "md5.h"
#include "opts.h"
#include "record.h"
#include "stream.h"
#include "util.h"

#define BATCH 64

static void usage(void) {
    printf("Usage: %s [OPTION]... [FILE]\n"
           "Read graph records (FILE, or stdin if absent or '-') and write them to stdout with the field\n"
           "\"hash\": 32 lowercase hex digits, NAS-Bench-101's isomorphism-invariant graph hash. nb101 cells\n"
           "are pruned first (nodes off every input->output path removed), so an nb101 hash is the official\n"
           "model hash; other spaces are hashed as given. An existing \"hash\" is replaced.\n"
           "\n"
           "Every graph must be valid in its space (graph rules in formats/records.md; for nb101 after\n"
           "pruning, as NAS-Bench-101 does). An invalid graph is an error naming the record.\n"
           "\n"
           "  --verify        check each record's existing \"hash\" instead of replacing it; a missing or\n"
           "                  different hash is an error; records are written unchanged\n"
           "  --skip-invalid  drop records whose graph is unreadable or invalid, and report how many on\n"
           "                  stderr at the end (default: stop with an error)\n"
           OPTS_FORCE_HELP("     ")
           "  -q, --quiet     only errors and warnings on stderr (no progress)\n"
           "  -v, --verbose   also a summary on stderr (records read and written)\n"
           "  -h, --help      show this help and exit\n"
           "\n"
           OPTS_EXIT_HELP,
           tool_name());
}

typedef struct {
    int verify, skip_invalid;
    const char *input;
} options;

enum { OPT_VERIFY = 256, OPT_SKIP_INVALID };

static void parse_args(int argc, char **argv, options *o) {
    static const struct option longopts[] = {
        {"verify", no_argument, NULL, OPT_VERIFY},
        {"skip-invalid", no_argument, NULL, OPT_SKIP_INVALID},
        OPTS_QV_LONG,
        OPTS_FORCE_LONG,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (options){0};
    opterr = 0; /* our own messages, through die_usage */
    int c;
    while ((c = getopt_long(argc, argv, ":hqv" OPTS_FORCE, longopts, NULL)) != -1) {
        switch (c) {
        case OPT_VERIFY: o->verify = 1; break;
        case OPT_SKIP_INVALID: o->skip_invalid = 1; break;
        case 'h': usage(); exit(EXIT_OK);
        default: opt_common(c, argv);
        }
    }
    o->input = opt_one_input(argc, argv);
}

/* The graph of rec as it is to be hashed: read, valid in its space, and for nb101 pruned.
 * NAS-Bench-101 (ModelSpec) rejects a matrix that is not upper-triangular, then prunes, then judges
 * the pruned cell; so an nb101 graph that fails the check only because of what pruning removes
 * (dangling nodes, the node or edge count) is fine. Returns 0, or -1 with the reason in why. */
static int hashable_graph(const msgpack_object *rec, const space_info **sp, graph *g, char *why, size_t whylen) {
    if (graph_read(rec, sp, g, why, whylen) != 0) return -1;
    if (graph_check(*sp, g, why, whylen) == 0) {
        if (space_nb101_rules(*sp)) graph_prune(g); /* a valid cell has nothing to prune */
        return 0;
    }
    if (!space_nb101_rules(*sp)) return -1; /* nb101 and nb101x: prune, then judge */
    for (int i = 0; i < g->n; i++)
        if (g->succ[i] & ((2u << i) - 1)) return -1; /* self-loop or backward edge: keep that reason */
    if (graph_prune(g) != 0) {
        snprintf(why, whylen, "no path from the input (node 0) to the output (node %d)", g->n - 1);
        return -1;
    }
    return graph_check(*sp, g, why, whylen);
}

/* Records read but not yet written. Output bytes of every record are in out[], record i at
 * [off[i], off[i+1]); in default mode its last 32 bytes are the hash placeholder. */
typedef struct {
    size_t count;
    graph g[BATCH];
    const space_info *sp[BATCH];
    uint8_t want[BATCH][16]; /* --verify: the record's hash */
    uint64_t recno[BATCH];
    msgpack_sbuffer out;
    size_t off[BATCH + 1];
} batch;

/* Hash the batch and write its records; with --verify, stop at the first mismatch (after writing
 * the records before it). */
static void flush(batch *b, const options *o, rec_reader *r, rec_writer *w) {
    uint8_t got[BATCH][16];
    graph_hash_many(b->sp, b->g, b->count, got);
    for (size_t i = 0; i < b->count; i++) {
        char *rec = b->out.data + b->off[i];
        size_t len = b->off[i + 1] - b->off[i];
        if (o->verify) {
            if (memcmp(got[i], b->want[i], 16) != 0) {
                char said[33], gives[33];
                md5_hex(b->want[i], said);
                md5_hex(got[i], gives);
                die(EXIT_DATA, "%s: record %llu: hash mismatch: record says %s, graph gives %s", rr_name(r),
                    (unsigned long long)b->recno[i], said, gives);
            }
        } else {
            char hex[33];
            md5_hex(got[i], hex);
            memcpy(rec + len - 32, hex, 32);
        }
        rw_write_raw(w, rec, len);
    }
    b->count = 0;
    b->out.size = 0;
}

int main(int argc, char **argv) {
    tool_init(argv[0]);
    options o;
    parse_args(argc, argv, &o);

    rec_reader *r = rr_open(o.input);
    rec_writer *w = rw_open(NULL, 0);
    batch *b = xcalloc(1, sizeof *b);
    msgpack_sbuffer_init(&b->out);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &b->out, msgpack_sbuffer_write);
    static const char *const drop[] = {"hash", NULL};
    static const char placeholder[33] = "00000000000000000000000000000000";
    uint64_t skipped = 0;

    const msgpack_object *rec;
    while ((rec = rr_next(r))) {
        char why[512];
        size_t i = b->count;
        if (hashable_graph(rec, &b->sp[i], &b->g[i], why, sizeof why) != 0) {
            if (o.skip_invalid) {
                skipped++;
                continue;
            }
            flush(b, &o, r, w);
            rr_fail(r, "%s", why);
        }
        b->recno[i] = rr_count(r);
        b->off[i] = b->out.size;
        size_t raw_len;
        const char *raw = rr_raw(r, &raw_len);
        if (o.verify) {
            const char *h;
            uint32_t hl;
            int got = rec_get_str(rec, "hash", &h, &hl);
            if (got != 1 || hash_from_hex(h, hl, b->want[i]) != 0) {
                flush(b, &o, r, w);
                if (got == 0) rr_fail(r, "no \"hash\" field to verify");
                if (got < 0) rr_fail(r, "field \"hash\" is %s, not a string", obj_type_name(rec_get(rec, "hash")));
                rr_fail(r, "field \"hash\": \"%.*s\" is not 32 hex digits", hl > 64 ? 64 : (int)hl, h);
            }
            msgpack_sbuffer_write(&b->out, raw, raw_len);
        } else {
            pack_enriched_begin(&pk, rec, raw, raw_len, drop, 1);
            pack_kv_str(&pk, "hash", placeholder); /* the record's last 32 bytes */
        }
        b->off[i + 1] = b->out.size;
        if (++b->count == BATCH) flush(b, &o, r, w);
    }
    flush(b, &o, r, w);
    rr_close(r);
    rw_close(w);
    msgpack_sbuffer_destroy(&b->out);
    free(b);
    if (skipped) say("skipped %llu records with an invalid graph", (unsigned long long)skipped);
    return EXIT_OK;
}
