/* vae.h: the one home of the model kinds: a model file's kind (config "kind") picks SVGe
 * (lib/svge.h) or the DGMG baseline (lib/dgmg.h), and every tool goes through this interface to
 * build, initialise, train, save, load, encode and decode either, with no branches of its own.
 * Both kinds share the config (vae_config), the training state (vae_train), the model-file
 * layout (lib/modelfile.h) and the decoder (lib/decoder.h, with the kind's propagation); decoding is
 * lib/generate.h's generation with the kind's decoder and its options (DGMG: forward only, no forced
 * END, at most DGMG_GEN_MAX_NODES nodes). A new kind or head (the surrogate) slots in here. */
#ifndef SVGE_VAE_H
#define SVGE_VAE_H

#include <stdbool.h>

#include "generate.h"
#include "dgmg.h"
#include "modelfile.h"
#include "regressor.h"
#include "svge.h"

typedef enum { VAE_SVGE = 0, VAE_DGMG = 1 } vae_kind;

typedef struct {
    vae_kind kind;
    vae_config cfg;
    svge_model s;            /* kind VAE_SVGE */
    dgmg_model d;            /* kind VAE_DGMG */
    size_t num_params;
    float *params, *grads;   /* the kind's flat arrays (num_params each) */
    const decoder_params *dec; /* the decoder's parameters, for generation */
    decoder_config dcfg;     /* the decoder's config */
    int max_n;               /* the encoder's node limit (the space's maximum) */
    int gen_max_n;           /* the decoder's node limit: the space's maximum, DGMG_GEN_MAX_NODES */
    bool open_end;           /* generation has no forced END (DGMG) */
    const float *mu, *logvar; /* (max_g,D) the encoder's outputs of the last forward */
    const decoder_acts *da;  /* the teacher-forced decoder's activations of the last forward */
    vae_tensors tensors;     /* the parameters as named tensors (lib/vae_file.h), the head's last */
    /* the surrogate head (cfg.head_layers > 0): its parameters follow the model's in params */
    size_t num_model;        /* the model's own parameters (params[0 .. num_model)) */
    regressor_config hcfg;   /* {D, head_layers} */
    regressor_params head, ghead; /* views into params, grads */
    float *hacts, *hscratch, *dpred, *dmu; /* (max_g) head activations, scratch, (max_g), (max_g,D) */
    int max_g;
    char id[MF_ID_LEN + 1];  /* the model file's id (vae_load) */
    par_pool *pool;          /* not owned (vae_set_pool); NULL = no threads */
} vae_model;

/* "svge", "dgmg". */
const char *vae_kind_name(vae_kind k);
/* 0 and *k for a known kind name, else -1. */
int vae_kind_by_name(const char *name, vae_kind *k);

/* Build a model of kind k for batches of up to max_g graphs (parameters zero: vae_init or load).
 * Returns 0, or -1 with the reason in err (invalid cfg, no memory). */
int vae_build(vae_model *m, vae_kind k, const vae_config *cfg, int max_g, char *err, size_t errlen);
void vae_free(vae_model *m);
/* PyTorch-default initialisation from r (the kind's own draw order). */
void vae_init(vae_model *m, rng_mt *r);
/* Threads for training steps, teacher-forced forwards and updates (lib/parallel.h; NULL: none):
 * SVGe's encoder streams and decoder directions (svge_set_pool), the gradient zeroing and Adam. The
 * results are the same bits for every thread count. Inference (vae_encode, generation) is
 * unaffected: its threads run whole batches (lib/vae_team.h). */
void vae_set_pool(vae_model *m, par_pool *pool);

/* Forward only: training mode (rng non-NULL draws eps) or eval mode (z = mu); *t may be NULL.
 * Returns 0, or -1 if the batch does not fit. */
int vae_forward(vae_model *m, const graph *gs, int B, rng_mt *rng, vae_terms *t);
/* ---- the surrogate head (SVGE_acc, formats/reference.md §3.4, §4.2) ----
 * A model built with cfg.head_layers > 0 carries the regression MLP of lib/regressor.h on the
 * encoder's mean mu; its tensors ("Accuracy.lin_layers.*") and config keys (regression_layers,
 * regression_target, regression_loss_proportion) are saved with the model, so one file encodes,
 * decodes and predicts. Fine-tuning trains everything on
 *     total = w (recon + beta KL) + (1 - w) MSE(head(mu), y),   w = cfg.head_vae_weight (0.1). */
/* Forward with the head: the model's forward (as vae_forward), the head on mu, the MSE against
 * y (B) and the total above into *t (may be NULL). 0, or -1 if the batch does not fit or the model
 * has no head. */
int vae_surrogate_forward(vae_model *m, const graph *gs, const double *y, int B, rng_mt *rng, vae_terms *t);
/* Zero the gradients, vae_surrogate_forward, backward of the total. Returns as it. */
int vae_surrogate_step(vae_model *m, const graph *gs, const double *y, int B, rng_mt *rng, vae_terms *t);
/* The head's outputs out (B) for latent means mu (B,D) (any B), in its own units: the target is
 * cfg.head_y_mean + cfg.head_y_std * out (predict applies it). 0, or -1 without a head. */
int vae_predict(vae_model *m, const float *mu, int B, float *out);
/* The surrogate head alone from a model file, without building the VAE (for `predict`): its
 * config into *cfg and its parameters into *p, in *mem (regressor_param_count floats; free it).
 * 0, or -1 if f has no head (nothing read). Dies (exit 1) "<file>: ..." on a bad config or a
 * missing or misshapen head tensor. */
int vae_head_read(const model_file *f, vae_config *cfg, regressor_params *p, float **mem);

/* Zero the gradients, forward in training mode (rng non-NULL draws eps) or eval mode, backward.
 * Returns 0, or -1 if the batch does not fit. */
int vae_train_step(vae_model *m, const graph *gs, int B, rng_mt *rng, vae_terms *t);
/* Adam over all parameters with cfg.lr, a fresh scheduler, epoch 0, rng seeded with cfg.seed. */
void vae_train_init(vae_train *t, const vae_model *m);
/* One Adam step on the parameters with the gradients (on the pool's threads: adam_step_par). */
void vae_update(vae_model *m, vae_train *t);

/* Write the model file (formats/model.md), with t's training state if t is non-NULL (a
 * checkpoint). Write errors die (lib/modelfile.h). */
void vae_save(const char *path, const vae_model *m, const vae_train *t, const mf_value *meta, size_t nmeta,
              char id[MF_ID_LEN + 1]);
/* The kind and config of a model file; dies (exit 1) "<file>: ..." on an unknown kind or a bad config. */
void vae_config_read(const model_file *f, vae_kind *k, vae_config *cfg);
/* Build m from f (kind and config from the file) with batches of up to max_g graphs and load its
 * tensors. Dies "<file>: ..." if it cannot: exit 1 on a bad kind, config or tensor, 3 if memory
 * runs out. */
void vae_load(vae_model *m, const model_file *f, int max_g);
/* f's tensors into m (built for f's kind and shape; other config values such as the learning rate
 * may differ). A head's tensors are loaded if f has the head; a file without one leaves m's head
 * as it is (fine-tuning starts a fresh head on a trained VAE). Dies (exit 1) "<file>: ..." if f is
 * of another kind or shape, has a head of another shape, or a tensor is missing. */
void vae_load_params(vae_model *m, const model_file *f);
/* f's tensors and training state into m (built for f's kind and config) and t (vae_train_init'ed).
 * Dies (exit 1) "<file>: ..." if any of it is missing or malformed. */
void vae_load_checkpoint(vae_model *m, vae_train *t, const model_file *f);

/* Eval-mode mu (B,D) and logvar (B,D, unless NULL) of B graphs (any B). 0, or -1 if a graph does
 * not fit. */
int vae_encode(vae_model *m, const graph *gs, int B, float *mu, float *logvar);
/* m's parameters will not change any more (it only encodes): the encoder folds its layers' weights
 * once instead of checking them at every batch (lib/mpass.h, mpass_foldset_freeze). Same bits. */
void vae_freeze(vae_model *m);
/* A generation workspace for up to max_b rows of up to m->gen_max_n nodes (lib/generate.h). */
int vae_generate_ws_init(generate_ws *w, const vae_model *m, int max_b);
/* generate_batch with m's decoder and the kind's options added to o (forward only and open end for
 * DGMG). */
int vae_generate_batch(generate_ws *w, const vae_model *m, const float *c, int B, const uint64_t *ids,
                     const generate_opts *o, graph *out, uint8_t *flags);

#endif
