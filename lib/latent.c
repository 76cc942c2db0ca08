/* latent.c: packing and reading records' latent points (see latent.h). */
#include "latent.h"

#include <stdio.h>
#include <string.h>

#include "record.h"

#define FLOAT32_MAX 3.4028234663852886e38

int latent_read(const msgpack_object *rec, const char *key, int D, float *z, char *why, size_t whylen) {
    const msgpack_object *o = rec_get(rec, key);
    if (!o) return snprintf(why, whylen, "no \"%s\" field", key), -1;
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return snprintf(why, whylen, "field \"%s\" is %s, not an array of numbers", key, obj_type_name(o)), -1;
    if ((int64_t)o->via.array.size != D)
        return snprintf(why, whylen, "field \"%s\" has %u numbers, this model's latent has %d", key,
                        o->via.array.size, D), -1;
    for (int d = 0; d < D; d++) {
        const msgpack_object *e = &o->via.array.ptr[d];
        if (!obj_is_number(e))
            return snprintf(why, whylen, "field \"%s\": element %d is %s, not a number", key, d, obj_type_name(e)), -1;
        const double x = obj_double(e);
        if (!(x >= -FLOAT32_MAX && x <= FLOAT32_MAX))
            return snprintf(why, whylen, "field \"%s\": element %d (%g) is out of float32 range", key, d, x), -1;
        z[d] = (float)x;
    }
    return 0;
}

int latent_check_model(const msgpack_object *rec, const char *id, int any_model, char *why, size_t whylen) {
    const char *mid;
    uint32_t mlen;
    const size_t idlen = strlen(id);
    int got = rec_get_str(rec, LATENT_MODEL_KEY, &mid, &mlen);
    if (got < 0)
        return snprintf(why, whylen, "field \"%s\" is %s, not a string", LATENT_MODEL_KEY,
                        obj_type_name(rec_get(rec, LATENT_MODEL_KEY))), -1;
    if (got == 0 && !any_model)
        return snprintf(why, whylen, "no \"%s\" field: a latent of unknown origin (--any-model accepts it)",
                        LATENT_MODEL_KEY), -1;
    if (got == 1 && (mlen != idlen || memcmp(mid, id, idlen) != 0))
        return snprintf(why, whylen, "latent from model %.*s, this is model %s", mlen > 64 ? 64 : (int)mlen, mid, id), -1;
    return 0;
}

void latent_pack(msgpack_packer *pk, const char *key, const float *v, int D) {
    pack_cstr(pk, key);
    msgpack_pack_array(pk, (size_t)D);
    for (int d = 0; d < D; d++) msgpack_pack_float(pk, v[d]);
}

size_t latent_pack_slots(msgpack_packer *pk, const msgpack_sbuffer *sb, const char *key, int D) {
    pack_cstr(pk, key);
    msgpack_pack_array(pk, (size_t)D);
    size_t off = sb->size;
    for (int d = 0; d < D; d++) msgpack_pack_float(pk, 0.0f);
    return off;
}

/* msgpack float32: 0xca, then the big-endian bits. */
void latent_fill(char *p, const float *v, int D) {
    for (int d = 0; d < D; d++, p += 5) {
        uint32_t bits;
        memcpy(&bits, &v[d], 4);
        p[0] = (char)0xca;
        p[1] = (char)(bits >> 24);
        p[2] = (char)(bits >> 16);
        p[3] = (char)(bits >> 8);
        p[4] = (char)bits;
    }
}
