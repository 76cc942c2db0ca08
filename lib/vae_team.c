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
    vae_freeze(&t->m[0]); /* a team only encodes and decodes */
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
    vae_freeze(dst);
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

/* The spans' return codes: 0, or -1 if one failed. Frees s. */
static int spans_rc(span *s, int n) {
    int rc = 0;
    for (int i = 0; i < n; i++) rc |= s[i].rc != 0;
    free(s);
    return rc ? -1 : 0;
}

/* One call's chunks (spans) are claimed in turn by the workers (lib/parallel.h, par_claim); worker k
 * uses model or workspace k, so which worker runs a chunk changes nothing in its result. */
typedef struct {
    vae_team *t;
    span *s;
    const graph *gs;
    float *mu, *logvar;
} encode_job;

static void encode_chunk(void *ctx, int worker, int c) {
    encode_job *j = ctx;
    span *s = &j->s[c];
    vae_model *m = &j->t->m[worker];
    const size_t off = (size_t)s->start * m->cfg.D;
    s->rc = vae_encode(m, j->gs + s->start, s->len, j->mu + off, j->logvar ? j->logvar + off : NULL);
}

static int encode_claims(vae_team *t, const graph *gs, int B, int group, float *mu, float *logvar,
                         void (*beside)(void *ctx), void *ctx) {
    int n;
    span *s = plan(B, group, t->max_g, &n);
    const int w = par_claim_workers(t->pool, n, beside != NULL);
    for (int i = 1; i < w; i++)
        if (!t->m[i].params) clone_model(&t->m[i], &t->m[0], &t->m[0].cfg, t->max_g);
    encode_job e = {t, s, gs, mu, logvar};
    par_claim(t->pool, w, n, encode_chunk, &e, beside, ctx);
    return spans_rc(s, n);
}

int vae_team_encode(vae_team *t, const graph *gs, int B, int group, float *mu, float *logvar) {
    return encode_claims(t, gs, B, group, mu, logvar, NULL, NULL);
}

int vae_team_encode_beside(vae_team *t, const graph *gs, int B, int group, float *mu, float *logvar,
                           void (*beside)(void *ctx), void *ctx) {
    return encode_claims(t, gs, B, group, mu, logvar, beside, ctx);
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

static void generate_chunk(void *ctx, int worker, int c) {
    generate_job *j = ctx;
    span *s = &j->s[c];
    const vae_model *m = &j->t->m[0];
    s->rc = vae_generate_batch(&j->t->ws[worker], m, j->c + (size_t)s->start * m->cfg.D, s->len, j->ids + s->start,
                               j->o, j->out + s->start, j->flags ? j->flags + s->start : NULL);
}

int vae_team_generate(vae_team *t, const float *c, int B, int group, const uint64_t *ids, const generate_opts *o,
                      graph *out, uint8_t *flags) {
    if (!t->ws_ready) return -1;
    int n;
    span *s = plan(B, group, t->ws[0].max_b, &n);
    generate_job g = {t, s, c, ids, o, out, flags};
    par_claim(t->pool, par_claim_workers(t->pool, n, 0), n, generate_chunk, &g, NULL, NULL);
    return spans_rc(s, n);
}
