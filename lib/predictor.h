/* predictor.h: what `predict` runs — a model that maps a record's input vector to a predicted
 * number (and maybe a standard deviation) — and the record checks that `gp-fit` and `predict`
 * share: reading the input vector and its provenance.
 *
 * A predictor is loaded from a model file by its config "kind" through a small dispatch table
 * (predictor.c, `kinds`): "gp" (a GP written by gp-fit, lib/gp.h), and "svge" or "dgmg" with the
 * surrogate head of svge-train --surrogate (lib/vae.h vae_head_read, lib/regressor.h: input "z",
 * provenance "model" = the model's own id, no std). A model without a head holds no predictor.
 *
 * Provenance. Input vectors are only comparable if they come from the same encoder: a latent "z"
 * from the same VAE (records carry its id in "model"), features of the same kind (graph-features
 * writes "features_kind", or NAME_kind for --field NAME). The provenance field of an input field F
 * is "model" if F is "z", else F + "_kind" (pred_provenance_field). */
#ifndef SVGE_PREDICTOR_H
#define SVGE_PREDICTOR_H

#include <msgpack.h>
#include <stddef.h>

#include "gp.h"
#include "modelfile.h"

#define PRED_MAX_FIELD 200   /* bytes of an input field name */
#define PRED_MAX_PROV 256    /* bytes of a provenance value (a model id, a features kind) */
#define PRED_MAX_DIM 1000000 /* input vector length (a record holds at most 2^20 objects) */

/* The provenance field of input field x ("model" for "z", else x + "_kind") into out. */
void pred_provenance_field(const char *x, char out[PRED_MAX_FIELD + 8]);

/* The input vector: field `field` of rec must be an array of numbers in float32 range.
 * pred_vec_len: its length into *n. pred_vec_read: its n elements (n = its length, checked) as
 * float32 into out. 0 on success, -1 with the problem in why (e.g. "no field \"z\""). */
int pred_vec_len(const msgpack_object *rec, const char *field, size_t *n, char *why, size_t whylen);
int pred_vec_read(const msgpack_object *rec, const char *field, float *out, size_t n, char *why, size_t whylen);

/* The provenance of rec: field pfield as a string. 1 present (*s, *len), 0 absent, -1 not a string
 * (why says so). */
int pred_prov_get(const msgpack_object *rec, const char *pfield, const char **s, size_t *len, char *why,
                  size_t whylen);

typedef struct predictor predictor;
struct predictor {
    const char *kind;                /* the config kind: "gp", ... */
    char x_field[PRED_MAX_FIELD + 1]; /* the input vector's field */
    char prov_field[PRED_MAX_FIELD + 8];
    char prov[PRED_MAX_PROV + 1];     /* the value every input must carry in prov_field */
    char y_field[PRED_MAX_FIELD + 1]; /* what it predicts (may be empty) */
    int dim;                          /* input length */
    int has_std;                      /* predict fills std */
    /* Predictions at B vectors X (B, dim): mean (B) and, if has_std and std is not NULL, the
     * predictive standard deviation (B). Finite inputs; the caller checks the outputs. Threads may
     * call it at once on one predictor (it keeps its scratch per call). */
    void (*predict)(const predictor *p, const float *X, int B, double *mean, double *std);
    void (*free)(predictor *p);
    void *impl;
};

/* Load the predictor of model file m by its config kind. Never returns an error: dies (exit 1)
 * "<file>: <problem>" if m holds no predictor (e.g. "a \"svge\" model without a surrogate head
 * holds no predictor (...)") or a damaged one, as every tool does with a bad model file. */
void predictor_load(predictor *p, const model_file *m);
void predictor_free(predictor *p);

/* ---- the "gp" kind (formats/model.md) ----
 * config: kind "gp", x_field, y_field, provenance_field, provenance (str), dim (int), then the GP
 * under prefix "gp" (gp_save_values); meta: tool "gp-fit", records, skipped (ints). */
/* Write GP g fitted on x_field -> y_field to path atomically (lib/modelfile); id receives the model
 * id (may be NULL). Dies on I/O errors (exit 3). */
void pred_gp_write(const char *path, const gp_model *g, const char *x_field, const char *y_field,
                   const char *prov_field, const char *prov, long long records, long long skipped,
                   char id[MF_ID_LEN + 1]);

#endif
