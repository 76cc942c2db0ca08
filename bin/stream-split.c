/* stream-split: split a record stream into a train/test part (as the reference does with
 * np.random.seed(S); perm = np.random.permutation(N); train = perm[:int(N*R)], or perm[:COUNT] as
 * svge-train --sample draws its cells) or into shards.
 *
 * Ratio mode keeps every record's raw msgpack bytes in one buffer (no msgpack objects), since the
 * permutation needs N before the first record can be written. Shard mode streams in constant memory;
 * chunk mode reads a FILE twice (count, then copy) or holds stdin's raw bytes. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"
#include "rng.h"
#include "stream.h"
#include "util.h"

#define DEFAULT_RATIO 0.9
#define DEFAULT_SEED 1

static void usage(void) {
    printf("Usage: %s [OPTION]... [FILE]\n"
           "Split a record stream (FILE, or stdin if absent or '-') into two parts, or take one shard.\n"
           "\n"
           "Ratio mode (the default): perm = numpy permutation(N) with np.random.seed(SEED);\n"
           "the train part is perm[:int(N*RATIO)], the test part perm[int(N*RATIO):], each in\n"
           "permutation order, as the SVGe reference iterates its splits.\n"
           "  -r, --ratio R      fraction of records in the train part, in (0,1] (default %g)\n"
           "  -n, --count N      the train part is the first N records of the permutation, perm[:N]\n"
           "                     (as svge-train --sample N --seed S draws its cells); N larger than\n"
           "                     the record count is an error; exclusive with --ratio (default: --ratio)\n"
           "  -s, --seed S       numpy seed, 0..4294967295 (default %d)\n"
           "  -c, --complement   write the test part to stdout instead of the train part\n"
           "      --rest FILE    also write the other part to FILE (a file atomically, a device or FIFO\n"
           "                     such as /dev/null through)\n"
           "      --keep-order   write each part in input order, not permutation order\n"
           "\n"
           "Shard mode (constant memory):\n"
           "      --shard K/N    write record i (0-based) iff i mod N == K; 0 <= K < N\n"
           "      --chunk K/N    write the K-th of N contiguous parts of the M records: records\n"
           "                     floor(K*M/N) .. floor((K+1)*M/N)-1, in input order; concatenating\n"
           "                     the outputs of K = 0..N-1 gives back the input (pipelines/fanout).\n"
           "                     Counts the records first: reads FILE twice, or holds stdin's records\n"
           "\n"
           OPTS_FORCE_HELP("        ")
           "  -q, --quiet        only errors and warnings on stderr (no progress)\n"
           "  -v, --verbose      also a summary on stderr (records read and written)\n"
           "  -h, --help         show this help and exit\n"
           "\n"
           OPTS_EXIT_HELP,
           tool_name(), DEFAULT_RATIO, DEFAULT_SEED);
}

enum { OPT_REST = 256, OPT_KEEP_ORDER, OPT_SHARD, OPT_CHUNK };

typedef struct {
    double ratio;
    uint32_t seed;
    int complement, keep_order, ratio_opts;
    int has_ratio, has_count;
    uint64_t count;
    const char *rest, *input;
    int shard_mode, chunk; /* chunk: --chunk, else --shard (with shard_mode) */
    uint64_t shard_k, shard_n;
} options;

/* "K/N" with 0 <= K < N. */
static int parse_shard(const char *s, uint64_t *k, uint64_t *n) {
    const char *slash = strchr(s, '/');
    if (!slash || slash == s) return -1;
    char kbuf[32];
    size_t klen = (size_t)(slash - s);
    if (klen >= sizeof kbuf) return -1;
    memcpy(kbuf, s, klen);
    kbuf[klen] = 0;
    if (parse_u64(kbuf, k) || parse_u64(slash + 1, n)) return -1;
    return *n >= 1 && *k < *n ? 0 : -1;
}

static void parse_args(int argc, char **argv, options *o) {
    static const struct option longopts[] = {
        {"ratio", required_argument, NULL, 'r'},
        {"count", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, 's'},
        {"complement", no_argument, NULL, 'c'},
        {"rest", required_argument, NULL, OPT_REST},
        {"keep-order", no_argument, NULL, OPT_KEEP_ORDER},
        {"shard", required_argument, NULL, OPT_SHARD},
        {"chunk", required_argument, NULL, OPT_CHUNK},
        OPTS_QV_LONG,
        OPTS_FORCE_LONG,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (options){.ratio = DEFAULT_RATIO, .seed = DEFAULT_SEED};
    opterr = 0;   /* our own messages, through die_usage */
    int c;
    while ((c = getopt_long(argc, argv, ":r:n:s:chqv" OPTS_FORCE, longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            o->ratio = opt_number("--ratio", optarg, 0, 1, 1, 0);
            o->ratio_opts = 1;
            o->has_ratio = 1;
            break;
        case 'n':
            o->count = opt_uint("--count", optarg, 0, UINT32_MAX);
            o->has_count = 1;
            o->ratio_opts = 1;
            break;
        case 's':
            o->seed = (uint32_t)opt_uint("--seed", optarg, 0, UINT32_MAX);
            o->ratio_opts = 1;
            break;
        case 'c': o->complement = 1; o->ratio_opts = 1; break;
        case OPT_REST:
            if (!*optarg) die_usage("--rest: empty file name");
            o->rest = optarg;
            o->ratio_opts = 1;
            break;
        case OPT_KEEP_ORDER: o->keep_order = 1; o->ratio_opts = 1; break;
        case OPT_SHARD:
        case OPT_CHUNK:
            if (o->shard_mode) die_usage("--shard and --chunk: give one, once");
            if (parse_shard(optarg, &o->shard_k, &o->shard_n))
                die_usage("%s: '%s' is not K/N with 0 <= K < N, e.g. 0/4", c == OPT_SHARD ? "--shard" : "--chunk",
                          optarg);
            o->shard_mode = 1;
            o->chunk = c == OPT_CHUNK;
            break;
        case 'h': usage(); exit(EXIT_OK);
        default: opt_common(c, argv);
        }
    }
    if (o->shard_mode && o->ratio_opts)
        die_usage("%s cannot be combined with --ratio, --count, --seed, --complement, --rest or --keep-order",
                  o->chunk ? "--chunk" : "--shard");
    if (o->has_ratio && o->has_count) die_usage("--count and --ratio: give one");
    o->input = opt_one_input(argc, argv);
}

static void run_shard(const options *o) {
    rec_reader *r = rr_open(o->input);
    rec_writer *w = rw_open(NULL, 0);
    size_t len;
    for (uint64_t i = 0; rr_next(r); i++) {
        if (i % o->shard_n != o->shard_k) continue;
        const char *raw = rr_raw(r, &len);
        rw_write_raw(w, raw, len);
    }
    note(VERB_VERBOSE, "%llu records in, %llu in shard %llu/%llu", (unsigned long long)rr_count(r),
            (unsigned long long)rw_count(w), (unsigned long long)o->shard_k, (unsigned long long)o->shard_n);
    rw_close(w);
    rr_close(r);
}

/* All input records as raw bytes: record i is buf[off[i] .. off[i+1]). */
typedef struct {
    char *buf;
    size_t size, cap;
    size_t *off;    /* (n+1) */
    uint64_t n, ncap;
} raw_records;

static void read_all(rec_reader *r, raw_records *a) {
    size_t len;
    a->ncap = 1024;
    a->off = xmalloc(a->ncap * sizeof *a->off);
    a->off[0] = 0;
    while (rr_next(r)) {
        const char *raw = rr_raw(r, &len);
        if (a->n + 2 > a->ncap) {
            a->ncap *= 2;
            a->off = xrealloc(a->off, a->ncap * sizeof *a->off);
        }
        if (a->size + len > a->cap) {
            a->cap = a->cap * 2 > a->size + len ? a->cap * 2 : a->size + len;
            a->buf = xrealloc(a->buf, a->cap);
        }
        memcpy(a->buf + a->size, raw, len);
        a->size += len;
        a->off[++a->n] = a->size;
        if (a->n > UINT32_MAX) rr_fail(r, "more than 4294967295 records: too many to hold");
    }
}

/* Records floor(K*M/N) .. floor((K+1)*M/N)-1 of the M input records (M < 2^32, so no overflow). */
static void chunk_bounds(const options *o, uint64_t m, uint64_t *lo, uint64_t *hi) {
    *lo = o->shard_k * m / o->shard_n;
    *hi = (o->shard_k + 1) * m / o->shard_n;
}

static void run_chunk(const options *o) {
    rec_reader *r = rr_open(o->input);
    rec_writer *w = rw_open(NULL, 0);
    uint64_t lo, hi, m;
    if (o->input && strcmp(o->input, "-") != 0) { /* a file: count, then read again */
        while (rr_next(r))
            if (rr_count(r) > UINT32_MAX) rr_fail(r, "more than 4294967295 records: too many to chunk");
        m = rr_count(r);
        rr_close(r);
        chunk_bounds(o, m, &lo, &hi);
        r = rr_open(o->input);
        size_t len;
        for (uint64_t i = 0; i < hi && rr_next(r); i++)
            if (i >= lo) {
                const char *raw = rr_raw(r, &len);
                rw_write_raw(w, raw, len);
            }
    } else {
        raw_records a = {0};
        read_all(r, &a);
        m = a.n;
        chunk_bounds(o, m, &lo, &hi);
        for (uint64_t i = lo; i < hi; i++) rw_write_raw(w, a.buf + a.off[i], a.off[i + 1] - a.off[i]);
        free(a.buf);
        free(a.off);
    }
    if (hi > lo)
        note(VERB_VERBOSE, "%llu records in, %llu in chunk %llu/%llu (records %llu..%llu)", (unsigned long long)m,
             (unsigned long long)rw_count(w), (unsigned long long)o->shard_k, (unsigned long long)o->shard_n,
             (unsigned long long)lo, (unsigned long long)(hi - 1));
    else
        note(VERB_VERBOSE, "%llu records in, 0 in chunk %llu/%llu", (unsigned long long)m,
             (unsigned long long)o->shard_k, (unsigned long long)o->shard_n);
    rw_close(w);
    rr_close(r);
}

/* Write records perm[lo..hi) to w, in that order or (keep_order) in input order. */
static void write_part(rec_writer *w, const raw_records *a, const uint32_t *perm, uint64_t lo, uint64_t hi,
                       int keep_order, unsigned char *mark) {
    if (!keep_order) {
        for (uint64_t i = lo; i < hi; i++)
            rw_write_raw(w, a->buf + a->off[perm[i]], a->off[perm[i] + 1] - a->off[perm[i]]);
        return;
    }
    memset(mark, 0, a->n ? a->n : 1);
    for (uint64_t i = lo; i < hi; i++) mark[perm[i]] = 1;
    for (uint64_t j = 0; j < a->n; j++)
        if (mark[j]) rw_write_raw(w, a->buf + a->off[j], a->off[j + 1] - a->off[j]);
}

static void run_ratio(const options *o) {
    rec_reader *r = rr_open(o->input);
    /* Open outputs first: a bad --rest path fails before the whole input is read. */
    rec_writer *out = rw_open(NULL, 0);
    rec_writer *rest = o->rest ? rw_open(o->rest, 0) : NULL;
    raw_records a = {0};
    read_all(r, &a);

    uint32_t n = (uint32_t)a.n;
    uint32_t *perm = xmalloc((n ? n : 1) * sizeof *perm);
    rng_mt rng;
    rng_seed(&rng, o->seed);
    rng_permutation(&rng, n, perm);
    /* perm[:COUNT], or int(N*R) in Python: the double product, truncated. */
    uint64_t k;
    if (o->has_count) {
        if (o->count > n)
            die(EXIT_DATA, "%s: --count %llu but the input holds only %u records", input_name(o->input),
                (unsigned long long)o->count, n);
        k = o->count;
    } else {
        k = (uint64_t)floor((double)n * o->ratio);
        if (k > n) k = n;
    }

    unsigned char *mark = o->keep_order ? xmalloc(n ? n : 1) : NULL;
    write_part(out, &a, perm, o->complement ? k : 0, o->complement ? n : k, o->keep_order, mark);
    if (rest) write_part(rest, &a, perm, o->complement ? 0 : k, o->complement ? k : n, o->keep_order, mark);
    if (o->has_count)
        note(VERB_VERBOSE, "%u records in: %llu train, %llu test (seed %u, count %llu)", n, (unsigned long long)k,
             (unsigned long long)(n - k), o->seed, (unsigned long long)o->count);
    else
        note(VERB_VERBOSE, "%u records in: %llu train, %llu test (seed %u, ratio %g)", n, (unsigned long long)k,
             (unsigned long long)(n - k), o->seed, o->ratio);
    if (rest) rw_close(rest);
    rw_close(out);
    rr_close(r);
    free(mark);
    free(perm);
    free(a.buf);
    free(a.off);
}

int main(int argc, char **argv) {
    tool_init(argv[0]);
    options o;
    parse_args(argc, argv, &o);
    if (o.chunk) run_chunk(&o);
    else if (o.shard_mode) run_shard(&o);
    else run_ratio(&o);
    return EXIT_OK;
}
