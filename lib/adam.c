/* adam.c: Adam and ReduceLROnPlateau as in PyTorch 1.5 (see adam.h). */
#include "adam.h"

#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void adam_init(adam *a, size_t n, double lr) {
    memset(a, 0, sizeof *a);
    a->lr = lr;
    a->beta1 = 0.9;
    a->beta2 = 0.999;
    a->eps = 1e-8;
    a->n_scaled = 0;
    a->scale = 1;
    a->n = n;
    a->m = xcalloc(n ? n : 1, sizeof(float));
    a->v = xcalloc(n ? n : 1, sizeof(float));
}

void adam_free(adam *a) {
    free(a->m);
    free(a->v);
    a->m = a->v = NULL;
}

/* The update of elements [i0, n), one at a time: the reference semantics. */
static void adam_scalar(float *params, const float *grads, float *m, float *v, size_t i0, size_t n,
                        float b1, float omb1, float b2, float omb2, float bc2_sqrt, float eps,
                        float neg_step) {
    for (size_t i = i0; i < n; i++) {
        float g = grads[i];
        m[i] = fmaf(g, omb1, m[i] * b1);             /* mul_(b1).add_(1-b1, g): fmadd */
        v[i] = v[i] * b2 + omb2 * g * g;             /* mul_(b2).addcmul_(1-b2, g, g) */
        float denom = sqrtf(v[i]) / bc2_sqrt + eps;  /* (v.sqrt() / sqrt(bc2)).add_(eps) */
        params[i] = params[i] + neg_step * m[i] / denom; /* addcdiv_(-step_size, m, denom) */
    }
}

/* The same, eight elements at a time with AVX2: every operation is the scalar one (IEEE mul, add,
 * div, sqrt, and the one fused multiply-add fmaf), in the same order, with no contraction, so the
 * results are bit-identical to adam_scalar (tests/unit/test_adam.c checks). Returns the elements done. */
#ifdef __clang__
#define NO_FP_CONTRACT /* clang has no optimize attribute: the pragma below */
#else
#define NO_FP_CONTRACT , optimize("fp-contract=off")
#endif
__attribute__((target("avx2,fma") NO_FP_CONTRACT))
static size_t adam_avx2(float *params, const float *grads, float *m, float *v, size_t n, float b1,
                        float omb1, float b2, float omb2, float bc2_sqrt, float eps, float neg_step) {
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif
    const __m256 vb1 = _mm256_set1_ps(b1), vomb1 = _mm256_set1_ps(omb1), vb2 = _mm256_set1_ps(b2);
    const __m256 vomb2 = _mm256_set1_ps(omb2), vbc2 = _mm256_set1_ps(bc2_sqrt);
    const __m256 veps = _mm256_set1_ps(eps), vstep = _mm256_set1_ps(neg_step);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 g = _mm256_loadu_ps(grads + i);
        const __m256 mi = _mm256_fmadd_ps(g, vomb1, _mm256_mul_ps(_mm256_loadu_ps(m + i), vb1));
        const __m256 vi = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(v + i), vb2),
                                        _mm256_mul_ps(_mm256_mul_ps(vomb2, g), g));
        const __m256 denom = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vi), vbc2), veps);
        const __m256 upd = _mm256_div_ps(_mm256_mul_ps(vstep, mi), denom);
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        _mm256_storeu_ps(params + i, _mm256_add_ps(_mm256_loadu_ps(params + i), upd));
    }
    return i;
}

static int have_avx2_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

/* One step's scalars: Python-float values, as torch/optim/adam.py (1.5) computes them, rounded to
 * float32 where they meet a float tensor. */
typedef struct {
    float b1, omb1, b2, omb2, bc2_sqrt, eps, neg_step;
    float neg_step_scaled; /* elements [0, n_scaled): -(lr * scale) / bc1 */
} adam_scalars;

static adam_scalars next_step(adam *a) {
    a->step++;
    double bc1 = 1.0 - pow(a->beta1, (double)a->step);
    double bc2 = 1.0 - pow(a->beta2, (double)a->step);
    double step_size = a->lr / bc1;
    return (adam_scalars){(float)a->beta1, (float)(1.0 - a->beta1), (float)a->beta2, (float)(1.0 - a->beta2),
                          (float)sqrt(bc2), (float)a->eps, (float)(-step_size), (float)(-(a->lr * a->scale) / bc1)};
}

/* Elements [lo, hi) of the update at step size neg_step. */
static void update_part(adam *a, const adam_scalars *k, float neg_step, float *params, const float *grads, size_t lo,
                        size_t hi, int vector) {
    size_t i = vector && have_avx2_fma()
                   ? lo + adam_avx2(params + lo, grads + lo, a->m + lo, a->v + lo, hi - lo, k->b1, k->omb1, k->b2,
                                    k->omb2, k->bc2_sqrt, k->eps, neg_step)
                   : lo;
    adam_scalar(params, grads, a->m, a->v, i, hi, k->b1, k->omb1, k->b2, k->omb2, k->bc2_sqrt, k->eps, neg_step);
}

/* Elements [lo, hi) of the update: those below n_scaled at the scaled step. */
static void update_range(adam *a, const adam_scalars *k, float *params, const float *grads, size_t lo, size_t hi,
                         int vector) {
    const size_t cut = a->n_scaled < lo ? lo : a->n_scaled > hi ? hi : a->n_scaled;
    if (cut > lo) update_part(a, k, k->neg_step_scaled, params, grads, lo, cut, vector);
    if (hi > cut) update_part(a, k, k->neg_step, params, grads, cut, hi, vector);
}

void adam_step_impl(adam *a, float *params, const float *grads, int vector) {
    const adam_scalars k = next_step(a);
    update_range(a, &k, params, grads, 0, a->n, vector);
}

void adam_step(adam *a, float *params, const float *grads) { adam_step_impl(a, params, grads, 1); }

typedef struct {
    adam *a;
    adam_scalars k;
    float *params;
    const float *grads;
} step_task_ctx;

static void step_task(void *arg, int h) {
    step_task_ctx *x = arg;
    const size_t n = x->a->n, lo = h * n / ADAM_TASKS, hi = (h + 1) * n / ADAM_TASKS;
    update_range(x->a, &x->k, x->params, x->grads, lo, hi, 1);
}

void adam_step_par(adam *a, float *params, const float *grads, par_pool *pool) {
    step_task_ctx x = {a, next_step(a), params, grads};
    par_run(pool, ADAM_TASKS, step_task, &x);
}

void plateau_init(plateau *s, double lr, double factor, int patience) {
    memset(s, 0, sizeof *s);
    s->lr = lr;
    s->factor = factor;
    s->patience = patience;
    s->threshold = 1e-4;
    s->cooldown = 0;
    s->min_lr = 0;
    s->eps = 1e-8;
    s->best = INFINITY; /* mode_worse for 'min' */
    s->last_epoch = 0;
}

int plateau_step(plateau *s, double loss) {
    int reduced = 0;
    s->last_epoch++;
    if (loss < s->best * (1.0 - s->threshold)) { /* is_better, rel, min */
        s->best = loss;
        s->num_bad_epochs = 0;
    } else {
        s->num_bad_epochs++;
    }
    if (s->cooldown_counter > 0) { /* in_cooldown */
        s->cooldown_counter--;
        s->num_bad_epochs = 0;
    }
    if (s->num_bad_epochs > s->patience) {
        double new_lr = fmax(s->lr * s->factor, s->min_lr);
        if (s->lr - new_lr > s->eps) {
            s->lr = new_lr;
            reduced = 1;
        }
        s->cooldown_counter = s->cooldown;
        s->num_bad_epochs = 0;
    }
    return reduced;
}

void adam_save(const adam *a, mf_value vals[ADAM_NSTATE], mf_tensor tens[ADAM_NTENSORS]) {
    vals[0] = mf_int("optim.adam.step", a->step);
    vals[1] = mf_float("optim.adam.lr", a->lr);
    vals[2] = mf_float("optim.adam.beta1", a->beta1);
    vals[3] = mf_float("optim.adam.beta2", a->beta2);
    vals[4] = mf_float("optim.adam.eps", a->eps);
    memset(tens, 0, ADAM_NTENSORS * sizeof *tens);
    tens[0].name = "optim.adam.m";
    tens[1].name = "optim.adam.v";
    tens[0].ndim = tens[1].ndim = 1;
    tens[0].shape[0] = tens[1].shape[0] = a->n;
    tens[0].data = a->m;
    tens[1].data = a->v;
}

size_t plateau_save(const plateau *s, mf_value vals[PLATEAU_NSTATE]) {
    size_t k = 0;
    vals[k++] = mf_float("sched.plateau.lr", s->lr);
    vals[k++] = mf_float("sched.plateau.factor", s->factor);
    vals[k++] = mf_float("sched.plateau.threshold", s->threshold);
    vals[k++] = mf_float("sched.plateau.min_lr", s->min_lr);
    vals[k++] = mf_float("sched.plateau.eps", s->eps);
    vals[k++] = mf_int("sched.plateau.patience", s->patience);
    vals[k++] = mf_int("sched.plateau.cooldown", s->cooldown);
    vals[k++] = mf_int("sched.plateau.num_bad_epochs", s->num_bad_epochs);
    vals[k++] = mf_int("sched.plateau.cooldown_counter", s->cooldown_counter);
    vals[k++] = mf_int("sched.plateau.last_epoch", s->last_epoch);
    if (isfinite(s->best)) vals[k++] = mf_float("sched.plateau.best", s->best);
    return k;
}

/* An int state value that fits in an int. */
static int get_small_int(const model_file *m, const char *key) {
    int64_t v = mf_get_int(m, MF_STATE, key);
    if (v < 0 || v > 1000000000) die(EXIT_DATA, "%s: state \"%s\" is out of range: %lld", mf_name(m), key, (long long)v);
    return (int)v;
}

void adam_load(adam *a, const model_file *m) {
    uint64_t shape[1] = {a->n};
    const float *mm = mf_get_tensor(m, "optim.adam.m", 1, shape);
    const float *vv = mf_get_tensor(m, "optim.adam.v", 1, shape);
    int64_t step = mf_get_int(m, MF_STATE, "optim.adam.step");
    if (step < 0) die(EXIT_DATA, "%s: state \"optim.adam.step\" is negative", mf_name(m));
    a->step = step;
    a->lr = mf_get_float(m, MF_STATE, "optim.adam.lr");
    a->beta1 = mf_get_float(m, MF_STATE, "optim.adam.beta1");
    a->beta2 = mf_get_float(m, MF_STATE, "optim.adam.beta2");
    a->eps = mf_get_float(m, MF_STATE, "optim.adam.eps");
    memcpy(a->m, mm, a->n * sizeof(float));
    memcpy(a->v, vv, a->n * sizeof(float));
}

void plateau_load(plateau *s, const model_file *m) {
    s->lr = mf_get_float(m, MF_STATE, "sched.plateau.lr");
    s->factor = mf_get_float(m, MF_STATE, "sched.plateau.factor");
    s->threshold = mf_get_float(m, MF_STATE, "sched.plateau.threshold");
    s->min_lr = mf_get_float(m, MF_STATE, "sched.plateau.min_lr");
    s->eps = mf_get_float(m, MF_STATE, "sched.plateau.eps");
    s->patience = get_small_int(m, "sched.plateau.patience");
    s->cooldown = get_small_int(m, "sched.plateau.cooldown");
    s->num_bad_epochs = get_small_int(m, "sched.plateau.num_bad_epochs");
    s->cooldown_counter = get_small_int(m, "sched.plateau.cooldown_counter");
    int64_t e = mf_get_int(m, MF_STATE, "sched.plateau.last_epoch");
    if (e < 0) die(EXIT_DATA, "%s: state \"sched.plateau.last_epoch\" is negative", mf_name(m));
    s->last_epoch = e;
    s->best = mf_find(m, MF_STATE, "sched.plateau.best") ? mf_get_float(m, MF_STATE, "sched.plateau.best") : INFINITY;
}
