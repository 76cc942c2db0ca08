/* dgmg.h: the DGMG baseline of the SVGe paper (= the authors' VS-GAE; formats/reference.md §3.5,
 * `models/DGMG.py`): training path and generation steps (inference itself: lib/generate.h,
 * lib/generate.h with the model's decoder_config), llm.c style: ONE contiguous parameter array in state_dict order, one
 * gradient array of the same layout, backward accumulates.
 *
 * Its propagation is the bidirectional single-stream layer of lib/mpass.h (mpass_bidir), node
 * state width C. What is DGMG's own lives here: its encoder and its parameter table; the decoder is
 * lib/decoder.h's generator with that propagation (DEC_PROP_BIDIR, forward generation only).
 *
 *   Encoder: h0 = Embedding(K,C)[type]; h = layer1(layer0(h0)); mu, logvar = two gated-sum
 *            readouts (C -> D) (lib/nn.h gsum).
 *   z = mu + eps_scale * eps * exp(logvar/2) (training), z = mu (eval); KL summed; as lib/svge.h.
 *   Decoder: lib/decoder.h with decoder_config {K, C, D, 2, DEC_PROP_BIDIR, forward_only 1}:
 *            SVGe's generator step with the two bidirectional layers as the propagation over the
 *            partial graph, FORWARD generation only (no backward pass); loss = (1/B) sum over graphs
 *            and their n-1 teacher-forced steps of CE(type) + mean_u BCE(edge u -> new node)
 *            (CE only at the first step).
 *   total = recon + beta * KL.
 *
 * Parameter counts at C = 250, D = 56: 4,872,746 (K=5), 4,873,860 (K=7), 4,874,417 (K=8).
 * The config is lib/svge.h's vae_config (C2 = node_embedding_dim = C here: there are no
 * half-width streams in DGMG; vae_config_check's evenness rule still applies).
 * Randomness exactly as lib/svge.h: dgmg_init draws tensors in state_dict order (encoder then
 * decoder, elements row-major, one rng_double or rng_gauss each); a training forward draws eps
 * (B*D rng_gauss, row-major) after validating the batch. */
#ifndef SVGE_DGMG_H
#define SVGE_DGMG_H

#include <stddef.h>
#include <stdint.h>

#include "decoder.h"
#include "encoder.h"
#include "graph.h"
#include "mpass.h"
#include "svge.h"

/* ---- parameters ---- */
#define DGMG_LAYERS 2
#define DGMG_ENC_TENSORS (1 + DGMG_LAYERS * MPASS_BIDIR_TENSORS + 8)
#define DGMG_DEC_TENSORS (DGMG_LAYERS * MPASS_BIDIR_TENSORS + DEC_HEAD_TENSORS)
#define DGMG_NUM_TENSORS (DGMG_ENC_TENSORS + DGMG_DEC_TENSORS)

/* Field order = tensor order = state_dict order of DGMG (see dgmg_param_name). */
typedef struct {
    float *node_init;                     /* (K,C) Encoder.NodeEmb.NodeInit.weight */
    mpass_bidir_params enc[DGMG_LAYERS];  /* Encoder.NodeEmb.GNNLayers.<i>.{msg,msg_rev,upd}.* */
    float *mean_f_w, *mean_f_b, *mean_g_w, *mean_g_b; /* Encoder.GraphEmb_mean.{f_m,g_m} */
    float *var_f_w, *var_f_b, *var_g_w, *var_g_b;     /* Encoder.GraphEmb_var.{f_m,g_m} */
    decoder_params dec;                   /* Decoder.generator.* (bi[] its two layers) */
} dgmg_params;

/* The decoder's config: {K, C, D, DGMG_LAYERS, DEC_PROP_BIDIR, forward_only 1}. */
decoder_config dgmg_decoder_config(int K, int C, int D);
size_t dgmg_param_count(int K, int C, int D);
const char *dgmg_param_name(int i); /* NULL if out of range */

/* ---- the model ---- */
typedef struct {
    vae_config cfg;
    decoder_config dcfg;            /* dgmg_decoder_config(K, C, D) */
    size_t num_params, num_enc;     /* all, the encoder's (the decoder's start at params + num_enc) */
    size_t num_model;               /* the encoder's and decoder's; a surrogate head's follow (lib/vae.h) */
    float *params, *grads;
    dgmg_params p, g;               /* views into params, grads */
    int ndim[DGMG_NUM_TENSORS];
    uint64_t shape[DGMG_NUM_TENSORS][2];
    size_t offset[DGMG_NUM_TENSORS];
    int max_g, max_n;
    int B, train;
    encoder_batch batch;
    float *enc_mem;                 /* encoder activations */
    float *h0, *h1, *h2, *ec[DGMG_LAYERS], *gmean, *gvar, *mu, *logvar;
    float *enc_scratch;             /* encoder backward scratch */
    decoder_acts da;                /* the teacher-forced decoder's activations */
    float *dec_scratch;
    float *eps, *z, *dz, *dmu, *dlogvar; /* (max_g,D) */
} dgmg_model;

/* As svge_build / svge_free / svge_init / svge_forward / svge_train_step. */
int dgmg_build(dgmg_model *m, const vae_config *cfg, int max_g, char *err, size_t errlen);
void dgmg_free(dgmg_model *m);
void dgmg_init(dgmg_model *m, rng_mt *r);
int dgmg_forward(dgmg_model *m, const graph *gs, int B, rng_mt *rng, vae_terms *t);
int dgmg_train_step(dgmg_model *m, const graph *gs, int B, rng_mt *rng, vae_terms *t);
/* As svge_backward and svge_encoder_backward. */
void dgmg_backward(dgmg_model *m);
void dgmg_encoder_backward(dgmg_model *m, const float *dmu);
/* As svge_encode: eval-mode mu (B,D) and logvar (B,D, unless NULL) of B graphs (any B: chunks of
 * max_g). Returns 0, or -1 if a graph does not fit. */
int dgmg_encode(dgmg_model *m, const graph *gs, int B, float *mu, float *logvar);

/* Generation (lib/generate.h) uses m->p.dec with m->dcfg: forward only, and, as the reference's DGMG,
 * no forced END (generate_opts.open_end): a graph ends at its first END or at its node cap. The
 * reference stops at 20 nodes; our graphs hold at most GRAPH_MAX_NODES, hence DGMG_GEN_MAX_NODES. */
#define DGMG_GEN_MAX_NODES (GRAPH_MAX_NODES < 20 ? GRAPH_MAX_NODES : 20)

/* ---- training state and model files: as lib/svge.h's, with config kind "dgmg" (the same config
 * keys; gnn_iteration_layers = DGMG_LAYERS) and the DGMG_NUM_TENSORS tensors by dgmg_param_name. ---- */
/* m's parameters as named tensors (lib/vae_file.h). */
vae_tensors dgmg_tensor_table(const dgmg_model *m);
#define DGMG_KIND "dgmg"
/* Dies (exit 1) "<path>: ..." unless f is a dgmg model with a valid config. */
void dgmg_config_read(const model_file *f, vae_config *cfg);
int dgmg_check_file(const dgmg_model *m, const model_file *f, char *err, size_t errlen);
void dgmg_load(dgmg_model *m, const model_file *f);

#endif
