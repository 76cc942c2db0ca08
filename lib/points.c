/* points.c: see points.h. */
#include "points.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "util.h"

void gp_points_read(rec_reader *r, const char *x, const char *y, int skip_missing, gp_points *p,
                    void (*each)(void *ctx, const msgpack_object *rec, size_t i), void *ctx) {
    memset(p, 0, sizeof *p);
    pred_provenance_field(x, p->pfield);
    uint64_t prov_rec = 0; /* the record that set prov */
    size_t cap = 0;
    const msgpack_object *rec;
    while ((rec = rr_next(r))) {
        char why[512];
        const msgpack_object *yo = rec_get(rec, y);
        if (!yo) {
            if (skip_missing) {
                p->skipped++;
                continue;
            }
            rr_fail(r, "no field \"%s\" (the target; --skip-missing passes over such records)", y);
        }
        if (!obj_is_number(yo)) rr_fail(r, "field \"%s\" is %s, not a number", y, obj_type_name(yo));
        const double t = obj_double(yo);
        if (!isfinite(t)) rr_fail(r, "field \"%s\" is not a finite number", y);
        /* provenance */
        const char *ps;
        size_t plen;
        int got = pred_prov_get(rec, p->pfield, &ps, &plen, why, sizeof why);
        if (got < 0) rr_fail(r, "%s", why);
        if (got == 0)
            rr_fail(r, "no field \"%s\": inputs \"%s\" of unknown provenance (%s)", p->pfield, x,
                    strcmp(x, "z") == 0 ? "svge-encode writes the model id beside z"
                                        : "graph-features writes FIELD_kind beside FIELD");
        if (plen == 0 || plen > PRED_MAX_PROV)
            rr_fail(r, "field \"%s\" has %zu bytes, want 1..%d", p->pfield, plen, PRED_MAX_PROV);
        if (p->n == 0) {
            memcpy(p->prov, ps, plen);
            p->prov[plen] = 0;
            prov_rec = rr_count(r);
        } else if (plen != strlen(p->prov) || memcmp(ps, p->prov, plen) != 0) {
            rr_fail(r, "\"%s\" is \"%.*s\", record %llu's was \"%s\": all inputs must come from the same %s",
                    p->pfield, (int)(plen > 64 ? 64 : plen), ps, (unsigned long long)prov_rec, p->prov,
                    strcmp(x, "z") == 0 ? "model" : "encoding");
        }
        /* the vector */
        size_t len;
        if (pred_vec_len(rec, x, &len, why, sizeof why)) rr_fail(r, "%s", why);
        if (p->n == 0) p->d = len;
        else if (len != p->d)
            rr_fail(r, "field \"%s\" has %zu numbers, the first record's had %zu", x, len, p->d);
        if (p->n == cap) {
            cap = cap ? 2 * cap : 1024;
            p->X = xrealloc(p->X, cap * p->d * sizeof *p->X);
            p->y = xrealloc(p->y, cap * sizeof *p->y);
        }
        if (pred_vec_read(rec, x, p->X + p->n * p->d, p->d, why, sizeof why)) rr_fail(r, "%s", why);
        p->y[p->n] = t;
        if (each) each(ctx, rec, p->n);
        p->n++;
        if (p->n > INT32_MAX / 2) rr_fail(r, "too many points");
    }
}

void gp_points_free(gp_points *p) {
    free(p->X);
    free(p->y);
    memset(p, 0, sizeof *p);
}
