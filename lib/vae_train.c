/* vae_train.c: the training state of every model kind; see vae_train.h. */
#include "vae_train.h"

#include <math.h>
#include <string.h>

#include "util.h"

void vae_train_setup(vae_train *t, size_t num_params, const vae_config *cfg) {
    memset(t, 0, sizeof *t);
    adam_init(&t->opt, num_params, cfg->lr);
    plateau_init(&t->sched, cfg->lr, cfg->plateau_factor, cfg->plateau_patience);
    t->epoch = 0;
    rng_seed(&t->rng, cfg->seed);
}

void vae_train_free(vae_train *t) {
    adam_free(&t->opt);
    memset(t, 0, sizeof *t);
}

int vae_epoch_end(vae_train *t, double loss) {
    int r = plateau_step(&t->sched, loss);
    t->opt.lr = t->sched.lr;
    t->epoch++;
    return r;
}

static void put_u32(uint8_t *p, uint32_t v) {
    for (int k = 0; k < 4; k++) p[k] = (uint8_t)(v >> (8 * k));
}
static uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}


static void rng_pack(uint8_t out[VAE_RNG_BYTES], const rng_mt *r) {
    for (int k = 0; k < 624; k++) put_u32(out + 4 * k, r->mt[k]);
    put_u32(out + 2496, (uint32_t)r->pos);
    put_u32(out + 2500, (uint32_t)r->has_gauss);
    uint64_t g;
    memcpy(&g, &r->gauss, 8);
    put_u32(out + 2504, (uint32_t)g);
    put_u32(out + 2508, (uint32_t)(g >> 32));
}

static int rng_unpack(rng_mt *r, const uint8_t *in) {
    for (int k = 0; k < 624; k++) r->mt[k] = get_u32(in + 4 * k);
    int32_t pos = (int32_t)get_u32(in + 2496), hg = (int32_t)get_u32(in + 2500);
    uint64_t g = (uint64_t)get_u32(in + 2504) | (uint64_t)get_u32(in + 2508) << 32;
    if (pos < 0 || pos > 624 || (hg != 0 && hg != 1)) return -1;
    r->pos = pos;
    r->has_gauss = hg;
    memcpy(&r->gauss, &g, 8);
    if (!isfinite(r->gauss)) return -1;
    return 0;
}


size_t vae_train_save(const vae_train *t, mf_value st[VAE_TRAIN_NSTATE], mf_tensor tens[ADAM_NTENSORS],
                       uint8_t rng_bytes[VAE_RNG_BYTES]) {
    size_t nst = ADAM_NSTATE;
    adam_save(&t->opt, st, tens);
    nst += plateau_save(&t->sched, st + nst);
    st[nst++] = mf_int("epoch", t->epoch);
    rng_pack(rng_bytes, &t->rng);
    st[nst++] = mf_bin("rng", rng_bytes, VAE_RNG_BYTES);
    return nst;
}

void vae_load_train_state(vae_train *t, const model_file *f) {
    adam_load(&t->opt, f);
    plateau_load(&t->sched, f);
    int64_t e = mf_get_int(f, MF_STATE, "epoch");
    if (e < 0) die(EXIT_DATA, "%s: state \"epoch\" is negative", mf_name(f));
    t->epoch = e;
    const mf_value *r = mf_find(f, MF_STATE, "rng");
    if (!r || r->kind != MF_BIN || r->len != VAE_RNG_BYTES)
        die(EXIT_DATA, "%s: state \"rng\" is missing or not a %d-byte bin", mf_name(f), VAE_RNG_BYTES);
    if (rng_unpack(&t->rng, r->p)) die(EXIT_DATA, "%s: state \"rng\" is malformed", mf_name(f));
}
