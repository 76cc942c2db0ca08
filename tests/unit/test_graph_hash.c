/* test_graph_hash.c: lib/md5.c and lib/graph_hash.c.
 *
 * MD5: RFC 1321's test vectors; md5_many (vector lanes) against md5 for many lengths and counts.
 * Graph hash: official NAS-Bench-101 hashes of hand-picked cells (from nb101_cells.csv.gz);
 * random graphs of every size against a slow, literal transcription of hash_module (strings,
 * sprintf, qsort); isomorphism invariance; pruning as ModelSpec._prune.
 * The source is included so that the static digest sort can be tested on contrived digests.
 * Prints "N passed, M failed"; exits 1 on any failure. */
#include "../../lib/graph_hash.c"

#include <stdio.h>
#include <stdlib.h>

#include "rng.h"

#include "check.h"

static int digest_is(const uint8_t d[16], const char *hex) {
    char h[33];
    md5_hex(d, h);
    if (strcmp(h, hex) == 0) return 1;
    fprintf(stderr, "  got %s, want %s\n", h, hex);
    return 0;
}

/* ---- MD5 ---- */

static void test_md5_vectors(void) {
    static const struct { const char *msg, *hex; } v[] = {
        {"", "d41d8cd98f00b204e9800998ecf8427e"},
        {"a", "0cc175b9c0f1b6a831c399e269772661"},
        {"abc", "900150983cd24fb0d6963f7d28e17f72"},
        {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
        {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
        {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
         "d174ab98d277d9f5a5611c2c9f419d9f"},
        {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
         "57edf4a22be3c955ac49da2e2107b67a"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t d[16];
        md5(v[i].msg, strlen(v[i].msg), d);
        check(digest_is(d, v[i].hex), __LINE__, v[i].msg);
    }
    uint8_t d0[16];
    md5(NULL, 0, d0);
    CHECK(digest_is(d0, "d41d8cd98f00b204e9800998ecf8427e"));
    /* The same through md5_pad + md5_many (three copies: the vector path needs count > 2). */
    static uint8_t buf[3][7][80 + MD5_PAD_MAX];
    const uint8_t *mp[21];
    size_t nb[21];
    uint8_t out[21][16];
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 7; i++) {
            size_t len = strlen(v[i].msg);
            memcpy(buf[c][i], v[i].msg, len);
            mp[7 * c + i] = buf[c][i];
            nb[7 * c + i] = md5_pad(buf[c][i], len);
        }
    md5_many(mp, nb, 21, out);
    for (int m = 0; m < 21; m++) check(digest_is(out[m], v[m % 7].hex), __LINE__, "md5_many vector");
}

/* Block counts of padding: 55 bytes still fit one block, 56 need two. */
static void test_md5_pad(void) {
    uint8_t buf[200];
    memset(buf, 'x', sizeof buf);
    CHECK(md5_pad(buf, 0) == 1);
    CHECK(md5_pad(buf, 55) == 1);
    CHECK(md5_pad(buf, 56) == 2);
    CHECK(md5_pad(buf, 64) == 2);
    CHECK(md5_pad(buf, 119) == 2);
    CHECK(md5_pad(buf, 120) == 3);
}

/* md5_many == md5 for lengths 0..299 in batches of several sizes (lanes refill mid-batch). */
static void test_md5_many(void) {
    enum { MAXLEN = 300, MAXC = 41 };
    static uint8_t src[MAXLEN], buf[MAXC][MAXLEN + MD5_PAD_MAX];
    for (int i = 0; i < MAXLEN; i++) src[i] = (uint8_t)(i * 131 + 7);
    static const int counts[] = {1, 2, 3, 8, 16, 17, 41};
    int bad = 0;
    for (size_t ci = 0; ci < sizeof counts / sizeof counts[0]; ci++) {
        int cnt = counts[ci];
        for (int start = 0; start < MAXLEN; start += 7) {
            const uint8_t *mp[MAXC];
            size_t nb[MAXC], len[MAXC];
            uint8_t out[MAXC][16], want[16];
            for (int m = 0; m < cnt; m++) {
                len[m] = (size_t)((start + 37 * m) % MAXLEN);
                memcpy(buf[m], src, len[m]);
                mp[m] = buf[m];
                nb[m] = md5_pad(buf[m], len[m]);
            }
            md5_many(mp, nb, (size_t)cnt, out);
            for (int m = 0; m < cnt; m++) {
                md5(src, len[m], want);
                bad += memcmp(out[m], want, 16) != 0;
            }
        }
    }
    CHECK(bad == 0);
}

static void test_hex(void) {
    uint8_t d[16], e[16];
    md5("abc", 3, d);
    char h[33];
    md5_hex(d, h);
    CHECK(strcmp(h, "900150983cd24fb0d6963f7d28e17f72") == 0);
    CHECK(hash_from_hex(h, 32, e) == 0 && memcmp(d, e, 16) == 0);
    CHECK(hash_from_hex("900150983CD24FB0D6963F7D28E17F72", 32, e) == 0 && memcmp(d, e, 16) == 0);
    CHECK(hash_from_hex(h, 31, e) == -1);
    CHECK(hash_from_hex("900150983cd24fb0d6963f7d28e17f7g", 32, e) == -1);
    CHECK(hash_from_hex("900150983cd24fb0d6963f7d28e17f7 ", 32, e) == -1);
    char t[33];
    to_hex(d, t);
    t[32] = 0;
    CHECK(strcmp(t, h) == 0);
}

/* ---- a slow reference: hash_module written out with strings ---- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void ref_hash(const space_info *sp, const graph *g, char out[33]) {
    int n = g->n;
    char hs[N][33], nh[N][33];
    for (int v = 0; v < n; v++) {
        int o = 0, in = 0;
        for (int w = 0; w < n; w++) o += graph_has_edge(g, v, w), in += graph_has_edge(g, w, v);
        char s[64];
        snprintf(s, sizeof s, "(%d, %d, %d)", o, in, sp->hash_labels[g->type[v]]);
        uint8_t d[16];
        md5(s, strlen(s), d);
        md5_hex(d, hs[v]);
    }
    for (int r = 0; r < n; r++) {
        for (int v = 0; v < n; v++) {
            char *ins[N], *outs[N], s[2048] = "";
            int ni = 0, no = 0;
            for (int w = 0; w < n; w++) {
                if (graph_has_edge(g, w, v)) ins[ni++] = hs[w];
                if (graph_has_edge(g, v, w)) outs[no++] = hs[w];
            }
            qsort(ins, (size_t)ni, sizeof ins[0], cmp_str);
            qsort(outs, (size_t)no, sizeof outs[0], cmp_str);
            for (int i = 0; i < ni; i++) strcat(s, ins[i]);
            strcat(s, "|");
            for (int i = 0; i < no; i++) strcat(s, outs[i]);
            strcat(s, "|");
            strcat(s, hs[v]);
            uint8_t d[16];
            md5(s, strlen(s), d);
            md5_hex(d, nh[v]);
        }
        memcpy(hs, nh, sizeof hs);
    }
    char *sorted[N], s[1024] = "[";
    for (int v = 0; v < n; v++) sorted[v] = hs[v];
    qsort(sorted, (size_t)n, sizeof sorted[0], cmp_str);
    for (int v = 0; v < n; v++) {
        if (v) strcat(s, ", ");
        strcat(s, "'");
        strcat(s, sorted[v]);
        strcat(s, "'");
    }
    strcat(s, "]");
    uint8_t d[16];
    md5(s, strlen(s), d);
    md5_hex(d, out);
}

/* ---- NAS-Bench-101 cells ---- */

/* A cell as in nb101_cells.csv: V*V adjacency chars, ops "-1:0:...:-2" (NB101 op ints). */
static graph cell(const char *adj, const char *ops) {
    graph g;
    memset(&g, 0, sizeof g);
    size_t vv = strlen(adj);
    int n = 0;
    while ((size_t)(n * n) < vv) n++;
    g.n = n;
    for (int r = 0; r < n; r++)
        for (int c = 0; c < n; c++)
            if (adj[r * n + c] == '1') graph_add_edge(&g, r, c);
    const char *p = ops;
    for (int i = 0; i < n; i++) {
        char *end;
        long o = strtol(p, &end, 10);
        p = *end == ':' ? end + 1 : end;
        /* our nb101 types: 0 output, 1 input, 2 conv1x1, 3 conv3x3, 4 maxpool */
        g.type[i] = (uint8_t)(o == -1 ? TYPE_INPUT : o == -2 ? TYPE_OUTPUT : o == 0 ? 3 : o == 1 ? 2 : 4);
    }
    return g;
}

static const struct { const char *hash, *adj, *ops; } cells[] = {
    {"043721b9c7fe8c5fad811d47d83132ec", "0100", "-1:-2"},
    {"b49ac8c578b4561d79ac7087988f1c61", "010001000", "-1:0:-2"},
    {"c1dba24fc08f29b230d7d3c098c9517c", "0100000100000100000100000", "-1:0:0:0:-2"},
    {"18e7e3d39b5b57052ca70818bd8382e4", "0100000100000100000100000", "-1:0:0:1:-2"},
    {"ed47ffe38bceef70a3dcc223e5746cda", "011110001000000100000010000001000000", "-1:0:0:0:0:-2"},
    {"be141b0def3af047c4e004a4a76a0396", "011111001000000001000010000001000000", "-1:0:2:0:2:-2"},
    {"b3bc0991ac661443a583796ce582f11f", "0100000001000000010000000100000001000000010000000",
     "-1:0:0:0:0:0:-2"},
    {"1148351a4ef16a609c6ca80e5b42dbe2", "0100000001000000010000000100000001000000010000000",
     "-1:0:0:0:0:1:-2"},
    {"7ac7dcf771b4e503d834398bc4f16705", "0101001001000000010100000100000001000000010000000",
     "-1:2:1:2:0:0:-2"},
    {"c27ca786d002975e972c99234f50344b", "0100100001010000010000000011000001000000010000000",
     "-1:0:0:0:2:0:-2"},
};
enum { NCELLS = sizeof cells / sizeof cells[0] };

static void test_nb101_cells(void) {
    const space_info *sp = space_get(SPACE_NB101);
    graph gs[NCELLS];
    const space_info *sps[NCELLS];
    uint8_t many[NCELLS][16];
    for (int i = 0; i < NCELLS; i++) {
        gs[i] = cell(cells[i].adj, cells[i].ops);
        sps[i] = sp;
        uint8_t d[16];
        graph_hash(sp, &gs[i], d);
        check(digest_is(d, cells[i].hash), __LINE__, cells[i].hash);
        CHECK(graph_key(sp, &gs[i], d) == 0 && digest_is(d, cells[i].hash));
    }
    graph_hash_many(sps, gs, NCELLS, many);
    for (int i = 0; i < NCELLS; i++) check(digest_is(many[i], cells[i].hash), __LINE__, "graph_hash_many");
}

/* Renumbering the inner nodes (any order, even one that is not topological) keeps the hash. */
static void test_isomorphism(void) {
    const space_info *sp = space_get(SPACE_NB101);
    rng_mt r;
    rng_seed(&r, 7);
    for (int i = 0; i < NCELLS; i++) {
        graph g = cell(cells[i].adj, cells[i].ops), h;
        int n = g.n;
        for (int t = 0; t < 5; t++) {
            uint32_t perm[N];
            rng_permutation(&r, (uint32_t)n, perm);
            memset(&h, 0, sizeof h);
            h.n = n;
            for (int v = 0; v < n; v++) h.type[perm[v]] = g.type[v];
            for (int a = 0; a < n; a++)
                for (int b = 0; b < n; b++)
                    if (graph_has_edge(&g, a, b)) graph_add_edge(&h, (int)perm[a], (int)perm[b]);
            uint8_t d[16];
            graph_hash(sp, &h, d);
            check(digest_is(d, cells[i].hash), __LINE__, "permuted cell");
        }
    }
}

/* Random graphs of 0..14 nodes (self-loops and cycles included), all four spaces, one by one and
 * in batches of mixed sizes, against the reference. The densest graph fills the longest message. */
static void test_random_vs_reference(void) {
    enum { COUNT = 600 };
    static graph gs[COUNT];
    static const space_info *sps[COUNT];
    static uint8_t many[COUNT][16];
    rng_mt r;
    rng_seed(&r, 1);
    for (int i = 0; i < COUNT; i++) {
        const space_info *sp = space_get((space_id)(i % SPACE_COUNT));
        graph *g = &gs[i];
        memset(g, 0, sizeof *g);
        g->n = i < 30 ? i % (N + 1) : (int)rng_interval(&r, N);
        uint32_t density = rng_interval(&r, 100);
        for (int a = 0; a < g->n; a++) {
            g->type[a] = (uint8_t)rng_interval(&r, (uint32_t)sp->n_types - 1);
            for (int b = 0; b < g->n; b++)
                if (i == COUNT - 1 || rng_interval(&r, 99) < density) graph_add_edge(g, a, b);
        }
        sps[i] = sp;
    }
    gs[COUNT - 1].n = N; /* complete graph with self-loops on 14 nodes */
    for (int a = 0; a < N; a++) gs[COUNT - 1].succ[a] = (uint16_t)((1u << N) - 1);
    int bad = 0;
    for (int i = 0; i < COUNT; i++) {
        char want[33], got[33];
        uint8_t d[16];
        ref_hash(sps[i], &gs[i], want);
        graph_hash(sps[i], &gs[i], d);
        md5_hex(d, got);
        if (strcmp(got, want) != 0) {
            if (bad++ < 3) fprintf(stderr, "  graph %d (n=%d): got %s, want %s\n", i, gs[i].n, got, want);
        }
    }
    CHECK(bad == 0);
    graph_hash_many(sps, gs, COUNT, many);
    bad = 0;
    for (int i = 0; i < COUNT; i++) {
        uint8_t d[16];
        graph_hash(sps[i], &gs[i], d);
        bad += memcmp(d, many[i], 16) != 0;
    }
    CHECK(bad == 0);
}

/* Digests that tie on their first 8 bytes take the full comparison. */
static void test_sort_ties(void) {
    uint8_t dg[5][16];
    memset(dg, 0x55, sizeof dg);
    dg[0][15] = 9;
    dg[1][15] = 3;
    dg[2][15] = 9;
    dg[3][0] = 0x11;
    dg[4][15] = 1;
    int order[5];
    sort_nodes(5, dg, order);
    CHECK(order[0] == 3 && order[1] == 4 && order[2] == 1 && order[3] == 0 && order[4] == 2);
    memset(dg, 0x55, sizeof dg);
    dg[2][0] = 0;
    sort_nodes(5, dg, order);
    CHECK(order[0] == 2 && order[1] == 0 && order[2] == 1 && order[3] == 3 && order[4] == 4);
}

/* ---- pruning ---- */

static void test_prune(void) {
    const space_info *sp = space_get(SPACE_NB101);
    /* be141b0d... (6 nodes) with a seventh node inserted at index 3, fed by the input and feeding
     * nothing: pruning removes it, and the key is the official hash of the 6-node cell. */
    graph six = cell("011111001000000001000010000001000000", "-1:0:2:0:2:-2");
    graph g;
    memset(&g, 0, sizeof g);
    g.n = 7;
    int map[6] = {0, 1, 2, 4, 5, 6};
    for (int v = 0; v < 6; v++) g.type[map[v]] = six.type[v];
    g.type[3] = 3;
    for (int a = 0; a < 6; a++)
        for (int b = 0; b < 6; b++)
            if (graph_has_edge(&six, a, b)) graph_add_edge(&g, map[a], map[b]);
    graph_add_edge(&g, 0, 3);
    uint8_t d[16];
    CHECK(graph_key(sp, &g, d) == 0 && digest_is(d, "be141b0def3af047c4e004a4a76a0396"));
    graph p = g;
    CHECK(graph_prune(&p) == 0 && graph_equal(&p, &six));

    /* A node that feeds the output but is not fed by the input is removed too. */
    p = g;
    p.succ[0] &= (uint16_t)~(1u << 3);
    graph_add_edge(&p, 3, 6);
    CHECK(graph_prune(&p) == 0 && graph_equal(&p, &six));

    /* Nothing to prune: unchanged. */
    p = six;
    CHECK(graph_prune(&p) == 0 && graph_equal(&p, &six));

    /* Output not reachable from the input: -1, and graph_key fails. */
    graph cut = cell("010001000", "-1:0:-2");
    cut.succ[1] = 0;
    p = cut;
    CHECK(graph_prune(&p) == -1);
    CHECK(graph_key(sp, &cut, d) == -1);
    /* In other spaces graph_key does not prune. */
    CHECK(graph_key(space_get(SPACE_NB201), &cut, d) == 0);

    /* Backward edges do not count as paths (ModelSpec walks forward only). */
    graph back;
    memset(&back, 0, sizeof back);
    back.n = 3;
    back.type[0] = TYPE_INPUT, back.type[1] = 3, back.type[2] = TYPE_OUTPUT;
    graph_add_edge(&back, 0, 2);
    graph_add_edge(&back, 2, 1);
    graph_add_edge(&back, 1, 0);
    p = back;
    CHECK(graph_prune(&p) == 0 && p.n == 2 && p.succ[0] == 2 && p.succ[1] == 0);

    /* One node or none: invalid, as in the original (|extraneous| > n - 2). */
    graph one;
    memset(&one, 0, sizeof one);
    one.n = 1;
    CHECK(graph_prune(&one) == -1);
    one.n = 0;
    CHECK(graph_prune(&one) == -1);
}

int main(void) {
    test_md5_vectors();
    test_md5_pad();
    test_md5_many();
    test_hex();
    test_nb101_cells();
    test_isomorphism();
    test_random_vs_reference();
    test_sort_ties();
    test_prune();
    return check_summary();
}
