/* vae_team.c: see vae_team.h. */
#include "vae_team.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void vae_team_load(vae_team *t, const model_file *f, int max_g, int threads) {
    if (threads < 1) threads = 1;
    *t = (vae_team){.threads = threads, .max_g = max_g};
    t->m = xcalloc((size_t)threads, sizeof *t->m);
    vae_load(&t->m[0], f, max_g);
    t->pool = par_create(threads);
}

void vae_team_free(vae_team *t) {
    par_free(t->pool);
    for (int i = 0; i < t->threads; i++) {
        if (t->m[i].params) vae_free(&t->m[i]);
        if (t->ws_ready) generate_ws_free(&t->ws[i]);
    }
    free(t->m);
    free(t->ws);
    memset(t, 0, sizeof *t);
}

/* dst = a model of src's kind for config cfg and max_g graphs, with src's parameters and id. */
static void clone_model(vae_model *dst, const vae_model *src, const vae_config *cfg, int max_g) {
    char err[400];
    if (vae_build(dst, src->kind, cfg, max_g, err, sizeof err))
        die(strcmp(err, "out of memory") == 0 ? EXIT_IO : EXIT_DATA, "cannot build the model for %s graphs: %s",
            space_get(cfg->space)->name, err);
    if (dst->num_params != src->num_params)
        die(EXIT_DATA, "internal error: the %s model has another parameter count", space_get(cfg->space)->name);
    memcpy(dst->params, src->params, src->num_params * sizeof *src->params);
    memcpy(dst->id, src->id, sizeof dst->id);
}

void vae_team_respace(vae_team *t, const space_info *sp) {
    vae_config cfg = t->m[0].cfg;
    cfg.space = sp->id;
    vae_model m0;
    clone_model(&m0, &t->m[0], &cfg, t->max_g);
    for (int i = 0; i < t->threads; i++)
        if (t->m[i].params) vae_free(&t->m[i]);
    t->m[0] = m0; /* the others are built again when needed */
}

/* The work of one call: B items in groups of `group`, each group in chunks of `chunk` items. */
typedef struct {
    int start, len, rc;
} span;

static span *plan(int B, int group, int chunk, int *n) {
    if (group < 1) group = 1;
    if (chunk < 1) chunk = 1;
    int count = 0;
    for (int g0 = 0; g0 < B; g0 += group) {
        const int gl = B - g0 < group ? B - g0 : group;
        count += (gl + chunk - 1) / chunk;
    }
    span *s = xcalloc(count ? (size_t)count : 1, sizeof *s);
    int k = 0;
    for (int g0 = 0; g0 < B; g0 += group) {
        const int ge = B - g0 < group ? B : g0 + group;
        for (int c0 = g0; c0 < ge; c0 += chunk) s[k++] = (span){c0, ge - c0 < chunk ? ge - c0 : chunk, 0};
    }
    *n = count;
    return s;
}

/* 0, or -1 if a span's task returned nonzero; frees s. */
static int spans_rc(span *s, int n) {
    int rc = 0;
    for (int i = 0; i < n; i++) rc |= s[i].rc != 0;
    free(s);
    return rc ? -1 : 0;
}

typedef struct {
    vae_team *t;
    span *s;
    const graph *gs;
    float *mu, *logvar;
} encode_job;

/* Chunk c as task i (on model i mod T). */
static void encode_task(encode_job *j, int i, int c) {
    vae_model *m = &j->t->m[i % j->t->threads];
    span *s = &j->s[c];
    const size_t off = (size_t)s->start * m->cfg.D;
    s->rc = vae_encode(m, j->gs + s->start, s->len, j->mu + off, j->logvar ? j->logvar + off : NULL);
}

static void encode_chunk(void *ctx, int i) { encode_task(ctx, i, i); }

/* The models of threads 1 .. min(T, last+1)-1 built. */
static void build_models(vae_team *t, int last) {
    for (int i = 1; i < t->threads && i <= last; i++)
        if (!t->m[i].params) clone_model(&t->m[i], &t->m[0], &t->m[0].cfg, t->max_g);
}

int vae_team_encode(vae_team *t, const graph *gs, int B, int group, float *mu, float *logvar) {
    int n;
    span *s = plan(B, group, t->max_g, &n);
    build_models(t, n - 1);
    encode_job j = {t, s, gs, mu, logvar};
    par_run(t->pool, n, encode_chunk, &j);
    return spans_rc(s, n);
}

/* Task 0 is beside(ctx), every other multiple of T nothing (thread 0 is the caller's), and the
 * others the chunks in order: chunk c is task c + c/(T-1) + 1. */
typedef struct {
    encode_job e;
    void (*beside)(void *ctx);
    void *ctx;
} beside_job;

static void beside_task(void *ctx, int i) {
    beside_job *j = ctx;
    const int T = j->e.t->threads;
    if (i == 0) j->beside(j->ctx);
    else if (i % T) encode_task(&j->e, i, i - i / T - 1);
}

int vae_team_encode_beside(vae_team *t, const graph *gs, int B, int group, float *mu, float *logvar,
                           void (*beside)(void *ctx), void *ctx) {
    const int T = t->threads;
    if (T == 1) {
        beside(ctx);
        return vae_team_encode(t, gs, B, group, mu, logvar);
    }
    int n;
    span *s = plan(B, group, t->max_g, &n);
    build_models(t, T - 1);
    beside_job j = {{t, s, gs, mu, logvar}, beside, ctx};
    par_run(t->pool, n ? (n - 1) + (n - 1) / (T - 1) + 2 : 1, beside_task, &j);
    return spans_rc(s, n);
}

int vae_team_generate_init(vae_team *t, int max_b) {
    if (t->ws_ready) return 0;
    t->ws = xcalloc((size_t)t->threads, sizeof *t->ws);
    for (int i = 0; i < t->threads; i++)
        if (vae_generate_ws_init(&t->ws[i], &t->m[0], max_b)) {
            while (i-- > 0) generate_ws_free(&t->ws[i]);
            free(t->ws);
            t->ws = NULL;
            return -1;
        }
    t->ws_ready = 1;
    return 0;
}

typedef struct {
    vae_team *t;
    span *s;
    const float *c;
    const uint64_t *ids;
    const generate_opts *o;
    graph *out;
    uint8_t *flags;
} generate_job;

static void generate_task(void *ctx, int i) {
    generate_job *j = ctx;
    const span *s = &j->s[i];
    const vae_model *m = &j->t->m[0];
    j->s[i].rc = vae_generate_batch(&j->t->ws[i % j->t->threads], m, j->c + (size_t)s->start * m->cfg.D, s->len,
                                    j->ids + s->start, j->o, j->out + s->start,
                                    j->flags ? j->flags + s->start : NULL);
}

int vae_team_generate(vae_team *t, const float *c, int B, int group, const uint64_t *ids, const generate_opts *o,
                      graph *out, uint8_t *flags) {
    if (!t->ws_ready) return -1;
    int n;
    span *s = plan(B, group, t->ws[0].max_b, &n);
    generate_job j = {t, s, c, ids, o, out, flags};
    par_run(t->pool, n, generate_task, &j);
    return spans_rc(s, n);
}
