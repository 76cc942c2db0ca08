/* svge.c: the whole SVGe VAE for training; see svge.h. */
#include "svge.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "util.h"
#include "vae_file.h"

/* The decoder's config for cfg (two streams, both directions). */
static decoder_config dec_config(int K, int C2, int D, int layers) {
    return (decoder_config){K, C2, D, layers, DEC_PROP_TWO_STREAM, 0};
}

size_t svge_param_count(const vae_config *cfg) {
    return encoder_param_count(cfg->K, cfg->C2 / 2, cfg->D, cfg->layers) +
           decoder_param_count(dec_config(cfg->K, cfg->C2, cfg->D, cfg->layers));
}

int svge_num_tensors(int layers) {
    return encoder_num_tensors(layers) + decoder_num_tensors(dec_config(2, 2, 1, layers));
}

const char *svge_param_name(int i, int layers) {
    if (layers < 1 || layers > ENC_MAX_LAYERS || i < 0 || i >= svge_num_tensors(layers)) return NULL;
    const int ne = encoder_num_tensors(layers);
    return i < ne ? encoder_param_name(i, layers) : decoder_param_name(i - ne, dec_config(2, 2, 1, layers));
}

/* PyTorch shapes of every tensor, in order: the encoder's here, the decoder's from lib/decoder.h
 * (the element counts come from encoder/decoder and are checked against these in svge_build). */
static void tensor_shapes(int ndim[SVGE_MAX_TENSORS], uint64_t shape[SVGE_MAX_TENSORS][2],
                          const vae_config *cfg) {
    const uint64_t K = (uint64_t)cfg->K, C = (uint64_t)cfg->C2 / 2, D = (uint64_t)cfg->D;
    int i = 0;
#define S2(a, b) (ndim[i] = 2, shape[i][0] = (a), shape[i][1] = (b), i++)
#define S1(a) (ndim[i] = 1, shape[i][0] = (a), shape[i][1] = 0, i++)
    /* one message-passing layer of stream width c */
#define LAYER(c) (S2(2 * (c), 2 * (c)), S1(2 * (c)), S2(3 * (c), 2 * (c)), S2(3 * (c), (c)), \
                  S1(3 * (c)), S1(3 * (c)))
    // encoder: NodeInit, L fwd + L bwd layers, GraphEmb_mean, GraphEmb_var
    S2(K, C);
    for (int l = 0; l < 2 * cfg->layers; l++) LAYER(C);
    for (int r = 0; r < 2; r++) { S2(D, 2 * C); S1(D); S2(1, 2 * C); S1(1); }
    decoder_param_shapes(ndim + i, shape + i, dec_config(cfg->K, cfg->C2, cfg->D, cfg->layers));
#undef LAYER
#undef S1
#undef S2
}

/* ------------------------------------------------------------------- build */
int svge_build(svge_model *m, const vae_config *cfg, int max_g, char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    if (vae_config_check(cfg, err, errlen)) return -1;
    if (max_g < 1 || max_g > 1 << 20) { snprintf(err, errlen, "batch capacity %d out of range", max_g); return -1; }
    m->cfg = *cfg;
    m->ecfg = (encoder_config){cfg->K, cfg->C2 / 2, cfg->D, cfg->layers};
    m->dcfg = dec_config(cfg->K, cfg->C2, cfg->D, cfg->layers);
    m->num_tensors = svge_num_tensors(cfg->layers);
    m->max_g = max_g;
    m->max_n = space_get(cfg->space)->max_nodes;
    m->num_enc = encoder_param_count(cfg->K, cfg->C2 / 2, cfg->D, cfg->layers);
    m->num_params = svge_param_count(cfg);

    // shapes and offsets, checked against the encoder's and decoder's own element counts
    size_t sizes[SVGE_MAX_TENSORS], off = 0;
    encoder_param_sizes(sizes, m->ecfg);
    decoder_param_sizes(sizes + encoder_num_tensors(cfg->layers), m->dcfg);
    tensor_shapes(m->ndim, m->shape, cfg);
    for (int i = 0; i < m->num_tensors; i++) {
        uint64_t n = m->shape[i][0] * (m->ndim[i] == 2 ? m->shape[i][1] : 1);
        if (n != sizes[i]) die(EXIT_DATA, "internal error: tensor %s has %zu elements, shape says %llu",
                               svge_param_name(i, cfg->layers), sizes[i], (unsigned long long)n);
        m->offset[i] = off;
        off += sizes[i];
    }
    if (off != m->num_params) die(EXIT_DATA, "internal error: parameter count mismatch");
    m->num_model = m->num_params;
    m->num_params += vae_head_param_count(cfg); // the surrogate head's, if any, follow (lib/vae.h)

    m->params = xcalloc(m->num_params, sizeof(float));
    m->grads = xcalloc(m->num_params, sizeof(float));
    encoder_point_params(&m->enc, m->params, m->ecfg);
    encoder_point_params(&m->genc, m->grads, m->ecfg);
    decoder_point_params(&m->dec, m->params + m->num_enc, m->dcfg);
    decoder_point_params(&m->gdec, m->grads + m->num_enc, m->dcfg);

    // activations: the encoder sees up to max_g*max_n nodes in one node-major batch
    const int maxN = max_g * m->max_n;
    if (encoder_batch_init(&m->batch, maxN, max_g)) goto oom;
    m->enc_mem = xmalloc(encoder_acts_size(m->ecfg, maxN, max_g) * sizeof(float));
    encoder_point_acts(&m->ea, m->enc_mem, m->ecfg, maxN, max_g);
    m->enc_scratch = xmalloc(encoder_scratch_size(m->ecfg, maxN) * sizeof(float));
    if (decoder_acts_init(&m->da, m->dcfg, max_g, m->max_n)) goto oom;
    m->da.w_type = (float)(2.0 * (1.0 - cfg->alpha)); // 1 and 1 at the reference's alpha = 0.5
    m->da.w_edge = (float)(2.0 * cfg->alpha);
    m->dec_scratch = xmalloc((decoder_scratch_size(m->dcfg, max_g, m->max_n) + 1) * sizeof(float));
    const size_t GD = (size_t)max_g * cfg->D;
    m->eps = xcalloc(5 * GD, sizeof(float));
    m->z = m->eps + GD;
    m->dz = m->z + GD;
    m->dmu = m->dz + GD;
    m->dlogvar = m->dmu + GD;
    return 0;
oom:
    svge_free(m);
    snprintf(err, errlen, "out of memory");
    return -1;
}

void svge_free(svge_model *m) {
    free(m->params);
    free(m->grads);
    encoder_batch_free(&m->batch);
    free(m->enc_mem);
    free(m->enc_scratch);
    decoder_acts_free(&m->da);
    free(m->dec_scratch);
    free(m->eps);
    memset(m, 0, sizeof *m);
}

void svge_set_pool(svge_model *m, par_pool *pool) {
    m->pool = pool;
    m->ea.pool = pool;
    m->da.pool = pool;
}

void svge_init(svge_model *m, rng_mt *r) {
    encoder_init(&m->enc, m->ecfg, r);
    decoder_init(&m->dec, m->dcfg, r);
}

/* ----------------------------------------------------------------- forward */
/* Pack gs into m->batch; -1 if the batch does not fit (too many graphs, nodes or a bad type). */
static int pack(svge_model *m, const graph *gs, int B) {
    if (B < 0 || B > m->max_g) return -1;
    for (int b = 0; b < B; b++)
        if (gs[b].n < 0 || gs[b].n > m->max_n) return -1;
    return encoder_batch_pack(&m->batch, gs, B, m->cfg.K);
}

int svge_forward(svge_model *m, const graph *gs, int B, rng_mt *rng, vae_terms *t) {
    if (pack(m, gs, B)) return -1;
    const int D = m->cfg.D;
    const size_t n = (size_t)B * D;
    encoder_forward(&m->ea, &m->enc, &m->batch, m->ecfg);
    const float *mu = m->ea.mu, *logvar = m->ea.logvar;
    m->train = rng != NULL;
    if (rng) // eps (B,D) row-major, one rng_gauss each
        for (size_t i = 0; i < n; i++) m->eps[i] = (float)rng_gauss(rng);
    reparam_forward(m->z, mu, logvar, rng ? m->eps : NULL, (float)m->cfg.eps_scale, n);
    double recon = 0;
    if (decoder_forward(&m->da, &m->dec, gs, m->z, B, &recon)) return -1; // checked above: cannot happen
    m->B = B;
    double kl = gaussian_kl_forward(mu, logvar, n);
    if (t) *t = (vae_terms){recon + m->cfg.beta * kl, recon, kl, 0.0};
    return 0;
}

void svge_encoder_backward(svge_model *m, const float *dmu) {
    encoder_backward(&m->genc, m->enc_scratch, dmu, NULL, &m->ea, &m->enc, &m->batch, m->ecfg);
}

void svge_backward(svge_model *m) {
    const size_t n = (size_t)m->B * m->cfg.D;
    const float *mu = m->ea.mu, *logvar = m->ea.logvar;
    // decoder: dz = d recon / dz  (the decoder's loss is already the batch mean)
    memset(m->dz, 0, n * sizeof(float));
    decoder_backward(&m->gdec, m->dz, m->dec_scratch, &m->da, &m->dec);
    reparam_backward(m->dmu, m->dlogvar, m->dz, logvar, m->train ? m->eps : NULL, (float)m->cfg.eps_scale, n);
    // KL, summed over batch and dims, weighted by beta
    gaussian_kl_backward(m->dmu, m->dlogvar, mu, logvar, (float)m->cfg.beta, n);
    encoder_backward(&m->genc, m->enc_scratch, m->dmu, m->dlogvar, &m->ea, &m->enc, &m->batch, m->ecfg);
}

int svge_train_step(svge_model *m, const graph *gs, int B, rng_mt *rng, vae_terms *t) {
    par_zero(m->pool, m->grads, m->num_params);
    if (svge_forward(m, gs, B, rng, t)) return -1;
    svge_backward(m);
    return 0;
}

int svge_encode(svge_model *m, const graph *gs, int B, float *mu, float *logvar) {
    const int D = m->cfg.D;
    for (int s = 0; s < B; s += m->max_g) {
        int nb = B - s < m->max_g ? B - s : m->max_g;
        if (pack(m, gs + s, nb)) return -1;
        encoder_forward_eval(&m->ea, &m->enc, &m->batch, m->ecfg, logvar != NULL);
        memcpy(mu + (size_t)s * D, m->ea.mu, (size_t)nb * D * sizeof(float));
        if (logvar) memcpy(logvar + (size_t)s * D, m->ea.logvar, (size_t)nb * D * sizeof(float));
    }
    return 0;
}

/* ------------------------------------------------------------- model files */
vae_tensors svge_tensor_table(const svge_model *m) {
    vae_tensors ts = {.n = m->num_tensors, .params = m->params};
    for (int i = 0; i < m->num_tensors; i++) {
        ts.name[i] = svge_param_name(i, m->cfg.layers);
        ts.ndim[i] = m->ndim[i];
        ts.shape[i][0] = m->shape[i][0];
        ts.shape[i][1] = m->shape[i][1];
        ts.offset[i] = m->offset[i];
    }
    return ts;
}

void svge_save(const char *path, const svge_model *m, const vae_train *t, const mf_value *meta, size_t nmeta,
               char id[MF_ID_LEN + 1]) {
    vae_tensors ts = svge_tensor_table(m);
    vae_write_model(path, "svge", &m->cfg, m->cfg.layers, &ts, t, meta, nmeta, id);
}

void svge_config_read(const model_file *f, vae_config *cfg) { vae_config_read_kind(f, "svge", 0, cfg); }

int svge_check_file(const svge_model *m, const model_file *f, char *err, size_t errlen) {
    return vae_check_kind("svge", &m->cfg, m->cfg.layers, f, err, errlen);
}

void svge_load(svge_model *m, const model_file *f) {
    char err[400];
    if (svge_check_file(m, f, err, sizeof err)) die(EXIT_DATA, "%s: %s", mf_name(f), err);
    vae_tensors ts = svge_tensor_table(m);
    vae_load_tensors(&ts, f);
}
