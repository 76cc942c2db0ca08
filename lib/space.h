/* space.h: the search spaces: vocabularies in the reference's index order, node limits, names.
 *
 * Type index order follows the reference implementation (formats/reference.md §2): 0 = output,
 * 1 = input, then the space's operations. Record fields carry operation *names* (formats/records.md);
 * models and tools use these indices. */
#ifndef SVGE_SPACE_H
#define SVGE_SPACE_H

#include <stddef.h>
#include <stdint.h>

/* nb101x: NB101's operations in larger cells (up to 8 nodes, no edge limit), for extrapolation
 * (SVGe's 8-node NB101 cells); appended so that the other ids keep their values. */
typedef enum { SPACE_NB101, SPACE_NB201, SPACE_ENAS6, SPACE_ENAS12, SPACE_NB101X, SPACE_COUNT } space_id;

enum { TYPE_OUTPUT = 0, TYPE_INPUT = 1 };

typedef struct {
    space_id id;
    const char *name;              /* "nb101", "nb201", "enas6", "enas12", "nb101x" */
    const char *title;             /* "NAS-Bench-101", ... for messages and --help */
    int n_types;                   /* vocabulary size, input and output included */
    const char *const *type_names; /* [n_types], index = type index */
    const int8_t *hash_labels;     /* [n_types]: label used by the NB101 graph hash (-1 input, -2 output) */
    int min_nodes, max_nodes;      /* node count limits of a valid graph */
    int max_edges;                 /* 9 for NB101; 0 = no limit beyond the structure (nb101x too) */
} space_info;

const space_info *space_get(space_id id);
/* NULL if the name is not a space. */
const space_info *space_by_name(const char *name, size_t len);
/* Type index of an operation name, or -1. */
int space_type_index(const space_info *sp, const char *name, size_t len);
/* "nb101, nb201, enas6, enas12, nb101x" for messages. */
const char *space_list(void);
/* NB101's cell rules (nb101 and nb101x): every node on an input->output path; nasbench prunes the
 * others before judging or hashing a cell, and so do graph-hash and bench-lookup. */
static inline int space_nb101_rules(const space_info *sp) { return sp->id == SPACE_NB101 || sp->id == SPACE_NB101X; }
/* Same vocabulary (the same type names in the same order): a model of space a can encode graphs
 * of space b (nb101 and nb101x; enas6 and enas12). */
int space_same_vocabulary(const space_info *a, const space_info *b);

#endif
