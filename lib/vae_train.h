/* vae_train.h: the training state every model kind shares: Adam (lib/adam.h), ReduceLROnPlateau,
 * the epochs done and the run's random stream, and its place in a checkpoint (formats/model.md):
 * Adam's and the scheduler's state, state "epoch" (int) and state "rng" (bin, VAE_RNG_BYTES:
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
} vae_train;

/* Adam over num_params parameters with cfg->lr, a fresh scheduler, epoch 0, rng seeded with cfg->seed. */
void vae_train_setup(vae_train *t, size_t num_params, const vae_config *cfg);
void vae_train_free(vae_train *t);
/* End of an epoch with its mean training loss: scheduler step (the new lr goes to Adam), epoch+1.
 * Returns 1 if the learning rate was reduced. */
int vae_epoch_end(vae_train *t, double loss);

#define VAE_RNG_BYTES (624 * 4 + 4 + 4 + 8)
#define VAE_TRAIN_NSTATE (ADAM_NSTATE + PLATEAU_NSTATE + 2)
/* t's state values (returns their count) and Adam's moment tensors, for a checkpoint; rng_bytes
 * holds the packed rng, which st points into. */
size_t vae_train_save(const vae_train *t, mf_value st[VAE_TRAIN_NSTATE], mf_tensor tens[ADAM_NTENSORS],
                       uint8_t rng_bytes[VAE_RNG_BYTES]);
/* t's Adam, scheduler, epoch and rng from the checkpoint f (t set up for the model's parameter
 * count). Dies (exit 1) "<path>: ..." if any of it is missing or malformed. */
void vae_load_train_state(vae_train *t, const model_file *f);

#endif
