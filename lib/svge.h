/* svge.h: the whole SVGe VAE for training (svge-reference.md §3.2–3.3, §4.1): the encoder of
 * lib/encoder.h, the reparameterisation, the teacher-forced decoder of lib/decoder.h, the KL term,
 * and their backward, llm.c style: ONE contiguous parameter array (encoder tensors, then decoder
 * tensors, in state_dict order) and one gradient array of the same layout, so that Adam
 * (lib/adam.h) runs over one flat array and saving walks one list of named tensors.
 *
 *   mu, logvar = Encoder(graphs)                                  (B,D) each
 *   training:  z = mu + eps_scale * eps * exp(0.5 * logvar),      eps ~ N(0,1)   (B,D)
 *   eval:      z = mu
 *   recon = Decoder teacher-forced loss with c = z               (mean over the batch)
 *   KL    = -1/2 * sum_{b,d} (1 + logvar - mu^2 - exp(logvar))   (SUMMED over batch and dims)
 *   total = recon + beta * KL
 *
 * Randomness (all from one lib/rng.h stream, so a run is reproducible from its seed alone):
 *   svge_init draws the encoder's parameters, then the decoder's (encoder_init, decoder_init);
 *   every training forward draws eps with B*D calls of rng_gauss, row-major (graph b, then latent
 *   dim d: eps[b*D + d]), after the batch has been validated and before anything else. An eval
 *   forward (rng NULL) draws nothing. A trainer seeds one rng with cfg.seed, calls svge_init with
 *   it, then keeps using it (for shuffling and eps); its state goes into checkpoints. */
#ifndef SVGE_SVGE_H
#define SVGE_SVGE_H

#include <stddef.h>
#include <stdint.h>

#include "adam.h"
#include "decoder.h"
#include "encoder.h"
#include "graph.h"
#include "modelfile.h"
#include "rng.h"
#include "space.h"

#define SVGE_MAX_TENSORS (ENC_MAX_TENSORS + DEC_MAX_TENSORS)
int svge_num_tensors(int layers); /* 82 at the reference's 2 layers per direction */
#define SVGE_MAX_NDIM 4096 /* sanity bounds on dims read from a file */
#define SVGE_MAX_GDIM 1024

typedef struct {
    space_id space;   /* search space; K must be its vocabulary size */
    int K;            /* node types (num_node_atts) */
    int C2;           /* node state (node_embedding_dim, even); the encoder streams hold C2/2 each */
    int D;            /* latent size (graph_embedding_dim) */
    double beta;      /* KL weight (0.005) */
    double eps_scale; /* reparameterisation noise scale (0.01) */
    double lr;        /* Adam learning rate (1e-4) */
    uint32_t seed;    /* the run's rng seed (1) */
    double alpha;     /* step loss 2[(1-alpha) CE(type) + alpha mean BCE(edges)] (0.5: CE + BCE) */
    double plateau_factor; /* ReduceLROnPlateau factor (0.1) */
    int plateau_patience;  /* ReduceLROnPlateau patience in epochs (10) */
    int layers;       /* message-passing layers per direction, encoder and decoder (2), 1..8 */
} svge_config;

/* The reference's defaults for a space: C2 250, D 56, beta 0.005, eps_scale 0.01, lr 1e-4, seed 1,
 * alpha 0.5, plateau factor 0.1 and patience 10, 2 layers. */
svge_config svge_default_config(space_id space);
/* 0 if cfg is usable (known space, K = its vocabulary, C2 even in [2, SVGE_MAX_NDIM],
 * D in [1, SVGE_MAX_GDIM], finite beta, eps_scale, lr >= 0, alpha in [0,1], plateau factor in (0,1),
 * patience in [0, 1000000], layers in [1, ENC_MAX_LAYERS]); else -1 with the reason in err. */
int svge_config_check(const svge_config *cfg, char *err, size_t errlen);
/* 2,245,121 / 2,245,985 / 2,246,417 for K = 5 / 7 / 8 at the default dims. */
size_t svge_param_count(const svge_config *cfg);
/* The state_dict name of tensor i (0 <= i < svge_num_tensors(layers)) of a model with that many
 * layers per direction: encoder names, then decoder names; NULL if out of range. */
const char *svge_param_name(int i, int layers);

/* Loss terms of one forward. */
typedef struct {
    double total, recon, kl; /* total = recon + beta * kl; recon a batch mean, kl a batch sum */
} svge_terms;

typedef struct {
    svge_config cfg;
    encoder_config ecfg;         /* K, C2/2, D, layers */
    decoder_config dcfg;         /* K, C2, D, layers */
    int num_tensors;             /* svge_num_tensors(cfg.layers) */
    size_t num_params, num_enc;  /* all, the encoder's (the decoder's start at params + num_enc) */
    float *params, *grads;       /* (num_params) each */
    encoder_params enc, genc;    /* views into params, grads */
    decoder_params dec, gdec;
    int ndim[SVGE_MAX_TENSORS];  /* tensor shapes (PyTorch's), for saving and loading */
    uint64_t shape[SVGE_MAX_TENSORS][2];
    size_t offset[SVGE_MAX_TENSORS]; /* first element of each tensor in params */
    /* capacity and activations */
    int max_g, max_n;            /* graphs per batch, nodes per graph (the space's maximum) */
    int B;                       /* graphs of the last forward */
    int train;                   /* the last forward drew eps (1) or used z = mu (0) */
    encoder_batch batch;
    float *enc_mem, *enc_scratch;
    encoder_acts ea;
    decoder_acts da;
    float *dec_scratch;
    float *eps, *z, *dz, *dmu, *dlogvar; /* (max_g,D) each */
} svge_model;

/* Allocate a model for batches of up to max_g graphs (parameters zero: call svge_init or load).
 * Returns 0, or -1 with the reason in err if cfg is invalid or memory runs out. */
int svge_build(svge_model *m, const svge_config *cfg, int max_g, char *err, size_t errlen);
void svge_free(svge_model *m);
/* PyTorch-default initialisation: encoder_init, then decoder_init, from r. */
void svge_init(svge_model *m, rng_mt *r);

/* Forward only. rng non-NULL: training mode (draws eps, see the top); NULL: eval mode (z = mu).
 * Every graph needs 0..max_n nodes and types in [0,K); B in [0,max_g]. Returns 0 and fills *t
 * (may be NULL), or -1 (nothing drawn) if the batch does not fit. */
int svge_forward(svge_model *m, const graph *gs, int B, rng_mt *rng, svge_terms *t);
/* Zero the gradients, forward in training mode, backward: m->grads = d total / d params.
 * Returns as svge_forward. The optimiser step is separate (svge_update). */
int svge_train_step(svge_model *m, const graph *gs, int B, rng_mt *rng, svge_terms *t);
/* Eval-mode encoding of B graphs (any B: processed in chunks of max_g): mu (B,D), and logvar
 * (B,D) unless NULL. Returns 0, or -1 if a graph does not fit (outputs then unspecified). */
int svge_encode(svge_model *m, const graph *gs, int B, float *mu, float *logvar);

/* ---- training state: optimiser, scheduler, epoch, rng ---- */
typedef struct {
    adam opt;
    plateau sched;    /* ReduceLROnPlateau('min', factor 0.1, patience 10) */
    int64_t epoch;    /* epochs completed */
    rng_mt rng;       /* seeded with cfg.seed */
} svge_train;

/* Adam over all parameters with cfg.lr, a fresh scheduler, epoch 0, rng seeded with cfg.seed. */
void svge_train_init(svge_train *t, const svge_model *m);
void svge_train_free(svge_train *t);
/* One Adam step on m->params with m->grads. */
void svge_update(svge_model *m, svge_train *t);
/* End of an epoch with its mean training loss: scheduler step (the new lr goes to Adam), epoch+1.
 * Returns 1 if the learning rate was reduced. */
int svge_epoch_end(svge_train *t, double loss);

/* ---- model files (formats/model.md) ----
 * config: kind "svge", space, num_node_atts, node_embedding_dim, graph_embedding_dim,
 * gnn_iteration_layers (ints), beta, eps_scale, learning_rate (floats), seed (int); tensors: the
 * svge_num_tensors(layers) parameters by state_dict name with PyTorch's shapes. A checkpoint adds Adam's
 * and the scheduler's state (lib/adam.h), state "epoch" (int) and state "rng" (bin, SVGE_RNG_BYTES:
 * mt[624] as uint32 LE, pos as int32 LE, has_gauss as int32 LE, gauss as float64 LE).
 * meta (nmeta values, may be 0) is written as given. id (may be NULL) receives the model id.
 * Write errors die (lib/modelfile.h). */
#define SVGE_RNG_BYTES (624 * 4 + 4 + 4 + 8)
void svge_save(const char *path, const svge_model *m, const mf_value *meta, size_t nmeta,
               char id[MF_ID_LEN + 1]);
void svge_save_checkpoint(const char *path, const svge_model *m, const svge_train *t,
                          const mf_value *meta, size_t nmeta, char id[MF_ID_LEN + 1]);
/* The config of a model file (to build a model for it). Dies (exit 1) with "<path>: ..." if it is
 * not an svge model or its config is missing, ill-typed or invalid. */
void svge_config_read(const model_file *f, svge_config *cfg);
/* 0 if f holds an svge model of m's space and shape (kind, space, K, C2, D, layers); else -1 with
 * e.g. "model is for nb201 (num_node_atts 7, ndim 250, gdim 56), this one is nb101
 * (num_node_atts 5, ndim 250, gdim 56)" in err. */
int svge_check_file(const svge_model *m, const model_file *f, char *err, size_t errlen);
/* Copy f's parameters into m. Dies (exit 1) "<path>: ..." if svge_check_file fails or a tensor is
 * missing or of another shape. */
void svge_load(svge_model *m, const model_file *f);
/* svge_load, then t's Adam, scheduler, epoch and rng from the checkpoint (t initialised with
 * svge_train_init for m). Dies (exit 1) if any of it is missing or malformed. */
void svge_load_checkpoint(svge_model *m, svge_train *t, const model_file *f);

/* ---- shared by every model kind that uses svge_config and svge_train (lib/dgmg.h) ----
 * A model's parameters as named tensors: tensor i is name(i, layers), of ndim[i] dims (1 or 2)
 * and shape shape[2i], shape[2i+1], its elements at params + offset[i]. */
typedef struct {
    int n, layers;
    const char *(*name)(int i, int layers);
    const int *ndim;
    const uint64_t *shape;
    const size_t *offset;
    float *params;
} svge_tensors;

/* svge_train_init for a model of num_params parameters and config cfg. */
void svge_train_setup(svge_train *t, size_t num_params, const svge_config *cfg);
/* Write a model file: config kind, cfg, gnn_iteration_layers = layers (as svge_save), the tensors,
 * and t's training state if t is non-NULL (as svge_save_checkpoint). */
void svge_write_model(const char *path, const char *kind, const svge_config *cfg, int layers,
                      const svge_tensors *ts, const svge_train *t, const mf_value *meta, size_t nmeta,
                      char id[MF_ID_LEN + 1]);
/* The config "kind" of f; dies (exit 1) if it is missing or not a string. */
const char *svge_model_kind(const model_file *f);
/* svge_config_read for a model of the given kind and layer count (layers 0: any count from 1 to
 * ENC_MAX_LAYERS, as the file says; cfg->layers is set either way). */
void svge_config_read_kind(const model_file *f, const char *kind, int layers, svge_config *cfg);
/* svge_check_file for a model of the given kind, config c and layer count. */
int svge_check_kind(const char *kind, const svge_config *c, int layers, const model_file *f, char *err,
                    size_t errlen);
/* Copy f's tensors (by name and shape) into ts->params; dies (exit 1) if one is missing or of
 * another shape. */
void svge_load_tensors(const svge_tensors *ts, const model_file *f);
/* t's Adam, scheduler, epoch and rng from the checkpoint f (as svge_load_checkpoint). */
void svge_load_train_state(svge_train *t, const model_file *f);

#endif
