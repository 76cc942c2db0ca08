/* bench_parse.c: the benchmarks' native files -> graph records (see bench_parse.h). */
#include "bench_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest_map.h"
#include "graph.h"
#include "graph_hash.h"
#include "md5.h"
#include "native.h"
#include "record.h"
#include "stream.h"
#include "textin.h"
#include "util.h"

#define MAX_COLS 64

/* ------------------------------------------------------------ helpers */

static int is_integer_text(const char *s) {
    if (*s == '-') s++;
    if (!*s) return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return 0;
    return 1;
}

/* A decimal field as a double; percent: divide by 100 in decimal (append "e-2" before converting),
 * so that "85.62" becomes the double nearest to 0.8562, not 85.62 * 0.01 = 0.8562000000000001. */
static double number_field(text_reader *t, const char *col, const char *val, int percent) {
    char buf[64];
    double d;
    if (strlen(val) > 40 || strpbrk(val, "eExXnNiI") ||
        snprintf(buf, sizeof buf, "%s%s", val, percent ? "e-2" : "") < 0 || parse_double(buf, &d) != 0)
        tr_fail(t, "column %s: \"%.40s\" is not a finite decimal number", col, val);
    return d;
}

/* Pack a numeric CSV field: integers as integers (unless percent), other numbers as float64. */
static void pack_number_field(text_reader *t, msgpack_packer *pk, const char *col, const char *val, int percent) {
    double d = number_field(t, col, val, percent);
    if (!percent && is_integer_text(val)) msgpack_pack_int64(pk, strtoll(val, NULL, 10));
    else msgpack_pack_double(pk, d);
}

/* A ';'-separated list of numbers, as an array of float64. */
static void pack_number_list(text_reader *t, msgpack_packer *pk, const char *col, char *val, int percent) {
    char *parts[16];
    int n = 0;
    for (char *p = val;; n++) {
        if (n == 16) tr_fail(t, "column %s: more than 16 values", col);
        parts[n] = p;
        char *semi = strchr(p, ';');
        if (!semi) { n++; break; }
        *semi = 0;
        p = semi + 1;
    }
    msgpack_pack_array(pk, (size_t)n);
    for (int i = 0; i < n; i++) {
        msgpack_pack_double(pk, number_field(t, col, parts[i], percent));
    }
}

static int find_col(char **names, int n, const char *want) {
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], want) == 0) return i;
    return -1;
}

typedef struct { char *names[MAX_COLS]; int n; char *line; } csv_header;

static void read_header(text_reader *t, csv_header *h) {
    size_t len;
    char *line = tr_line(t, &len);
    if (!line) die(EXIT_DATA, "%s: empty file (no CSV header)", tr_name(t));
    if (strchr(line, '"')) tr_fail(t, "quoted CSV fields are not supported");
    h->line = xstrdup(line);
    h->n = csv_split(h->line, h->names, MAX_COLS);
    if (h->n > MAX_COLS) tr_fail(t, "more than %d columns", MAX_COLS);
}

static char **split_row(text_reader *t, char *line, const csv_header *h, char **f) {
    if (strchr(line, '"')) tr_fail(t, "quoted CSV fields are not supported");
    int n = csv_split(line, f, MAX_COLS);
    if (n != h->n) tr_fail(t, "%d columns; the header has %d", n, h->n);
    return f;
}

static void fail_graph(text_reader *t, const char *why) { tr_fail(t, "%s", why); }

static void pack_hash(msgpack_packer *pk, const uint8_t digest[16]) {
    char hex[33];
    md5_hex(digest, hex);
    pack_kv_str(pk, "hash", hex);
}

/* ------------------------------------------------------------ NB101 accuracies, by hash */

typedef struct {
    uint8_t key[16];
    uint32_t nfields;   /* key/value pairs packed in bytes[off..off+len) */
    size_t off, len;
    uint8_t used;
} acc_entry;

typedef struct {
    digest_map index;   /* hash -> entry number */
    acc_entry *e;       /* in file order */
    size_t count, cap;
    msgpack_sbuffer bytes;
} acc_table;

static void acc_load(acc_table *a, const char *path) {
    text_reader *t = tr_open(path);
    csv_header h;
    read_header(t, &h);
    int hcol = find_col(h.names, h.n, "hash");
    if (hcol < 0) die(EXIT_DATA, "%s: no \"hash\" column", path);
    dmap_init(&a->index);
    msgpack_sbuffer_init(&a->bytes);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &a->bytes, msgpack_sbuffer_write);
    char *f[MAX_COLS];
    size_t len;
    char *line;
    while ((line = tr_line(t, &len))) {
        if (len == 0) continue;
        split_row(t, line, &h, f);
        uint8_t key[16];
        if (hash_from_hex(f[hcol], strlen(f[hcol]), key) != 0) tr_fail(t, "column hash: \"%.40s\" is not 32 hex digits", f[hcol]);
        if (!dmap_put(&a->index, key, a->count)) tr_fail(t, "hash %s appears twice", f[hcol]);
        if (a->count == a->cap) a->e = xrealloc(a->e, (a->cap = a->cap ? 2 * a->cap : 1024) * sizeof *a->e);
        acc_entry *e = &a->e[a->count];
        *e = (acc_entry){0};
        memcpy(e->key, key, 16);
        e->off = a->bytes.size;
        for (int c = 0; c < h.n; c++) {
            if (c == hcol || strcmp(h.names[c], "num_vertices") == 0 || strcmp(h.names[c], "adjacency") == 0 ||
                strcmp(h.names[c], "ops") == 0)
                continue;
            pack_cstr(&pk, h.names[c]);
            pack_number_field(t, &pk, h.names[c], f[c], 0);
            e->nfields++;
        }
        e->len = a->bytes.size - e->off;
        a->count++;
    }
    free(h.line);
    tr_close(t);
}

static void parse_nb101(const char *path, const char *accpath, record_sink *out) {
    const space_info *sp = space_get(SPACE_NB101);
    acc_table acc = {0};
    if (accpath) acc_load(&acc, accpath);
    const int have_acc = accpath != NULL;
    text_reader *t = tr_open(path);
    csv_header h;
    read_header(t, &h);
    int ch = find_col(h.names, h.n, "hash"), cv = find_col(h.names, h.n, "num_vertices"),
        ca = find_col(h.names, h.n, "adjacency"), co = find_col(h.names, h.n, "ops");
    if (cv < 0 || ca < 0 || co < 0)
        die(EXIT_DATA, "%s: the CSV header needs columns num_vertices, adjacency and ops (and hash)", tr_name(t));
    msgpack_packer *pk = &out->pk;
    char *f[MAX_COLS], why[256];
    size_t len;
    char *line;
    uint64_t id = 0;
    while ((line = tr_line(t, &len))) {
        if (len == 0) continue;
        split_row(t, line, &h, f);
        uint64_t nv;
        if (parse_u64(f[cv], &nv) != 0 || nv > 7) tr_fail(t, "column num_vertices: \"%.40s\" is not in 2..7", f[cv]);
        graph g;
        if (nb101_from_row((int)nv, f[ca], strlen(f[ca]), f[co], &g, why, sizeof why) != 0) fail_graph(t, why);
        if (graph_check(sp, &g, why, sizeof why) != 0) tr_fail(t, "invalid nb101 cell: %s", why);
        uint8_t key[16];
        if (ch >= 0) {
            if (hash_from_hex(f[ch], strlen(f[ch]), key) != 0) tr_fail(t, "column hash: \"%.40s\" is not 32 hex digits", f[ch]);
        } else {
            graph_hash(sp, &g, key);
        }
        const uint64_t *ei = have_acc ? dmap_get(&acc.index, key) : NULL;
        acc_entry *e = ei ? &acc.e[*ei] : NULL;
        msgpack_pack_map(pk, 6 + (e ? e->nfields : 0));
        pack_kv_i64(pk, "v", STREAM_FORMAT_VERSION);
        pack_kv_i64(pk, "id", (int64_t)id++);
        graph_pack(pk, sp, &g);
        pack_hash(pk, key);
        if (e) {
            /* the accuracy fields, packed once when the table was loaded */
            msgpack_sbuffer_write(pk->data, acc.bytes.data + e->off, e->len);
            e->used = 1;
        }
        sink_emit(out);
    }
    if (id == 0) die(EXIT_DATA, "%s: no cells (only a header)", tr_name(t));
    if (have_acc) {
        size_t unused = 0;
        char first[33] = "";
        for (size_t i = 0; i < acc.count; i++)
            if (!acc.e[i].used && unused++ == 0) md5_hex(acc.e[i].key, first);
        if (unused)
            die(EXIT_DATA, "%s: %zu accuracy rows match no cell of %s (first: %s)", accpath, unused, tr_name(t), first);
        dmap_free(&acc.index);
        free(acc.e);
        msgpack_sbuffer_destroy(&acc.bytes);
    }
    free(h.line);
    tr_close(t);
}

/* ------------------------------------------------------------ NB201 */

static void parse_nb201(const char *path, record_sink *out) {
    const space_info *sp = space_get(SPACE_NB201);
    text_reader *t = tr_open(path);
    csv_header h;
    read_header(t, &h);
    int ci = find_col(h.names, h.n, "index"), ca = find_col(h.names, h.n, "arch_str");
    if (ci < 0 || ca < 0) die(EXIT_DATA, "%s: the CSV header needs columns index and arch_str", tr_name(t));
    int extra = 0;
    for (int c = 0; c < h.n; c++)
        if (c != ci && c != ca && strcmp(h.names[c], "op_code") != 0) extra++;
    msgpack_packer *pk = &out->pk;
    char *f[MAX_COLS], why[256];
    size_t len;
    char *line;
    uint64_t rows = 0;
    while ((line = tr_line(t, &len))) {
        if (len == 0) continue;
        rows++;
        split_row(t, line, &h, f);
        uint64_t index;
        if (parse_u64(f[ci], &index) != 0) tr_fail(t, "column index: \"%.40s\" is not a non-negative integer", f[ci]);
        graph g;
        if (nb201_from_arch(f[ca], strlen(f[ca]), &g, why, sizeof why) != 0) fail_graph(t, why);
        if (graph_check(sp, &g, why, sizeof why) != 0) tr_fail(t, "invalid nb201 cell: %s", why);
        uint8_t key[16];
        graph_hash(sp, &g, key);
        msgpack_pack_map(pk, (size_t)(7 + extra));
        pack_kv_i64(pk, "v", STREAM_FORMAT_VERSION);
        pack_kv_i64(pk, "id", (int64_t)index);
        graph_pack(pk, sp, &g);
        pack_hash(pk, key);
        pack_kv_str(pk, "arch", f[ca]);
        for (int c = 0; c < h.n; c++) {
            if (c == ci || c == ca || strcmp(h.names[c], "op_code") == 0) continue;
            pack_cstr(pk, h.names[c]);
            size_t nl = strlen(h.names[c]);
            if (nl > 6 && strcmp(h.names[c] + nl - 6, "_seeds") == 0)
                pack_number_list(t, pk, h.names[c], f[c], 1);
            else
                pack_number_field(t, pk, h.names[c], f[c], 1);
        }
        sink_emit(out);
    }
    if (rows == 0) die(EXIT_DATA, "%s: no cells (only a header)", tr_name(t));
    free(h.line);
    tr_close(t);
}

/* ------------------------------------------------------------ ENAS */

static void parse_enas(const char *path, const space_info *sp, record_sink *out) {
    int layers = sp->max_nodes - 2;
    text_reader *t = tr_open(path);
    msgpack_packer *pk = &out->pk;
    char why[256], arch[1024];
    size_t len;
    char *line;
    uint64_t id = 0;
    while ((line = tr_line(t, &len))) {
        while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t')) line[--len] = 0;
        if (len == 0) tr_fail(t, "empty line (every line is an architecture)");
        char *close = strrchr(line, ']');
        if (!close) tr_fail(t, "no ']': not an ENAS architecture line");
        char *rest = close + 1;
        while (*rest == ' ') rest++;
        if (*rest != ',') tr_fail(t, "expected \", accuracy\" after the architecture");
        rest++;
        while (*rest == ' ') rest++;
        double acc;
        if (parse_double(rest, &acc) != 0) tr_fail(t, "accuracy \"%.40s\" is not a finite number", rest);
        if (acc < 0 || acc > 1) tr_fail(t, "accuracy %g is not in [0, 1]", acc);
        graph g;
        if (enas_from_list(line, (size_t)(close + 1 - line), layers, &g, why, sizeof why) != 0) fail_graph(t, why);
        if (graph_check(sp, &g, why, sizeof why) != 0) tr_fail(t, "invalid %s architecture: %s", sp->name, why);
        uint8_t key[16];
        graph_hash(sp, &g, key);
        enas_to_list(&g, arch, sizeof arch);
        msgpack_pack_map(pk, 8);
        pack_kv_i64(pk, "v", STREAM_FORMAT_VERSION);
        pack_kv_i64(pk, "id", (int64_t)id++);
        graph_pack(pk, sp, &g);
        pack_hash(pk, key);
        pack_kv_str(pk, "arch", arch);
        pack_kv_double(pk, "ws_val_acc", acc);
        sink_emit(out);
    }
    if (id == 0) die(EXIT_DATA, "%s: empty: no architecture lines", tr_name(t));
    tr_close(t);
}


void sink_init(record_sink *s, void (*fn)(void *, const char *, size_t), void *ctx) {
    s->fn = fn;
    s->ctx = ctx;
    msgpack_sbuffer_init(&s->buf);
    msgpack_packer_init(&s->pk, &s->buf, msgpack_sbuffer_write);
}

void sink_emit(record_sink *s) {
    s->fn(s->ctx, s->buf.data, s->buf.size);
    s->buf.size = 0;
}

void sink_destroy(record_sink *s) { msgpack_sbuffer_destroy(&s->buf); }

const char *bench_default_file(const space_info *sp) {
    switch (sp->id) {
    case SPACE_NB101: return data_path("nb101/cells.csv.zst");
    case SPACE_NB201: return data_path("nb201/accuracies.csv.zst");
    case SPACE_ENAS6: return data_path("enas6/final_structures6.txt.zst");
    default: return NULL;
    }
}

void bench_parse(const space_info *sp, const char *path, const char *accpath, record_sink *out) {
    switch (sp->id) {
    case SPACE_NB101: parse_nb101(path, accpath, out); break;
    case SPACE_NB201: parse_nb201(path, out); break;
    case SPACE_ENAS6:
    case SPACE_ENAS12: parse_enas(path, sp, out); break;
    default: die(EXIT_USAGE, "%s has no native file format", sp->name);
    }
}
