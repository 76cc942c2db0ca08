/* reference_merge.c: the reference's merge and pick (bugs 2 and 4 kept on purpose); see reference_merge.h. */
#include "reference_merge.h"

void reference_merge(graph *out, const graph *fwd, const graph *bwd) {
    *out = *fwd;
    uint16_t has_out = 0, has_in = 0; // nodes of F (as grown) with an outgoing / incoming edge
    int N = 0;                          // 1 + the largest target of F's edges
    for (int u = 0; u < fwd->n; u++)
        for (int v = 0; v < fwd->n; v++)
            if (graph_has_edge(fwd, u, v)) {
                has_out |= (uint16_t)(1u << u);
                has_in |= (uint16_t)(1u << v);
                if (v + 1 > N) N = v + 1;
            }
    // the backward edges in reverse generation order: target descending, then source descending
    for (int v = bwd->n - 1; v >= 0; v--)
        for (int u = v - 1; u >= 0; u--) {
            if (!graph_has_edge(bwd, u, v) || u >= N || v >= N) continue;
            const int a = N - 1 - v, b = N - 1 - u;
            if ((has_out >> a) & 1u || (has_in >> b) & 1u) continue; // `j in ef.T`
            graph_add_edge(out, a, b);
            has_out |= (uint16_t)(1u << a);
            has_in |= (uint16_t)(1u << b);
        }
}

int reference_pick_first(const bool *valid, int K) {
    for (int k = 0; k < K; k++)
        if (valid[k]) return k;
    return -1;
}
