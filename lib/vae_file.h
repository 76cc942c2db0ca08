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

/* A model's parameters as named tensors: tensor i is name(i, layers), of ndim[i] dims (1 or 2)
 * and shape shape[2i], shape[2i+1], its elements at params + offset[i]. */
typedef struct {
    int n, layers;
    const char *(*name)(int i, int layers);
    const int *ndim;
    const uint64_t *shape;
    const size_t *offset;
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
