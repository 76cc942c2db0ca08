/* space.c: the search spaces (formats/reference.md §2), and nb101x: NB101's operations in cells of up to 8 nodes. */
#include "space.h"

#include <string.h>

/* NAS-Bench-101: the benchmark's own operation names. Hash labels are the official ones
 * (canonical_ops = conv3x3-bn-relu, conv1x1-bn-relu, maxpool3x3). */
static const char *const nb101_types[] = {"output", "input", "conv1x1-bn-relu", "conv3x3-bn-relu", "maxpool3x3"};
static const int8_t nb101_labels[] = {-2, -1, 1, 0, 2};

/* NAS-Bench-201: the six edge operations of the cell become nodes; arch-string names. */
static const char *const nb201_types[] = {"output", "input", "nor_conv_1x1", "nor_conv_3x3",
                                          "avg_pool_3x3", "skip_connect", "none"};
static const int8_t nb201_labels[] = {-2, -1, 0, 1, 2, 3, 4};

/* ENAS macro space: type = ENAS op index + 2 (ENAS general_child.py branch order). */
static const char *const enas_types[] = {"output", "input", "conv3x3", "sepconv3x3",
                                         "conv5x5", "sepconv5x5", "avgpool3x3", "maxpool3x3"};
static const int8_t enas_labels[] = {-2, -1, 0, 1, 2, 3, 4, 5};

static const space_info spaces[SPACE_COUNT] = {
    {SPACE_NB101, "nb101", "NAS-Bench-101", 5, nb101_types, nb101_labels, 2, 7, 9},
    {SPACE_NB201, "nb201", "NAS-Bench-201", 7, nb201_types, nb201_labels, 8, 8, 0},
    {SPACE_ENAS6, "enas6", "ENAS 6-layer", 8, enas_types, enas_labels, 8, 8, 0},
    {SPACE_ENAS12, "enas12", "ENAS 12-layer", 8, enas_types, enas_labels, 14, 14, 0},
    /* NB101 operations, larger cells: NB101's vocabulary, labels and rules without its two size limits
     * (7 nodes, 9 edges); 8 nodes at most, as SVGe's extrapolation cells. */
    {SPACE_NB101X, "nb101x", "NB101 operations, larger cells", 5, nb101_types, nb101_labels, 2, 8, 0},
};

const space_info *space_get(space_id id) { return (unsigned)id < SPACE_COUNT ? &spaces[id] : NULL; }

const space_info *space_by_name(const char *name, size_t len) {
    for (int i = 0; i < SPACE_COUNT; i++)
        if (strlen(spaces[i].name) == len && memcmp(spaces[i].name, name, len) == 0) return &spaces[i];
    return NULL;
}

int space_type_index(const space_info *sp, const char *name, size_t len) {
    for (int i = 0; i < sp->n_types; i++)
        if (strlen(sp->type_names[i]) == len && memcmp(sp->type_names[i], name, len) == 0) return i;
    return -1;
}

const char *space_list(void) { return "nb101, nb201, enas6, enas12, nb101x"; }

int space_same_vocabulary(const space_info *a, const space_info *b) {
    if (a->n_types != b->n_types) return 0;
    for (int i = 0; i < a->n_types; i++)
        if (strcmp(a->type_names[i], b->type_names[i]) != 0) return 0;
    return 1;
}
