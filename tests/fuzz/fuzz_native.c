/* fuzz_native.c: libFuzzer target for the benchmarks' native cell forms that graph-parse reads
 * (lib/native.c): the first byte picks the parser, the rest is its text.
 *   0: an NB101 CSV row's fields "V,ADJACENCY,OPS" (V one digit), as parse_nb101 hands them over;
 *   1: an NB201 arch string; 2, 3: an ENAS-6 / ENAS-12 list.
 * Properties checked: a cell that parses and is valid (graph_check) is written back (nb201_to_arch,
 * enas_to_list) and parses again to the same graph; the writers never overflow their buffers. */
#include <stdlib.h>
#include <string.h>

#include "native.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void nb101(const char *s, size_t n) {
    /* the row's fields, NUL-terminated as split_row leaves them */
    char *row = malloc(n + 1);
    memcpy(row, s, n);
    row[n] = 0;
    char *adj = strchr(row, ','), *ops = adj ? strchr(adj + 1, ',') : NULL;
    if (ops) {
        *adj++ = 0;
        *ops++ = 0;
        graph g;
        char why[256];
        int nv = row[0] >= '0' && row[0] <= '9' && !row[1] ? row[0] - '0' : -1;
        if (nb101_from_row(nv, adj, strlen(adj), ops, &g, why, sizeof why) == 0) {
            if (g.n != nv) abort();
            graph_check(space_get(SPACE_NB101), &g, why, sizeof why);
        }
    }
    free(row);
}

static void nb201(const char *s, size_t n) {
    graph g, h;
    char why[256], out[160];
    if (nb201_from_arch(s, n, &g, why, sizeof why) != 0) return;
    if (graph_check(space_get(SPACE_NB201), &g, why, sizeof why) != 0) return;
    nb201_to_arch(&g, out, sizeof out);
    if (strlen(out) >= sizeof out - 1) abort(); /* cut short */
    if (nb201_from_arch(out, strlen(out), &h, why, sizeof why) != 0 || !graph_equal(&g, &h)) abort();
    if (strlen(out) != n || memcmp(out, s, n) != 0) abort(); /* the form is canonical */
}

static void enas(const char *s, size_t n, int layers) {
    graph g, h;
    char why[256], out[8 * 12 * 12];
    if (enas_from_list(s, n, layers, &g, why, sizeof why) != 0) return;
    if (graph_check(space_get(layers == 6 ? SPACE_ENAS6 : SPACE_ENAS12), &g, why, sizeof why) != 0) return;
    enas_to_list(&g, out, sizeof out);
    if (strlen(out) >= sizeof out - 1) abort();
    if (enas_from_list(out, strlen(out), layers, &h, why, sizeof why) != 0 || !graph_equal(&g, &h)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    switch (data[0] & 3) {
    case 0: nb101(s, n); break;
    case 1: nb201(s, n); break;
    case 2: enas(s, n, 6); break;
    default: enas(s, n, 12); break;
    }
    return 0;
}
