/* celltrain_ckpt.c: cell-train's checkpoints (see celltrain_ckpt.h). */
#include "celltrain_ckpt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "md5.h"
#include "util.h"

/* The settings as config values. */
static size_t settings_values(const ctck_settings *o, mf_value *v) {
    size_t k = 0;
    v[k++] = mf_str("kind", CTCK_KIND);
    v[k++] = mf_int("version", CTCK_VERSION);
    v[k++] = mf_int("stem_channels", o->stem);
    v[k++] = mf_int("stacks", o->stacks);
    v[k++] = mf_int("cells_per_stack", o->cells);
    v[k++] = mf_int("enas_filters", o->enas_filters);
    v[k++] = mf_int("enas_shared", o->enas_shared);
    v[k++] = mf_int("enas_separable", o->enas_separable);
    v[k++] = mf_int("epochs", o->epochs);
    v[k++] = mf_int("batch", o->batch);
    v[k++] = mf_int("optimizer", o->tc.opt);
    v[k++] = mf_float("lr", o->tc.lr);
    v[k++] = mf_float("momentum", o->tc.momentum);
    v[k++] = mf_float("weight_decay", o->tc.weight_decay);
    v[k++] = mf_float("clip", o->tc.clip);
    v[k++] = mf_float("bn_momentum", o->bn_momentum);
    v[k++] = mf_int("seed", o->tc.seed);
    v[k++] = mf_int("train_images", o->train_images);
    v[k++] = mf_int("test_images", o->test_images);
    v[k++] = mf_int("train_eval_images", o->train_eval);
    v[k++] = mf_str("images_md5", o->data_md5);
    return k;
}

void ctck_data_digest(const cifar_set *train, const cifar_set *test, char hex[33]) {
    uint8_t d[4][16];
    md5(train->pixels, (size_t)train->n * CIFAR_PIXELS, d[0]);
    md5(train->labels, (size_t)train->n, d[1]);
    md5(test->pixels, (size_t)test->n * CIFAR_PIXELS, d[2]);
    md5(test->labels, (size_t)test->n, d[3]);
    uint8_t all[16];
    md5(d, sizeof d, all);
    md5_hex(all, hex);
}

void ctck_write(const char *path, const ctck_settings *s, const celltrain_result *done, int n_done,
                const ctck_progress *pi, const cellnet *net, const celltrain_state *st) {
    mf_value cfg[32], state[16];
    size_t nc = settings_values(s, cfg), ns = 0;
    state[ns++] = mf_int("done", n_done);
    state[ns++] = mf_bin("results", done, (size_t)n_done * sizeof *done);
    state[ns++] = mf_int("has_current", pi->has_current);
    mf_tensor t[4];
    size_t nt = 0;
    if (pi->has_current) {
        state[ns++] = mf_bin("graph", &pi->g, sizeof pi->g);
        state[ns++] = mf_float("seconds", pi->seconds);
        state[ns++] = mf_int("epoch", st->epoch);
        state[ns++] = mf_int("step", st->step);
        state[ns++] = mf_bin("rng", &st->rng, sizeof st->rng);
        t[nt++] = (mf_tensor){"params", 1, {net->n_params}, net->params};
        t[nt++] = (mf_tensor){"buffers", 1, {net->n_buffers}, net->buffers};
        t[nt++] = (mf_tensor){"opt.m1", 1, {st->n}, st->m1};
        t[nt++] = (mf_tensor){"opt.m2", 1, {st->n}, st->m2};
    }
    mf_contents c = {.sec = {cfg, NULL, state}, .nsec = {nc, 0, ns}, .tensors = t, .ntensors = nt};
    mf_write(path, &c, NULL);
}

/* An error of ctck_check: the message into err, the exit code returned. */
static int ck_fail(char *err, size_t el, int code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int ck_fail(char *err, size_t el, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, el, fmt, ap);
    va_end(ap);
    return code;
}

/* The state value key of the given kind, or NULL. */
static const mf_value *state(const model_file *f, const char *key, mf_kind kind) {
    const mf_value *v = mf_find(f, MF_STATE, key);
    return v && v->kind == kind ? v : NULL;
}

#define NEED(v, f, key, kind) \
    if (!((v) = state(f, key, kind))) return ck_fail(err, el, EXIT_DATA, "%s: not a cell-train checkpoint (no \"%s\")", mf_name(f), key)

int ctck_check(ctck_resume *ri, const model_file *f, const char *path, const ctck_settings *s, char *err, size_t el) {
    const mf_value *kind = mf_find(f, MF_CONFIG, "kind");
    if (!kind || kind->kind != MF_STR || strcmp(kind->p, CTCK_KIND) != 0)
        return ck_fail(err, el, EXIT_DATA, "%s: not a cell-train checkpoint", path);
    mf_value want[32];
    size_t n = settings_values(s, want);
    for (size_t k = 1; k < n; k++) {
        const mf_value *v = mf_find(f, MF_CONFIG, want[k].key);
        int same = v && v->kind == want[k].kind &&
                   (v->kind == MF_INT ? v->i == want[k].i : v->kind == MF_FLOAT ? v->f == want[k].f
                                                          : strcmp(v->p, want[k].p) == 0);
        if (same) continue;
        if (!v && strcmp(want[k].key, "images_md5") == 0) {
            say("warning: --resume: the checkpoint %s is older, without a digest of its images: only their counts "
                "show that they are the same", path);
            continue;
        }
        if (want[k].kind == MF_STR)
            return ck_fail(err, el, EXIT_USAGE, "--resume: the checkpoint %s was made with other images (--train, "
                           "--test: digest %s, this run %s)", path, v && v->kind == MF_STR ? (const char *)v->p : "?",
                           (const char *)want[k].p);
        if (v && v->kind == MF_INT && want[k].kind == MF_INT)
            return ck_fail(err, el, EXIT_USAGE, "--resume: the checkpoint %s has %s %lld, this run %lld", path,
                           want[k].key, (long long)v->i, (long long)want[k].i);
        if (v && v->kind == MF_FLOAT && want[k].kind == MF_FLOAT)
            return ck_fail(err, el, EXIT_USAGE, "--resume: the checkpoint %s has %s %g, this run %g", path,
                           want[k].key, v->f, want[k].f);
        return ck_fail(err, el, EXIT_USAGE, "--resume: the checkpoint %s was made with other options (%s)", path,
                       want[k].key);
    }
    const mf_value *d, *res, *cur;
    NEED(d, f, "done", MF_INT);
    NEED(res, f, "results", MF_BIN);
    if (d->i < 0 || d->i > INT32_MAX - 1 || (size_t)d->i * sizeof(celltrain_result) != res->len)
        return ck_fail(err, el, EXIT_DATA, "%s: corrupt results", path);
    NEED(cur, f, "has_current", MF_INT);
    ri->n_done = (int)d->i;
    ri->done = res->p;
    ri->has_current = cur->i != 0;
    if (ri->has_current) {
        const mf_value *g, *r, *v;
        NEED(g, f, "graph", MF_BIN);
        if (g->len != sizeof ri->g) return ck_fail(err, el, EXIT_DATA, "%s: corrupt graph", path);
        memcpy(&ri->g, g->p, sizeof ri->g);
        /* what ctck_restore will take, checked now */
        NEED(r, f, "rng", MF_BIN);
        rng_mt rng;
        if (r->len != sizeof rng) return ck_fail(err, el, EXIT_DATA, "%s: corrupt RNG state", path);
        memcpy(&rng, r->p, sizeof rng);
        if (rng.pos < 0 || rng.pos > 624) return ck_fail(err, el, EXIT_DATA, "%s: corrupt RNG state", path);
        NEED(v, f, "epoch", MF_INT);
        NEED(v, f, "step", MF_INT);
        if (!(v = mf_find(f, MF_STATE, "seconds")) || (v->kind != MF_FLOAT && v->kind != MF_INT))
            return ck_fail(err, el, EXIT_DATA, "%s: not a cell-train checkpoint (no \"seconds\")", path);
    }
    return 0;
}

void ctck_read(ctck_resume *ri, const char *path, const ctck_settings *s) {
    model_file *f = mf_read(path);
    char err[1024];
    int code = ctck_check(ri, f, path, s, err, sizeof err);
    if (code == EXIT_USAGE) die_usage("%s", err);
    if (code) die(code, "%s", err);
    ri->f = f;
}

static const mf_value *need(const model_file *f, mf_section s, const char *key, mf_kind kind) {
    const mf_value *v = mf_find(f, s, key);
    if (!v || v->kind != kind) die(EXIT_DATA, "%s: not a cell-train checkpoint (no \"%s\")", mf_name(f), key);
    return v;
}

void ctck_restore(const ctck_resume *ri, cellnet *net, celltrain_state *st, double *seconds) {
    const model_file *f = ri->f;
    uint64_t np = net->n_params, nb = net->n_buffers;
    memcpy(net->params, mf_get_tensor(f, "params", 1, &np), np * sizeof(float));
    memcpy(net->buffers, mf_get_tensor(f, "buffers", 1, &nb), nb * sizeof(float));
    memcpy(st->m1, mf_get_tensor(f, "opt.m1", 1, &np), np * sizeof(float));
    memcpy(st->m2, mf_get_tensor(f, "opt.m2", 1, &np), np * sizeof(float));
    const mf_value *r = need(f, MF_STATE, "rng", MF_BIN);
    if (r->len != sizeof st->rng) die(EXIT_DATA, "%s: corrupt RNG state", mf_name(f));
    memcpy(&st->rng, r->p, sizeof st->rng);
    if (st->rng.pos < 0 || st->rng.pos > 624) die(EXIT_DATA, "%s: corrupt RNG state", mf_name(f));
    st->epoch = (int)mf_get_int(f, MF_STATE, "epoch");
    st->step = mf_get_int(f, MF_STATE, "step");
    *seconds = mf_get_float(f, MF_STATE, "seconds");
}

void ctck_free(ctck_resume *ri) {
    if (ri->f) mf_free(ri->f);
    *ri = (ctck_resume){0};
}
