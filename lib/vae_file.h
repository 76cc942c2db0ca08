/* vae_file.h: a model of any kind as a model file (formats/model.md): its config section
 * (lib/vae_config.h), its parameters as named tensors with PyTorch's shapes, and, for a checkpoint,
 * the training state (lib/vae_train.h). */
#ifndef SVGE_VAE_FILE_H
#define SVGE_VAE_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "modelfile.h"
#include "vae_config.h"
#include "vae_train.h"

/* A model's parameters as named tensors: tensor i is name[i] (a persistent string), of ndim[i]
 * dims (1 or 2) and shape shape[i][0], shape[i][1] (0 if 1-d), its elements at params + offset[i]. */
#define VAE_MAX_TENSORS 256 /* SVGe at 8 layers per direction: 226; DGMG: 55; + the head's <= 16 */
typedef struct {
    int n;
    const char *name[VAE_MAX_TENSORS];
    int ndim[VAE_MAX_TENSORS];
    uint64_t shape[VAE_MAX_TENSORS][2];
    size_t offset[VAE_MAX_TENSORS];
    float *params;
} vae_tensors;

/* Write a model file: config kind, cfg, gnn_iteration_layers = layers, the tensors, and t's
 * training state if t is non-NULL (a checkpoint). meta (nmeta values, may be 0) is written as
 * given; id (may be NULL) receives the model id. Write errors die (lib/modelfile.h). */
void vae_write_model(const char *path, const char *kind, const vae_config *cfg, int layers,
                      const vae_tensors *ts, const vae_train *t, const mf_value *meta, size_t nmeta,
                      char id[MF_ID_LEN + 1]);
/* Copy f's tensors (by name and shape) into ts->params; dies (exit 1) if one is missing or of
 * another shape. */
void vae_load_tensors(const vae_tensors *ts, const model_file *f);

#endif
