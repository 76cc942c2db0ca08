/* points.h: the training points of a GP read from a record stream — each record's input vector
 * (an array of numbers, e.g. the latent "z") and a numeric target — with the provenance checks of
 * lib/predictor.h (every input from the same encoder). Shared by gp-fit and bo-propose. Dies with
 * rr_fail (exit 1) naming the record on bad input. */
#ifndef SVGE_POINTS_H
#define SVGE_POINTS_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "predictor.h"
#include "stream.h"

typedef struct {
    float *X;                           /* (n, d) */
    double *y;                          /* (n) */
    size_t n, d;
    uint64_t skipped;                   /* records without the target (skip_missing) */
    char pfield[PRED_MAX_FIELD + 8];    /* the provenance field ("model" for "z") */
    char prov[PRED_MAX_PROV + 1];       /* its value, the same in every record */
} gp_points;

/* Read every record of r: vector field x, target field y (a finite number; without it the record is
 * skipped if skip_missing, else an error), and the provenance. each (may be NULL) is called with
 * every record that became a point, and its index. p is zeroed first; gp_points_free frees it. */
void gp_points_read(rec_reader *r, const char *x, const char *y, int skip_missing, gp_points *p,
                    void (*each)(void *ctx, const msgpack_object *rec, size_t i), void *ctx);
void gp_points_free(gp_points *p);

#endif
