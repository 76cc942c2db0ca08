/* vae.c: SVGe or DGMG, by kind; see vae.h. The only place that dispatches on the model kind. */
#include "vae.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

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

int vae_build(vae_model *m, vae_kind k, const vae_config *cfg, int max_g, char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    m->kind = k;
    m->cfg = *cfg;
    if (k == VAE_DGMG ? dgmg_build(&m->d, cfg, max_g, err, errlen) : svge_build(&m->s, cfg, max_g, err, errlen))
        return -1;
    expose(m);
    return 0;
}

void vae_free(vae_model *m) {
    if (m->kind == VAE_DGMG) dgmg_free(&m->d);
    else svge_free(&m->s);
    memset(m, 0, sizeof *m);
}

void vae_init(vae_model *m, rng_mt *r) {
    if (m->kind == VAE_DGMG) dgmg_init(&m->d, r);
    else svge_init(&m->s, r);
}

int vae_forward(vae_model *m, const graph *gs, int B, rng_mt *rng, vae_terms *t) {
    return m->kind == VAE_DGMG ? dgmg_forward(&m->d, gs, B, rng, t) : svge_forward(&m->s, gs, B, rng, t);
}

int vae_train_step(vae_model *m, const graph *gs, int B, rng_mt *rng, vae_terms *t) {
    return m->kind == VAE_DGMG ? dgmg_train_step(&m->d, gs, B, rng, t) : svge_train_step(&m->s, gs, B, rng, t);
}

void vae_train_init(vae_train *t, const vae_model *m) { vae_train_setup(t, m->num_params, &m->cfg); }

void vae_update(vae_model *m, vae_train *t) { adam_step(&t->opt, m->params, m->grads); }

void vae_save(const char *path, const vae_model *m, const vae_train *t, const mf_value *meta, size_t nmeta,
              char id[MF_ID_LEN + 1]) {
    if (m->kind == VAE_DGMG) dgmg_save(path, &m->d, t, meta, nmeta, id);
    else svge_save(path, &m->s, t, meta, nmeta, id);
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
}

void vae_load_checkpoint(vae_model *m, vae_train *t, const model_file *f) {
    vae_load_params(m, f);
    vae_load_train_state(t, f);
}

int vae_encode(vae_model *m, const graph *gs, int B, float *mu, float *logvar) {
    return m->kind == VAE_DGMG ? dgmg_encode(&m->d, gs, B, mu, logvar) : svge_encode(&m->s, gs, B, mu, logvar);
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
