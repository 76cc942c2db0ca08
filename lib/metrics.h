/* metrics.h: the counting behind svge-metrics (formats/reference.md §5.1, §5.2): reconstruction hits,
 * prior validity, uniqueness and novelty, each index-wise (the reference's exact (types, edges)
 * form) and isomorphism-aware (graph_key: the NB101 graph hash, NB101 cells pruned first), and the
 * prior's latent points. Sets of graphs are digest_maps of 16-byte keys: graph_key for the
 * isomorphism-aware counts, the MD5 of the exact form (metrics_form_key) for the index-wise ones,
 * so novelty is O(valid + train), not the reference's O(valid x train).
 * Nothing here fails: allocation dies (exit 3) through xmalloc. */
#ifndef SVGE_METRICS_H
#define SVGE_METRICS_H

#include <msgpack.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "digest_map.h"
#include "graph.h"
#include "space.h"

typedef struct {
    uint64_t n_test, n_train;
    uint64_t n_recon, hits, hits_iso;                /* reconstruction decodings and hits */
    uint64_t n_prior, n_valid, n_unique, n_unique_iso, n_in_train, n_in_train_iso; /* prior decodings */
    uint64_t nmismatch;                              /* merged decodings whose passes disagreed */
} metrics_counts;

/* The MD5 of a graph's exact index-wise form (node count, types, successor sets; nothing past n):
 * the reference's "node types + edge_index" string. Equal for graph_equal graphs. */
void metrics_form_key(const graph *g, uint8_t key[16]);

/* Reconstruction: decodings scored against the test graph they were decoded from. */
typedef struct {
    const space_info *sp;
    const graph *test;
    size_t n;
    uint8_t (*key)[16]; /* graph_key of each test graph */
    uint8_t *key_ok;    /* it has one */
} metrics_recon;
void metrics_recon_init(metrics_recon *r, const space_info *sp, const graph *test, size_t n);
/* One decoding of test graph i: n_recon, hits (graph_equal), hits_iso (equal graph_key). */
void metrics_recon_score(const metrics_recon *r, size_t i, const graph *decoded, metrics_counts *c);
void metrics_recon_free(metrics_recon *r);

/* Prior: decodings counted for validity (graph_check in sp), uniqueness among the valid ones and
 * presence among the training graphs. */
typedef struct {
    const space_info *sp;
    digest_map train_form, train_iso, form, iso;
} metrics_prior;
void metrics_prior_init(metrics_prior *p, const space_info *sp, const graph *train, size_t n);
/* One decoding: n_prior, and if valid n_valid, n_unique(_iso) (first of its form / key),
 * n_in_train(_iso). */
void metrics_prior_score(metrics_prior *p, const graph *decoded, metrics_counts *c);
void metrics_prior_free(metrics_prior *p);

/* The counts and rates as record fields (formats: svge-metrics' --help): the integers n_test,
 * n_train, n_recon_decodings, recon_hits, recon_hits_iso, n_prior_decodings, n_valid, n_unique,
 * n_unique_iso, n_in_train, n_in_train_iso, n_nmismatch, then the floats recon_acc, recon_acc_iso
 * (if n_recon), validity (if n_prior), uniqueness, uniqueness_iso, novelty, novelty_iso (if
 * n_valid): metrics_field_count of them, packed as key/value pairs into the caller's map. */
uint32_t metrics_field_count(const metrics_counts *c);
void metrics_pack(msgpack_packer *pk, const metrics_counts *c);
/* The same as a table: metric, index-wise and isomorphism-aware rate, count/of ("-" where the
 * denominator is 0), then a line of the totals. */
void metrics_print_table(FILE *e, const metrics_counts *r);

/* samples points z ~ N(mean(mu), diag std(mu)) (population std over the n rows of mu, (n, D)),
 * (samples, D), drawn row-major from one MT19937 seeded with seed. n >= 1. */
float *metrics_prior_points(const float *mu, size_t n, int D, uint64_t samples, uint32_t seed);

#endif
