/* graph.c: reading, writing and checking graphs (see graph.h). */
#include "graph.h"

#include <stdio.h>
#include <string.h>

#include "record.h"

int graph_edge_count(const graph *g) {
    int e = 0;
    for (int i = 0; i < g->n; i++) e += __builtin_popcount(g->succ[i]);
    return e;
}

uint16_t graph_pred(const graph *g, int j) {
    uint16_t p = 0;
    for (int i = 0; i < g->n; i++)
        if (graph_has_edge(g, i, j)) p |= (uint16_t)(1u << i);
    return p;
}

void graph_reverse(graph *r, const graph *g) {
    memset(r, 0, sizeof *r);
    r->n = g->n;
    for (int i = 0; i < g->n; i++) r->type[i] = g->type[g->n - 1 - i];
    for (int u = 0; u < g->n; u++)
        for (int v = 0; v < g->n; v++)
            if (graph_has_edge(g, u, v)) graph_add_edge(r, g->n - 1 - v, g->n - 1 - u);
}

bool graph_equal(const graph *a, const graph *b) {
    if (a->n != b->n) return false;
    for (int i = 0; i < a->n; i++)
        if (a->type[i] != b->type[i] || a->succ[i] != b->succ[i]) return false;
    return true;
}

#define WHY(...) (snprintf(why, whylen, __VA_ARGS__), -1)

/* A string field for messages, cut to 40 characters. */
#define SHOWN(o) (int)((o)->via.str.size > 40 ? 40 : (o)->via.str.size), (o)->via.str.ptr

int graph_read(const msgpack_object *rec, const space_info **spp, graph *g, char *why, size_t whylen) {
    const msgpack_object *o = rec_get(rec, "space");
    if (!o) return WHY("no \"space\" field");
    if (o->type != MSGPACK_OBJECT_STR) return WHY("field \"space\" is %s, not a string", obj_type_name(o));
    const space_info *sp = space_by_name(o->via.str.ptr, o->via.str.size);
    if (!sp) return WHY("field \"space\": unknown space \"%.*s\" (known: %s)", SHOWN(o), space_list());
    *spp = sp;

    const msgpack_object *ops = rec_get(rec, "ops");
    if (!ops) return WHY("no \"ops\" field");
    if (ops->type != MSGPACK_OBJECT_ARRAY) return WHY("field \"ops\" is %s, not an array", obj_type_name(ops));
    uint32_t n = ops->via.array.size;
    if (n == 0) return WHY("field \"ops\" is empty");
    if (n > GRAPH_MAX_NODES)
        return WHY("field \"ops\": %u nodes; graphs have at most %d (%s: %d)", n, GRAPH_MAX_NODES, sp->name,
                   sp->max_nodes);
    memset(g, 0, sizeof *g);
    g->n = (int)n;
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object *t = &ops->via.array.ptr[i];
        if (t->type != MSGPACK_OBJECT_STR) return WHY("field \"ops\": node %u is %s, not a string", i, obj_type_name(t));
        int k = space_type_index(sp, t->via.str.ptr, t->via.str.size);
        if (k < 0) return WHY("field \"ops\": node %u: unknown operation \"%.*s\" in %s", i, SHOWN(t), sp->name);
        g->type[i] = (uint8_t)k;
    }

    const msgpack_object *edges = rec_get(rec, "edges");
    if (!edges) return WHY("no \"edges\" field");
    if (edges->type != MSGPACK_OBJECT_ARRAY) return WHY("field \"edges\" is %s, not an array", obj_type_name(edges));
    for (uint32_t e = 0; e < edges->via.array.size; e++) {
        const msgpack_object *p = &edges->via.array.ptr[e];
        if (p->type != MSGPACK_OBJECT_ARRAY || p->via.array.size != 2)
            return WHY("field \"edges\": edge %u is not a [source, target] pair", e);
        uint64_t ends[2];
        for (int k = 0; k < 2; k++) {
            const msgpack_object *x = &p->via.array.ptr[k];
            if (x->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
                return WHY("field \"edges\": edge %u: %s is not a node index", e, k ? "target" : "source");
            if (x->via.u64 >= n)
                return WHY("field \"edges\": edge %u: node %llu does not exist (%u nodes)", e,
                           (unsigned long long)x->via.u64, n);
            ends[k] = x->via.u64;
        }
        if (graph_has_edge(g, (int)ends[0], (int)ends[1]))
            return WHY("field \"edges\": edge %llu->%llu listed twice", (unsigned long long)ends[0],
                       (unsigned long long)ends[1]);
        graph_add_edge(g, (int)ends[0], (int)ends[1]);
    }
    return 0;
}

void graph_pack(msgpack_packer *pk, const space_info *sp, const graph *g) {
    pack_kv_str(pk, "space", sp->name);
    pack_cstr(pk, "ops");
    msgpack_pack_array(pk, (size_t)g->n);
    for (int i = 0; i < g->n; i++) pack_cstr(pk, sp->type_names[g->type[i]]);
    pack_cstr(pk, "edges");
    msgpack_pack_array(pk, (size_t)graph_edge_count(g));
    for (int i = 0; i < g->n; i++)
        for (int j = 0; j < g->n; j++)
            if (graph_has_edge(g, i, j)) {
                msgpack_pack_array(pk, 2);
                msgpack_pack_uint8(pk, (uint8_t)i);
                msgpack_pack_uint8(pk, (uint8_t)j);
            }
}

/* Depth-first search for a cycle; on success writes it as "a->b->...->a" into buf. */
static int find_cycle(const graph *g, int v, uint8_t *color, int *stack, int depth, char *buf, size_t len) {
    color[v] = 1;
    stack[depth] = v;
    for (int w = 0; w < g->n; w++) {
        if (!graph_has_edge(g, v, w)) continue;
        if (color[w] == 1) { /* back edge: the cycle is stack[k..depth] -> w */
            int k = depth;
            while (stack[k] != w) k--;
            size_t used = 0;
            for (int i = k; i <= depth && used < len; i++)
                used += (size_t)snprintf(buf + used, len - used, "%d->", stack[i]);
            if (used < len) snprintf(buf + used, len - used, "%d", w);
            return 1;
        }
        if (color[w] == 0 && find_cycle(g, w, color, stack, depth + 1, buf, len)) return 1;
    }
    color[v] = 2;
    return 0;
}

/* Nodes reachable from node `from` along edges (forward) or against them (!forward). */
static uint16_t reach(const graph *g, int from, int forward) {
    uint16_t seen = (uint16_t)(1u << from), todo = seen;
    while (todo) {
        int v = __builtin_ctz(todo);
        todo &= (uint16_t)(todo - 1);
        uint16_t next = forward ? g->succ[v] : graph_pred(g, v);
        next &= (uint16_t)~seen;
        seen |= next;
        todo |= next;
    }
    return seen;
}

static int check_nb201(const graph *g, char *why, size_t whylen) {
    /* Node k+1 is the k-th edge operation of the arch string: 0->1, 0->2, 1->2, 0->3, 1->3, 2->3. */
    static const uint8_t edges[][2] = {{0, 1}, {0, 2}, {0, 4}, {1, 3}, {1, 5}, {2, 6}, {3, 6}, {4, 7}, {5, 7}, {6, 7}};
    graph want = {0};
    want.n = 8;
    for (size_t e = 0; e < sizeof edges / sizeof edges[0]; e++) graph_add_edge(&want, edges[e][0], edges[e][1]);
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++) {
            if (graph_has_edge(&want, i, j) && !graph_has_edge(g, i, j))
                return WHY("missing edge %d->%d of the NAS-Bench-201 cell", i, j);
            if (!graph_has_edge(&want, i, j) && graph_has_edge(g, i, j))
                return WHY("edge %d->%d is not part of the NAS-Bench-201 cell", i, j);
        }
    return 0;
}

static int check_enas(const graph *g, char *why, size_t whylen) {
    int out = g->n - 1;
    for (int i = 0; i < out; i++)
        if (!graph_has_edge(g, i, i + 1)) return WHY("missing chain edge %d->%d (every layer follows the previous one)", i, i + 1);
    for (int i = 0; i < out - 1; i++)
        if (graph_has_edge(g, i, out))
            return WHY("edge %d->%d: the output is fed by the last layer only", i, out);
    return 0;
}

int graph_check(const space_info *sp, const graph *g, char *why, size_t whylen) {
    int n = g->n;
    if (n < sp->min_nodes || n > sp->max_nodes) {
        if (sp->min_nodes == sp->max_nodes) return WHY("%d nodes; %s graphs have exactly %d", n, sp->name, sp->max_nodes);
        return WHY("%d nodes; %s graphs have %d to %d", n, sp->name, sp->min_nodes, sp->max_nodes);
    }
    if (g->type[0] != TYPE_INPUT) return WHY("node 0 is \"%s\", not \"input\"", sp->type_names[g->type[0]]);
    if (g->type[n - 1] != TYPE_OUTPUT)
        return WHY("node %d (the last) is \"%s\", not \"output\"", n - 1, sp->type_names[g->type[n - 1]]);
    for (int i = 1; i < n - 1; i++)
        if (g->type[i] == TYPE_INPUT || g->type[i] == TYPE_OUTPUT)
            return WHY("node %d is \"%s\"; only the first node is the input and only the last the output", i,
                       sp->type_names[g->type[i]]);
    for (int i = 0; i < n; i++)
        if (graph_has_edge(g, i, i)) return WHY("self-loop on node %d", i);
    uint8_t color[GRAPH_MAX_NODES] = {0};
    int stack[GRAPH_MAX_NODES];
    char cyc[128];
    for (int v = 0; v < n; v++)
        if (color[v] == 0 && find_cycle(g, v, color, stack, 0, cyc, sizeof cyc)) return WHY("cycle %s", cyc);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++)
            if (graph_has_edge(g, i, j))
                return WHY("edge %d->%d goes against the node order (nodes must be in topological order)", i, j);

    switch (sp->id) {
    case SPACE_NB101:
    case SPACE_NB101X: { /* nb101x: the same rules without the edge limit (max_edges 0) */
        int e = graph_edge_count(g);
        if (sp->max_edges && e > sp->max_edges) return WHY("%d edges; %s cells have at most %d", e, sp->name, sp->max_edges);
        uint16_t on_path = reach(g, 0, 1) & reach(g, n - 1, 0);
        for (int v = 0; v < n; v++)
            if (!((on_path >> v) & 1)) return WHY("node %d is not on any input->output path", v);
        return 0;
    }
    case SPACE_NB201: return check_nb201(g, why, whylen);
    case SPACE_ENAS6:
    case SPACE_ENAS12: return check_enas(g, why, whylen);
    default: return 0;
    }
}
