/* test_svge_ref.c: our models (through lib/vae.h: SVGe, lib/svge.h, and DGMG, lib/dgmg.h) against
 * tensors of the reference PyTorch SVGe
 * (automl/SVGe at 5cf475b, models/SVGe.py imported unmodified), as karpathy/llm.c's test_gpt2.c
 * checks its C model against PyTorch.
 *
 * The fixture (tests/fixtures/svge/, written BY HAND by make-fixture.py there, whose header says how
 * and documents the .ref format) holds, for NB101 (K 5, max_n 7) and NB201 (K 7, max_n 8), one
 * reference model each at ndim 16, gdim 8, 2 layers: its initial weights as OUR model file
 * (<space>.model, through pipelines/convert-state-dict.py), six real cells of the space, and what the
 * reference computes on each cell at batch size 1 with zero reparameterisation noise (z = mu): mu,
 * logvar, the per-step teacher-forced losses of the forward and the backward pass, KL, recon, total;
 * the gradients of all 82 parameters for two of the cells; then 10 Adam steps (lr 1e-3), one cell per
 * step: the loss of each step and the final weights.
 *
 * Why batch 1: the reference's edge scorer (Nodes.forward) tiles h_G and c with `repeat(idx, 1)`
 * over batch-major rows, so for B > 1 row b*idx+k (node k of graph b) is scored with the summary
 * and latent of graph (b*idx+k) mod B instead of graph b's (formats/reference.md section 8, bug 1). We
 * fix it (each graph's own h_G and c); at B = 1 both agree, so only batch 1 can be compared.
 *
 * Zero noise: the reference's SVGE.sample is bound to eps_scale 0 (training mode, z = 0*std + mu);
 * ours is cfg.eps_scale = 0 in svge_train_step (which still draws eps). The test checks that this
 * is our eval forward (rng NULL, z = mu) bit for bit.
 *
 * Every comparison is a max absolute error relative to the largest |element| of the reference
 * tensor (a scalar: relative error), with the tolerances below (about 10x the errors measured; the
 * planted errors of the report -- one square weight transposed, one loss term dropped -- give
 * relative errors of 1e-3 and more). One line per check with the max error; "N passed, M failed".
 *
 * The same for the DGMG baseline (models/DGMG.py vs lib/dgmg.h: dgmg-<space>.model/.ref, node
 * state 8, forward pass only, gradients of all 66 tensors for one cell).
 *
 * The model API (being refactored) is used only in the small functions of section 1.
 * Usage: test_svge_ref FIXTURE_DIR. */
#include "vae.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* tolerances, relative to the largest |element| of each reference tensor; measured (both spaces,
 * x86-64, OpenBLAS, 1 thread) in brackets */
#define TOL_MU 1e-5     /* mu, logvar                          [2.4e-7] */
#define TOL_LOSS 1e-5   /* per-step losses, KL, recon, total   [1.4e-7] */
#define TOL_GRAD 1e-5   /* every gradient tensor               [1.2e-6] */
#define TOL_ADAM_L 1e-5 /* the loss at each of 10 Adam steps   [1.1e-7] */
#define TOL_ADAM_W 5e-5 /* every tensor after 10 Adam steps    [2.5e-6] */

/* ============================================================ 1. the model API, in one place */
/* Every use of the model goes through lib/vae.h, the one interface of both kinds. */
typedef struct {
    vae_model m;
    vae_train t;
    rng_mt rng;
    const graph *g; /* the graph of the last forward */
} ref_model;

/* Build a batch-1 model for the model file at path, with eps_scale 0 and Adam's lr. */
static void ref_load(ref_model *r, const char *path, double lr) {
    model_file *f = mf_read(path);
    vae_kind kind;
    vae_config cfg;
    vae_config_read(f, &kind, &cfg);
    cfg.eps_scale = 0.0;
    cfg.lr = lr;
    char err[256];
    if (vae_build(&r->m, kind, &cfg, 1, err, sizeof err)) {
        fprintf(stderr, "build: %s\n", err);
        exit(2);
    }
    vae_load_params(&r->m, f);
    vae_train_init(&r->t, &r->m);
    mf_free(f);
    rng_seed(&r->rng, 1);
}
static void ref_free(ref_model *r) {
    vae_train_free(&r->t);
    vae_free(&r->m);
}
static const vae_config *ref_cfg(const ref_model *r) { return &r->m.cfg; }
static int ref_layers(const ref_model *r) { return r->m.cfg.layers; }
/* Training step on one graph (forward in training mode + backward into the gradients). */
static void ref_train_step(ref_model *r, const graph *g, vae_terms *t) {
    r->g = g;
    if (vae_train_step(&r->m, g, 1, &r->rng, t)) {
        fprintf(stderr, "train step refused the graph\n");
        exit(2);
    }
}
/* Eval-mode forward (z = mu, no rng). */
static void ref_eval_forward(ref_model *r, const graph *g, vae_terms *t) {
    r->g = g;
    if (vae_forward(&r->m, g, 1, NULL, t)) exit(2);
}
static const float *ref_mu(const ref_model *r) { return r->m.mu; }
static const float *ref_logvar(const ref_model *r) { return r->m.logvar; }
static int ref_D(const ref_model *r) { return ref_cfg(r)->D; }
/* The teacher-forced loss of step t of direction d (0 forward, 1 backward) of the last forward's
 * single graph: w_type CE(type logits, teacher type) + w_edge mean_u BCE(s_u, e_u) (no BCE at
 * t = 0), from the decoder's activations. -1 if the direction has no step t (DGMG: forward only). */
static double ref_step_loss(const ref_model *r, int d, int t) {
    const decoder_acts *a = r->m.da;
    if (d >= (a->cfg.forward_only ? 1 : 2)) return -1;
    const dec_dir *dr = &a->dir[d];
    if (t >= dr->nsteps || dr->step[t].A < 1) return -1;
    const dec_step *s = &dr->step[t];
    const graph *g = &a->gd[d * a->max_g + 0]; /* batch 1: row 0 is the graph (reversed for d = 1) */
    const double w_type = a->w_type, w_edge = a->w_edge;
    const int K = ref_cfg(r)->K, n = s->n;
    const int y = g->type[n];
    double mx = -INFINITY, se = 0;
    for (int k = 0; k < K; k++) mx = fmax(mx, s->logits[k]);
    for (int k = 0; k < K; k++) se += exp((double)s->logits[k] - mx);
    double loss = w_type * (mx + log(se) - s->logits[y]);
    if (n > 1) {
        double bce = 0;
        for (int u = 0; u < n; u++) {
            double x = s->s[u], e = graph_has_edge(g, u, n) ? 1.0 : 0.0;
            bce += fmax(x, 0) - x * e + log1p(exp(-fabs(x)));
        }
        loss += w_edge * bce / n;
    }
    return loss;
}
static void ref_update(ref_model *r) { vae_update(&r->m, &r->t); }
static int ref_num_tensors(const ref_model *r) { return r->m.tensors.n; }
static const char *ref_tensor_name(const ref_model *r, int i) { return r->m.tensors.name[i]; }
static size_t ref_tensor_size(const ref_model *r, int i) {
    const vae_tensors *ts = &r->m.tensors;
    return (size_t)ts->shape[i][0] * (ts->ndim[i] == 2 ? (size_t)ts->shape[i][1] : 1);
}
static const float *ref_param(const ref_model *r, int i) { return r->m.params + r->m.tensors.offset[i]; }
static const float *ref_grad(const ref_model *r, int i) { return r->m.grads + r->m.tensors.offset[i]; }

/* ============================================================ 2. the fixture file */
typedef struct {
    char name[128];
    int dtype, ndim;
    uint32_t dims[4];
    size_t count;
    const void *data;
} fx_entry;
typedef struct {
    unsigned char *buf;
    int n;
    fx_entry *e;
} fixture;

static void fx_die(const char *path, const char *why) {
    fprintf(stderr, "test_svge_ref: %s: %s\n", path, why);
    exit(2);
}

static uint32_t rd32(const unsigned char *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static void fx_read(fixture *fx, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) fx_die(path, "cannot open (run from tests/, see make-fixture.py)");
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    fx->buf = malloc((size_t)len);
    if (!fx->buf || fread(fx->buf, 1, (size_t)len, f) != (size_t)len) fx_die(path, "cannot read");
    fclose(f);
    if (len < 12 || memcmp(fx->buf, "SVGEREF1", 8)) fx_die(path, "not an SVGEREF1 file");
    fx->n = (int)rd32(fx->buf + 8);
    fx->e = calloc((size_t)fx->n, sizeof *fx->e);
    size_t off = 12;
    for (int i = 0; i < fx->n; i++) {
        fx_entry *e = &fx->e[i];
        if (off + 4 > (size_t)len) fx_die(path, "truncated");
        unsigned nl = fx->buf[off] | fx->buf[off + 1] << 8;
        if (nl >= sizeof e->name || off + 4 + nl > (size_t)len) fx_die(path, "bad name");
        memcpy(e->name, fx->buf + off + 2, nl);
        off += 2 + nl;
        e->dtype = fx->buf[off];
        e->ndim = fx->buf[off + 1];
        off += 2;
        if (e->ndim > 4 || off + 4 * (size_t)e->ndim > (size_t)len) fx_die(path, "bad dims");
        e->count = 1;
        for (int k = 0; k < e->ndim; k++) {
            e->dims[k] = rd32(fx->buf + off);
            e->count *= e->dims[k];
            off += 4;
        }
        if (off + 4 * e->count > (size_t)len) fx_die(path, "truncated data");
        /* little-endian float32/int32 (this machine is little-endian), copied out of the byte buffer
         * so that every array is aligned for its type */
        void *copy = malloc(4 * e->count + 1);
        if (!copy) fx_die(path, "out of memory");
        memcpy(copy, fx->buf + off, 4 * e->count);
        e->data = copy;
        off += 4 * e->count;
    }
}
static const fx_entry *fx_get(const fixture *fx, const char *name, size_t count) {
    for (int i = 0; i < fx->n; i++)
        if (strcmp(fx->e[i].name, name) == 0) {
            if (count && fx->e[i].count != count) {
                fprintf(stderr, "fixture entry %s has %zu elements, expected %zu\n", name, fx->e[i].count, count);
                exit(2);
            }
            return &fx->e[i];
        }
    fprintf(stderr, "fixture has no entry %s\n", name);
    exit(2);
}
static const float *fx_f(const fixture *fx, const char *name, size_t count) {
    return (const float *)fx_get(fx, name, count)->data;
}
static const int32_t *fx_i(const fixture *fx, const char *name, size_t count) {
    return (const int32_t *)fx_get(fx, name, count)->data;
}

/* ============================================================ 3. comparisons */
/* max |a - b| / max |b| (max |b| floored at 1e-30) */
static double rel_err(const float *a, const float *b, size_t n, double *maxabs) {
    double e = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        e = fmax(e, fabs((double)a[i] - b[i]));
        m = fmax(m, fabs((double)b[i]));
    }
    if (maxabs) *maxabs = e;
    return e / fmax(m, 1e-30);
}
static int report(const char *space, const char *what, double rel, double abs_, double tol) {
    int ok = rel <= tol && !isnan(rel);
    printf("%s %-34s max err %.3e (relative %.3e, tol %.0e) %s\n", space, what, abs_, rel, tol, ok ? "ok" : "FAIL");
    return ok;
}
static void check_scalar(const char *space, const char *what, double ours, double ref, double tol) {
    double a = fabs(ours - ref);
    CHECK(report(space, what, a / fmax(fabs(ref), 1e-30), a, tol));
}

/* ============================================================ 4. one space */
static void run_space(const char *dir, const char *space) {
    char path[1024];
    fixture fx;
    snprintf(path, sizeof path, "%s/%s.ref", dir, space);
    fx_read(&fx, path);
    const int32_t *cf = fx_i(&fx, "config", 9);
    const int K = cf[0], max_n = cf[1], G = cf[5], nadam = cf[6], ngrad = cf[7], ndirs = cf[8];
    const float *hyper = fx_f(&fx, "hyper", 2);
    ref_model r;
    snprintf(path, sizeof path, "%s/%s.model", dir, space);
    ref_load(&r, path, hyper[1]);
    CHECK(ref_cfg(&r)->K == K && ref_cfg(&r)->C2 == cf[2] && ref_cfg(&r)->D == cf[3] && ref_layers(&r) == cf[4]);
    CHECK(fabs(ref_cfg(&r)->beta - hyper[0]) < 1e-9);
    CHECK(ndirs == (r.m.dcfg.forward_only ? 1 : 2));
    const int D = ref_D(&r), S = max_n - 1;
    if (max_n < 2 || max_n > GRAPH_MAX_NODES || G < 1) fx_die(space, "bad config");

    /* the graphs */
    graph *gs = calloc((size_t)G, sizeof *gs);
    const int32_t *ns = fx_i(&fx, "n", (size_t)G), *tys = fx_i(&fx, "types", (size_t)G * max_n);
    const int32_t *adj = fx_i(&fx, "adj", (size_t)G * max_n * max_n);
    for (int g = 0; g < G; g++) {
        if (ns[g] < 2 || ns[g] > max_n) fx_die(space, "bad graph size");
        gs[g].n = ns[g];
        for (int i = 0; i < ns[g]; i++) gs[g].type[i] = (uint8_t)tys[g * max_n + i];
        for (int i = 0; i < max_n; i++)
            for (int j = 0; j < max_n; j++)
                if (adj[(g * max_n + i) * max_n + j]) graph_add_edge(&gs[g], i, j);
        char why[200];
        CHECK(graph_check(space_get(ref_cfg(&r)->space), &gs[g], why, sizeof why) == 0);
    }

    /* forward quantities, per graph */
    const float *mu = fx_f(&fx, "mu", (size_t)G * D), *lv = fx_f(&fx, "logvar", (size_t)G * D);
    const float *kl = fx_f(&fx, "kl", G), *rec = fx_f(&fx, "recon", G), *tot = fx_f(&fx, "total", G);
    const float *sf = fx_f(&fx, "step_fwd", (size_t)G * S), *sb = fx_f(&fx, "step_bwd", (size_t)G * S);
    float *ours = malloc(sizeof(float) * 2 * S);
    for (int g = 0; g < G; g++) {
        char what[96];
        vae_terms t, te;
        ref_train_step(&r, &gs[g], &t);
        double a, rel;
        snprintf(what, sizeof what, "graph %d (n %d) mu", g, gs[g].n);
        rel = rel_err(ref_mu(&r), mu + g * D, D, &a);
        CHECK(report(space, what, rel, a, TOL_MU));
        snprintf(what, sizeof what, "graph %d logvar", g);
        rel = rel_err(ref_logvar(&r), lv + g * D, D, &a);
        CHECK(report(space, what, rel, a, TOL_MU));
        /* per-step losses: the graph's n-1 steps of each direction; the reference's masked
         * steps past them are 0 */
        float ref[2 * GRAPH_MAX_NODES];
        int nst = gs[g].n - 1, masked_zero = 1, have = 1;
        for (int d = 0; d < ndirs; d++)
            for (int s = 0; s < S; s++) {
                const float *src = d ? sb : sf;
                if (s < nst) {
                    double l = ref_step_loss(&r, d, s);
                    have &= l >= 0;
                    ours[d * nst + s] = (float)l;
                    ref[d * nst + s] = src[g * S + s];
                } else
                    masked_zero &= src[g * S + s] == 0.0f;
            }
        CHECK(have && masked_zero);
        CHECK(ndirs == 2 || ref_step_loss(&r, 1, 0) < 0); /* DGMG: no backward pass */
        snprintf(what, sizeof what, "graph %d step losses (%dx%d)", g, ndirs, nst);
        rel = rel_err(ours, ref, (size_t)ndirs * nst, &a);
        CHECK(report(space, what, rel, a, TOL_LOSS));
        double sum = 0;
        for (int i = 0; i < ndirs * nst; i++) sum += ours[i];
        CHECK(fabs(sum - t.recon) <= 1e-6 * fabs(t.recon)); /* the steps add up to our recon */
        snprintf(what, sizeof what, "graph %d KL", g);
        check_scalar(space, what, t.kl, kl[g], TOL_LOSS);
        snprintf(what, sizeof what, "graph %d recon", g);
        check_scalar(space, what, t.recon, rec[g], TOL_LOSS);
        snprintf(what, sizeof what, "graph %d total", g);
        check_scalar(space, what, t.total, tot[g], TOL_LOSS);
        /* eps_scale 0 in training mode == eval mode (z = mu), bit for bit */
        ref_eval_forward(&r, &gs[g], &te);
        CHECK(te.total == t.total && te.kl == t.kl && te.recon == t.recon);
    }
    free(ours);

    /* gradients of every tensor */
    const int32_t *gg = fx_i(&fx, "grad_graphs", (size_t)ngrad);
    for (int k = 0; k < ngrad; k++) {
        vae_terms t;
        ref_train_step(&r, &gs[gg[k]], &t);
        double worst = 0, worst_abs = 0;
        int worst_i = 0, bad = 0;
        for (int i = 0; i < ref_num_tensors(&r); i++) {
            char name[300];
            snprintf(name, sizeof name, "grad%d/%s", k, ref_tensor_name(&r, i));
            double a, rel = rel_err(ref_grad(&r, i), fx_f(&fx, name, ref_tensor_size(&r, i)), ref_tensor_size(&r, i), &a);
            if (!(rel <= TOL_GRAD)) {
                bad++;
                printf("%s   gradient %s: max err %.3e (relative %.3e) FAIL\n", space, ref_tensor_name(&r, i), a, rel);
            }
            if (!(rel <= worst)) worst = rel, worst_abs = a, worst_i = i;
        }
        CHECK(bad == 0);
        char what[400];
        snprintf(what, sizeof what, "graph %d gradients (%d tensors)", gg[k], ref_num_tensors(&r));
        report(space, what, worst, worst_abs, TOL_GRAD);
        printf("%s   (worst: %s)\n", space, ref_tensor_name(&r, worst_i));
    }

    /* 10 Adam steps, one graph each */
    const int32_t *seq = fx_i(&fx, "adam_seq", (size_t)nadam);
    const float *al = fx_f(&fx, "adam_loss", (size_t)nadam);
    double worst_l = 0;
    for (int s = 0; s < nadam; s++) {
        vae_terms t;
        ref_train_step(&r, &gs[seq[s]], &t);
        ref_update(&r);
        char what[96];
        snprintf(what, sizeof what, "Adam step %d (graph %d) loss", s + 1, seq[s]);
        check_scalar(space, what, t.total, al[s], TOL_ADAM_L);
        worst_l = fmax(worst_l, fabs(t.total - al[s]) / fabs(al[s]));
    }
    double worst = 0, worst_abs = 0;
    int worst_i = 0, bad = 0;
    for (int i = 0; i < ref_num_tensors(&r); i++) {
        char name[300];
        snprintf(name, sizeof name, "final/%s", ref_tensor_name(&r, i));
        double a, rel = rel_err(ref_param(&r, i), fx_f(&fx, name, ref_tensor_size(&r, i)), ref_tensor_size(&r, i), &a);
        if (!(rel <= TOL_ADAM_W)) {
            bad++;
            printf("%s   weights %s: max err %.3e (relative %.3e) FAIL\n", space, ref_tensor_name(&r, i), a, rel);
        }
        if (!(rel <= worst)) worst = rel, worst_abs = a, worst_i = i;
    }
    CHECK(bad == 0);
    char what[200];
    snprintf(what, sizeof what, "weights after %d Adam steps", nadam);
    report(space, what, worst, worst_abs, TOL_ADAM_W);
    printf("%s   (worst: %s)\n", space, ref_tensor_name(&r, worst_i));

    free(gs);
    ref_free(&r);
    for (int i = 0; i < fx.n; i++) free((void *)fx.e[i].data);
    free(fx.e);
    free(fx.buf);
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "tests/fixtures/svge";
    run_space(dir, "nb101");
    run_space(dir, "nb201");
    run_space(dir, "dgmg-nb101"); /* the DGMG baseline (models/DGMG.py vs lib/dgmg.h) */
    run_space(dir, "dgmg-nb201");
    return check_summary();
}
