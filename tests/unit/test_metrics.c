/* test_metrics.c: lib/digest_map.c and lib/metrics.c: the map's put/get through growth; the form
 * key; reconstruction hits index-wise and up to isomorphism; prior validity, uniqueness and
 * novelty on hand-made decodings; the prior points' mean and spread; the record fields.
 * Prints "N passed, M failed"; exits 1 on any failure. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest_map.h"
#include "md5.h"
#include "metrics.h"
#include "record.h"

#include "check.h"

static void test_digest_map(void) {
    digest_map m;
    dmap_init(&m);
    enum { N = 5000 }; /* several doublings */
    uint8_t k[16];
    for (uint32_t i = 0; i < N; i++) {
        md5(&i, sizeof i, k);
        CHECK(dmap_put(&m, k, i) == 1);
    }
    CHECK(m.count == N);
    int all = 1;
    for (uint32_t i = 0; i < N; i++) {
        md5(&i, sizeof i, k);
        const uint64_t *v = dmap_get(&m, k);
        all &= v && *v == i;
    }
    CHECK(all);
    uint32_t x = 7;
    md5(&x, sizeof x, k);
    CHECK(dmap_put(&m, k, 99) == 0); /* present: value unchanged */
    CHECK(*dmap_get(&m, k) == 7);
    x = N + 1;
    md5(&x, sizeof x, k);
    CHECK(dmap_get(&m, k) == NULL);
    /* keys sharing their first 8 bytes (the hash) still differ */
    uint8_t a[16] = {0}, b[16] = {0};
    b[15] = 1;
    CHECK(dmap_put(&m, a, 1) == 1 && dmap_put(&m, b, 2) == 1);
    CHECK(*dmap_get(&m, a) == 1 && *dmap_get(&m, b) == 2);
    dmap_free(&m);
}

/* NB101 cells (type 1 the input, 0 the output, 2..4 the operations). */
static graph chain(int n, int t) { /* input -> t -> ... -> output */
    graph g;
    memset(&g, 0, sizeof g);
    g.n = n;
    for (int i = 0; i < n; i++) g.type[i] = (uint8_t)t;
    g.type[0] = 1; /* input */
    g.type[n - 1] = 0; /* output */
    for (int i = 0; i + 1 < n; i++) graph_add_edge(&g, i, i + 1);
    return g;
}

static void test_form_key(void) {
    graph a = chain(4, 2), b = chain(4, 2), c = chain(4, 3);
    uint8_t ka[16], kb[16], kc[16];
    metrics_form_key(&a, ka);
    metrics_form_key(&b, kb);
    metrics_form_key(&c, kc);
    CHECK(memcmp(ka, kb, 16) == 0);
    CHECK(memcmp(ka, kc, 16) != 0);
    b.type[5] = 9; /* past n: not part of the form */
    metrics_form_key(&b, kb);
    CHECK(memcmp(ka, kb, 16) == 0);
}

/* A 4-node diamond 0->1, 0->2, 1->3, 2->3 with two middle types, and its mirror (1 and 2 swapped):
 * isomorphic, not index-wise equal. */
static graph diamond(int t1, int t2) {
    graph g;
    memset(&g, 0, sizeof g);
    g.n = 4;
    g.type[0] = 1, g.type[1] = (uint8_t)t1, g.type[2] = (uint8_t)t2, g.type[3] = 0;
    graph_add_edge(&g, 0, 1), graph_add_edge(&g, 0, 2), graph_add_edge(&g, 1, 3), graph_add_edge(&g, 2, 3);
    return g;
}

static void test_recon(const space_info *sp) {
    graph test[2] = {diamond(2, 3), chain(3, 2)};
    metrics_recon r;
    metrics_recon_init(&r, sp, test, 2);
    metrics_counts c = {0};
    graph same = diamond(2, 3), mirror = diamond(3, 2), other = chain(4, 2);
    metrics_recon_score(&r, 0, &same, &c);   /* hit, hit_iso */
    metrics_recon_score(&r, 0, &mirror, &c); /* hit_iso only */
    metrics_recon_score(&r, 1, &other, &c);  /* neither */
    CHECK(c.n_recon == 3);
    CHECK(c.hits == 1);
    CHECK(c.hits_iso == 2);
    metrics_recon_free(&r);
}

static void test_prior(const space_info *sp) {
    graph train[1] = {diamond(2, 3)};
    metrics_prior p;
    metrics_prior_init(&p, sp, train, 1);
    metrics_counts c = {0};
    graph dec[5] = {diamond(2, 3), diamond(2, 3), diamond(3, 2), chain(3, 2), chain(3, 2)};
    dec[4].succ[1] = 0; /* node 1 leads nowhere: invalid */
    for (int i = 0; i < 5; i++) metrics_prior_score(&p, &dec[i], &c);
    CHECK(c.n_prior == 5);
    CHECK(c.n_valid == 4);
    CHECK(c.n_unique == 3);     /* diamond, mirror, chain */
    CHECK(c.n_unique_iso == 2); /* diamond = mirror, chain */
    CHECK(c.n_in_train == 2);   /* the two diamonds */
    CHECK(c.n_in_train_iso == 3);
    metrics_prior_free(&p);
}

static void test_prior_points(void) {
    /* two rows: mean (1, 0), population std (1, 0) */
    const float mu[4] = {0, 0, 2, 0};
    float *z = metrics_prior_points(mu, 2, 2, 2000, 1);
    double m = 0, v = 0;
    int zero = 1;
    for (int s = 0; s < 2000; s++) m += z[2 * s], zero &= z[2 * s + 1] == 0;
    m /= 2000;
    for (int s = 0; s < 2000; s++) v += (z[2 * s] - m) * (z[2 * s] - m);
    v /= 2000;
    CHECK(fabs(m - 1) < 0.1);
    CHECK(fabs(v - 1) < 0.15);
    CHECK(zero);
    float *z2 = metrics_prior_points(mu, 2, 2, 2000, 1);
    CHECK(memcmp(z, z2, 2000 * 2 * sizeof(float)) == 0); /* a function of the seed */
    free(z);
    free(z2);
}

/* The record fields: rates only where their denominator is not 0. */
static void test_pack(void) {
    metrics_counts c = {.n_test = 2, .n_recon = 4, .hits = 1, .hits_iso = 2};
    CHECK(metrics_field_count(&c) == 14);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, metrics_field_count(&c));
    metrics_pack(&pk, &c);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    CHECK(msgpack_unpack_next(&u, sb.data, sb.size, &off) == MSGPACK_UNPACK_SUCCESS && off == sb.size);
    double x;
    int64_t i;
    CHECK(rec_get_double(&u.data, "recon_acc", &x) == 1 && x == 0.25);
    CHECK(rec_get_double(&u.data, "recon_acc_iso", &x) == 1 && x == 0.5);
    CHECK(rec_get_i64(&u.data, "n_test", &i) == 1 && i == 2);
    CHECK(rec_get(&u.data, "validity") == NULL && rec_get(&u.data, "novelty") == NULL);
    msgpack_unpacked_destroy(&u);
    c = (metrics_counts){.n_prior = 10, .n_valid = 4, .n_unique = 3, .n_in_train = 1};
    CHECK(metrics_field_count(&c) == 17);
    sb.size = 0;
    msgpack_pack_map(&pk, metrics_field_count(&c));
    metrics_pack(&pk, &c);
    msgpack_unpacked_init(&u);
    off = 0;
    CHECK(msgpack_unpack_next(&u, sb.data, sb.size, &off) == MSGPACK_UNPACK_SUCCESS && off == sb.size);
    CHECK(rec_get_double(&u.data, "validity", &x) == 1 && x == 0.4);
    CHECK(rec_get_double(&u.data, "uniqueness", &x) == 1 && x == 0.75);
    CHECK(rec_get_double(&u.data, "novelty", &x) == 1 && x == 0.75);
    CHECK(rec_get(&u.data, "recon_acc") == NULL);
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
}

int main(void) {
    const space_info *sp = space_get(SPACE_NB101);
    test_digest_map();
    test_form_key();
    test_recon(sp);
    test_prior(sp);
    test_prior_points();
    test_pack();
    return check_summary();
}
