/* native.c: the benchmarks' string forms of a cell (see native.h). */
#include "native.h"

#include <stdio.h>
#include <string.h>

#define WHY(...) (snprintf(why, whylen, __VA_ARGS__), -1)

int nb101_from_row(int nv, const char *adj, size_t adjlen, const char *ops, graph *g, char *why, size_t whylen) {
    if (nv < 2 || nv > 7) return WHY("num_vertices %d is not in 2..7", nv);
    if (adjlen != (size_t)(nv * nv)) return WHY("adjacency has %zu characters, not %d (V*V)", adjlen, nv * nv);
    memset(g, 0, sizeof *g);
    g->n = nv;
    for (int r = 0; r < nv; r++)
        for (int c = 0; c < nv; c++) {
            char ch = adj[r * nv + c];
            if (ch == '1') graph_add_edge(g, r, c);
            else if (ch != '0') return WHY("adjacency character '%c' is not 0 or 1", ch);
        }
    /* ops: nv integers joined by ':' */
    const char *p = ops;
    for (int i = 0; i < nv; i++) {
        int v, used = 0;
        if (sscanf(p, "%d%n", &v, &used) != 1) return WHY("ops: entry %d is not an integer", i);
        p += used;
        switch (v) {
        case -1: g->type[i] = TYPE_INPUT; break;
        case -2: g->type[i] = TYPE_OUTPUT; break;
        case 0: g->type[i] = 3; break; /* conv3x3-bn-relu */
        case 1: g->type[i] = 2; break; /* conv1x1-bn-relu */
        case 2: g->type[i] = 4; break; /* maxpool3x3 */
        default: return WHY("ops: unknown operation %d (-1 input, 0 conv3x3, 1 conv1x1, 2 maxpool, -2 output)", v);
        }
        if (i < nv - 1) {
            if (*p != ':') return WHY("ops: %d entries expected, separated by ':'", nv);
            p++;
        }
    }
    if (*p) return WHY("ops: more than %d entries", nv);
    return 0;
}

/* NB201 edge k of the arch string (0->1, 0->2, 1->2, 0->3, 1->3, 2->3) is node k+1. */
static const uint8_t nb201_edges[10][2] = {{0, 1}, {0, 2}, {0, 4}, {1, 3}, {1, 5},
                                           {2, 6}, {3, 6}, {4, 7}, {5, 7}, {6, 7}};

int nb201_from_arch(const char *s, size_t len, graph *g, char *why, size_t whylen) {
    const space_info *sp = space_get(SPACE_NB201);
    memset(g, 0, sizeof *g);
    g->n = 8;
    g->type[0] = TYPE_INPUT;
    g->type[7] = TYPE_OUTPUT;
    for (size_t e = 0; e < 10; e++) graph_add_edge(g, nb201_edges[e][0], nb201_edges[e][1]);
    size_t pos = 0;
    int node = 1;
    for (int target = 1; target <= 3; target++) {
        if (target > 1) {
            if (pos >= len || s[pos] != '+') return WHY("arch string: expected '+' before node %d's group at character %zu", target, pos + 1);
            pos++;
        }
        if (pos >= len || s[pos] != '|') return WHY("arch string: expected '|' at character %zu", pos + 1);
        pos++;
        for (int src = 0; src < target; src++) {
            size_t start = pos;
            while (pos < len && s[pos] != '~' && s[pos] != '|') pos++;
            if (pos >= len || s[pos] != '~') return WHY("arch string: expected 'op~%d' at character %zu", src, start + 1);
            int t = space_type_index(sp, s + start, pos - start);
            if (t < 2) return WHY("arch string: unknown operation \"%.*s\"", (int)(pos - start > 40 ? 40 : pos - start), s + start);
            pos++;
            if (pos + 1 >= len || s[pos] != '0' + src || s[pos + 1] != '|')
                return WHY("arch string: operation %d of node %d's group must come from node %d (\"~%d|\")", src + 1, target, src, src);
            pos += 2;
            g->type[node++] = (uint8_t)t;
        }
    }
    if (pos != len) return WHY("arch string: unexpected text after the third group at character %zu", pos + 1);
    return 0;
}

void nb201_to_arch(const graph *g, char *out, size_t outlen) {
    const space_info *sp = space_get(SPACE_NB201);
    size_t used = 0;
    int node = 1;
    for (int target = 1; target <= 3 && used < outlen; target++) {
        if (target > 1) used += (size_t)snprintf(out + used, outlen - used, "+");
        for (int src = 0; src < target && used < outlen; src++)
            used += (size_t)snprintf(out + used, outlen - used, "|%s~%d", sp->type_names[g->type[node++]], src);
        if (used < outlen) used += (size_t)snprintf(out + used, outlen - used, "|");
    }
}

static void skip_ws(const char *s, size_t len, size_t *pos) {
    while (*pos < len && (s[*pos] == ' ' || s[*pos] == '\t')) (*pos)++;
}

/* A non-negative integer of at most 3 digits. */
static int read_small_int(const char *s, size_t len, size_t *pos, int *v) {
    int digits = 0, x = 0;
    while (*pos < len && s[*pos] >= '0' && s[*pos] <= '9' && digits < 4) {
        x = x * 10 + (s[*pos] - '0');
        (*pos)++;
        digits++;
    }
    if (digits == 0 || digits > 3) return -1;
    *v = x;
    return 0;
}

int enas_from_list(const char *s, size_t len, int layers, graph *g, char *why, size_t whylen) {
    size_t pos = 0;
    memset(g, 0, sizeof *g);
    skip_ws(s, len, &pos);
    if (pos >= len || s[pos] != '[') return WHY("expected '[' at the start of the list");
    pos++;
    int layer = 0;
    for (;;) {
        skip_ws(s, len, &pos);
        if (pos >= len || s[pos] != '[') return WHY("expected '[' to open layer %d at character %zu", layer + 1, pos + 1);
        pos++;
        if (layer >= layers) return WHY("more than %d layers", layers);
        int count = 0;
        for (;;) {
            int v;
            skip_ws(s, len, &pos);
            if (read_small_int(s, len, &pos, &v) != 0)
                return WHY("layer %d: expected a small non-negative integer at character %zu", layer + 1, pos + 1);
            if (count == 0) {
                if (v > 5) return WHY("layer %d: operation %d is not 0..5", layer + 1, v);
                g->type[layer + 1] = (uint8_t)(v + 2);
            } else {
                if (v > 1) return WHY("layer %d: skip flag %d is not 0 or 1", layer + 1, v);
                if (count - 1 >= layer) return WHY("layer %d has more than %d entries", layer + 1, layer + 1);
                if (v) graph_add_edge(g, count - 1, layer + 1);
            }
            count++;
            skip_ws(s, len, &pos);
            if (pos < len && s[pos] == ',') { pos++; continue; }
            if (pos < len && s[pos] == ']') { pos++; break; }
            return WHY("layer %d: expected ',' or ']' at character %zu", layer + 1, pos + 1);
        }
        if (count != layer + 1) return WHY("layer %d has %d entries, not %d (operation and %d skip flags)", layer + 1, count, layer + 1, layer);
        graph_add_edge(g, layer, layer + 1); /* chain edge from the previous layer (or the input) */
        layer++;
        skip_ws(s, len, &pos);
        if (pos < len && s[pos] == ',') { pos++; continue; }
        if (pos < len && s[pos] == ']') { pos++; break; }
        return WHY("expected ',' or ']' after layer %d at character %zu", layer, pos + 1);
    }
    skip_ws(s, len, &pos);
    if (pos != len) return WHY("unexpected text after the list at character %zu", pos + 1);
    if (layer != layers) return WHY("%d layers; %s has %d", layer, layers == 6 ? "enas6" : "enas12", layers);
    g->n = layers + 2;
    g->type[0] = TYPE_INPUT;
    g->type[layers + 1] = TYPE_OUTPUT;
    graph_add_edge(g, layers, layers + 1);
    return 0;
}

void enas_to_list(const graph *g, char *out, size_t outlen) {
    int layers = g->n - 2;
    size_t used = (size_t)snprintf(out, outlen, "[");
    for (int i = 0; i < layers && used < outlen; i++) {
        used += (size_t)snprintf(out + used, outlen - used, "%s[%d", i ? ", " : "", g->type[i + 1] - 2);
        for (int j = 0; j < i && used < outlen; j++)
            used += (size_t)snprintf(out + used, outlen - used, ", %d", graph_has_edge(g, j, i + 1) ? 1 : 0);
        if (used < outlen) used += (size_t)snprintf(out + used, outlen - used, "]");
    }
    if (used < outlen) snprintf(out + used, outlen - used, "]");
}
