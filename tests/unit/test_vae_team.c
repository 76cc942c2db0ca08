/* test_vae_team.c: lib/vae_team.h on a real model. test_vae_team MODEL GRAPHS (a model file and a
 * graph stream of its space): for 1, 2 and 3 threads and several group sizes, vae_team_encode and
 * vae_team_encode_beside give exactly the bits of vae_encode called group by group on one model,
 * and vae_team_generate exactly the graphs and flags of vae_generate_batch called group by group
 * on one workspace; beside runs once. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "graph_list.h"
#include "vae_team.h"

#define MAX_G 16 /* small, so that a few hundred graphs make many chunks */
#define MAX_B 64

static int beside_calls;
static void beside(void *ctx) {
    (void)ctx;
    beside_calls++;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: test_vae_team MODEL GRAPHS\n");
        return 2;
    }
    par_blas_single();
    model_file *f = mf_read(argv[1]);
    vae_model ref;
    vae_load(&ref, f, MAX_G);
    graph_list l = {0};
    graph_list_read(&l, argv[2], space_get(ref.cfg.space), 0, UINT64_MAX);
    const int B = (int)l.n, D = ref.cfg.D;
    CHECK(B > 4 * MAX_G);
    const int groups[] = {1, 7, MAX_G, 50, B};
    const int ngroups = sizeof groups / sizeof *groups;

    // one thread, group by group: the reference bits
    float *mu_ref = malloc((size_t)ngroups * B * D * sizeof(float)), *lv_ref = malloc((size_t)B * D * sizeof(float));
    for (int gi = 0; gi < ngroups; gi++)
        for (int s = 0; s < B; s += groups[gi]) {
            const int n = B - s < groups[gi] ? B - s : groups[gi];
            CHECK(vae_encode(&ref, l.g + s, n, mu_ref + ((size_t)gi * B + s) * D,
                             gi == 1 ? lv_ref + (size_t)s * D : NULL) == 0);
        }
    // the groups matter (else the test could not fail): group 1 and group B differ somewhere
    CHECK(memcmp(mu_ref, mu_ref + (size_t)(ngroups - 1) * B * D, (size_t)B * D * sizeof(float)) != 0);
    uint64_t *ids = malloc((size_t)B * sizeof *ids);
    for (int i = 0; i < B; i++) ids[i] = 3 * (uint64_t)i + 1;
    const generate_opts o = {.max_n = ref.gen_max_n, .mode = GENERATE_SAMPLE, .seed = 5};
    generate_ws ws;
    CHECK(vae_generate_ws_init(&ws, &ref, MAX_B) == 0);
    graph *g_ref = calloc((size_t)ngroups * B, sizeof *g_ref);
    uint8_t *fl_ref = calloc((size_t)ngroups * B, 1);
    for (int gi = 0; gi < ngroups; gi++)
        for (int s = 0; s < B; s += groups[gi]) {
            const int n = B - s < groups[gi] ? B - s : groups[gi];
            CHECK(vae_generate_batch(&ws, &ref, mu_ref + (size_t)s * D, n, ids + s, &o, g_ref + (size_t)gi * B + s,
                                     fl_ref + (size_t)gi * B + s) == 0);
        }

    float *mu = malloc((size_t)B * D * sizeof(float)), *lv = malloc((size_t)B * D * sizeof(float));
    graph *g = calloc((size_t)B, sizeof *g);
    uint8_t *fl = calloc((size_t)B, 1);
    for (int T = 1; T <= 3; T++) {
        vae_team t;
        vae_team_load(&t, f, MAX_G, T);
        CHECK(vae_team_generate(&t, mu_ref, B, B, ids, &o, g, fl) == -1); // no workspaces yet
        CHECK(vae_team_generate_init(&t, MAX_B) == 0);
        for (int gi = 0; gi < ngroups; gi++) {
            const float *want = mu_ref + (size_t)gi * B * D;
            memset(mu, 0, (size_t)B * D * sizeof(float));
            CHECK(vae_team_encode(&t, l.g, B, groups[gi], mu, gi == 1 ? lv : NULL) == 0);
            CHECK(memcmp(mu, want, (size_t)B * D * sizeof(float)) == 0);
            if (gi == 1) CHECK(memcmp(lv, lv_ref, (size_t)B * D * sizeof(float)) == 0);
            memset(mu, 0, (size_t)B * D * sizeof(float));
            beside_calls = 0;
            CHECK(vae_team_encode_beside(&t, l.g, B, groups[gi], mu, NULL, beside, NULL) == 0);
            CHECK(beside_calls == 1);
            CHECK(memcmp(mu, want, (size_t)B * D * sizeof(float)) == 0);

            memset(g, 0, (size_t)B * sizeof *g);
            CHECK(vae_team_generate(&t, mu_ref, B, groups[gi], ids, &o, g, fl) == 0);
            int same = 1;
            for (int i = 0; i < B; i++)
                same &= graph_equal(&g[i], &g_ref[(size_t)gi * B + i]) && fl[i] == fl_ref[(size_t)gi * B + i];
            CHECK(same);
        }
        beside_calls = 0; // nothing to encode: beside still runs
        CHECK(vae_team_encode_beside(&t, l.g, 0, 7, mu, NULL, beside, NULL) == 0 && beside_calls == 1);
        vae_team_free(&t);
    }

    free(mu), free(lv), free(g), free(fl), free(mu_ref), free(lv_ref), free(g_ref), free(fl_ref), free(ids);
    generate_ws_free(&ws);
    vae_free(&ref);
    graph_list_free(&l);
    mf_free(f);
    return check_summary();
}
