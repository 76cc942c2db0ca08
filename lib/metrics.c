/* metrics.c: reconstruction, validity, uniqueness and novelty counts (see metrics.h). */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph_hash.h"
#include "md5.h"
#include "rng.h"
#include "util.h"

#define FORM_BYTES (1 + GRAPH_MAX_NODES + 2 * GRAPH_MAX_NODES)

void metrics_form_key(const graph *g, uint8_t key[16]) {
    uint8_t f[FORM_BYTES];
    memset(f, 0, FORM_BYTES);
    f[0] = (uint8_t)g->n;
    for (int i = 0; i < g->n; i++) {
        f[1 + i] = g->type[i];
        f[1 + GRAPH_MAX_NODES + 2 * i] = (uint8_t)(g->succ[i] & 0xff);
        f[2 + GRAPH_MAX_NODES + 2 * i] = (uint8_t)(g->succ[i] >> 8);
    }
    md5(f, FORM_BYTES, key);
}

void metrics_recon_init(metrics_recon *r, const space_info *sp, const graph *test, size_t n) {
    *r = (metrics_recon){.sp = sp, .test = test, .n = n};
    r->key = xmalloc((n ? n : 1) * sizeof *r->key);
    r->key_ok = xmalloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) r->key_ok[i] = graph_key(sp, &test[i], r->key[i]) == 0;
}

void metrics_recon_score(const metrics_recon *r, size_t i, const graph *decoded, metrics_counts *c) {
    c->n_recon++;
    c->hits += graph_equal(decoded, &r->test[i]);
    uint8_t key[16];
    if (r->key_ok[i] && graph_key(r->sp, decoded, key) == 0 && memcmp(key, r->key[i], 16) == 0) c->hits_iso++;
}

void metrics_recon_free(metrics_recon *r) {
    free(r->key);
    free(r->key_ok);
}

void metrics_prior_init(metrics_prior *p, const space_info *sp, const graph *train, size_t n) {
    p->sp = sp;
    dmap_init(&p->train_form);
    dmap_init(&p->train_iso);
    dmap_init(&p->form);
    dmap_init(&p->iso);
    uint8_t key[16];
    for (size_t i = 0; i < n; i++) {
        metrics_form_key(&train[i], key);
        dmap_put(&p->train_form, key, 0);
        if (graph_key(sp, &train[i], key) == 0) dmap_put(&p->train_iso, key, 0);
    }
}

void metrics_prior_score(metrics_prior *p, const graph *g, metrics_counts *c) {
    c->n_prior++;
    char why[256];
    if (graph_check(p->sp, g, why, sizeof why) != 0) return;
    c->n_valid++;
    uint8_t key[16];
    metrics_form_key(g, key);
    c->n_unique += (uint64_t)dmap_put(&p->form, key, 0);
    c->n_in_train += dmap_get(&p->train_form, key) != NULL;
    if (graph_key(p->sp, g, key) == 0) { /* always so for a valid graph */
        c->n_unique_iso += (uint64_t)dmap_put(&p->iso, key, 0);
        c->n_in_train_iso += dmap_get(&p->train_iso, key) != NULL;
    }
}

void metrics_prior_free(metrics_prior *p) {
    dmap_free(&p->train_form);
    dmap_free(&p->train_iso);
    dmap_free(&p->form);
    dmap_free(&p->iso);
}

float *metrics_prior_points(const float *mu, size_t n, int D, uint64_t samples, uint32_t seed) {
    double *mean = xcalloc((size_t)D, sizeof(double)), *sd = xcalloc((size_t)D, sizeof(double));
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < D; j++) mean[j] += mu[i * D + j];
    for (int j = 0; j < D; j++) mean[j] /= (double)n;
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < D; j++) {
            double e = mu[i * D + j] - mean[j];
            sd[j] += e * e;
        }
    for (int j = 0; j < D; j++) sd[j] = sqrt(sd[j] / (double)n);
    float *z = xmalloc((samples ? samples : 1) * (size_t)D * sizeof(float));
    rng_mt rng;
    rng_seed(&rng, seed);
    for (uint64_t s = 0; s < samples; s++)
        for (int j = 0; j < D; j++) z[s * D + j] = (float)(mean[j] + sd[j] * rng_gauss(&rng));
    free(mean);
    free(sd);
    return z;
}
