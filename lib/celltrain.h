/* celltrain.h: training a cellnet on CIFAR-10: augmentation, optimizers, schedule, evaluation.
 *
 * The recipe is NAS-Bench-101's (Ying et al. 2019, nasbench/lib/model_builder.py and its config;
 * formats/reference.md §5.6 for SVGe's use of it), in TensorFlow's semantics:
 *  - loss: mean softmax cross-entropy + weight_decay * sum(p^2)/2 over ALL trainable parameters
 *    (tf.nn.l2_loss of every trainable variable, BN gamma/beta and biases included), so the
 *    gradient gets + weight_decay * p;
 *  - the gradient's global L2 norm is clipped to `clip` (0: no clipping);
 *  - RMSprop as tf.train.RMSPropOptimizer(lr, decay rho=0.9, momentum, epsilon): ms starts at 1,
 *    ms = rho*ms + (1-rho)*g^2; mom = momentum*mom + lr*g/sqrt(ms+eps); p -= mom;
 *    or SGD with momentum as torch.optim.SGD: buf = momentum*buf + g; p -= lr*buf;
 *  - learning rate per step: cosine decay to 0 over all steps, 0.5*lr*(1+cos(pi*step/steps)),
 *    and 0 at step 0 (NAS-Bench-101 "initialises the weights without training" on the first batch);
 *  - augmentation: random crop of the image zero-padded by 4 pixels (black, before normalisation),
 *    then a horizontal flip with probability 1/2; evaluation images are only normalised;
 *  - an epoch is a seeded permutation of the training images cut into floor(n/batch) batches (the
 *    incomplete rest is dropped, as tf.data with drop_remainder; a set smaller than one batch is
 *    one batch of all of it).
 * Everything draws from one MT19937 in a fixed order, so a run is bitwise deterministic, and its
 * state is a plain struct that a checkpoint saves and restores. */
#ifndef SVGE_CELLTRAIN_H
#define SVGE_CELLTRAIN_H

#include <stdint.h>

#include "cellnet.h"
#include "cifar.h"
#include "rng.h"

typedef enum { CT_RMSPROP = 0, CT_SGD = 1 } celltrain_opt;

typedef struct {
    int epochs, batch;
    celltrain_opt opt;
    double lr, momentum, weight_decay, clip;
    double rms_eps, rms_rho; /* RMSprop epsilon (NB101: 1.0) and decay (TF default 0.9) */
    uint32_t seed;
} celltrain_config;

/* The whole mutable state of a run besides the network's params and buffers. */
typedef struct {
    int epoch;          /* epochs completed */
    int64_t step;       /* optimizer steps taken */
    rng_mt rng;
    float *m1, *m2;     /* optimizer state (n_params each): RMSprop mom, ms; SGD buf, unused */
    size_t n;
} celltrain_state;

/* Batches per epoch for n training images. */
int celltrain_batches(int n, int batch);
/* Seed the RNG, initialise the network's parameters from it, and zero the optimizer (ms = 1). */
void celltrain_start(celltrain_state *st, cellnet *net, const celltrain_config *cfg);
void celltrain_free(celltrain_state *st);

/* Learning rate at a step of a run of `steps` steps. */
double celltrain_lr(const celltrain_config *cfg, int64_t step, int64_t steps);

/* After cellnet_backward: add weight decay to the gradient, clip its global norm, take one
 * optimizer step at learning rate lr. */
void celltrain_update(cellnet *net, celltrain_state *st, const celltrain_config *cfg, double lr);

/* x (B,3,32,32) normalised, augmented (crop + flip, drawn from r) images idx[0..B-1] of set. */
void celltrain_augment(float *x, const cifar_set *set, const uint32_t *idx, int B, rng_mt *r);

typedef struct {
    double loss;      /* mean cross-entropy over the epoch's batches (without the L2 term) */
    double accuracy;  /* fraction of the epoch's (augmented) training images classified right */
    double lr;        /* the learning rate of its last step */
    int nonfinite;    /* 1 if a loss or gradient was NaN/Inf (the epoch stopped there) */
} celltrain_epoch_stats;

/* One epoch over set (the network compiled for at least min(batch, set->n) images).
 * progress, if not NULL, is called after every batch with (batches done, batches per epoch). */
celltrain_epoch_stats celltrain_epoch(cellnet *net, celltrain_state *st, const celltrain_config *cfg,
                                      const cifar_set *set, void (*progress)(void *, int, int),
                                      void *arg);

/* Accuracy (fraction) of the network in evaluation mode on the first n images of set (n <= 0: all),
 * in batches of at most net->max_batch. */
double celltrain_evaluate(cellnet *net, const cifar_set *set, int n);

#endif
