/* adam.h: torch.optim.Adam and torch.optim.lr_scheduler.ReduceLROnPlateau as in PyTorch 1.5 (the
 * reference's pinned version), over one flat float array (llm.c style), with their state saved in
 * and restored from a model file (formats/model.md, "Checkpoints").
 *
 * Adam (defaults betas 0.9/0.999, eps 1e-8, no weight decay, no amsgrad), per element, t = step:
 *   m = b1*m + (1-b1)*g            exp_avg.mul_(b1).add_(1-b1, g)
 *   v = b2*v + (1-b2)*g*g          exp_avg_sq.mul_(b2).addcmul_(1-b2, g, g)
 *   denom = sqrt(v)/sqrt(1-b2^t) + eps
 *   p = p - (lr/(1-b1^t)) * m / denom
 * The bias corrections, step size and sqrt(1-b2^t) are computed in double (Python floats) and
 * rounded to float32 where they meet a tensor, as PyTorch does; tensor arithmetic is float32 in
 * PyTorch's order. The m update is fused (fmaf), like PyTorch's vectorised add kernel (fmadd).
 *
 * ReduceLROnPlateau (mode 'min', threshold_mode 'rel'), stepped once per epoch with a loss:
 *   better: loss < best*(1-threshold); else num_bad_epochs += 1;
 *   in cooldown: cooldown_counter -= 1, num_bad_epochs = 0;
 *   num_bad_epochs > patience: lr = max(lr*factor, min_lr) (only if that lowers it by more than
 *   eps = 1e-8), cooldown_counter = cooldown, num_bad_epochs = 0. */
#ifndef SVGE_ADAM_H
#define SVGE_ADAM_H

#include <stddef.h>
#include <stdint.h>

#include "modelfile.h"
#include "parallel.h"

typedef struct {
    double lr, beta1, beta2, eps; /* hyperparameters (Python floats) */
    size_t n_scaled;              /* elements [0, n_scaled) step at lr * scale (0 after adam_init) */
    double scale;                 /* (1 after adam_init; 0 freezes them: their update is exactly 0) */
    int64_t step;                 /* steps taken (PyTorch's state['step']) */
    size_t n;                     /* parameters */
    float *m, *v;                 /* (n) first and second moments, zero at the start */
} adam;

/* n parameters, PyTorch defaults and learning rate lr; moments zeroed (xcalloc). The caller may then
 * set n_scaled and scale (svge-train --vae-lr-scale: the VAE's parameters, before the surrogate
 * head's, at a fraction of the head's rate); the moments of every element update as usual. */
void adam_init(adam *a, size_t n, double lr);
void adam_free(adam *a);
/* One step: params -= update(grads). params and grads: (n). Eight elements at a time on a CPU with
 * AVX2 and FMA, bit-identical to the one-at-a-time update. */
void adam_step(adam *a, float *params, const float *grads);
/* adam_step with the vector path on (vector = 1, where the CPU has it) or off (0): for the test
 * that the two agree bit for bit. */
void adam_step_impl(adam *a, float *params, const float *grads, int vector);
/* adam_step as ADAM_TASKS tasks on pool (lib/parallel.h; NULL: in order), each a range of the
 * elements: the update is elementwise, so the result is adam_step's bit for bit. */
#define ADAM_TASKS 2
void adam_step_par(adam *a, float *params, const float *grads, par_pool *pool);

typedef struct {
    double lr;              /* the optimizer's learning rate, updated by plateau_step */
    double factor, threshold, min_lr, eps;
    int patience, cooldown;
    double best;            /* best loss so far (+inf at the start) */
    int num_bad_epochs, cooldown_counter;
    int64_t last_epoch;     /* epochs stepped (PyTorch starts at 0 and counts from 1) */
} plateau;

/* PyTorch defaults with factor and patience as given (reference: 0.1, 10); lr: the optimizer's. */
void plateau_init(plateau *s, double lr, double factor, int patience);
/* One epoch's loss. Returns 1 if the learning rate was reduced (s->lr holds the new one). */
int plateau_step(plateau *s, double loss);

/* ---- saving in a model file ----
 * Adam: tensors "optim.adam.m", "optim.adam.v" (shape [n]); state "optim.adam.step", ".lr",
 * ".beta1", ".beta2", ".eps". Plateau: state "sched.plateau.*" for each field of plateau
 * ("best" is absent while it is still +inf). */
#define ADAM_NSTATE 5
#define ADAM_NTENSORS 2
#define PLATEAU_NSTATE 11
/* Fill the values and tensors that describe a (pointing into a: keep a alive until written). */
void adam_save(const adam *a, mf_value vals[ADAM_NSTATE], mf_tensor tens[ADAM_NTENSORS]);
/* Returns the number of values filled (PLATEAU_NSTATE, or one less while best is +inf). */
size_t plateau_save(const plateau *s, mf_value vals[PLATEAU_NSTATE]);
/* Restore from a checkpoint; a must be initialised for n parameters (dies if the model's moments
 * have another size or a value is missing). */
void adam_load(adam *a, const model_file *m);
void plateau_load(plateau *s, const model_file *m);

#endif
