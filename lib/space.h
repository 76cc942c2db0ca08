/* space.h: the search spaces: vocabularies in the reference's index order, node limits, names.
 *
 * Type index order follows the reference implementation (svge-reference.md §2): 0 = output,
 * 1 = input, then the space's operations. Record fields carry operation *names* (formats/records.md);
 * models and tools use these indices. */
#ifndef SVGE_SPACE_H
#define SVGE_SPACE_H

#include <stddef.h>
#include <stdint.h>

typedef enum { SPACE_NB101, SPACE_NB201, SPACE_ENAS6, SPACE_ENAS12, SPACE_COUNT } space_id;

enum { TYPE_OUTPUT = 0, TYPE_INPUT = 1 };

typedef struct {
    space_id id;
    const char *name;              /* "nb101", "nb201", "enas6", "enas12" */
    const char *title;             /* "NAS-Bench-101", ... for messages and --help */
    int n_types;                   /* vocabulary size, input and output included */
    const char *const *type_names; /* [n_types], index = type index */
    const int8_t *hash_labels;     /* [n_types]: label used by the NB101 graph hash (-1 input, -2 output) */
    int min_nodes, max_nodes;      /* node count limits of a valid graph */
    int max_edges;                 /* 9 for NB101; 0 = no limit beyond the structure */
} space_info;

const space_info *space_get(space_id id);
/* NULL if the name is not a space. */
const space_info *space_by_name(const char *name, size_t len);
/* Type index of an operation name, or -1. */
int space_type_index(const space_info *sp, const char *name, size_t len);
/* "nb101, nb201, enas6, enas12" for messages. */
const char *space_list(void);

#endif
