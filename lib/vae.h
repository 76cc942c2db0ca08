/* vae.h: a model file of either kind, SVGe (lib/svge.h) or the DGMG baseline (lib/dgmg.h, config
 * kind "dgmg"), loaded for the tools that encode and decode with either (svge-encode, svge-decode,
 * svge-metrics): one call to load, encode, set up decoding and decode, dispatching on the kind.
 * Decoding: SVGe's decode_batch, or DGMG's decode_batch_dgmg (forward only, no forced END, at most
 * DGMG_GEN_MAX_NODES nodes; lib/decode.h). */
#ifndef SVGE_VAE_H
#define SVGE_VAE_H

#include <stdbool.h>

#include "decode.h"
#include "dgmg.h"
#include "modelfile.h"
#include "svge.h"

typedef struct {
    bool dgmg;               /* config kind "dgmg" */
    svge_config cfg;
    svge_model s;            /* kind svge */
    dgmg_model d;            /* kind dgmg */
    decoder_config dcfg;     /* the decoder's K, C2, D */
    int max_n;               /* the encoder's node limit (the space's maximum) */
    int gen_max_n;           /* the decoder's node limit: the space's maximum, DGMG_GEN_MAX_NODES */
    char id[MF_ID_LEN + 1];  /* the model file's id */
} vae_model;

/* Build m from f with encoder batches of up to max_g graphs and load its tensors. Dies (exit 1)
 * "<file>: ..." on a bad config or tensor; returns -1 with err if the model cannot be built
 * (bad size, no memory), else 0. */
int vae_load(vae_model *m, const model_file *f, int max_g, char *err, size_t errlen);
void vae_free(vae_model *m);
/* svge_encode or dgmg_encode. */
int vae_encode(vae_model *m, const graph *gs, int B, float *mu, float *logvar);
/* decode_ws_init or decode_ws_init_dgmg, for up to max_b rows of up to m->gen_max_n nodes. */
int vae_decode_ws_init(decode_ws *w, const vae_model *m, int max_b);
/* decode_batch or decode_batch_dgmg with m's parameters. */
int vae_decode_batch(decode_ws *w, const vae_model *m, const float *c, int B, const uint64_t *ids,
                     const decode_opts *o, graph *out, uint8_t *flags);

#endif
