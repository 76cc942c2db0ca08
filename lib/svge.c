/* svge.c: the whole SVGe VAE for training; see svge.h. */
#include "svge.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "util.h"

#define SVGE_CONFIG_N 13 /* values of the config section */

/* ------------------------------------------------------------------ config */
svge_config svge_default_config(space_id space) {
    const space_info *sp = space_get(space);
    svge_config c = {space, sp ? sp->n_types : 0, 250, 56, 0.005, 0.01, 1e-4, 1, 0.5, 0.1, 10, 2};
    return c;
}

int svge_config_check(const svge_config *cfg, char *err, size_t errlen) {
    const space_info *sp = space_get(cfg->space);
    if (!sp) { snprintf(err, errlen, "unknown search space %d", (int)cfg->space); return -1; }
    if (cfg->K != sp->n_types) {
        snprintf(err, errlen, "num_node_atts %d does not match %s's %d node types", cfg->K, sp->name,
                 sp->n_types);
        return -1;
    }
    if (cfg->C2 < 2 || cfg->C2 > SVGE_MAX_NDIM || cfg->C2 % 2) {
        snprintf(err, errlen, "node_embedding_dim %d must be even and in [2, %d]", cfg->C2, SVGE_MAX_NDIM);
        return -1;
    }
    if (cfg->D < 1 || cfg->D > SVGE_MAX_GDIM) {
        snprintf(err, errlen, "graph_embedding_dim %d must be in [1, %d]", cfg->D, SVGE_MAX_GDIM);
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
    if (!(cfg->plateau_factor > 0 && cfg->plateau_factor < 1) || cfg->plateau_patience < 0 ||
        cfg->plateau_patience > 1000000) {
        snprintf(err, errlen, "plateau factor %g must be in (0, 1) and patience %d in [0, 1000000]",
                 cfg->plateau_factor, cfg->plateau_patience);
        return -1;
    }
    return 0;
}

/* The decoder's config for cfg (two streams, both directions). */
static decoder_config dec_config(int K, int C2, int D, int layers) {
    return (decoder_config){K, C2, D, layers, DEC_PROP_TWO_STREAM, 0};
}

size_t svge_param_count(const svge_config *cfg) {
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
                          const svge_config *cfg) {
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
int svge_build(svge_model *m, const svge_config *cfg, int max_g, char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    if (svge_config_check(cfg, err, errlen)) return -1;
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

int svge_forward(svge_model *m, const graph *gs, int B, rng_mt *rng, svge_terms *t) {
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
    if (t) *t = (svge_terms){recon + m->cfg.beta * kl, recon, kl};
    return 0;
}

/* d total / d params into m->grads (+=), for the last forward. */
static void backward(svge_model *m) {
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

int svge_train_step(svge_model *m, const graph *gs, int B, rng_mt *rng, svge_terms *t) {
    memset(m->grads, 0, m->num_params * sizeof(float));
    if (svge_forward(m, gs, B, rng, t)) return -1;
    backward(m);
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

/* ---------------------------------------------------------------- training */
void svge_train_setup(svge_train *t, size_t num_params, const svge_config *cfg) {
    memset(t, 0, sizeof *t);
    adam_init(&t->opt, num_params, cfg->lr);
    plateau_init(&t->sched, cfg->lr, cfg->plateau_factor, cfg->plateau_patience);
    t->epoch = 0;
    rng_seed(&t->rng, cfg->seed);
}

void svge_train_init(svge_train *t, const svge_model *m) { svge_train_setup(t, m->num_params, &m->cfg); }

void svge_train_free(svge_train *t) {
    adam_free(&t->opt);
    memset(t, 0, sizeof *t);
}

void svge_update(svge_model *m, svge_train *t) { adam_step(&t->opt, m->params, m->grads); }

int svge_epoch_end(svge_train *t, double loss) {
    int r = plateau_step(&t->sched, loss);
    t->opt.lr = t->sched.lr;
    t->epoch++;
    return r;
}

/* ------------------------------------------------------------- model files */
static void put_u32(uint8_t *p, uint32_t v) {
    for (int k = 0; k < 4; k++) p[k] = (uint8_t)(v >> (8 * k));
}
static uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void rng_pack(uint8_t out[SVGE_RNG_BYTES], const rng_mt *r) {
    for (int k = 0; k < 624; k++) put_u32(out + 4 * k, r->mt[k]);
    put_u32(out + 2496, (uint32_t)r->pos);
    put_u32(out + 2500, (uint32_t)r->has_gauss);
    uint64_t g;
    memcpy(&g, &r->gauss, 8);
    put_u32(out + 2504, (uint32_t)g);
    put_u32(out + 2508, (uint32_t)(g >> 32));
}

static int rng_unpack(rng_mt *r, const uint8_t *in) {
    for (int k = 0; k < 624; k++) r->mt[k] = get_u32(in + 4 * k);
    int32_t pos = (int32_t)get_u32(in + 2496), hg = (int32_t)get_u32(in + 2500);
    uint64_t g = (uint64_t)get_u32(in + 2504) | (uint64_t)get_u32(in + 2508) << 32;
    if (pos < 0 || pos > 624 || (hg != 0 && hg != 1)) return -1;
    r->pos = pos;
    r->has_gauss = hg;
    memcpy(&r->gauss, &g, 8);
    if (!isfinite(r->gauss)) return -1;
    return 0;
}

static void config_values(mf_value v[SVGE_CONFIG_N], const char *kind, const svge_config *c, int layers) {
    int k = 0;
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
}

void svge_write_model(const char *path, const char *kind, const svge_config *cfgp, int layers,
                      const svge_tensors *ts, const svge_train *t, const mf_value *meta, size_t nmeta,
                      char id[MF_ID_LEN + 1]) {
    mf_value cfg[SVGE_CONFIG_N];
    config_values(cfg, kind, cfgp, layers);
    mf_tensor *tens = xcalloc((size_t)ts->n + ADAM_NTENSORS, sizeof *tens);
    for (int i = 0; i < ts->n; i++) {
        tens[i].name = ts->name(i, ts->layers);
        tens[i].ndim = ts->ndim[i];
        tens[i].shape[0] = ts->shape[2 * i];
        tens[i].shape[1] = ts->shape[2 * i + 1];
        tens[i].data = ts->params + ts->offset[i];
    }
    mf_value st[ADAM_NSTATE + PLATEAU_NSTATE + 2];
    uint8_t rb[SVGE_RNG_BYTES];
    size_t nst = 0, nt = (size_t)ts->n;
    if (t) {
        adam_save(&t->opt, st, tens + ts->n);
        nt += ADAM_NTENSORS;
        nst = ADAM_NSTATE;
        nst += plateau_save(&t->sched, st + nst);
        st[nst++] = mf_int("epoch", t->epoch);
        rng_pack(rb, &t->rng);
        st[nst++] = mf_bin("rng", rb, sizeof rb);
    }
    mf_contents c = {{cfg, meta, st}, {SVGE_CONFIG_N, meta ? nmeta : 0, nst}, tens, nt};
    mf_write(path, &c, id);
    free(tens);
}

/* m's tensors (ts->params is not const: the table serves loading too). */
static svge_tensors svge_table(const svge_model *m) {
    return (svge_tensors){m->num_tensors, m->cfg.layers, svge_param_name, m->ndim, &m->shape[0][0],
                          m->offset, m->params};
}

/* Write m (and t's state if t is non-NULL). */
static void save(const char *path, const svge_model *m, const svge_train *t, const mf_value *meta,
                 size_t nmeta, char id[MF_ID_LEN + 1]) {
    svge_tensors ts = svge_table(m);
    svge_write_model(path, "svge", &m->cfg, m->cfg.layers, &ts, t, meta, nmeta, id);
}

void svge_save(const char *path, const svge_model *m, const mf_value *meta, size_t nmeta,
               char id[MF_ID_LEN + 1]) {
    save(path, m, NULL, meta, nmeta, id);
}

void svge_save_checkpoint(const char *path, const svge_model *m, const svge_train *t,
                          const mf_value *meta, size_t nmeta, char id[MF_ID_LEN + 1]) {
    save(path, m, t, meta, nmeta, id);
}

/* An int config value in [lo, hi]; dies otherwise. */
static int cfg_int(const model_file *f, const char *key, int64_t lo, int64_t hi) {
    int64_t v = mf_get_int(f, MF_CONFIG, key);
    if (v < lo || v > hi)
        die(EXIT_DATA, "%s: config \"%s\" = %lld is out of range [%lld, %lld]", mf_name(f), key,
            (long long)v, (long long)lo, (long long)hi);
    return (int)v;
}

const char *svge_model_kind(const model_file *f) { return mf_get_str(f, MF_CONFIG, "kind"); }

/* "an svge", "a dgmg" */
static const char *article(const char *kind) { return strchr("aeiosx", kind[0]) && kind[0] ? "an" : "a"; }

void svge_config_read(const model_file *f, svge_config *cfg) { svge_config_read_kind(f, "svge", 0, cfg); }

void svge_config_read_kind(const model_file *f, const char *want, int nlayers, svge_config *cfg) {
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
    cfg->C2 = cfg_int(f, "node_embedding_dim", 0, SVGE_MAX_NDIM);
    cfg->D = cfg_int(f, "graph_embedding_dim", 0, SVGE_MAX_GDIM);
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
    char err[200];
    if (svge_config_check(cfg, err, sizeof err)) die(EXIT_DATA, "%s: %s", mf_name(f), err);
}

/* An int config value, or -1 if absent or not an int (for messages, never dies). */
static int64_t peek_int(const model_file *f, const char *key) {
    const mf_value *v = mf_find(f, MF_CONFIG, key);
    return v && v->kind == MF_INT ? v->i : -1;
}

int svge_check_file(const svge_model *m, const model_file *f, char *err, size_t errlen) {
    return svge_check_kind("svge", &m->cfg, m->cfg.layers, f, err, errlen);
}

int svge_check_kind(const char *want, const svge_config *c, int layers, const model_file *f, char *err,
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

void svge_load(svge_model *m, const model_file *f) {
    char err[400];
    if (svge_check_file(m, f, err, sizeof err)) die(EXIT_DATA, "%s: %s", mf_name(f), err);
    svge_tensors ts = svge_table(m);
    svge_load_tensors(&ts, f);
}

void svge_load_tensors(const svge_tensors *ts, const model_file *f) {
    for (int i = 0; i < ts->n; i++) {
        const uint64_t *sh = ts->shape + 2 * i;
        const float *d = mf_get_tensor(f, ts->name(i, ts->layers), ts->ndim[i], sh);
        size_t n = (size_t)sh[0] * (ts->ndim[i] == 2 ? (size_t)sh[1] : 1);
        memcpy(ts->params + ts->offset[i], d, n * sizeof(float));
    }
}

void svge_load_checkpoint(svge_model *m, svge_train *t, const model_file *f) {
    svge_load(m, f);
    svge_load_train_state(t, f);
}

void svge_load_train_state(svge_train *t, const model_file *f) {
    adam_load(&t->opt, f);
    plateau_load(&t->sched, f);
    int64_t e = mf_get_int(f, MF_STATE, "epoch");
    if (e < 0) die(EXIT_DATA, "%s: state \"epoch\" is negative", mf_name(f));
    t->epoch = e;
    const mf_value *r = mf_find(f, MF_STATE, "rng");
    if (!r || r->kind != MF_BIN || r->len != SVGE_RNG_BYTES)
        die(EXIT_DATA, "%s: state \"rng\" is missing or not a %d-byte bin", mf_name(f), SVGE_RNG_BYTES);
    if (rng_unpack(&t->rng, r->p)) die(EXIT_DATA, "%s: state \"rng\" is malformed", mf_name(f));
}
