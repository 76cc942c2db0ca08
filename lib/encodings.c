/* encodings.c: adj-onehot and path encodings of graphs (encodings.h). */
#include "encodings.h"

#include <string.h>

const char *enc_kind_name(enc_kind k) { return k == ENC_PATH ? "path" : "adj-onehot"; }

int enc_kind_by_name(const char *name) {
    if (strcmp(name, "adj-onehot") == 0) return ENC_ADJ_ONEHOT;
    if (strcmp(name, "path") == 0) return ENC_PATH;
    return -1;
}

size_t enc_adj_onehot_dim(const space_info *sp) {
    size_t m = (size_t)sp->max_nodes;
    return m * (m - 1) / 2 + m * (size_t)sp->n_types;
}

size_t enc_adj_index(const space_info *sp, int i, int j) {
    size_t m = (size_t)sp->max_nodes, a = (size_t)i;
    /* rows 0..i-1 hold (m-1) + (m-2) + ... + (m-i) = i(2m - i - 1)/2 bits */
    return a * (2 * m - a - 1) / 2 + (size_t)(j - i - 1);
}

void enc_adj_onehot(const space_info *sp, const graph *g, float *out) {
    size_t dim = enc_adj_onehot_dim(sp), m = (size_t)sp->max_nodes, tri = m * (m - 1) / 2;
    memset(out, 0, dim * sizeof *out);
    for (int i = 0; i < g->n; i++) {
        for (int j = i + 1; j < g->n; j++)
            if (graph_has_edge(g, i, j)) out[enc_adj_index(sp, i, j)] = 1.0f;
        out[tri + (size_t)i * (size_t)sp->n_types + g->type[i]] = 1.0f;
    }
}

int enc_path_inner_types(const space_info *sp) { return sp->n_types - 2; }

int enc_path_longest(const space_info *sp) {
    switch (sp->id) {
    case SPACE_NB201: return 3; /* 0-1-3-6-7 */
    default: return sp->max_nodes - 2; /* nb101: 5 inner nodes; enas: the chain of every layer */
    }
}

int enc_path_default_len(const space_info *sp) {
    int l = enc_path_longest(sp);
    return l > 6 ? 6 : l;
}

size_t enc_path_dim(const space_info *sp, int max_len, size_t limit) {
    size_t in = (size_t)enc_path_inner_types(sp), total = 0, pw = 1;
    for (int l = 0; l <= max_len; l++) {
        if (pw > limit || total > limit - pw) return 0;
        total += pw;
        if (l < max_len && pw > limit / in) pw = limit + 1; /* the next power overflows the limit */
        else pw *= in;
    }
    return total;
}

typedef struct {
    const space_info *sp;
    const graph *g;
    int max_len;
    size_t in;
    size_t offset[GRAPH_MAX_NODES + 1]; /* index of the first path of each length */
    float *out;
    size_t found;
} path_walk;

/* At node v (not the input), having passed `len` inner nodes whose digits sum to acc (the next
 * digit's weight is pw). */
static void walk(path_walk *w, int v, int len, size_t acc, size_t pw) {
    const graph *g = w->g;
    if (v == g->n - 1) {
        w->out[w->offset[len] + acc] = 1.0f;
        w->found++;
        return;
    }
    if (len == w->max_len) return; /* one more inner node would make it too long */
    size_t digit = (size_t)w->sp->hash_labels[g->type[v]];
    uint16_t s = g->succ[v];
    while (s) {
        int u = __builtin_ctz(s);
        s &= (uint16_t)(s - 1);
        walk(w, u, len + 1, acc + digit * pw, pw * w->in);
    }
}

size_t enc_path(const space_info *sp, const graph *g, int max_len, float *out) {
    path_walk w = {.sp = sp, .g = g, .max_len = max_len, .in = (size_t)enc_path_inner_types(sp), .out = out};
    size_t dim = enc_path_dim(sp, max_len, (size_t)-1 / 2), pw = 1;
    memset(out, 0, dim * sizeof *out);
    w.offset[0] = 0;
    for (int l = 1; l <= max_len && l <= GRAPH_MAX_NODES; l++) {
        w.offset[l] = w.offset[l - 1] + pw;
        pw *= w.in;
    }
    if (g->n < 2) return 0;
    uint16_t s = g->succ[0];
    while (s) {
        int u = __builtin_ctz(s);
        s &= (uint16_t)(s - 1);
        walk(&w, u, 0, 0, 1);
    }
    return w.found;
}
