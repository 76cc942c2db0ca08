/* metrics.c: reconstruction, validity, uniqueness and novelty counts (see metrics.h). */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph_hash.h"
#include "md5.h"
#include "record.h"
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

uint32_t metrics_field_count(const metrics_counts *c) {
    return 12 + (c->n_recon ? 2 : 0) + (c->n_prior ? 1 : 0) + (c->n_valid ? 4 : 0);
}

void metrics_pack(msgpack_packer *pk, const metrics_counts *c) {
    const struct { const char *key; uint64_t n; } counts[] = {
        {"n_test", c->n_test}, {"n_train", c->n_train}, {"n_recon_decodings", c->n_recon},
        {"recon_hits", c->hits}, {"recon_hits_iso", c->hits_iso}, {"n_prior_decodings", c->n_prior},
        {"n_valid", c->n_valid}, {"n_unique", c->n_unique}, {"n_unique_iso", c->n_unique_iso},
        {"n_in_train", c->n_in_train}, {"n_in_train_iso", c->n_in_train_iso}, {"n_nmismatch", c->nmismatch},
    };
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) pack_kv_i64(pk, counts[i].key, (int64_t)counts[i].n);
    if (c->n_recon) {
        pack_kv_double(pk, "recon_acc", (double)c->hits / (double)c->n_recon);
        pack_kv_double(pk, "recon_acc_iso", (double)c->hits_iso / (double)c->n_recon);
    }
    if (c->n_prior) pack_kv_double(pk, "validity", (double)c->n_valid / (double)c->n_prior);
    if (c->n_valid) {
        double v = (double)c->n_valid;
        pack_kv_double(pk, "uniqueness", (double)c->n_unique / v);
        pack_kv_double(pk, "uniqueness_iso", (double)c->n_unique_iso / v);
        pack_kv_double(pk, "novelty", 1.0 - (double)c->n_in_train / v);
        pack_kv_double(pk, "novelty_iso", 1.0 - (double)c->n_in_train_iso / v);
    }
}

void metrics_print_table(FILE *e, const metrics_counts *r) {
    fprintf(e, "  %-16s %12s %12s %12s\n", "metric", "index-wise", "isomorphism", "count/of");
#define ROW(name, num, den, numi)                                                                         \
    do {                                                                                                  \
        if (den)                                                                                          \
            fprintf(e, "  %-16s %12.4f %12.4f %5llu/%llu\n", name, (double)(num) / (double)(den),          \
                    (double)(numi) / (double)(den), (unsigned long long)(num), (unsigned long long)(den)); \
        else                                                                                              \
            fprintf(e, "  %-16s %12s %12s %5s/0\n", name, "-", "-", "-");                                 \
    } while (0)
    ROW("recon_acc", r->hits, r->n_recon, r->hits_iso);
    if (r->n_prior) {
        fprintf(e, "  %-16s %12.4f %12s %5llu/%llu\n", "validity", (double)r->n_valid / (double)r->n_prior, "",
                (unsigned long long)r->n_valid, (unsigned long long)r->n_prior);
    } else {
        fprintf(e, "  %-16s %12s %12s %5s/0\n", "validity", "-", "-", "-");
    }
    ROW("uniqueness", r->n_unique, r->n_valid, r->n_unique_iso);
    if (r->n_valid)
        fprintf(e, "  %-16s %12.4f %12.4f %5llu/%llu\n", "novelty",
                1.0 - (double)r->n_in_train / (double)r->n_valid, 1.0 - (double)r->n_in_train_iso / (double)r->n_valid,
                (unsigned long long)(r->n_valid - r->n_in_train), (unsigned long long)r->n_valid);
    else
        fprintf(e, "  %-16s %12s %12s %5s/0\n", "novelty", "-", "-", "-");
#undef ROW
    fprintf(e, "  test graphs %llu, training graphs %llu, decodings %llu + %llu, node-count mismatches %llu\n",
            (unsigned long long)r->n_test, (unsigned long long)r->n_train, (unsigned long long)r->n_recon,
            (unsigned long long)r->n_prior, (unsigned long long)r->nmismatch);
}
