/* dgmg.h: the DGMG baseline of the SVGe paper (= the authors' VS-GAE; svge-reference.md §3.5,
 * `models/DGMG.py`): training path and generation steps (inference itself: lib/decode.h,
 * decode_batch_dgmg), llm.c style: ONE contiguous parameter array in state_dict order, one
 * gradient array of the same layout, backward accumulates.
 *
 * The bidirectional single-stream layer (`GNNLayer` of DGMG.py), node state width C:
 * PyG MessagePassing (aggr 'add') over the edge list concatenated with its reverse; messages of the
 * first half (original edges u -> v) are msg([h_u ; h_v]) (Linear 2C -> 2C), of the second half
 * (the reversed copies v -> u of every original edge u -> v: source v, target u) msg_rev([h_v ; h_u]),
 * all summed at their target, then h <- GRUCell(input 2C, hidden C). Node x therefore receives
 *     a_x = W_s  sum_{u in pred(x)} h_u + indeg(x)  (W_t  h_x + b)
 *         + W'_s sum_{y in succ(x)} h_y + outdeg(x) (W'_t h_x + b')
 * with msg = [W_s | W_t], msg_rev = [W'_s | W'_t] split by columns (source | target). We evaluate
 * it densely: Zf_x = [sum_pred h ; indeg h_x], Zr_x = [sum_succ h ; outdeg h_x] (2C each), and
 * a = Zf msg_w^T + Zr rev_w^T + indeg ⊗ b + outdeg ⊗ b' (two GEMMs, no per-edge work).
 *
 *   Encoder: h0 = Embedding(K,C)[type]; h = layer1(layer0(h0)); mu, logvar = two gated-sum
 *            readouts (C -> D) (lib/nn.h gsum).
 *   z = mu + eps_scale * eps * exp(logvar/2) (training), z = mu (eval); KL summed; as lib/svge.h.
 *   Decoder: SVGe's generator step (lib/decoder.h: NodeAdd, NodeInit, Nodes, GraphEmb/_init
 *            readouts, carried propagated states) with the propagation replaced by the two decoder
 *            bidirectional layers over the partial graph, FORWARD generation only (no backward
 *            pass); loss = (1/B) sum over graphs and their n-1 teacher-forced steps of
 *            CE(type) + mean_u BCE(edge u -> new node) (CE only at the first step).
 *   total = recon + beta * KL.
 *
 * Parameter counts at C = 250, D = 56: 4,872,746 (K=5), 4,873,860 (K=7), 4,874,417 (K=8).
 * The config is lib/svge.h's svge_config (C2 = node_embedding_dim = C here: there are no
 * half-width streams in DGMG; svge_config_check's evenness rule still applies).
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
#include "svge.h"

/* ---- the bidirectional single-stream layer ---- */
typedef struct {
    float *msg_w;   /* (2C,2C) [msg.weight], columns [source | target] */
    float *msg_b;   /* (2C)    [msg.bias] */
    float *rev_w;   /* (2C,2C) [msg_rev.weight] */
    float *rev_b;   /* (2C)    [msg_rev.bias] */
    float *upd_wih; /* (3C,2C) [upd.weight_ih] */
    float *upd_whh; /* (3C,C)  [upd.weight_hh] */
    float *upd_bih; /* (3C)    [upd.bias_ih] */
    float *upd_bhh; /* (3C)    [upd.bias_hh] */
} bimp_params;

#define BIMP_NUM_TENSORS 8
size_t bimp_cache_size(int N, int C);   /* Zf, Zr, a (N,2C each), GRU cache */
size_t bimp_scratch_size(int N, int C); /* da, dZf, dZr, GRU scratch */
/* hout (N,C) (not aliasing h). pred, succ (N): local bitmasks of predecessors and successors of
 * each node within its graph (graph g owns rows offsets[g]..offsets[g+1]-1), see lib/mpass.h. */
void bimp_forward(float *hout, float *cache, const float *h, const uint16_t *pred,
                  const uint16_t *succ, const int *offsets, int G, const bimp_params *p, int C);
/* dh (N,C) += dL/dh (may be NULL); grad (may be NULL) fields accumulated. */
void bimp_backward(float *dh, const bimp_params *grad, float *scratch, const float *dhout,
                   const float *cache, const float *h, const uint16_t *pred, const uint16_t *succ,
                   const int *offsets, int G, const bimp_params *p, int C);

/* ---- parameters ---- */
#define DGMG_LAYERS 2
#define DGMG_ENC_TENSORS (1 + DGMG_LAYERS * BIMP_NUM_TENSORS + 8)
#define DGMG_DEC_TENSORS (DGMG_LAYERS * BIMP_NUM_TENSORS + 8 + 4 + 9 + 4)
#define DGMG_NUM_TENSORS (DGMG_ENC_TENSORS + DGMG_DEC_TENSORS)

/* Field order = tensor order = state_dict order of DGMG (see dgmg_param_name). */
typedef struct {
    float *node_init;               /* (K,C) Encoder.NodeEmb.NodeInit.weight */
    bimp_params enc[DGMG_LAYERS];   /* Encoder.NodeEmb.GNNLayers.<i>.{msg,msg_rev,upd}.* */
    float *mean_f_w, *mean_f_b, *mean_g_w, *mean_g_b; /* Encoder.GraphEmb_mean.{f_m,g_m} */
    float *var_f_w, *var_f_b, *var_g_w, *var_g_b;     /* Encoder.GraphEmb_var.{f_m,g_m} */
    bimp_params dec[DGMG_LAYERS];   /* Decoder.generator.prop.NodeEmb.GNNLayers.<i>.* */
    decoder_params gen;             /* the rest of Decoder.generator (fwd/bwd unused, NULL) */
} dgmg_params;

size_t dgmg_param_count(int K, int C, int D);
const char *dgmg_param_name(int i); /* NULL if out of range */

/* ---- the model ---- */
typedef struct dgmg_dec dgmg_dec; /* decoder activations (dgmg.c) */

typedef struct {
    svge_config cfg;
    decoder_config dcfg;            /* K, C, D */
    size_t num_params;
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
    float *scratch;                 /* backward scratch (encoder and decoder) */
    dgmg_dec *dd;
    float *eps, *z, *dz, *dmu, *dlogvar; /* (max_g,D) */
} dgmg_model;

/* As svge_build / svge_free / svge_init / svge_forward / svge_train_step. */
int dgmg_build(dgmg_model *m, const svge_config *cfg, int max_g, char *err, size_t errlen);
void dgmg_free(dgmg_model *m);
void dgmg_init(dgmg_model *m, rng_mt *r);
int dgmg_forward(dgmg_model *m, const graph *gs, int B, rng_mt *rng, svge_terms *t);
int dgmg_train_step(dgmg_model *m, const graph *gs, int B, rng_mt *rng, svge_terms *t);
/* As svge_encode: eval-mode mu (B,D) and logvar (B,D, unless NULL) of B graphs (any B: chunks of
 * max_g). Returns 0, or -1 if a graph does not fit. */
int dgmg_encode(dgmg_model *m, const graph *gs, int B, float *mu, float *logvar);

/* Teacher-forced decoder alone: the recon loss (batch mean) of B graphs with latents c (B,D), as
 * inside dgmg_forward (no encoder, no backward). Step t's activations: dgmg_decoder_step(m, t)
 * (NULL past the last step), row i = the i-th graph in order of decreasing size (stable).
 * Returns 0, or -1 if a graph does not fit (B > max_g, n > max_n, a type >= K). */
int dgmg_decoder_forward(dgmg_model *m, const graph *gs, const float *c, int B, double *loss);
const dec_step *dgmg_decoder_step(const dgmg_model *m, int t);

/* ---- generation (inference: lib/decode.h, decode_batch_dgmg) ----
 * The generator step of the teacher-forced decoder above, in pieces, exactly as lib/decoder.h's
 * building blocks for SVGe (shared code: a generated graph replayed under dgmg teacher forcing
 * gives the same step logits): dgmg_step_carve lays out one step of A graphs of n nodes in mem
 * (dgmg_step_size floats; the two layers share one cache: no backward), the caller fills s->hin,
 * dgmg_step_logits propagates over the partial graphs (pred, succ, offsets as lib/mpass.h; unused
 * if n == 1) into s->hprop and computes the readouts and the type logits s->logits (A,K); then
 * decoder_step_node (lib/decoder.h) with p->gen gives s->hnew and the edge logits s->s.
 * The reference's DGMG has no max_n forcing and stops at 20 nodes; our graphs hold at most
 * GRAPH_MAX_NODES, hence the cap DGMG_GEN_MAX_NODES. */
#define DGMG_GEN_MAX_NODES (GRAPH_MAX_NODES < 20 ? GRAPH_MAX_NODES : 20)
size_t dgmg_step_size(decoder_config cfg, int A, int n);
void dgmg_step_carve(dec_step *s, float *mem, decoder_config cfg, int A, int n);
void dgmg_step_logits(dec_step *s, const dgmg_params *p, decoder_config cfg, const float *cs,
                      const uint16_t *pred, const uint16_t *succ, const int *offsets);

/* ---- training state and model files: as lib/svge.h's, with config kind "dgmg" (the same config
 * keys; gnn_iteration_layers = DGMG_LAYERS) and the DGMG_NUM_TENSORS tensors by dgmg_param_name. ---- */
#define DGMG_KIND "dgmg"
void dgmg_train_init(svge_train *t, const dgmg_model *m);
void dgmg_update(dgmg_model *m, svge_train *t); /* one Adam step on m->params with m->grads */
void dgmg_save(const char *path, const dgmg_model *m, const mf_value *meta, size_t nmeta,
               char id[MF_ID_LEN + 1]);
void dgmg_save_checkpoint(const char *path, const dgmg_model *m, const svge_train *t,
                          const mf_value *meta, size_t nmeta, char id[MF_ID_LEN + 1]);
/* Dies (exit 1) "<path>: ..." unless f is a dgmg model with a valid config. */
void dgmg_config_read(const model_file *f, svge_config *cfg);
int dgmg_check_file(const dgmg_model *m, const model_file *f, char *err, size_t errlen);
void dgmg_load(dgmg_model *m, const model_file *f);
void dgmg_load_checkpoint(dgmg_model *m, svge_train *t, const model_file *f);

#endif
