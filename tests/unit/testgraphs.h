/* testgraphs.h: the three small NB101-like graphs (K = 5; node 0 the input, type 1; the last node
 * the output, type 0) of the model's unit tests (test_decoder, test_svge, test_dgmg). Header-only. */
#ifndef SVGE_TEST_TESTGRAPHS_H
#define SVGE_TEST_TESTGRAPHS_H

#include <stdint.h>
#include <string.h>

#include "graph.h"

/* g[0]: 4 nodes, 0->1, 0->2, 1->3, 2->3, 0->3; g[1]: 2 nodes, 0->1; g[2]: 5 nodes, the chain
 * 0->1->2->3->4 plus 0->2 and 1->4, with type 4 (maxpool3x3) twice. */
static inline void test_graphs_nb101(graph g[3]) {
    memset(g, 0, 3 * sizeof *g);
    g[0].n = 4;
    const uint8_t t0[] = {1, 2, 3, 0};
    memcpy(g[0].type, t0, 4);
    graph_add_edge(&g[0], 0, 1); graph_add_edge(&g[0], 0, 2); graph_add_edge(&g[0], 1, 3);
    graph_add_edge(&g[0], 2, 3); graph_add_edge(&g[0], 0, 3);
    g[1].n = 2;
    g[1].type[0] = 1; g[1].type[1] = 0;
    graph_add_edge(&g[1], 0, 1);
    g[2].n = 5;
    const uint8_t t2[] = {1, 4, 2, 4, 0};
    memcpy(g[2].type, t2, 5);
    for (int v = 0; v < 4; v++) graph_add_edge(&g[2], v, v + 1);
    graph_add_edge(&g[2], 0, 2); graph_add_edge(&g[2], 1, 4);
}

#endif
