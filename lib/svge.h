/* svge.h: the whole SVGe VAE for training (formats/reference.md §3.2–3.3, §4.1): the encoder of
 * lib/encoder.h, the reparameterisation, the teacher-forced decoder of lib/decoder.h, the KL term,
 * and their backward, llm.c style: ONE contiguous parameter array (encoder tensors, then decoder
 * tensors, in state_dict order) and one gradient array of the same layout, so that Adam
 * (lib/adam.h) runs over one flat array and saving walks one list of named tensors. A surrogate
 * head's parameters, if the config has one, follow in the same arrays (lib/vae.h owns the head).
 * This file is the model's maths; the config (lib/vae_config.h), the training state
 * (lib/vae_train.h) and the model-file code (lib/vae_file.h) are shared with DGMG (lib/dgmg.h), and
 * tools reach either kind through lib/vae.h.
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

#include "decoder.h"
#include "encoder.h"
#include "graph.h"
#include "modelfile.h"
#include "rng.h"
#include "space.h"
#include "vae_config.h"
#include "vae_file.h"
#include "vae_train.h"

#define SVGE_MAX_TENSORS (ENC_MAX_TENSORS + DEC_MAX_TENSORS)
int svge_num_tensors(int layers); /* 82 at the reference's 2 layers per direction */
/* 2,245,121 / 2,245,985 / 2,246,417 for K = 5 / 7 / 8 at the default dims. */
size_t svge_param_count(const vae_config *cfg);
/* The state_dict name of tensor i (0 <= i < svge_num_tensors(layers)) of a model with that many
 * layers per direction: encoder names, then decoder names; NULL if out of range. */
const char *svge_param_name(int i, int layers);

typedef struct {
    vae_config cfg;
    encoder_config ecfg;         /* K, C2/2, D, layers */
    decoder_config dcfg;         /* K, C2, D, layers */
    int num_tensors;             /* svge_num_tensors(cfg.layers) */
    size_t num_params, num_enc;  /* all, the encoder's (the decoder's start at params + num_enc) */
    size_t num_model;            /* the encoder's and decoder's; a surrogate head's follow (lib/vae.h) */
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
    par_pool *pool;              /* not owned (svge_set_pool); NULL = no threads */
} svge_model;

/* Allocate a model for batches of up to max_g graphs (parameters zero: call svge_init or load).
 * Returns 0, or -1 with the reason in err if cfg is invalid or memory runs out. */
int svge_build(svge_model *m, const vae_config *cfg, int max_g, char *err, size_t errlen);
void svge_free(svge_model *m);
/* Run the encoder's streams and readouts and the decoder's two directions as tasks on pool
 * (lib/parallel.h; NULL: none). The results are the same bits for every thread count. */
void svge_set_pool(svge_model *m, par_pool *pool);
/* PyTorch-default initialisation: encoder_init, then decoder_init, from r. */
void svge_init(svge_model *m, rng_mt *r);

/* Forward only. rng non-NULL: training mode (draws eps, see the top); NULL: eval mode (z = mu).
 * Every graph needs 0..max_n nodes and types in [0,K); B in [0,max_g]. Returns 0 and fills *t
 * (may be NULL), or -1 (nothing drawn) if the batch does not fit. */
int svge_forward(svge_model *m, const graph *gs, int B, rng_mt *rng, vae_terms *t);
/* Zero the gradients, forward in training mode, backward: m->grads = d total / d params.
 * Returns as svge_forward. The optimiser step is separate (lib/vae.h vae_update, or adam_step on params and grads). */
int svge_train_step(svge_model *m, const graph *gs, int B, rng_mt *rng, vae_terms *t);
/* Backward of the last forward: m->grads += d total / d params (no zeroing). */
void svge_backward(svge_model *m);
/* The encoder's backward alone for an extra gradient dmu (B,D) of the last forward's mu
 * (a surrogate head's): m->grads += (the encoder's share). */
void svge_encoder_backward(svge_model *m, const float *dmu);
/* Eval-mode encoding of B graphs (any B: processed in chunks of max_g): mu (B,D), and logvar
 * (B,D) unless NULL. Returns 0, or -1 if a graph does not fit (outputs then unspecified). */
int svge_encode(svge_model *m, const graph *gs, int B, float *mu, float *logvar);

/* m's parameters as named tensors (lib/vae_file.h). */
vae_tensors svge_tensor_table(const svge_model *m);
/* ---- model files (formats/model.md) ----
 * config kind "svge" (lib/vae_config.h); tensors: the svge_num_tensors(layers) parameters by
 * state_dict name with PyTorch's shapes; a checkpoint adds the training state (lib/vae_train.h).
 * Through lib/vae_file.h; meta (nmeta values, may be 0) is written as given, id (may be NULL)
 * receives the model id, write errors die (lib/modelfile.h). */
/* m, and t's training state if t is non-NULL (a checkpoint). */
void svge_save(const char *path, const svge_model *m, const vae_train *t, const mf_value *meta, size_t nmeta,
               char id[MF_ID_LEN + 1]);
/* The config of a model file (to build a model for it). Dies (exit 1) with "<path>: ..." if it is
 * not an svge model or its config is missing, ill-typed or invalid. */
void svge_config_read(const model_file *f, vae_config *cfg);
/* 0 if f holds an svge model of m's space and shape (kind, space, K, C2, D, layers); else -1 with
 * e.g. "model is for nb201 (num_node_atts 7, ndim 250, gdim 56), this one is nb101
 * (num_node_atts 5, ndim 250, gdim 56)" in err. */
int svge_check_file(const svge_model *m, const model_file *f, char *err, size_t errlen);
/* Copy f's parameters into m. Dies (exit 1) "<path>: ..." if svge_check_file fails or a tensor is
 * missing or of another shape. */
void svge_load(svge_model *m, const model_file *f);

#endif
