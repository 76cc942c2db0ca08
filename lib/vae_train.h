/* vae_train.h: the training state every model kind shares: Adam (lib/adam.h), ReduceLROnPlateau,
 * the epochs done and the run's random stream, and its place in a checkpoint (formats/model.md):
 * Adam's and the scheduler's state, state "epoch" (int) and state "rng" (bin, SVGE_RNG_BYTES:
 * mt[624] as uint32 LE, pos as int32 LE, has_gauss as int32 LE, gauss as float64 LE). */
#ifndef SVGE_VAE_TRAIN_H
#define SVGE_VAE_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "adam.h"
#include "modelfile.h"
#include "rng.h"
#include "vae_config.h"

typedef struct {
    adam opt;
    plateau sched;    /* ReduceLROnPlateau('min', factor 0.1, patience 10) */
    int64_t epoch;    /* epochs completed */
    rng_mt rng;       /* seeded with cfg.seed */
} svge_train;

/* Adam over num_params parameters with cfg->lr, a fresh scheduler, epoch 0, rng seeded with cfg->seed. */
void svge_train_setup(svge_train *t, size_t num_params, const svge_config *cfg);
void svge_train_free(svge_train *t);
/* End of an epoch with its mean training loss: scheduler step (the new lr goes to Adam), epoch+1.
 * Returns 1 if the learning rate was reduced. */
int svge_epoch_end(svge_train *t, double loss);

#define SVGE_RNG_BYTES (624 * 4 + 4 + 4 + 8)
#define SVGE_TRAIN_NSTATE (ADAM_NSTATE + PLATEAU_NSTATE + 2)
/* t's state values (returns their count) and Adam's moment tensors, for a checkpoint; rng_bytes
 * holds the packed rng, which st points into. */
size_t svge_train_save(const svge_train *t, mf_value st[SVGE_TRAIN_NSTATE], mf_tensor tens[ADAM_NTENSORS],
                       uint8_t rng_bytes[SVGE_RNG_BYTES]);
/* t's Adam, scheduler, epoch and rng from the checkpoint f (t set up for the model's parameter
 * count). Dies (exit 1) "<path>: ..." if any of it is missing or malformed. */
void svge_load_train_state(svge_train *t, const model_file *f);

#endif
