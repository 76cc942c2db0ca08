/* vae.c: SVGe or DGMG, by the model file's kind; see vae.h. */
#include "vae.h"

#include <stdio.h>
#include <string.h>

int vae_load(vae_model *m, const model_file *f, int max_g, char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    m->dgmg = strcmp(svge_model_kind(f), DGMG_KIND) == 0;
    if (m->dgmg) dgmg_config_read(f, &m->cfg);
    else svge_config_read(f, &m->cfg);
    if (m->dgmg ? dgmg_build(&m->d, &m->cfg, max_g, err, errlen) : svge_build(&m->s, &m->cfg, max_g, err, errlen))
        return -1;
    if (m->dgmg) dgmg_load(&m->d, f);
    else svge_load(&m->s, f);
    m->dcfg = m->dgmg ? m->d.dcfg : m->s.dcfg;
    m->max_n = m->dgmg ? m->d.max_n : m->s.max_n;
    m->gen_max_n = m->dgmg ? DGMG_GEN_MAX_NODES : m->s.max_n;
    snprintf(m->id, sizeof m->id, "%s", mf_id(f));
    return 0;
}

void vae_free(vae_model *m) {
    if (m->dgmg) dgmg_free(&m->d);
    else svge_free(&m->s);
}

int vae_encode(vae_model *m, const graph *gs, int B, float *mu, float *logvar) {
    return m->dgmg ? dgmg_encode(&m->d, gs, B, mu, logvar) : svge_encode(&m->s, gs, B, mu, logvar);
}

int vae_decode_ws_init(decode_ws *w, const vae_model *m, int max_b) {
    return m->dgmg ? decode_ws_init_dgmg(w, m->dcfg, max_b, m->gen_max_n)
                   : decode_ws_init(w, m->dcfg, max_b, m->gen_max_n);
}

int vae_decode_batch(decode_ws *w, const vae_model *m, const float *c, int B, const uint64_t *ids,
                     const decode_opts *o, graph *out, uint8_t *flags) {
    return m->dgmg ? decode_batch_dgmg(w, &m->d.p, c, B, ids, o, out, flags)
                   : decode_batch(w, &m->s.dec, c, B, ids, o, out, flags);
}
