/* fuzz_ctck.c: libFuzzer target for cell-train's checkpoint reader: mf_parse (checksum fixed, so
 * that mutations reach the body), then ctck_check (what ctck_read does after reading) once with the
 * settings the file itself records (the checks past the settings) and once with other settings.
 * Properties checked: an accepted checkpoint's results fill its "results" bin exactly, a refusal
 * says why and exits 1 or 2, and a file refused for other settings is refused the same way again. */
#include <stdlib.h>
#include <string.h>

#include "celltrain_ckpt.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int64_t cfg_int(const model_file *m, const char *key) {
    const mf_value *v = mf_find(m, MF_CONFIG, key);
    return v && v->kind == MF_INT ? v->i : 0;
}
static double cfg_float(const model_file *m, const char *key) {
    const mf_value *v = mf_find(m, MF_CONFIG, key);
    return v && v->kind == MF_FLOAT ? v->f : 0;
}

/* The settings a file records (what a matching run would pass). */
static ctck_settings settings_in(const model_file *m) {
    ctck_settings s;
    memset(&s, 0, sizeof s);
    s.stem = (int)cfg_int(m, "stem_channels");
    s.stacks = (int)cfg_int(m, "stacks");
    s.cells = (int)cfg_int(m, "cells_per_stack");
    s.enas_filters = (int)cfg_int(m, "enas_filters");
    s.enas_shared = (int)cfg_int(m, "enas_shared");
    s.enas_separable = (int)cfg_int(m, "enas_separable");
    s.epochs = (int)cfg_int(m, "epochs");
    s.batch = (int)cfg_int(m, "batch");
    s.tc.opt = (celltrain_opt)cfg_int(m, "optimizer");
    s.tc.lr = cfg_float(m, "lr");
    s.tc.momentum = cfg_float(m, "momentum");
    s.tc.weight_decay = cfg_float(m, "weight_decay");
    s.tc.clip = cfg_float(m, "clip");
    s.bn_momentum = cfg_float(m, "bn_momentum");
    s.tc.seed = (uint32_t)cfg_int(m, "seed");
    s.train_images = (int)cfg_int(m, "train_images");
    s.test_images = (int)cfg_int(m, "test_images");
    s.train_eval = (int)cfg_int(m, "train_eval_images");
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    if (size >= 20) {
        uint64_t h = mf_fnv1a64(buf, size - 8);
        for (int i = 0; i < 8; i++) buf[size - 8 + i] = (uint8_t)(h >> (8 * i));
    }
    char err[1024];
    model_file *m = mf_parse(buf, size, "ck", err, sizeof err);
    if (m) {
        ctck_settings s = settings_in(m);
        ctck_resume ri;
        memset(&ri, 0, sizeof ri);
        err[0] = 0;
        int code = ctck_check(&ri, m, "ck", &s, err, sizeof err);
        if (code != 0 && code != EXIT_DATA && code != EXIT_USAGE) abort();
        if (code != 0 && !err[0]) abort();
        if (code == 0) {
            const mf_value *r = mf_find(m, MF_STATE, "results");
            if (!r || r->p != (const void *)ri.done || r->len != (size_t)ri.n_done * sizeof *ri.done) abort();
            volatile double sum = 0; /* every result readable */
            for (int i = 0; i < ri.n_done; i++) sum += ri.done[i].train_acc + (double)ri.done[i].g.n;
            (void)sum;
        }
        s.epochs ^= 1; /* other settings */
        ctck_resume r2;
        memset(&r2, 0, sizeof r2);
        int c2 = ctck_check(&r2, m, "ck", &s, err, sizeof err);
        if (c2 == 0 || (c2 != EXIT_DATA && c2 != EXIT_USAGE)) abort();
        if (c2 != ctck_check(&r2, m, "ck", &s, err, sizeof err)) abort();
        mf_free(m);
    }
    free(buf);
    return 0;
}
