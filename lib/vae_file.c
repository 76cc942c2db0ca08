/* vae_file.c: model files of every kind as named tensors; see vae_file.h. */
#include "vae_file.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void vae_write_model(const char *path, const char *kind, const vae_config *cfgp, int layers,
                      const vae_tensors *ts, const vae_train *t, const mf_value *meta, size_t nmeta,
                      char id[MF_ID_LEN + 1]) {
    mf_value cfg[VAE_CONFIG_MAX];
    const size_t ncfg = vae_config_values(cfg, kind, cfgp, layers);
    mf_tensor *tens = xcalloc((size_t)ts->n + ADAM_NTENSORS, sizeof *tens);
    for (int i = 0; i < ts->n; i++) {
        tens[i].name = ts->name[i];
        tens[i].ndim = ts->ndim[i];
        tens[i].shape[0] = ts->shape[i][0];
        tens[i].shape[1] = ts->shape[i][1];
        tens[i].data = ts->params + ts->offset[i];
    }
    mf_value st[VAE_TRAIN_NSTATE];
    uint8_t rb[VAE_RNG_BYTES];
    size_t nst = 0, nt = (size_t)ts->n;
    if (t) {
        nst = vae_train_save(t, st, tens + ts->n, rb);
        nt += ADAM_NTENSORS;
    }
    mf_contents c = {{cfg, meta, st}, {ncfg, meta ? nmeta : 0, nst}, tens, nt};
    mf_write(path, &c, id);
    free(tens);
}

void vae_load_tensors(const vae_tensors *ts, const model_file *f) {
    for (int i = 0; i < ts->n; i++) {
        const uint64_t *sh = ts->shape[i];
        const float *d = mf_get_tensor(f, ts->name[i], ts->ndim[i], sh);
        size_t n = (size_t)sh[0] * (ts->ndim[i] == 2 ? (size_t)sh[1] : 1);
        memcpy(ts->params + ts->offset[i], d, n * sizeof(float));
    }
}

