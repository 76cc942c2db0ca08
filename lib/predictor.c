/* predictor.c: the predictors of `predict`, dispatched on a model file's config kind, and the
 * input checks shared with `gp-fit`; see predictor.h. */
#include "predictor.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "util.h"
#include "vae.h"

static int fail(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t whylen, const char *fmt, ...) {
    if (why && whylen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void pred_provenance_field(const char *x, char out[PRED_MAX_FIELD + 8]) {
    if (strcmp(x, "z") == 0) snprintf(out, PRED_MAX_FIELD + 8, "model");
    else snprintf(out, PRED_MAX_FIELD + 8, "%.*s_kind", PRED_MAX_FIELD, x);
}

/* ---- the input vector ---- */

static const msgpack_object *vec_field(const msgpack_object *rec, const char *field, char *why, size_t whylen) {
    const msgpack_object *a = rec_get(rec, field);
    if (!a) return fail(why, whylen, "no field \"%s\"", field), NULL;
    if (a->type != MSGPACK_OBJECT_ARRAY)
        return fail(why, whylen, "field \"%s\" is %s, not an array of numbers", field, obj_type_name(a)), NULL;
    if (a->via.array.size == 0) return fail(why, whylen, "field \"%s\" is an empty array", field), NULL;
    if (a->via.array.size > PRED_MAX_DIM)
        return fail(why, whylen, "field \"%s\" has %u numbers, more than %d", field, a->via.array.size,
                    PRED_MAX_DIM), NULL;
    return a;
}

int pred_vec_len(const msgpack_object *rec, const char *field, size_t *n, char *why, size_t whylen) {
    const msgpack_object *a = vec_field(rec, field, why, whylen);
    if (!a) return -1;
    *n = a->via.array.size;
    return 0;
}

int pred_vec_read(const msgpack_object *rec, const char *field, float *out, size_t n, char *why, size_t whylen) {
    const msgpack_object *a = vec_field(rec, field, why, whylen);
    if (!a) return -1;
    if (a->via.array.size != n)
        return fail(why, whylen, "field \"%s\" has %u numbers, want %zu", field, a->via.array.size, n);
    for (size_t i = 0; i < n; i++) {
        const msgpack_object *e = &a->via.array.ptr[i];
        if (!obj_is_number(e))
            return fail(why, whylen, "field \"%s\": element %zu is %s, not a number", field, i, obj_type_name(e));
        const double x = obj_double(e);
        if (!(x >= -3.4028234663852886e38 && x <= 3.4028234663852886e38))
            return fail(why, whylen, "field \"%s\": element %zu (%g) is out of float32 range", field, i, x);
        out[i] = (float)x;
    }
    return 0;
}

int pred_prov_get(const msgpack_object *rec, const char *pfield, const char **s, size_t *len, char *why,
                  size_t whylen) {
    const msgpack_object *o = rec_get(rec, pfield);
    if (!o) return 0;
    if (o->type != MSGPACK_OBJECT_STR)
        return fail(why, whylen, "field \"%s\" is %s, not a string", pfield, obj_type_name(o));
    *s = o->via.str.ptr;
    *len = o->via.str.size;
    return 1;
}

/* ---- the "gp" kind ---- */

#define GP_PREFIX "gp"

void pred_gp_write(const char *path, const gp_model *g, const char *x_field, const char *y_field,
                   const char *prov_field, const char *prov, long long records, long long skipped,
                   char id[MF_ID_LEN + 1]) {
    gp_saved s;
    char err[256];
    if (gp_save_values(g, GP_PREFIX, &s, err, sizeof err) != GP_OK) die(EXIT_DATA, "%s: %s", path, err);
    mf_value cfg[6 + GP_MAX_VALUES];
    size_t k = 0;
    cfg[k++] = mf_str("kind", "gp");
    cfg[k++] = mf_str("x_field", x_field);
    cfg[k++] = mf_str("y_field", y_field);
    cfg[k++] = mf_str("provenance_field", prov_field);
    cfg[k++] = mf_str("provenance", prov);
    cfg[k++] = mf_int("dim", g->d);
    for (size_t i = 0; i < s.nvalues; i++) cfg[k++] = s.values[i];
    mf_value meta[3] = {mf_str("tool", "gp-fit"), mf_int("records", records), mf_int("skipped", skipped)};
    mf_contents c = {{cfg, meta, NULL}, {k, 3, 0}, s.tensors, s.ntensors};
    mf_write(path, &c, id);
    gp_saved_free(&s);
}

static void gp_pred_predict(const predictor *p, const float *X, int B, double *mean, double *std) {
    const gp_model *g = p->impl;
    gp_predict(g, X, B, mean, std); /* the variance in std, made a deviation in place */
    if (std)
        for (int b = 0; b < B; b++) std[b] = sqrt(std[b]);
}

static void gp_pred_free(predictor *p) {
    gp_free(p->impl);
    free(p->impl);
}

/* A config string of at most max bytes into out; -1 with err if absent, not a string or too long. */
static int cfg_str(const model_file *m, const char *key, char *out, size_t max, char *err, size_t errlen) {
    const mf_value *v = mf_find(m, MF_CONFIG, key);
    if (!v) return fail(err, errlen, "no config value \"%s\"", key);
    if (v->kind != MF_STR) return fail(err, errlen, "config value \"%s\" is not a string", key);
    if (v->len == 0 || v->len > max) return fail(err, errlen, "config value \"%s\" has %zu bytes, want 1..%zu", key, v->len, max);
    memcpy(out, v->p, v->len);
    out[v->len] = 0;
    return 0;
}

static int gp_pred_load(predictor *p, const model_file *m, char *err, size_t errlen) {
    char want[PRED_MAX_FIELD + 8];
    if (cfg_str(m, "x_field", p->x_field, PRED_MAX_FIELD, err, errlen) ||
        cfg_str(m, "y_field", p->y_field, PRED_MAX_FIELD, err, errlen) ||
        cfg_str(m, "provenance_field", p->prov_field, PRED_MAX_FIELD + 7, err, errlen) ||
        cfg_str(m, "provenance", p->prov, PRED_MAX_PROV, err, errlen))
        return -1;
    pred_provenance_field(p->x_field, want);
    if (strcmp(want, p->prov_field) != 0)
        return fail(err, errlen, "config provenance_field is \"%s\", want \"%s\" for inputs \"%s\"", p->prov_field,
                    want, p->x_field);
    const mf_value *dv = mf_find(m, MF_CONFIG, "dim");
    if (!dv || dv->kind != MF_INT) return fail(err, errlen, "no integer config value \"dim\"");
    gp_model *g = xcalloc(1, sizeof *g);
    if (gp_load(g, m, GP_PREFIX, err, errlen) != GP_OK) {
        free(g);
        return -1;
    }
    if (dv->i != g->d) {
        fail(err, errlen, "config dim %lld differs from the GP's %d", (long long)dv->i, g->d);
        gp_free(g);
        free(g);
        return -1;
    }
    p->dim = g->d;
    p->has_std = 1;
    p->predict = gp_pred_predict;
    p->free = gp_pred_free;
    p->impl = g;
    return 0;
}

/* ---- the surrogate head of a VAE model file (svge-train --surrogate; lib/vae.h) ---- */
#define HEAD_ROWS 256 /* rows per forward of the head */

typedef struct {
    regressor_config c;
    regressor_params p;
    float *mem;
    double y_mean, y_std; /* the head's units: prediction = y_mean + y_std * head (vae_config) */
} head_pred;

static void head_pred_predict(const predictor *p, const float *X, int B, double *mean, double *std) {
    (void)std; // a point prediction: no deviation
    const head_pred *h = p->impl;
    /* activations of this call: threads may predict at once (predictor.h) */
    float *acts = xmalloc(regressor_acts_size(h->c, HEAD_ROWS) * sizeof(float));
    for (int s = 0; s < B; s += HEAD_ROWS) {
        const int nb = B - s < HEAD_ROWS ? B - s : HEAD_ROWS;
        regressor_forward(acts, &h->p, h->c, X + (size_t)s * h->c.D, nb);
        const float *pr = regressor_pred(acts, h->c, nb);
        for (int b = 0; b < nb; b++) mean[s + b] = h->y_mean + h->y_std * (double)pr[b];
    }
    free(acts);
}

static void head_pred_free(predictor *p) {
    head_pred *h = p->impl;
    free(h->mem);
    free(h);
}

/* The head reads the latent mean "z" of the model itself (its own id as provenance) and predicts
 * its config's regression_target. Without a head: no predictor. */
static int head_pred_load(predictor *p, const model_file *m, char *err, size_t errlen) {
    head_pred *h = xcalloc(1, sizeof *h);
    vae_config cfg;
    if (vae_head_read(m, &cfg, &h->p, &h->mem) != 0) {
        free(h);
        return fail(err, errlen, "a \"%s\" model without a surrogate head holds no predictor (fine-tune one with "
                    "svge-train --init MODEL --surrogate FIELD)", p->kind);
    }
    h->c = (regressor_config){cfg.D, cfg.head_layers};
    h->y_mean = cfg.head_y_mean;
    h->y_std = cfg.head_y_std;
    snprintf(p->x_field, sizeof p->x_field, "z");
    pred_provenance_field(p->x_field, p->prov_field);
    snprintf(p->prov, sizeof p->prov, "%s", mf_id(m));
    snprintf(p->y_field, sizeof p->y_field, "%s", cfg.head_target);
    p->dim = cfg.D;
    p->has_std = 0;
    p->predict = head_pred_predict;
    p->free = head_pred_free;
    p->impl = h;
    return 0;
}

/* ---- dispatch ---- */

static const struct {
    const char *kind;
    int (*load)(predictor *p, const model_file *m, char *err, size_t errlen);
} kinds[] = {
    {"gp", gp_pred_load},
    {"svge", head_pred_load}, /* the VAE's surrogate head */
    {"dgmg", head_pred_load},
};

/* predictor_load, returning the problem instead of dying. */
static int load(predictor *p, const model_file *m, char *err, size_t errlen) {
    memset(p, 0, sizeof *p);
    const mf_value *k = mf_find(m, MF_CONFIG, "kind");
    if (!k || k->kind != MF_STR) return fail(err, errlen, "no config \"kind\" (string): not a model of these tools");
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(k->p, kinds[i].kind) == 0) {
            p->kind = kinds[i].kind;
            if (kinds[i].load(p, m, err, errlen) != 0) {
                memset(p, 0, sizeof *p);
                return -1;
            }
            return 0;
        }
    return fail(err, errlen, "a \"%.64s\" model holds no predictor (fine-tune one with svge-train --surrogate ...)",
                (const char *)k->p);
}

void predictor_load(predictor *p, const model_file *m) {
    char err[512];
    if (load(p, m, err, sizeof err) != 0) die(EXIT_DATA, "%s: %s", mf_name(m), err);
}

void predictor_free(predictor *p) {
    if (p->free) p->free(p);
    memset(p, 0, sizeof *p);
}
