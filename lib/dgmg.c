/* dgmg.c: the DGMG baseline (VS-GAE): its encoder and parameter table, and the model around the
 * generic decoder (lib/decoder.h with the bidirectional propagation); see dgmg.h. */
#include "dgmg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "util.h"
#include "vae_file.h"

static void zero(float *x, size_t n) { memset(x, 0, n * sizeof(float)); }

decoder_config dgmg_decoder_config(int K, int C, int D) {
    return (decoder_config){K, C, D, DGMG_LAYERS, DEC_PROP_BIDIR, 1};
}

/* ======================================================== parameter layout */
static const char *const readout_names[8] = {
    "Encoder.GraphEmb_mean.f_m.weight", "Encoder.GraphEmb_mean.f_m.bias",
    "Encoder.GraphEmb_mean.g_m.weight", "Encoder.GraphEmb_mean.g_m.bias",
    "Encoder.GraphEmb_var.f_m.weight", "Encoder.GraphEmb_var.f_m.bias",
    "Encoder.GraphEmb_var.g_m.weight", "Encoder.GraphEmb_var.g_m.bias",
};

const char *dgmg_param_name(int i) {
    if (i < 0 || i >= DGMG_NUM_TENSORS) return NULL;
    if (i >= DGMG_ENC_TENSORS) return decoder_param_name(i - DGMG_ENC_TENSORS, dgmg_decoder_config(2, 2, 1));
    if (i == 0) return "Encoder.NodeEmb.NodeInit.weight";
    const int nl = DGMG_LAYERS * MPASS_BIDIR_TENSORS;
    if (i <= nl) return mpass_bidir_param_name(0, (i - 1) / MPASS_BIDIR_TENSORS, (i - 1) % MPASS_BIDIR_TENSORS);
    return readout_names[i - 1 - nl];
}

/* PyTorch shapes (ndim, shape) of every tensor, and the init fan_in of the encoder's (0: Embedding
 * N(0,1), -1: GRUCell 1/sqrt(C)); the decoder's come from lib/decoder.h. */
static void layout(int ndim[DGMG_NUM_TENSORS], uint64_t shape[DGMG_NUM_TENSORS][2],
                   int fan[DGMG_ENC_TENSORS], int Ki, int Ci, int Di) {
    const uint64_t K = (uint64_t)Ki, C = (uint64_t)Ci, D = (uint64_t)Di;
    int i = 0;
#define S2(a, b, f) (ndim[i] = 2, shape[i][0] = (a), shape[i][1] = (b), fan[i] = (int)(f), i++)
#define S1(a, f) (ndim[i] = 1, shape[i][0] = (a), shape[i][1] = 0, fan[i] = (int)(f), i++)
    S2(K, C, 0);
    for (int l = 0; l < DGMG_LAYERS; l++) {
        S2(2 * C, 2 * C, 2 * C); S1(2 * C, 2 * C); S2(2 * C, 2 * C, 2 * C); S1(2 * C, 2 * C);
        S2(3 * C, 2 * C, -1); S2(3 * C, C, -1); S1(3 * C, -1); S1(3 * C, -1);
    }
    for (int r = 0; r < 2; r++) { S2(D, C, C); S1(D, C); S2(1, C, C); S1(1, C); }
#undef S1
#undef S2
    decoder_param_shapes(ndim + DGMG_ENC_TENSORS, shape + DGMG_ENC_TENSORS, dgmg_decoder_config(Ki, Ci, Di));
}

static size_t numel(int ndim, const uint64_t shape[2]) {
    return (size_t)shape[0] * (ndim == 2 ? (size_t)shape[1] : 1);
}

size_t dgmg_param_count(int K, int C, int D) {
    int nd[DGMG_NUM_TENSORS], fan[DGMG_ENC_TENSORS];
    uint64_t sh[DGMG_NUM_TENSORS][2];
    layout(nd, sh, fan, K, C, D);
    size_t n = 0;
    for (int i = 0; i < DGMG_NUM_TENSORS; i++) n += numel(nd[i], sh[i]);
    return n;
}

/* The encoder's fields of p in tensor order. */
static void encoder_ptrs(dgmg_params *p, float **ptrs[DGMG_ENC_TENSORS]) {
    float ***q = ptrs;
    *q++ = &p->node_init;
    for (int l = 0; l < DGMG_LAYERS; l++, q += MPASS_BIDIR_TENSORS) mpass_bidir_param_ptrs(&p->enc[l], q);
    *q++ = &p->mean_f_w; *q++ = &p->mean_f_b; *q++ = &p->mean_g_w; *q++ = &p->mean_g_b;
    *q++ = &p->var_f_w; *q++ = &p->var_f_b; *q++ = &p->var_g_w; *q = &p->var_g_b;
}

static void point_params(dgmg_params *p, float *mem, const dgmg_model *m) {
    float **ptrs[DGMG_ENC_TENSORS];
    memset(p, 0, sizeof *p);
    encoder_ptrs(p, ptrs);
    for (int i = 0; i < DGMG_ENC_TENSORS; i++) *ptrs[i] = mem + m->offset[i];
    decoder_point_params(&p->dec, mem + m->num_enc, m->dcfg);
}

/* PyTorch-default initialisation in state_dict order: the encoder's tensors here (elements
 * row-major, one rng_double or rng_gauss each), then decoder_init. */
void dgmg_init(dgmg_model *m, rng_mt *r) {
    int nd[DGMG_NUM_TENSORS], fan[DGMG_ENC_TENSORS];
    uint64_t sh[DGMG_NUM_TENSORS][2];
    layout(nd, sh, fan, m->cfg.K, m->cfg.C2, m->cfg.D);
    for (int i = 0; i < DGMG_ENC_TENSORS; i++) {
        float *x = m->params + m->offset[i];
        const size_t n = numel(nd[i], sh[i]);
        if (fan[i] == 0) {
            for (size_t k = 0; k < n; k++) x[k] = (float)rng_gauss(r);
            continue;
        }
        const double bound = 1.0 / sqrt(fan[i] < 0 ? (double)m->cfg.C2 : (double)fan[i]);
        for (size_t k = 0; k < n; k++) x[k] = (float)(bound * (2.0 * rng_double(r) - 1.0));
    }
    decoder_init(&m->p.dec, m->dcfg, r);
}

static float *take(float *base, size_t *off, size_t n) {
    float *p = base ? base + *off : NULL;
    *off += n;
    return p;
}

/* Encoder backward scratch: dh2, dh1, dh0 (N,C), then mpass_bidir / gsum scratch. */
static size_t enc_scratch_size(int C, int D, int N) {
    size_t ms = mpass_bidir_scratch_size(N, C), gs = gsum_scratch_size(N, D);
    return (size_t)N * C * 3 + (ms > gs ? ms : gs);
}

/* =================================================================== build */
int dgmg_build(dgmg_model *m, const vae_config *cfg, int max_g, char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    if (vae_config_check(cfg, err, errlen)) return -1;
    if (max_g < 1 || max_g > 1 << 20) { snprintf(err, errlen, "batch capacity %d out of range", max_g); return -1; }
    m->cfg = *cfg;
    const int K = cfg->K, C = cfg->C2, D = cfg->D;
    m->dcfg = dgmg_decoder_config(K, C, D);
    m->max_g = max_g;
    m->max_n = space_get(cfg->space)->max_nodes;
    int fan[DGMG_ENC_TENSORS];
    layout(m->ndim, m->shape, fan, K, C, D);
    size_t off = 0;
    for (int i = 0; i < DGMG_NUM_TENSORS; i++) {
        if (i == DGMG_ENC_TENSORS) m->num_enc = off;
        m->offset[i] = off;
        off += numel(m->ndim[i], m->shape[i]);
    }
    m->num_params = m->num_model = off;
    m->num_params += vae_head_param_count(cfg); // the surrogate head's, if any, follow (lib/vae.h)
    m->params = xcalloc(m->num_params, sizeof(float));
    m->grads = xcalloc(m->num_params, sizeof(float));
    point_params(&m->p, m->params, m);
    point_params(&m->g, m->grads, m);

    const int N = max_g * m->max_n;
    if (encoder_batch_init(&m->batch, N, max_g)) goto oom;
    size_t eo = 0;
    take(NULL, &eo, (size_t)N * C * (1 + DGMG_LAYERS) + DGMG_LAYERS * mpass_bidir_cache_size(N, C));
    take(NULL, &eo, 2 * gsum_cache_size(N, D) + 2 * (size_t)max_g * D);
    m->enc_mem = xmalloc((eo + 1) * sizeof(float));
    eo = 0;
    m->h0 = take(m->enc_mem, &eo, (size_t)N * C);
    float **hl[DGMG_LAYERS] = {&m->h1, &m->h2};
    for (int l = 0; l < DGMG_LAYERS; l++) {
        *hl[l] = take(m->enc_mem, &eo, (size_t)N * C);
        m->ec[l] = take(m->enc_mem, &eo, mpass_bidir_cache_size(N, C));
    }
    m->gmean = take(m->enc_mem, &eo, gsum_cache_size(N, D));
    m->gvar = take(m->enc_mem, &eo, gsum_cache_size(N, D));
    m->mu = take(m->enc_mem, &eo, (size_t)max_g * D);
    m->logvar = take(m->enc_mem, &eo, (size_t)max_g * D);
    m->enc_scratch = xmalloc((enc_scratch_size(C, D, N) + 1) * sizeof(float));
    if (decoder_acts_init(&m->da, m->dcfg, max_g, m->max_n)) goto oom;
    m->dec_scratch = xmalloc((decoder_scratch_size(m->dcfg, max_g, m->max_n) + 1) * sizeof(float));

    const size_t GD = (size_t)max_g * (size_t)D;
    m->eps = xcalloc(5 * GD, sizeof(float));
    m->z = m->eps + GD;
    m->dz = m->z + GD;
    m->dmu = m->dz + GD;
    m->dlogvar = m->dmu + GD;
    return 0;
oom:
    dgmg_free(m);
    snprintf(err, errlen, "out of memory");
    return -1;
}

void dgmg_free(dgmg_model *m) {
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

/* ================================================================= encoder */
static void bidir_encoder_forward(dgmg_model *m) {
    const encoder_batch *b = &m->batch;
    const int C = m->cfg.C2, D = m->cfg.D, N = b->N, G = b->G;
    const dgmg_params *p = &m->p;
    embedding_forward(m->h0, b->types, p->node_init, N, C);
    const float *hin[DGMG_LAYERS] = {m->h0, m->h1};
    float *hout[DGMG_LAYERS] = {m->h1, m->h2};
    for (int l = 0; l < DGMG_LAYERS; l++)
        mpass_bidir_forward(hout[l], m->ec[l], hin[l], b->pred, b->succ, b->offsets, G, &p->enc[l], C);
    gsum_forward(m->mu, m->gmean, m->h2, p->mean_f_w, p->mean_f_b, p->mean_g_w, p->mean_g_b, b->offsets, G, C, D);
    gsum_forward(m->logvar, m->gvar, m->h2, p->var_f_w, p->var_f_b, p->var_g_w, p->var_g_b, b->offsets, G, C, D);
}

static void bidir_encoder_backward(dgmg_model *m) {
    const encoder_batch *b = &m->batch;
    const int C = m->cfg.C2, D = m->cfg.D, N = b->N, G = b->G;
    const dgmg_params *p = &m->p, *g = &m->g;
    if (N == 0) return;
    float *dh2 = m->enc_scratch, *dh1 = dh2 + (size_t)N * C, *dh0 = dh1 + (size_t)N * C;
    float *ws = dh0 + (size_t)N * C;
    zero(dh2, (size_t)N * C * 3);
    gsum_backward(dh2, g->mean_f_w, g->mean_f_b, g->mean_g_w, g->mean_g_b, ws, m->dmu, m->gmean, m->h2,
                  p->mean_f_w, p->mean_g_w, b->offsets, G, C, D);
    gsum_backward(dh2, g->var_f_w, g->var_f_b, g->var_g_w, g->var_g_b, ws, m->dlogvar, m->gvar, m->h2,
                  p->var_f_w, p->var_g_w, b->offsets, G, C, D);
    mpass_bidir_backward(dh1, &g->enc[1], ws, dh2, m->ec[1], m->h1, b->pred, b->succ, b->offsets, G, &p->enc[1], C);
    mpass_bidir_backward(dh0, &g->enc[0], ws, dh1, m->ec[0], m->h0, b->pred, b->succ, b->offsets, G, &p->enc[0], C);
    embedding_backward(g->node_init, dh0, b->types, N, C);
}

/* =================================================================== model */
int dgmg_forward(dgmg_model *m, const graph *gs, int B, rng_mt *rng, vae_terms *t) {
    if (B < 0 || B > m->max_g) return -1;
    for (int b = 0; b < B; b++)
        if (gs[b].n < 0 || gs[b].n > m->max_n) return -1;
    if (encoder_batch_pack(&m->batch, gs, B, m->cfg.K)) return -1;
    const size_t n = (size_t)B * m->cfg.D;
    bidir_encoder_forward(m);
    m->train = rng != NULL;
    if (rng)
        for (size_t i = 0; i < n; i++) m->eps[i] = (float)rng_gauss(rng);
    reparam_forward(m->z, m->mu, m->logvar, rng ? m->eps : NULL, (float)m->cfg.eps_scale, n);
    double recon = 0;
    if (decoder_forward(&m->da, &m->p.dec, gs, m->z, B, &recon)) return -1; // checked above: cannot happen
    m->B = B;
    double kl = gaussian_kl_forward(m->mu, m->logvar, n);
    if (t) *t = (vae_terms){recon + m->cfg.beta * kl, recon, kl, 0.0};
    return 0;
}

int dgmg_train_step(dgmg_model *m, const graph *gs, int B, rng_mt *rng, vae_terms *t) {
    memset(m->grads, 0, m->num_params * sizeof(float));
    if (dgmg_forward(m, gs, B, rng, t)) return -1;
    dgmg_backward(m);
    return 0;
}

void dgmg_encoder_backward(dgmg_model *m, const float *dmu) {
    const size_t n = (size_t)m->B * m->cfg.D;
    memcpy(m->dmu, dmu, n * sizeof(float));
    zero(m->dlogvar, n);
    bidir_encoder_backward(m);
}

void dgmg_backward(dgmg_model *m) {
    const size_t n = (size_t)m->B * m->cfg.D;
    zero(m->dz, n);
    decoder_backward(&m->g.dec, m->dz, m->dec_scratch, &m->da, &m->p.dec);
    reparam_backward(m->dmu, m->dlogvar, m->dz, m->logvar, m->train ? m->eps : NULL, (float)m->cfg.eps_scale, n);
    gaussian_kl_backward(m->dmu, m->dlogvar, m->mu, m->logvar, (float)m->cfg.beta, n);
    bidir_encoder_backward(m);
}

int dgmg_encode(dgmg_model *m, const graph *gs, int B, float *mu, float *logvar) {
    const int D = m->cfg.D;
    for (int s = 0; s < B; s += m->max_g) {
        const int nb = B - s < m->max_g ? B - s : m->max_g;
        for (int b = 0; b < nb; b++)
            if (gs[s + b].n < 0 || gs[s + b].n > m->max_n) return -1;
        if (encoder_batch_pack(&m->batch, gs + s, nb, m->cfg.K)) return -1;
        bidir_encoder_forward(m);
        memcpy(mu + (size_t)s * D, m->mu, (size_t)nb * D * sizeof(float));
        if (logvar) memcpy(logvar + (size_t)s * D, m->logvar, (size_t)nb * D * sizeof(float));
    }
    return 0;
}

/* ============================================== training state, model files */
vae_tensors dgmg_tensor_table(const dgmg_model *m) {
    vae_tensors ts = {.n = DGMG_NUM_TENSORS, .params = m->params};
    for (int i = 0; i < DGMG_NUM_TENSORS; i++) {
        ts.name[i] = dgmg_param_name(i);
        ts.ndim[i] = m->ndim[i];
        ts.shape[i][0] = m->shape[i][0];
        ts.shape[i][1] = m->shape[i][1];
        ts.offset[i] = m->offset[i];
    }
    return ts;
}

void dgmg_config_read(const model_file *f, vae_config *cfg) {
    vae_config_read_kind(f, DGMG_KIND, DGMG_LAYERS, cfg);
}

int dgmg_check_file(const dgmg_model *m, const model_file *f, char *err, size_t errlen) {
    return vae_check_kind(DGMG_KIND, &m->cfg, DGMG_LAYERS, f, err, errlen);
}

void dgmg_load(dgmg_model *m, const model_file *f) {
    char err[400];
    if (dgmg_check_file(m, f, err, sizeof err)) die(EXIT_DATA, "%s: %s", mf_name(f), err);
    vae_tensors ts = dgmg_tensor_table(m);
    vae_load_tensors(&ts, f);
}
