/* vae_config.h: the configuration every model kind shares (SVGe, lib/svge.h; DGMG, lib/dgmg.h):
 * dimensions, loss weights, optimiser and scheduler settings, the seed; its defaults (the
 * reference's), its checks, and its reading from and writing to the config section of a model file
 * (formats/model.md: kind, space, num_node_atts, node_embedding_dim, graph_embedding_dim,
 * gnn_iteration_layers, beta, eps_scale, learning_rate, seed, alpha, plateau_factor,
 * plateau_patience). */
#ifndef SVGE_VAE_CONFIG_H
#define SVGE_VAE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "modelfile.h"
#include "space.h"

#define VAE_MAX_NDIM 4096 /* sanity bounds on dims read from a file */
#define VAE_MAX_GDIM 1024

#define VAE_TARGET_MAX 64 /* bytes of a target field name, with its NUL */

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
    /* the surrogate head (lib/regressor.h), absent if head_layers is 0 (the default) */
    int head_layers;  /* num_regression_layers (the reference's 4), 0..REG_MAX_LAYERS */
    char head_target[VAE_TARGET_MAX]; /* the record field the head predicts */
    double head_vae_weight; /* regression_loss_proportion: loss = w (recon + beta KL) + (1 - w) MSE (0.1) */
    /* the head's units: it learns t = (y - head_y_mean) / head_y_std and predicts
     * head_y_mean + head_y_std * head(mu); 0 and 1 (the reference: the raw target) unless
     * svge-train --standardize-target set them to the training targets' mean and deviation */
    double head_y_mean, head_y_std;
    /* the VAE's parameters fine-tune at lr * head_vae_lr_scale, the head's at lr: 1 (the reference)
     * unless svge-train --vae-lr-scale set it; 0 freezes the VAE */
    double head_vae_lr_scale;
} vae_config;

/* The reference's defaults for a space: C2 250, D 56, beta 0.005, eps_scale 0.01, lr 1e-4, seed 1,
 * alpha 0.5, plateau factor 0.1 and patience 10, 2 layers; no surrogate head (its weight 0.1). */
vae_config vae_default_config(space_id space);
/* 0 if cfg is usable (known space, K = its vocabulary, C2 even in [2, VAE_MAX_NDIM],
 * D in [1, VAE_MAX_GDIM], finite beta, eps_scale, lr >= 0, alpha in [0,1], plateau factor in (0,1),
 * patience in [0, 1000000], layers in [1, ENC_MAX_LAYERS]); else -1 with the reason in err. */
int vae_config_check(const vae_config *cfg, char *err, size_t errlen);
/* Loss terms of one forward. */
typedef struct {
    double total, recon, kl; /* total = recon + beta * kl; recon a batch mean, kl a batch sum; with the
                              * surrogate head: total = w (recon + beta kl) + (1 - w) mse */
    double mse;              /* the head's mean squared error (0 without the head) */
} vae_terms;

#define VAE_CONFIG_MAX 19 /* values of the config section: 13, and 3 to 6 with the surrogate head */
/* Parameters of the surrogate head of cfg (0 without one): they follow the model's own in its
 * parameter array (lib/vae.h). */
size_t vae_head_param_count(const vae_config *cfg);
/* The config section's values for a model of this kind with cfg and layer count; returns their
 * count. With a head: regression_layers, regression_target, regression_loss_proportion, and
 * regression_target_mean and regression_target_std unless they are 0 and 1, regression_vae_lr_scale
 * unless it is 1. */
size_t vae_config_values(mf_value v[VAE_CONFIG_MAX], const char *kind, const vae_config *cfg, int layers);
/* The config "kind" of f; dies (exit 1) if it is missing or not a string. */
const char *vae_model_kind(const model_file *f);
/* The config of a model file of the given kind and layer count (layers 0: any count from 1 to
 * ENC_MAX_LAYERS, as the file says; cfg->layers is set either way). Dies (exit 1) with
 * "<path>: ..." if f is of another kind or its config is missing, ill-typed or invalid. */
void vae_config_read_kind(const model_file *f, const char *kind, int layers, vae_config *cfg);
/* 0 if f holds a model of the given kind, space and shape (K, C2, D, layers) of c; else -1 with
 * e.g. "model is for nb201 (num_node_atts 7, ndim 250, gdim 56, 2 layers), this one is nb101 (...)"
 * in err. */
int vae_check_kind(const char *kind, const vae_config *c, int layers, const model_file *f, char *err,
                    size_t errlen);

#endif
