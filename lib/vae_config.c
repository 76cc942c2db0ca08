/* vae_config.c: the configuration shared by every model kind; see vae_config.h. */
#include "vae_config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "encoder.h"
#include "regressor.h"
#include "util.h"

vae_config vae_default_config(space_id space) {
    const space_info *sp = space_get(space);
    vae_config c = {space, sp ? sp->n_types : 0, 250, 56, 0.005, 0.01, 1e-4, 1, 0.5, 0.1, 10, 2, 0, "", 0.1, 0, 1, 1};
    return c;
}

int vae_config_check(const vae_config *cfg, char *err, size_t errlen) {
    const space_info *sp = space_get(cfg->space);
    if (!sp) { snprintf(err, errlen, "unknown search space %d", (int)cfg->space); return -1; }
    if (cfg->K != sp->n_types) {
        snprintf(err, errlen, "num_node_atts %d does not match %s's %d node types", cfg->K, sp->name,
                 sp->n_types);
        return -1;
    }
    if (cfg->C2 < 2 || cfg->C2 > VAE_MAX_NDIM || cfg->C2 % 2) {
        snprintf(err, errlen, "node_embedding_dim %d must be even and in [2, %d]", cfg->C2, VAE_MAX_NDIM);
        return -1;
    }
    if (cfg->D < 1 || cfg->D > VAE_MAX_GDIM) {
        snprintf(err, errlen, "graph_embedding_dim %d must be in [1, %d]", cfg->D, VAE_MAX_GDIM);
        return -1;
    }
    if (!(isfinite(cfg->beta) && cfg->beta >= 0) || !(isfinite(cfg->eps_scale) && cfg->eps_scale >= 0) ||
        !(isfinite(cfg->lr) && cfg->lr >= 0)) {
        snprintf(err, errlen, "beta, eps_scale and learning_rate must be finite and >= 0");
        return -1;
    }
    if (cfg->layers < 1 || cfg->layers > ENC_MAX_LAYERS) {
        snprintf(err, errlen, "gnn_iteration_layers %d is not in [1, %d]", cfg->layers, ENC_MAX_LAYERS);
        return -1;
    }
    if (!(cfg->alpha >= 0 && cfg->alpha <= 1)) {
        snprintf(err, errlen, "alpha %g is not in [0, 1]", cfg->alpha);
        return -1;
    }
    if (cfg->head_layers < 0 || cfg->head_layers > REG_MAX_LAYERS ||
        (cfg->head_layers && regressor_config_ok((regressor_config){cfg->D, cfg->head_layers}))) {
        snprintf(err, errlen, "regression_layers %d: want 0 (no head) to %d, with graph_embedding_dim / 2^(layers-1) >= 1",
                 cfg->head_layers, REG_MAX_LAYERS);
        return -1;
    }
    if (cfg->head_layers && (!cfg->head_target[0] || !(cfg->head_vae_weight >= 0 && cfg->head_vae_weight <= 1))) {
        snprintf(err, errlen, "the surrogate head needs a target field and a loss proportion in [0, 1]");
        return -1;
    }
    if (!isfinite(cfg->head_y_mean) || !(isfinite(cfg->head_y_std) && cfg->head_y_std > 0)) {
        snprintf(err, errlen, "the surrogate head's target mean %g and standard deviation %g must be finite, the "
                 "deviation > 0", cfg->head_y_mean, cfg->head_y_std);
        return -1;
    }
    if (!(cfg->head_vae_lr_scale >= 0 && cfg->head_vae_lr_scale <= 1)) {
        snprintf(err, errlen, "the VAE's learning-rate scale %g must be in [0, 1]", cfg->head_vae_lr_scale);
        return -1;
    }
    if (!(cfg->plateau_factor > 0 && cfg->plateau_factor < 1) || cfg->plateau_patience < 0 ||
        cfg->plateau_patience > 1000000) {
        snprintf(err, errlen, "plateau factor %g must be in (0, 1) and patience %d in [0, 1000000]",
                 cfg->plateau_factor, cfg->plateau_patience);
        return -1;
    }
    return 0;
}

size_t vae_head_param_count(const vae_config *cfg) {
    return cfg->head_layers ? regressor_param_count((regressor_config){cfg->D, cfg->head_layers}) : 0;
}

size_t vae_config_values(mf_value v[VAE_CONFIG_MAX], const char *kind, const vae_config *c, int layers) {
    size_t k = 0;
    v[k++] = mf_str("kind", kind);
    v[k++] = mf_str("space", space_get(c->space)->name);
    v[k++] = mf_int("num_node_atts", c->K);
    v[k++] = mf_int("node_embedding_dim", c->C2);
    v[k++] = mf_int("graph_embedding_dim", c->D);
    v[k++] = mf_int("gnn_iteration_layers", layers);
    v[k++] = mf_float("beta", c->beta);
    v[k++] = mf_float("eps_scale", c->eps_scale);
    v[k++] = mf_float("learning_rate", c->lr);
    v[k++] = mf_int("seed", c->seed);
    v[k++] = mf_float("alpha", c->alpha);
    v[k++] = mf_float("plateau_factor", c->plateau_factor);
    v[k++] = mf_int("plateau_patience", c->plateau_patience);
    if (c->head_layers > 0) {
        v[k++] = mf_int("regression_layers", c->head_layers);
        v[k++] = mf_str("regression_target", c->head_target);
        v[k++] = mf_float("regression_loss_proportion", c->head_vae_weight);
        if (c->head_y_mean != 0 || c->head_y_std != 1) { // --standardize-target
            v[k++] = mf_float("regression_target_mean", c->head_y_mean);
            v[k++] = mf_float("regression_target_std", c->head_y_std);
        }
        if (c->head_vae_lr_scale != 1) v[k++] = mf_float("regression_vae_lr_scale", c->head_vae_lr_scale); // --vae-lr-scale
    }
    return k;
}

/* An int config value in [lo, hi]; dies otherwise. */
static int cfg_int(const model_file *f, const char *key, int64_t lo, int64_t hi) {
    int64_t v = mf_get_int(f, MF_CONFIG, key);
    if (v < lo || v > hi)
        die(EXIT_DATA, "%s: config \"%s\" = %lld is out of range [%lld, %lld]", mf_name(f), key,
            (long long)v, (long long)lo, (long long)hi);
    return (int)v;
}

const char *vae_model_kind(const model_file *f) { return mf_get_str(f, MF_CONFIG, "kind"); }

/* "an svge", "a dgmg" */
static const char *article(const char *kind) { return strchr("aeiosx", kind[0]) && kind[0] ? "an" : "a"; }

void vae_config_read_kind(const model_file *f, const char *want, int nlayers, vae_config *cfg) {
    const char *kind = mf_get_str(f, MF_CONFIG, "kind");
    if (strcmp(kind, want) != 0)
        die(EXIT_DATA, "%s: this is a \"%s\" model, not %s %s model", mf_name(f), kind, article(want), want);
    const char *sn = mf_get_str(f, MF_CONFIG, "space");
    const space_info *sp = space_by_name(sn, strlen(sn));
    if (!sp) die(EXIT_DATA, "%s: unknown space \"%s\" (known: %s)", mf_name(f), sn, space_list());
    int layers = cfg_int(f, "gnn_iteration_layers", 0, 1000);
    if (nlayers ? layers != nlayers : layers < 1 || layers > ENC_MAX_LAYERS) {
        if (nlayers) die(EXIT_DATA, "%s: gnn_iteration_layers %d, %s models have %d", mf_name(f), layers, want, nlayers);
        die(EXIT_DATA, "%s: gnn_iteration_layers %d is not in [1, %d]", mf_name(f), layers, ENC_MAX_LAYERS);
    }
    cfg->layers = layers;
    cfg->space = sp->id;
    cfg->K = cfg_int(f, "num_node_atts", 0, 1000);
    cfg->C2 = cfg_int(f, "node_embedding_dim", 0, VAE_MAX_NDIM);
    cfg->D = cfg_int(f, "graph_embedding_dim", 0, VAE_MAX_GDIM);
    cfg->beta = mf_get_float(f, MF_CONFIG, "beta");
    cfg->eps_scale = mf_get_float(f, MF_CONFIG, "eps_scale");
    cfg->lr = mf_get_float(f, MF_CONFIG, "learning_rate");
    int64_t seed = mf_get_int(f, MF_CONFIG, "seed");
    if (seed < 0 || seed > (int64_t)UINT32_MAX)
        die(EXIT_DATA, "%s: config \"seed\" = %lld is not a 32-bit unsigned seed", mf_name(f), (long long)seed);
    cfg->seed = (uint32_t)seed;
    // written since format 1's first revision added them; older files hold the reference's values
    const mf_value *al = mf_find(f, MF_CONFIG, "alpha"), *pf = mf_find(f, MF_CONFIG, "plateau_factor");
    cfg->alpha = al ? mf_get_float(f, MF_CONFIG, "alpha") : 0.5;
    cfg->plateau_factor = pf ? mf_get_float(f, MF_CONFIG, "plateau_factor") : 0.1;
    cfg->plateau_patience = mf_find(f, MF_CONFIG, "plateau_patience") ? cfg_int(f, "plateau_patience", 0, 1000000) : 10;
    cfg->head_layers = 0;
    cfg->head_target[0] = 0;
    cfg->head_vae_weight = 0.1;
    cfg->head_y_mean = 0;
    cfg->head_y_std = 1;
    cfg->head_vae_lr_scale = 1;
    if (mf_find(f, MF_CONFIG, "regression_layers")) { // a model with the surrogate head
        cfg->head_layers = cfg_int(f, "regression_layers", 1, REG_MAX_LAYERS);
        const char *tg = mf_get_str(f, MF_CONFIG, "regression_target");
        if (strlen(tg) >= sizeof cfg->head_target)
            die(EXIT_DATA, "%s: config \"regression_target\" is longer than %d bytes", mf_name(f), VAE_TARGET_MAX - 1);
        snprintf(cfg->head_target, sizeof cfg->head_target, "%s", tg);
        cfg->head_vae_weight = mf_get_float(f, MF_CONFIG, "regression_loss_proportion");
        if (mf_find(f, MF_CONFIG, "regression_target_mean") || mf_find(f, MF_CONFIG, "regression_target_std")) {
            cfg->head_y_mean = mf_get_float(f, MF_CONFIG, "regression_target_mean");
            cfg->head_y_std = mf_get_float(f, MF_CONFIG, "regression_target_std");
        }
        if (mf_find(f, MF_CONFIG, "regression_vae_lr_scale"))
            cfg->head_vae_lr_scale = mf_get_float(f, MF_CONFIG, "regression_vae_lr_scale");
    }
    char err[200];
    if (vae_config_check(cfg, err, sizeof err)) die(EXIT_DATA, "%s: %s", mf_name(f), err);
}

/* An int config value, or -1 if absent or not an int (for messages, never dies). */
static int64_t peek_int(const model_file *f, const char *key) {
    const mf_value *v = mf_find(f, MF_CONFIG, key);
    return v && v->kind == MF_INT ? v->i : -1;
}

int vae_check_kind(const char *want, const vae_config *c, int layers, const model_file *f, char *err,
                    size_t errlen) {
    const mf_value *kind = mf_find(f, MF_CONFIG, "kind"), *space = mf_find(f, MF_CONFIG, "space");
    if (!kind || kind->kind != MF_STR || strcmp((const char *)kind->p, want) != 0) {
        snprintf(err, errlen, "not %s %s model (config \"kind\" is %s%s%s)", article(want), want,
                 kind && kind->kind == MF_STR ? "\"" : "",
                 kind && kind->kind == MF_STR ? (const char *)kind->p : "missing or not a string",
                 kind && kind->kind == MF_STR ? "\"" : "");
        return -1;
    }
    const char *fs = space && space->kind == MF_STR ? (const char *)space->p : "?";
    int64_t K = peek_int(f, "num_node_atts"), C2 = peek_int(f, "node_embedding_dim"),
            D = peek_int(f, "graph_embedding_dim"), L = peek_int(f, "gnn_iteration_layers");
    const char *ms = space_get(c->space)->name;
    if (strcmp(fs, ms) != 0 || K != c->K || C2 != c->C2 || D != c->D || L != layers) {
        snprintf(err, errlen,
                 "model is for %s (num_node_atts %lld, ndim %lld, gdim %lld, %lld layers), this one is "
                 "%s (num_node_atts %d, ndim %d, gdim %d, %d layers)",
                 fs, (long long)K, (long long)C2, (long long)D, (long long)L, ms, c->K, c->C2, c->D,
                 layers);
        return -1;
    }
    return 0;
}

