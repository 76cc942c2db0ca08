/* graph-parse: a benchmark's native file -> graph records (formats/records.md).
 *
 *   graph-parse nb101 [FILE]   NAS-Bench-101 cell table (CSV hash,num_vertices,adjacency,ops), joined
 *                              by hash with the validation accuracies (--accuracies)
 *   graph-parse nb201 [FILE]   NAS-Bench-201 table (CSV index,arch_str,<accuracy columns in percent>)
 *   graph-parse enas6 [FILE]   D-VAE's final_structures6.txt ("[[op], [op, f0], ...], acc" lines)
 *   graph-parse enas12 FILE    the same format with 12 layers (no data ships)
 * FILE may be plain or zstd-compressed; without FILE the copy in data/ is read. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "graph_hash.h"
#include "md5.h"
#include "native.h"
#include "record.h"
#include "stream.h"
#include "textin.h"
#include "util.h"

#define MAX_COLS 64

static void usage(void) {
    printf("Usage: graph-parse SPACE [FILE] [OPTIONS]\n"
           "Read a benchmark's native file and write graph records (a zstd msgpack stream) to stdout.\n"
           "\n"
           "Spaces and files (FILE plain or zstd-compressed; '-' is stdin; default: the copy in data/):\n"
           "  nb101   CSV with columns hash,num_vertices,adjacency,ops (default data/nb101/cells.csv.zst)\n"
           "  nb201   CSV with columns index,arch_str and accuracy columns in percent\n"
           "          (default data/nb201/accuracies.csv.zst)\n"
           "  enas6   D-VAE final_structures6.txt lines \"[[op], [op, f0], ...], acc\"\n"
           "          (default data/enas6/final_structures6.txt.zst); every line is a record\n"
           "  enas12  the same with 12 layers; no data ships, FILE is required\n"
           "\n"
           "Options:\n"
           "  --accuracies FILE  nb101: CSV hash,<columns...> joined by hash\n"
           "                     (default data/nb101/val_accuracies.csv.zst)\n"
           "  --no-accuracies    nb101: structure only\n"
           "  -h, --help         this help\n"
           "\n"
           "Accuracies are fractions in [0,1] (NB201's percentages are divided by 100). A cell without a\n"
           "known accuracy has no accuracy field. Exit: 0 ok, 1 bad data, 2 usage, 3 I/O.\n");
}

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
    uint8_t used, present;
} acc_entry;

typedef struct {
    acc_entry *slots;
    size_t mask, count;
    msgpack_sbuffer bytes;
} acc_table;

static acc_entry *acc_slot(acc_table *a, const uint8_t key[16]) {
    uint64_t h;
    memcpy(&h, key, 8);
    for (size_t i = (size_t)h & a->mask;; i = (i + 1) & a->mask)
        if (!a->slots[i].present || memcmp(a->slots[i].key, key, 16) == 0) return &a->slots[i];
}

static void acc_load(acc_table *a, const char *path) {
    text_reader *t = tr_open(path);
    csv_header h;
    read_header(t, &h);
    int hcol = find_col(h.names, h.n, "hash");
    if (hcol < 0) die(EXIT_DATA, "%s: no \"hash\" column", path);
    a->mask = (1u << 16) - 1;
    a->slots = xcalloc(a->mask + 1, sizeof *a->slots);
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
        if (a->count * 2 > a->mask) tr_fail(t, "more than %zu rows", a->mask / 2);
        acc_entry *e = acc_slot(a, key);
        if (e->present) tr_fail(t, "hash %s appears twice", f[hcol]);
        memcpy(e->key, key, 16);
        e->present = 1;
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

static void parse_nb101(const char *path, const char *accpath, rec_writer *w) {
    const space_info *sp = space_get(SPACE_NB101);
    acc_table acc = {0};
    if (accpath) acc_load(&acc, accpath);
    text_reader *t = tr_open(path);
    csv_header h;
    read_header(t, &h);
    int ch = find_col(h.names, h.n, "hash"), cv = find_col(h.names, h.n, "num_vertices"),
        ca = find_col(h.names, h.n, "adjacency"), co = find_col(h.names, h.n, "ops");
    if (cv < 0 || ca < 0 || co < 0)
        die(EXIT_DATA, "%s: the CSV header needs columns num_vertices, adjacency and ops (and hash)", tr_name(t));
    msgpack_packer *pk = rw_packer(w);
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
        acc_entry *e = acc.slots ? acc_slot(&acc, key) : NULL;
        if (e && !e->present) e = NULL;
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
        rw_end_record(w);
    }
    if (acc.slots) {
        size_t unused = 0;
        char first[33] = "";
        for (size_t i = 0; i <= acc.mask; i++)
            if (acc.slots[i].present && !acc.slots[i].used && unused++ == 0) md5_hex(acc.slots[i].key, first);
        if (unused)
            die(EXIT_DATA, "%s: %zu accuracy rows match no cell of %s (first: %s)", accpath, unused, tr_name(t), first);
        free(acc.slots);
        msgpack_sbuffer_destroy(&acc.bytes);
    }
    free(h.line);
    tr_close(t);
}

/* ------------------------------------------------------------ NB201 */

static void parse_nb201(const char *path, rec_writer *w) {
    const space_info *sp = space_get(SPACE_NB201);
    text_reader *t = tr_open(path);
    csv_header h;
    read_header(t, &h);
    int ci = find_col(h.names, h.n, "index"), ca = find_col(h.names, h.n, "arch_str");
    if (ci < 0 || ca < 0) die(EXIT_DATA, "%s: the CSV header needs columns index and arch_str", tr_name(t));
    int extra = 0;
    for (int c = 0; c < h.n; c++)
        if (c != ci && c != ca && strcmp(h.names[c], "op_code") != 0) extra++;
    msgpack_packer *pk = rw_packer(w);
    char *f[MAX_COLS], why[256];
    size_t len;
    char *line;
    while ((line = tr_line(t, &len))) {
        if (len == 0) continue;
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
        rw_end_record(w);
    }
    free(h.line);
    tr_close(t);
}

/* ------------------------------------------------------------ ENAS */

static void parse_enas(const char *path, const space_info *sp, rec_writer *w) {
    int layers = sp->max_nodes - 2;
    text_reader *t = tr_open(path);
    msgpack_packer *pk = rw_packer(w);
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
        rw_end_record(w);
    }
    tr_close(t);
}

int main(int argc, char **argv) {
    tool_init(argv[0]);
    const char *accpath = NULL;
    int no_acc = 0;
    static const struct option opts[] = {
        {"accuracies", required_argument, 0, 'a'},
        {"no-accuracies", no_argument, 0, 'n'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'a': accpath = optarg; break;
        case 'n': no_acc = 1; break;
        case 'h': usage(); return EXIT_OK;
        default: die_usage("unknown option");
        }
    }
    if (optind >= argc) die_usage("missing SPACE (one of %s)", space_list());
    if (argc - optind > 2) die_usage("too many arguments");
    const char *name = argv[optind];
    const space_info *sp = space_by_name(name, strlen(name));
    if (!sp) die_usage("unknown space \"%s\" (known: %s)", name, space_list());
    const char *path = argc - optind == 2 ? argv[optind + 1] : NULL;
    if ((accpath || no_acc) && sp->id != SPACE_NB101) die_usage("--accuracies and --no-accuracies are for nb101");

    char *defpath = NULL;
    if (!path) {
        switch (sp->id) {
        case SPACE_NB101: path = "nb101/cells.csv.zst"; break;
        case SPACE_NB201: path = "nb201/accuracies.csv.zst"; break;
        case SPACE_ENAS6: path = "enas6/final_structures6.txt.zst"; break;
        default: die_usage("no %s data ships with the project (final_structures12.txt is not available); give FILE", sp->name);
        }
        path = defpath = xstrdup(data_path(path));
    }
    char *defacc = NULL;
    if (sp->id == SPACE_NB101 && !no_acc && !accpath) accpath = defacc = xstrdup(data_path("nb101/val_accuracies.csv.zst"));

    rec_writer *w = rw_open(NULL, 0);
    switch (sp->id) {
    case SPACE_NB101: parse_nb101(path, no_acc ? NULL : accpath, w); break;
    case SPACE_NB201: parse_nb201(path, w); break;
    default: parse_enas(path, sp, w); break;
    }
    rw_close(w);
    free(defpath);
    free(defacc);
    return EXIT_OK;
}
