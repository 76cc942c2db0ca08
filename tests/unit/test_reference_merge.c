/* test_reference_merge.c: lib/reference_merge.c, the reference's merge (bug 2) and pick (bug 4), on graphs
 * written out by hand with the result the reference's code gives (worked through in comments),
 * next to our union (lib/generate.h generate_merge) where the two differ.
 * Prints "N passed, M failed". */
#include "reference_merge.h"

#include <stdio.h>
#include <string.h>

#include "check.h"
#include "generate.h"

static graph make(int n, const int (*e)[2], int ne) {
    graph g;
    memset(&g, 0, sizeof g);
    g.n = n;
    for (int i = 0; i < n; i++) g.type[i] = (uint8_t)(i == 0 ? 1 : i == n - 1 ? 0 : 2);
    for (int k = 0; k < ne; k++) graph_add_edge(&g, e[k][0], e[k][1]);
    return g;
}

static int same_edges(const graph *a, const graph *b) {
    return a->n == b->n && !memcmp(a->succ, b->succ, sizeof a->succ) && !memcmp(a->type, b->type, sizeof a->type);
}

int main(void) {
    graph out, uni;
    // (1) F = 0->1, 1->2; B (its own order) = 0->1, 0->2, 1->2. N = 3. Reverse generation order
    // (1,2), (0,2), (0,1) maps to (0,1), (0,2), (1,2): 0 already has an out-edge (twice), 1 too:
    // nothing is added. The union adds 0->2.
    {
        const int fe[][2] = {{0, 1}, {1, 2}}, be[][2] = {{0, 1}, {0, 2}, {1, 2}};
        graph f = make(3, fe, 2), b = make(3, be, 3);
        reference_merge(&out, &f, &b);
        CHECK(same_edges(&out, &f));
        CHECK(generate_merge(&uni, &f, &b) == 0 && graph_has_edge(&uni, 0, 2));
    }
    // (2) F = 0->1, 0->3 (node 2 dangling), n 4, N = 4: out-edges {0}, in-edges {1,3}. B = 0->1,
    // 1->2: reverse order (1,2) -> (1,2): 1 has no out-edge, 2 no in-edge: added; then (0,1) ->
    // (2,3): 3 has an in-edge: skipped. The union also has 2->3.
    {
        const int fe[][2] = {{0, 1}, {0, 3}}, be[][2] = {{0, 1}, {1, 2}};
        graph f = make(4, fe, 2), b = make(4, be, 2);
        reference_merge(&out, &f, &b);
        const int want_e[][2] = {{0, 1}, {0, 3}, {1, 2}};
        graph want = make(4, want_e, 3);
        CHECK(same_edges(&out, &want));
        CHECK(generate_merge(&uni, &f, &b) == 0 && graph_has_edge(&uni, 2, 3) && graph_has_edge(&uni, 1, 2));
    }
    // (3) the added edges count for later ones: F = 0->1, 0->4 (n 5, N 5), B = 0->1, 1->2, 2->3:
    // reverse order (2,3) -> (1,2) added (1 gets an out-edge, 2 an in-edge); (1,2) -> (2,3): 2 has
    // no out-edge, 3 no in-edge: added; (0,1) -> (3,4): 4 has an in-edge: skipped.
    {
        const int fe[][2] = {{0, 1}, {0, 4}}, be[][2] = {{0, 1}, {1, 2}, {2, 3}};
        graph f = make(5, fe, 2), b = make(5, be, 3);
        reference_merge(&out, &f, &b);
        const int want_e[][2] = {{0, 1}, {0, 4}, {1, 2}, {2, 3}};
        graph want = make(5, want_e, 4);
        CHECK(same_edges(&out, &want));
    }
    // (4) node counts differ: F has 3 nodes (N 3), B has 4: B's edges touching node 3 are dropped
    // (`subgraph`), the rest aligned on F's N; our union refuses to align (GENERATE_NMISMATCH).
    // F = 0->2 (1 dangling): out {0}, in {2}. B = 0->1, 1->3, 2->3: only (0,1) survives -> (1,2):
    // 2 has an in-edge: skipped.
    {
        const int fe[][2] = {{0, 2}}, be[][2] = {{0, 1}, {1, 3}, {2, 3}};
        graph f = make(3, fe, 1), b = make(4, be, 3);
        reference_merge(&out, &f, &b);
        CHECK(same_edges(&out, &f));
        CHECK(generate_merge(&uni, &f, &b) == GENERATE_NMISMATCH);
    }
    // (5) N comes from F's edges, not its node count: F n 4 with edges 0->1 only (N 2): B's edges
    // within {0,1}: (0,1) -> (0,1): 0 has an out-edge: nothing added, nodes 2, 3 kept.
    {
        const int fe[][2] = {{0, 1}}, be[][2] = {{0, 1}, {1, 2}};
        graph f = make(4, fe, 1), b = make(3, be, 2);
        reference_merge(&out, &f, &b);
        CHECK(same_edges(&out, &f) && out.n == 4);
    }
    // pick: the first valid, or -1
    {
        const bool v1[] = {false, false, true, true}, v2[] = {false, false};
        CHECK(reference_pick_first(v1, 4) == 2);
        CHECK(reference_pick_first(v2, 2) == -1);
        CHECK(reference_pick_first(v1, 0) == -1);
    }
    return check_summary();
}
