/* vae.c: SVGe or DGMG, by kind; see vae.h. The only place that dispatches on the model kind. */
#include "vae.h"

#include <stdio.h>
#include <string.h>

#include "util.h"
#include "vae_file.h"

static const char *const kind_names[] = {"svge", DGMG_KIND};

const char *vae_kind_name(vae_kind k) { return kind_names[k]; }

int vae_kind_by_name(const char *name, vae_kind *k) {
    for (int i = 0; i < 2; i++)
        if (strcmp(name, kind_names[i]) == 0) {
            *k = (vae_kind)i;
            return 0;
        }
    return -1;
}

/* The views every caller uses, once the kind's model is built. */
static void expose(vae_model *m) {
    if (m->kind == VAE_DGMG) {
        m->num_params = m->d.num_params;
        m->params = m->d.params;
        m->grads = m->d.grads;
        m->dec = &m->d.p.dec;
        m->dcfg = m->d.dcfg;
        m->max_n = m->d.max_n;
        m->gen_max_n = DGMG_GEN_MAX_NODES;
        m->open_end = true;
        m->mu = m->d.mu;
        m->logvar = m->d.logvar;
        m->da = &m->d.da;
        m->tensors = dgmg_tensor_table(&m->d);
    } else {
        m->num_params = m->s.num_params;
        m->params = m->s.params;
        m->grads = m->s.grads;
        m->dec = &m->s.dec;
        m->dcfg = m->s.dcfg;
        m->max_n = m->s.max_n;
        m->gen_max_n = m->s.max_n;
        m->open_end = false;
        m->mu = m->s.ea.mu;
        m->logvar = m->s.ea.logvar;
        m->da = &m->s.da;
        m->tensors = svge_tensor_table(&m->s);
    }
}

/* The head's views, activations and tensor names (after expose). */
static void attach_head(vae_model *m) {
    m->num_model = m->kind == VAE_DGMG ? m->d.num_model : m->s.num_model;
    if (!m->cfg.head_layers) return;
    m->hcfg = (regressor_config){m->cfg.D, m->cfg.head_layers};
    regressor_point_params(&m->head, m->params + m->num_model, m->hcfg);
    regressor_point_params(&m->ghead, m->grads + m->num_model, m->hcfg);
    const size_t G = (size_t)m->max_g, D = (size_t)m->cfg.D;
    m->hacts = xmalloc((regressor_acts_size(m->hcfg, m->max_g) + regressor_scratch_size(m->hcfg, m->max_g) +
                        G + G * D) * sizeof(float));
    m->hscratch = m->hacts + regressor_acts_size(m->hcfg, m->max_g);
    m->dpred = m->hscratch + regressor_scratch_size(m->hcfg, m->max_g);
    m->dmu = m->dpred + G;
    // the head's tensors follow the model's in the table
    vae_tensors *ts = &m->tensors;
    const int n0 = ts->n, nh = regressor_num_tensors(m->hcfg);
    regressor_param_shapes(ts->ndim + n0, ts->shape + n0, m->hcfg);
    size_t off = m->num_model;
    for (int i = 0; i < nh; i++) {
        ts->name[n0 + i] = regressor_param_name(i);
        ts->offset[n0 + i] = off;
        off += (size_t)ts->shape[n0 + i][0] * (ts->ndim[n0 + i] == 2 ? (size_t)ts->shape[n0 + i][1] : 1);
    }
    ts->n = n0 + nh;
}

int vae_build(vae_model *m, vae_kind k, const vae_config *cfg, int max_g, char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    m->kind = k;
    m->cfg = *cfg;
    m->max_g = max_g;
    if (k == VAE_DGMG ? dgmg_build(&m->d, cfg, max_g, err, errlen) : svge_build(&m->s, cfg, max_g, err, errlen))
        return -1;
    expose(m);
    attach_head(m);
    return 0;
}

void vae_free(vae_model *m) {
    free(m->hacts);
    if (m->kind == VAE_DGMG) dgmg_free(&m->d);
    else svge_free(&m->s);
    memset(m, 0, sizeof *m);
}

void vae_init(vae_model *m, rng_mt *r) {
    if (m->kind == VAE_DGMG) dgmg_init(&m->d, r);
    else svge_init(&m->s, r);
    if (m->cfg.head_layers) regressor_init(&m->head, m->hcfg, r);
}

int vae_forward(vae_model *m, const graph *gs, int B, rng_mt *rng, vae_terms *t) {
    return m->kind == VAE_DGMG ? dgmg_forward(&m->d, gs, B, rng, t) : svge_forward(&m->s, gs, B, rng, t);
}

int vae_train_step(vae_model *m, const graph *gs, int B, rng_mt *rng, vae_terms *t) {
    return m->kind == VAE_DGMG ? dgmg_train_step(&m->d, gs, B, rng, t) : svge_train_step(&m->s, gs, B, rng, t);
}

void vae_train_init(vae_train *t, const vae_model *m) {
    vae_train_setup(t, m->num_params, &m->cfg);
    if (m->cfg.head_layers) { /* the VAE's parameters, before the head's, at lr * scale */
        t->opt.n_scaled = m->num_model;
        t->opt.scale = m->cfg.head_vae_lr_scale;
    }
}

void vae_update(vae_model *m, vae_train *t) { adam_step_par(&t->opt, m->params, m->grads, m->pool); }

void vae_set_pool(vae_model *m, par_pool *pool) {
    m->pool = pool;
    if (m->kind == VAE_SVGE) svge_set_pool(&m->s, pool);
}

void vae_save(const char *path, const vae_model *m, const vae_train *t, const mf_value *meta, size_t nmeta,
              char id[MF_ID_LEN + 1]) {
    vae_write_model(path, vae_kind_name(m->kind), &m->cfg, m->kind == VAE_DGMG ? DGMG_LAYERS : m->cfg.layers,
                    &m->tensors, t, meta, nmeta, id);
}

void vae_config_read(const model_file *f, vae_kind *k, vae_config *cfg) {
    const char *name = vae_model_kind(f);
    if (vae_kind_by_name(name, k))
        die(EXIT_DATA, "%s: a \"%s\" model: known kinds are svge and dgmg", mf_name(f), name);
    if (*k == VAE_DGMG) dgmg_config_read(f, cfg);
    else svge_config_read(f, cfg);
}

void vae_load(vae_model *m, const model_file *f, int max_g) {
    vae_kind k;
    vae_config cfg;
    char err[400];
    vae_config_read(f, &k, &cfg);
    if (vae_build(m, k, &cfg, max_g, err, sizeof err))
        die(strcmp(err, "out of memory") == 0 ? EXIT_IO : EXIT_DATA, "%s: %s", mf_name(f), err);
    vae_load_params(m, f);
    snprintf(m->id, sizeof m->id, "%s", mf_id(f));
}

void vae_load_params(vae_model *m, const model_file *f) {
    if (m->kind == VAE_DGMG) dgmg_load(&m->d, f);
    else svge_load(&m->s, f);
    if (!m->cfg.head_layers || !mf_find(f, MF_CONFIG, "regression_layers")) return;
    vae_kind k;
    vae_config fc;
    vae_config_read(f, &k, &fc);
    if (fc.head_layers != m->cfg.head_layers)
        die(EXIT_DATA, "%s: a surrogate head of %d layers, this model's has %d", mf_name(f), fc.head_layers,
            m->cfg.head_layers);
    vae_tensors head = m->tensors; // the head's part of the table
    const int nh = regressor_num_tensors(m->hcfg), n0 = head.n - nh;
    for (int i = 0; i < nh; i++) {
        head.name[i] = head.name[n0 + i];
        head.ndim[i] = head.ndim[n0 + i];
        head.shape[i][0] = head.shape[n0 + i][0];
        head.shape[i][1] = head.shape[n0 + i][1];
        head.offset[i] = head.offset[n0 + i];
    }
    head.n = nh;
    vae_load_tensors(&head, f);
}

void vae_load_checkpoint(vae_model *m, vae_train *t, const model_file *f) {
    vae_load_params(m, f);
    vae_load_train_state(t, f);
}

int vae_surrogate_forward(vae_model *m, const graph *gs, const double *y, int B, rng_mt *rng, vae_terms *t) {
    if (!m->cfg.head_layers || vae_forward(m, gs, B, rng, t)) return -1;
    regressor_forward(m->hacts, &m->head, m->hcfg, m->mu, B);
    const double mse = mse_forward_backward(NULL, regressor_pred(m->hacts, m->hcfg, B), y, 1.0f, B);
    if (t) {
        const double w = m->cfg.head_vae_weight;
        t->mse = mse;
        t->total = w * t->total + (1.0 - w) * mse;
    }
    return 0;
}

int vae_surrogate_step(vae_model *m, const graph *gs, const double *y, int B, rng_mt *rng, vae_terms *t) {
    par_zero(m->pool, m->grads, m->num_params);
    if (vae_surrogate_forward(m, gs, y, B, rng, t)) return -1;
    // the VAE's share, weighted by w: its own backward, then scaled (the head's grads are still 0)
    if (m->kind == VAE_DGMG) dgmg_backward(&m->d);
    else svge_backward(&m->s);
    const float w = (float)m->cfg.head_vae_weight;
    for (size_t i = 0; i < m->num_model; i++) m->grads[i] *= w;
    // the head's share, weighted by 1 - w, and its gradient into mu through the encoder
    const float *pred = regressor_pred(m->hacts, m->hcfg, B);
    mse_forward_backward(m->dpred, pred, y, 1.0f - w, B);
    memset(m->dmu, 0, (size_t)B * m->cfg.D * sizeof(float));
    regressor_backward(&m->ghead, m->dmu, m->hscratch, m->dpred, m->hacts, &m->head, m->hcfg, m->mu, B);
    if (m->kind == VAE_DGMG) dgmg_encoder_backward(&m->d, m->dmu);
    else svge_encoder_backward(&m->s, m->dmu);
    return 0;
}

int vae_predict(vae_model *m, const float *mu, int B, float *out) {
    if (!m->cfg.head_layers) return -1;
    for (int s = 0; s < B; s += m->max_g) {
        const int nb = B - s < m->max_g ? B - s : m->max_g;
        regressor_forward(m->hacts, &m->head, m->hcfg, mu + (size_t)s * m->cfg.D, nb);
        memcpy(out + s, regressor_pred(m->hacts, m->hcfg, nb), (size_t)nb * sizeof(float));
    }
    return 0;
}

int vae_head_read(const model_file *f, vae_config *cfg, regressor_params *p, float **mem) {
    if (!mf_find(f, MF_CONFIG, "regression_layers")) return -1;
    vae_kind k;
    vae_config_read(f, &k, cfg);
    const regressor_config rc = {cfg->D, cfg->head_layers};
    *mem = xmalloc(regressor_param_count(rc) * sizeof(float));
    regressor_point_params(p, *mem, rc);
    vae_tensors ts = {.n = regressor_num_tensors(rc), .params = *mem};
    regressor_param_shapes(ts.ndim, ts.shape, rc);
    size_t off = 0;
    for (int i = 0; i < ts.n; i++) {
        ts.name[i] = regressor_param_name(i);
        ts.offset[i] = off;
        off += (size_t)ts.shape[i][0] * (ts.ndim[i] == 2 ? (size_t)ts.shape[i][1] : 1);
    }
    vae_load_tensors(&ts, f);
    return 0;
}

int vae_encode(vae_model *m, const graph *gs, int B, float *mu, float *logvar) {
    return m->kind == VAE_DGMG ? dgmg_encode(&m->d, gs, B, mu, logvar) : svge_encode(&m->s, gs, B, mu, logvar);
}

void vae_freeze(vae_model *m) {
    if (m->kind != VAE_DGMG) mpass_foldset_freeze(&m->s.ea.fold);
}

int vae_generate_ws_init(generate_ws *w, const vae_model *m, int max_b) {
    return generate_ws_init(w, m->dcfg, max_b, m->gen_max_n);
}

int vae_generate_batch(generate_ws *w, const vae_model *m, const float *c, int B, const uint64_t *ids,
                     const generate_opts *o, graph *out, uint8_t *flags) {
    generate_opts ko = *o;
    ko.open_end = ko.open_end || m->open_end;
    return generate_batch(w, m->dec, c, B, ids, &ko, out, flags);
}
