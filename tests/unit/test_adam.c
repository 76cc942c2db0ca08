/* test_adam.c: lib/adam.c against values derived independently here (PyTorch is not installed):
 *   - Adam: the first step moves every parameter by lr*g/(|g|+eps) (m-hat = g, v-hat = g^2);
 *     a constant gradient c gives m-hat = c, v-hat = c^2 at every step, so after T steps
 *     p = p0 - T*lr*c/(|c|+eps); a zero gradient never moves a parameter; and five steps with
 *     changing gradients match a double-precision evaluation of PyTorch's formulas;
 *   - ReduceLROnPlateau: scripted loss sequences and the epochs at which PyTorch 1.5's rules
 *     (derived by hand in each case's comment) reduce the learning rate;
 *   - checkpoints: saving both states in a model file and resuming gives bit-identical steps.
 * Usage: test_adam [DIR] (scratch directory for the checkpoint; default: a fresh one in /tmp).
 * Prints "N passed, M failed"; exits 1 on any failure. */
#include "adam.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "modelfile.h"
#include "util.h"

#define N 7

static int close_rel(double a, double b, double rtol, double atol) { return fabs(a - b) <= rtol * fabs(b) + atol; }

/* The gradient of element i at step t (1-based): varied signs and magnitudes. */
static float grad_at(int i, int t) { return (float)(sin(1.3 * i + 0.7 * t) * pow(10.0, (i % 4) - 2)); }

static void test_first_step(void) {
    const double lr = 1e-3;
    float p[N], g[N], p0[N];
    adam a;
    adam_init(&a, N, lr);
    for (int i = 0; i < N; i++) {
        p0[i] = p[i] = 0.5f - 0.1f * (float)i;
        g[i] = grad_at(i, 1);
    }
    adam_step(&a, p, g);
    int ok = 1;
    for (int i = 0; i < N; i++) {
        double want = p0[i] - lr * g[i] / (fabs(g[i]) + 1e-8);
        if (!close_rel(p[i], want, 0, 2e-7)) ok = 0; /* float32 rounding of p near 0.5 */
        if (!close_rel(a.m[i], 0.1 * g[i], 1e-6, 0)) ok = 0;
        if (!close_rel(a.v[i], 0.001 * (double)g[i] * g[i], 1e-6, 0)) ok = 0;
    }
    CHECK(ok);
    CHECK(a.step == 1);
    adam_free(&a);
}

static void test_constant_gradient(void) {
    const double lr = 1e-2;
    const int T = 20;
    const float c[3] = {0.37f, -2.5f, 1e-3f};
    float p[3] = {1, -1, 0.25f}, g[3], p0[3];
    memcpy(p0, p, sizeof p);
    memcpy(g, c, sizeof c);
    adam a;
    adam_init(&a, 3, lr);
    for (int t = 0; t < T; t++) adam_step(&a, p, g);
    int ok = 1;
    for (int i = 0; i < 3; i++) {
        double want = p0[i] - T * lr * c[i] / (fabs(c[i]) + 1e-8);
        /* each step's update is lr*(1 +- a few float32 ulps); p's own rounding adds T half-ulps */
        if (!close_rel(p[i], want, 0, 1e-5)) {
            ok = 0;
            fprintf(stderr, "  constant gradient: p[%d] = %.9g, want %.9g\n", i, p[i], want);
        }
    }
    CHECK(ok);
    adam_free(&a);
}

static void test_zero_gradient(void) {
    float p[2] = {0.3f, -7}, g[2] = {0, 0};
    adam a;
    adam_init(&a, 2, 0.1);
    for (int t = 0; t < 3; t++) adam_step(&a, p, g);
    CHECK(p[0] == 0.3f && p[1] == -7.0f);
    /* a zero gradient after a non-zero one keeps moving the parameter (momentum) */
    g[0] = 1;
    adam_step(&a, p, g);
    float after = p[0];
    g[0] = 0;
    adam_step(&a, p, g);
    CHECK(p[0] < after);
    adam_free(&a);
}

/* PyTorch 1.5's Adam, evaluated in double from the formulas (torch/optim/adam.py). */
static void test_against_double(void) {
    const double lr = 0.05, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    float p[N], g[N];
    double pd[N], md[N] = {0}, vd[N] = {0};
    for (int i = 0; i < N; i++) pd[i] = p[i] = (float)(0.1 * i - 0.3);
    adam a;
    adam_init(&a, N, lr);
    int ok = 1;
    for (int t = 1; t <= 5; t++) {
        for (int i = 0; i < N; i++) g[i] = grad_at(i, t);
        adam_step(&a, p, g);
        double bc1 = 1 - pow(b1, t), bc2 = 1 - pow(b2, t);
        for (int i = 0; i < N; i++) {
            md[i] = b1 * md[i] + (1 - b1) * g[i];
            vd[i] = b2 * vd[i] + (1 - b2) * (double)g[i] * g[i];
            double denom = sqrt(vd[i]) / sqrt(bc2) + eps;
            pd[i] -= lr / bc1 * md[i] / denom;
            if (!close_rel(a.m[i], md[i], 1e-5, 1e-12) || !close_rel(a.v[i], vd[i], 1e-5, 1e-15) ||
                !close_rel(p[i], pd[i], 0, 2e-6)) {
                ok = 0;
                fprintf(stderr, "  step %d element %d: p %.9g vs %.9g, m %.9g vs %.9g, v %.9g vs %.9g\n", t, i, p[i],
                        pd[i], a.m[i], md[i], a.v[i], vd[i]);
            }
        }
    }
    CHECK(ok);
    CHECK(a.step == 5);
    adam_free(&a);
}

/* ---------------------------------------------------------------- ReduceLROnPlateau */

/* Step s through losses[0..n); write the 1-based epochs of reductions into ep; return how many. */
static int reductions(plateau *s, const double *losses, int n, int *ep, int max) {
    int k = 0;
    for (int e = 0; e < n; e++)
        if (plateau_step(s, losses[e]) && k < max) ep[k++] = (int)s->last_epoch;
    return k;
}

/* The AVX2 update equals the scalar one bit for bit, over many steps of wild gradients (n = 1003:
 * a tail of 3 after the vectors). */
static void test_vector_equals_scalar(void) {
    enum { NP = 1003 };
    adam x, y;
    adam_init(&x, NP, 3e-3);
    adam_init(&y, NP, 3e-3);
    float *px = calloc(NP, sizeof(float)), *py = calloc(NP, sizeof(float)), *g = calloc(NP, sizeof(float));
    uint32_t s = 12345;
    for (int i = 0; i < NP; i++) px[i] = py[i] = (float)i / NP - 0.5f;
    int same = 1;
    for (int step = 0; step < 50; step++) {
        for (int i = 0; i < NP; i++) {
            s = s * 1664525u + 1013904223u;
            g[i] = ((float)(s >> 8) / 16777216.0f - 0.5f) * (step % 7 == 3 ? 1e4f : 1e-3f);
        }
        adam_step_impl(&x, px, g, 1);
        adam_step_impl(&y, py, g, 0);
        same &= !memcmp(px, py, NP * sizeof(float)) && !memcmp(x.m, y.m, NP * sizeof(float)) &&
                !memcmp(x.v, y.v, NP * sizeof(float));
    }
    CHECK(same);
    adam_free(&x);
    adam_free(&y);
    free(px); free(py); free(g);
}

/* A scaled range (svge-train --vae-lr-scale): elements [0, n_scaled) move as under an Adam of lr *
 * scale, bit for bit, the others as under lr; scale 0 leaves the range exactly where it was; scale 1
 * is the plain step; the parallel step (its tasks cut across the boundary) and the scalar path agree. */
static void test_scaled_range(void) {
    enum { NP = 1003, CUT = 517 };
    const double lr = 3e-3, scales[] = {0.1, 0.0, 1.0};
    for (size_t k = 0; k < sizeof scales / sizeof *scales; k++) {
        adam a, lo, hi, sc;
        adam_init(&a, NP, lr);
        a.n_scaled = CUT;
        a.scale = scales[k];
        adam_init(&sc, NP, lr); /* the same, scalar path */
        sc.n_scaled = CUT;
        sc.scale = scales[k];
        adam_init(&lo, NP, lr * scales[k]);
        adam_init(&hi, NP, lr);
        float *p = calloc(NP, sizeof(float)), *q = calloc(NP, sizeof(float)), *pl = calloc(NP, sizeof(float));
        float *ph = calloc(NP, sizeof(float)), *p0 = calloc(NP, sizeof(float)), *g = calloc(NP, sizeof(float));
        for (int i = 0; i < NP; i++) p[i] = q[i] = pl[i] = ph[i] = p0[i] = (float)i / NP - 0.5f;
        int same = 1;
        for (int t = 1; t <= 20; t++) {
            for (int i = 0; i < NP; i++) g[i] = grad_at(i, t);
            adam_step_par(&a, p, g, NULL);
            adam_step_impl(&sc, q, g, 0);
            adam_step(&lo, pl, g);
            adam_step(&hi, ph, g);
            same &= !memcmp(p, pl, CUT * sizeof(float)) && !memcmp(p + CUT, ph + CUT, (NP - CUT) * sizeof(float));
            same &= !memcmp(p, q, NP * sizeof(float)) && !memcmp(a.m, hi.m, NP * sizeof(float)) &&
                    !memcmp(a.v, hi.v, NP * sizeof(float));
        }
        CHECK(same);
        if (scales[k] == 0) CHECK(!memcmp(p, p0, CUT * sizeof(float)));
        if (scales[k] == 1) CHECK(!memcmp(p, ph, NP * sizeof(float)));
        adam_free(&a); adam_free(&sc); adam_free(&lo); adam_free(&hi);
        free(p); free(q); free(pl); free(ph); free(p0); free(g);
    }
}

static void test_plateau(void) {
    double L[60];
    int ep[8], k;
    plateau s;

    /* Constant loss. Epoch 1 improves on +inf; epochs 2.. are bad; num_bad_epochs = 11 > 10 at
     * epoch 12: reduce, reset; again 11 bad epochs later: 23, 34, 45. */
    for (int e = 0; e < 50; e++) L[e] = 1.0;
    plateau_init(&s, 1e-3, 0.1, 10);
    k = reductions(&s, L, 50, ep, 8);
    CHECK(k == 4 && ep[0] == 12 && ep[1] == 23 && ep[2] == 34 && ep[3] == 45);
    CHECK(fabs(s.lr - 1e-7) < 1e-20);

    /* Improvements smaller than the relative threshold (under 3e-5 in all, < 1e-4 of the loss) are bad epochs. */
    for (int e = 0; e < 30; e++) L[e] = 1.0 - 1e-6 * e;
    plateau_init(&s, 1e-3, 0.1, 10);
    k = reductions(&s, L, 30, ep, 8);
    CHECK(k == 2 && ep[0] == 12 && ep[1] == 23);
    CHECK(s.best == 1.0);

    /* A 1% improvement every epoch: never reduced. */
    for (int e = 0; e < 60; e++) L[e] = pow(0.99, e);
    plateau_init(&s, 1e-3, 0.1, 10);
    CHECK(reductions(&s, L, 60, ep, 8) == 0 && s.lr == 1e-3);

    /* Decreasing for 5 epochs, then flat: best at epoch 5, bad epochs 6..16, reduce at 16. */
    const double head[5] = {1, 0.5, 0.25, 0.2, 0.1};
    for (int e = 0; e < 30; e++) L[e] = e < 5 ? head[e] : 0.1;
    plateau_init(&s, 1e-4, 0.1, 10);
    k = reductions(&s, L, 30, ep, 8);
    CHECK(k == 2 && ep[0] == 16 && ep[1] == 27);
    CHECK(close_rel(s.lr, 1e-6, 1e-12, 0));

    /* An improvement at epoch 11 (after 9 bad epochs) resets the count: reduce at 22. */
    for (int e = 0; e < 30; e++) L[e] = e < 10 ? 1.0 : 0.5;
    plateau_init(&s, 1e-3, 0.1, 10);
    k = reductions(&s, L, 30, ep, 8);
    CHECK(k == 1 && ep[0] == 22);

    /* The eps rule: 1e-6 -> 1e-7 (12) -> 1e-8 (23); then 1e-8 - 1e-9 < eps: no more. */
    for (int e = 0; e < 50; e++) L[e] = 3.0;
    plateau_init(&s, 1e-6, 0.1, 10);
    k = reductions(&s, L, 50, ep, 8);
    CHECK(k == 2 && ep[0] == 12 && ep[1] == 23);
    CHECK(close_rel(s.lr, 1e-8, 1e-12, 0));

    /* Cooldown 2: reduce at 12; epochs 13, 14 in cooldown (count reset); bad from 15: reduce at 25. */
    plateau_init(&s, 1e-3, 0.1, 10);
    s.cooldown = 2;
    k = reductions(&s, L, 30, ep, 8);
    CHECK(k == 2 && ep[0] == 12 && ep[1] == 25);

    /* min_lr clamps: 1e-3 * 0.5 -> max(5e-4, 8e-4) = 8e-4, then 8e-4 stays (no reduction). */
    plateau_init(&s, 1e-3, 0.5, 0);
    s.min_lr = 8e-4;
    k = reductions(&s, L, 5, ep, 8); /* patience 0: epoch 2 is the first bad one */
    CHECK(k == 1 && ep[0] == 2 && s.lr == 8e-4);
}

/* ---------------------------------------------------------------- checkpoints */

static void test_checkpoint(const char *dir) {
    char path[4200];
    snprintf(path, sizeof path, "%s/ckpt.svge", dir);
    float pa[N], pb[N], g[N];
    adam a, b;
    plateau sa, sb;
    for (int i = 0; i < N; i++) pa[i] = pb[i] = 0.01f * (float)i;
    adam_init(&a, N, 3e-3);
    plateau_init(&sa, 3e-3, 0.1, 2);
    for (int t = 1; t <= 4; t++) {
        for (int i = 0; i < N; i++) g[i] = grad_at(i, t);
        adam_step(&a, pa, g);
        plateau_step(&sa, 1.0); /* flat: a reduction at epoch 4 */
    }
    CHECK(sa.lr < 3e-3 && sa.num_bad_epochs == 0);
    a.lr = sa.lr;
    /* save: parameters, Adam's moments and the scheduler */
    mf_value st[ADAM_NSTATE + PLATEAU_NSTATE];
    mf_tensor tn[1 + ADAM_NTENSORS];
    adam_save(&a, st, tn + 1);
    size_t ns = ADAM_NSTATE + plateau_save(&sa, st + ADAM_NSTATE);
    tn[0] = (mf_tensor){"params", 1, {N}, pa};
    mf_value cfg[1] = {mf_str("kind", "test")};
    mf_contents c = {{cfg, NULL, st}, {1, 0, ns}, tn, 1 + ADAM_NTENSORS};
    mf_write(path, &c, NULL);
    /* resume into fresh states */
    model_file *m = mf_read(path);
    uint64_t shape[1] = {N};
    memcpy(pb, mf_get_tensor(m, "params", 1, shape), sizeof pb);
    adam_init(&b, N, 1.0);
    adam_load(&b, m);
    plateau_init(&sb, 1.0, 0.5, 99);
    plateau_load(&sb, m);
    mf_free(m);
    CHECK(b.step == 4 && b.lr == a.lr && memcmp(b.m, a.m, sizeof pa) == 0 && memcmp(b.v, a.v, sizeof pa) == 0);
    CHECK(memcmp(&sa, &sb, sizeof sa) == 0);
    /* continue both: bit-identical */
    int same = 1;
    for (int t = 5; t <= 12; t++) {
        for (int i = 0; i < N; i++) g[i] = grad_at(i, t);
        adam_step(&a, pa, g);
        adam_step(&b, pb, g);
        int ra = plateau_step(&sa, 1.0 / t), rb = plateau_step(&sb, 1.0 / t);
        same &= ra == rb && sa.lr == sb.lr && memcmp(pa, pb, sizeof pa) == 0;
    }
    CHECK(same);
    /* a fresh scheduler (best = +inf) saves without "best" and loads back to +inf */
    plateau s0, s1;
    plateau_init(&s0, 1e-3, 0.1, 10);
    mf_value st0[PLATEAU_NSTATE];
    size_t n0 = plateau_save(&s0, st0);
    CHECK(n0 == PLATEAU_NSTATE - 1);
    mf_contents c0 = {{cfg, NULL, st0}, {1, 0, n0}, NULL, 0};
    mf_write(path, &c0, NULL);
    m = mf_read(path);
    plateau_init(&s1, 0, 0, 0);
    plateau_load(&s1, m);
    mf_free(m);
    CHECK(isinf(s1.best) && s1.best > 0 && memcmp(&s0, &s1, sizeof s0) == 0);
    unlink(path);
    adam_free(&a);
    adam_free(&b);
}

int main(int argc, char **argv) {
    tool_init("test_adam");
    char made[4096] = "";
    const char *dir;
    if (argc > 1) {
        dir = argv[1];
    } else {
        const char *t = getenv("TMPDIR");
        snprintf(made, sizeof made, "%s/test_adam.XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(made)) {
            fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
            return 3;
        }
        dir = made;
    }
    test_first_step();
    test_scaled_range();
    test_constant_gradient();
    test_zero_gradient();
    test_against_double();
    test_vector_equals_scalar();
    test_plateau();
    test_checkpoint(dir);
    if (*made) rmdir(made);
    return check_summary();
}
