/* test_encodings.c: lib/encodings.c (adj-onehot and BANANAS path encodings) on hand-worked graphs,
 * the vector lengths of every space, and the path encoding against a brute-force enumeration of
 * input->output paths on every NB201 topology cell and random NB101-like DAGs.
 * Prints "N passed, M failed"; exits 1 on any failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encodings.h"

#include "check.h"

/* out[0..dim-1] is 1 exactly at the listed indices (ascending, -1 ended) and 0 elsewhere. */
static int ones_at(const float *out, size_t dim, const int *idx) {
    size_t k = 0;
    for (size_t i = 0; i < dim; i++) {
        int want = idx[k] == (int)i;
        if (want) k++;
        if (out[i] != (want ? 1.0f : 0.0f)) {
            fprintf(stderr, "  index %zu: %g, want %d\n", i, (double)out[i], want);
            return 0;
        }
    }
    return idx[k] == -1;
}

static graph make(int n, const int *types, const int (*edges)[2], int ne) {
    graph g;
    memset(&g, 0, sizeof g);
    g.n = n;
    for (int i = 0; i < n; i++) g.type[i] = (uint8_t)types[i];
    for (int e = 0; e < ne; e++) graph_add_edge(&g, edges[e][0], edges[e][1]);
    return g;
}

/* NB101 type indices: 0 output, 1 input, 2 conv1x1, 3 conv3x3, 4 maxpool; path digits (hash
 * labels): conv3x3 0, conv1x1 1, maxpool 2. M = 7, K = 5: 21 adjacency bits, then 7 x 5 one-hots at
 * 21 + 5 p + type. Adjacency bit of (i, j): rows before i hold 6 + 5 + ... bits: row 0 starts at 0,
 * row 1 at 6, row 2 at 11, row 3 at 15, row 4 at 18, row 5 at 20; bit = row start + j - i - 1. */
static void test_nb101_3node(void) {
    const space_info *sp = space_get(SPACE_NB101);
    /* input -> conv3x3 -> output */
    const int types[] = {1, 3, 0}, edges[][2] = {{0, 1}, {1, 2}};
    graph g = make(3, types, edges, 2);
    float out[400];
    CHECK(enc_adj_onehot_dim(sp) == 56);
    enc_adj_onehot(sp, &g, out);
    /* edges: (0,1) -> 0, (1,2) -> 6. one-hots: node 0 input 21 + 0 + 1 = 22; node 1 conv3x3
     * 21 + 5 + 3 = 29; node 2 output 21 + 10 + 0 = 31; positions 3..6 zero. */
    const int want_adj[] = {0, 6, 22, 29, 31, -1};
    CHECK(ones_at(out, 56, want_adj));
    /* one path, [conv3x3]: index 3^0 (0 + 1) = 1. 364 features. */
    CHECK(enc_path_dim(sp, 5, 1000000) == 364);
    CHECK(enc_path(sp, &g, 5, out) == 1);
    const int want_path[] = {1, -1};
    CHECK(ones_at(out, 364, want_path));
}

static void test_nb101_5node(void) {
    const space_info *sp = space_get(SPACE_NB101);
    /* 0 input, 1 conv1x1, 2 conv3x3, 3 maxpool, 4 output; edges 0->1, 0->2, 0->4, 1->3, 2->3, 3->4 */
    const int types[] = {1, 2, 3, 4, 0}, edges[][2] = {{0, 1}, {0, 2}, {0, 4}, {1, 3}, {2, 3}, {3, 4}};
    graph g = make(5, types, edges, 6);
    float out[400];
    enc_adj_onehot(sp, &g, out);
    /* edges: (0,1) 0, (0,2) 1, (0,4) 3, (1,3) 6 + 1 = 7, (2,3) 11, (3,4) 15.
     * one-hots: node 0 input 22; node 1 conv1x1 21 + 5 + 2 = 28; node 2 conv3x3 21 + 10 + 3 = 34;
     * node 3 maxpool 21 + 15 + 4 = 40; node 4 output 21 + 20 + 0 = 41; positions 5, 6 zero. */
    const int want_adj[] = {0, 1, 3, 7, 11, 15, 22, 28, 34, 40, 41, -1};
    CHECK(ones_at(out, 56, want_adj));
    /* paths: 0-4 (empty): 0; 0-2-3-4 [conv3x3, maxpool]: (0+1) + 3 (2+1) = 10;
     * 0-1-3-4 [conv1x1, maxpool]: (1+1) + 3 (2+1) = 11. */
    CHECK(enc_path(sp, &g, 5, out) == 3);
    const int want_path[] = {0, 10, 11, -1};
    CHECK(ones_at(out, 364, want_path));
    /* truncated at L = 1: only the empty path (4 features: lengths 0 and 1) */
    CHECK(enc_path_dim(sp, 1, 1000000) == 4);
    CHECK(enc_path(sp, &g, 1, out) == 1);
    const int want_l1[] = {0, -1};
    CHECK(ones_at(out, 4, want_l1));
}

/* The best NB101 cell (id 171411): 0 input, 1 conv3x3, 2 maxpool, 3 conv3x3, 4 conv1x1, 5 conv3x3,
 * 6 output; edges 0->1, 0->5, 0->6, 1->2, 2->3, 3->4, 3->5, 4->5, 5->6. Paths:
 *   0-6: empty, 0;  0-5-6: [c3] 1;
 *   0-1-2-3-5-6: [c3 mp c3 c3] 1 + 3*3 + 9*1 + 27*1 = 46;
 *   0-1-2-3-4-5-6: [c3 mp c3 c1 c3] 1 + 3*3 + 9*1 + 27*2 + 81*1 = 154. */
static void test_nb101_best(void) {
    const space_info *sp = space_get(SPACE_NB101);
    const int types[] = {1, 3, 4, 3, 2, 3, 0};
    const int edges[][2] = {{0, 1}, {0, 5}, {0, 6}, {1, 2}, {2, 3}, {3, 4}, {3, 5}, {4, 5}, {5, 6}};
    graph g = make(7, types, edges, 9);
    float out[400];
    CHECK(enc_path(sp, &g, 5, out) == 4);
    const int want[] = {0, 1, 46, 154, -1};
    CHECK(ones_at(out, 364, want));
}

/* NB201: 8 nodes; paths 0-4-7, 0-1-5-7, 0-2-6-7, 0-1-3-6-7. Digits = type - 2 (nor_conv_1x1 0,
 * nor_conv_3x3 1, avg_pool 2, skip 3, none 4); I = 5: lengths 1, 2, 3 start at 1, 6, 31.
 * Cell: node types 1..6 = conv3x3, conv1x1, skip, none, avg_pool, skip:
 *   0-4-7 [none]: 1 + 4 = 5;  0-1-5-7 [conv3x3, avg]: 6 + 1 + 5*2 = 17;
 *   0-2-6-7 [conv1x1, skip]: 6 + 0 + 5*3 = 21;  0-1-3-6-7 [conv3x3, skip, skip]: 31 + 1 + 5*3 + 25*3 = 122.
 * adj-onehot: M = 8, K = 7: 28 bits; rows start at 0, 7, 13, 18, 22, 25, 27. */
static void test_nb201(void) {
    const space_info *sp = space_get(SPACE_NB201);
    const int types[] = {1, 3, 2, 5, 6, 4, 5, 0};
    const int edges[][2] = {{0, 1}, {0, 2}, {0, 4}, {1, 3}, {1, 5}, {2, 6}, {3, 6}, {4, 7}, {5, 7}, {6, 7}};
    graph g = make(8, types, edges, 10);
    float out[200];
    CHECK(enc_path_longest(sp) == 3 && enc_path_default_len(sp) == 3);
    CHECK(enc_path_dim(sp, 3, 1000000) == 156);
    CHECK(enc_path(sp, &g, 3, out) == 4);
    const int want[] = {5, 17, 21, 122, -1};
    CHECK(ones_at(out, 156, want));
    CHECK(enc_adj_onehot_dim(sp) == 84);
    enc_adj_onehot(sp, &g, out);
    /* edges (0,1) 0, (0,2) 1, (0,4) 3, (1,3) 8, (1,5) 10, (2,6) 13 + 3 = 16, (3,6) 18 + 2 = 20,
     * (4,7) 22 + 2 = 24, (5,7) 25 + 1 = 26, (6,7) 27; one-hots 28 + 7 p + type:
     * 29, 35 + 3 = 38, 42 + 2 = 44, 49 + 5 = 54, 56 + 6 = 62, 63 + 4 = 67, 70 + 5 = 75, 77 + 0 = 77 */
    const int want_adj[] = {0, 1, 3, 8, 10, 16, 20, 24, 26, 27, 29, 38, 44, 54, 62, 67, 75, 77, -1};
    CHECK(ones_at(out, 84, want_adj));
}

static void test_dims(void) {
    CHECK(enc_adj_onehot_dim(space_get(SPACE_ENAS6)) == 92);
    CHECK(enc_adj_onehot_dim(space_get(SPACE_ENAS12)) == 203);
    const space_info *e6 = space_get(SPACE_ENAS6), *e12 = space_get(SPACE_ENAS12);
    CHECK(enc_path_inner_types(e6) == 6 && enc_path_longest(e6) == 6 && enc_path_default_len(e6) == 6);
    CHECK(enc_path_dim(e6, 6, 1000000) == 55987); /* (6^7 - 1) / 5 */
    CHECK(enc_path_longest(e12) == 12 && enc_path_default_len(e12) == 6);
    CHECK(enc_path_dim(e12, 7, 1000000) == 335923);
    CHECK(enc_path_dim(e12, 8, 1000000) == 0); /* 2,015,539: over the limit */
    CHECK(enc_path_dim(e12, 12, (size_t)-1) == 2612138803u);
    /* the adjacency index formula against counting */
    const space_info *sp = space_get(SPACE_ENAS12);
    size_t k = 0;
    int ok = 1;
    for (int i = 0; i < 14; i++)
        for (int j = i + 1; j < 14; j++) ok &= enc_adj_index(sp, i, j) == k++;
    CHECK(ok && k == 91);
    CHECK(enc_kind_by_name("path") == ENC_PATH && enc_kind_by_name("adj-onehot") == ENC_ADJ_ONEHOT &&
          enc_kind_by_name("paths") == -1);
}

/* Brute force: every subset of inner nodes in increasing order that forms an input->output chain
 * of edges is a path; its index from the definition. */
static int brute_ok(const space_info *sp, const graph *g, int L) {
    size_t dim = enc_path_dim(sp, L, 1000000), I = (size_t)enc_path_inner_types(sp);
    float *want = calloc(dim, sizeof *want), *got = calloc(dim, sizeof *got);
    int inner = g->n - 2;
    for (unsigned m = 0; m < (1u << inner); m++) {
        int prev = 0, len = 0, ok = 1;
        size_t idx = 0, pw = 1;
        for (int v = 1; v <= inner && ok; v++)
            if (m >> (v - 1) & 1) {
                ok = graph_has_edge(g, prev, v);
                idx += pw * (size_t)(sp->hash_labels[g->type[v]] + 1);
                pw *= I;
                prev = v;
                len++;
            }
        if (!ok || !graph_has_edge(g, prev, g->n - 1) || len > L) continue;
        want[idx] = 1.0f;
    }
    enc_path(sp, g, L, got);
    int same = memcmp(want, got, dim * sizeof *got) == 0;
    free(want);
    free(got);
    return same;
}

static void test_brute(void) {
    uint64_t s = 12345;
    const space_info *sp = space_get(SPACE_NB101);
    int bad = 0;
    for (int t = 0; t < 2000; t++) {
        graph g;
        memset(&g, 0, sizeof g);
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        g.n = 2 + (int)((s >> 33) % 6);
        g.type[0] = 1;
        g.type[g.n - 1] = 0;
        for (int v = 1; v < g.n - 1; v++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            g.type[v] = (uint8_t)(2 + (s >> 33) % 3);
        }
        for (int i = 0; i < g.n; i++)
            for (int j = i + 1; j < g.n; j++) {
                s = s * 6364136223846793005ull + 1442695040888963407ull;
                if ((s >> 33) % 2) graph_add_edge(&g, i, j);
            }
        for (int L = 0; L <= 5; L++) bad += !brute_ok(sp, &g, L);
    }
    CHECK(bad == 0);
}

int main(void) {
    test_nb101_3node();
    test_nb101_5node();
    test_nb101_best();
    test_nb201();
    test_dims();
    test_brute();
    return check_summary();
}
