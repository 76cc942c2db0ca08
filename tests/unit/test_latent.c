/* test_latent.c: lib/latent.c: packing then reading a latent gives the floats back; placeholders
 * filled in place are the bytes latent_pack writes; every malformed "z" is refused with a message;
 * "model" must be the model's id (or absent, if allowed).
 * Prints "N passed, M failed"; exits 1 on any failure. */
#include <stdio.h>
#include <string.h>

#include "latent.h"
#include "record.h"

#include "check.h"

/* A record {"v": 1, <pack>} unpacked into u. */
static const msgpack_object *unpack(msgpack_sbuffer *sb, msgpack_unpacked *u) {
    msgpack_unpacked_init(u);
    size_t off = 0;
    return msgpack_unpack_next(u, sb->data, sb->size, &off) == MSGPACK_UNPACK_SUCCESS ? &u->data : NULL;
}

int main(void) {
    const float v[3] = {1.5f, -2.25f, 3e-7f};
    msgpack_sbuffer a, b;
    msgpack_packer pa, pb;
    msgpack_sbuffer_init(&a);
    msgpack_sbuffer_init(&b);
    msgpack_packer_init(&pa, &a, msgpack_sbuffer_write);
    msgpack_packer_init(&pb, &b, msgpack_sbuffer_write);

    msgpack_pack_map(&pa, 2);
    pack_kv_i64(&pa, "v", 1);
    latent_pack(&pa, LATENT_KEY, v, 3);
    msgpack_pack_map(&pb, 2);
    pack_kv_i64(&pb, "v", 1);
    size_t off = latent_pack_slots(&pb, &b, LATENT_KEY, 3);
    latent_fill(b.data + off, v, 3);
    CHECK(a.size == b.size && memcmp(a.data, b.data, a.size) == 0);

    msgpack_unpacked u;
    const msgpack_object *rec = unpack(&a, &u);
    CHECK(rec != NULL);
    float z[3];
    char why[256];
    CHECK(latent_read(rec, LATENT_KEY, 3, z, why, sizeof why) == 0);
    CHECK(memcmp(z, v, sizeof z) == 0);
    CHECK(latent_read(rec, LATENT_KEY, 4, z, why, sizeof why) == -1 && strstr(why, "has 3 numbers"));
    CHECK(latent_read(rec, LATENT_LOGVAR_KEY, 3, z, why, sizeof why) == -1 &&
          strcmp(why, "no \"z_logvar\" field") == 0);
    CHECK(latent_check_model(rec, "0123456789abcdef", 0, why, sizeof why) == -1 &&
          strstr(why, "no \"model\" field"));
    CHECK(latent_check_model(rec, "0123456789abcdef", 1, why, sizeof why) == 0);
    msgpack_unpacked_destroy(&u);

    /* "model": this model's id, another's, not a string */
    const char *ids[3] = {"0123456789abcdef", "fedcba9876543210", NULL};
    for (int i = 0; i < 3; i++) {
        a.size = 0;
        msgpack_pack_map(&pa, 1);
        if (ids[i]) pack_kv_str(&pa, LATENT_MODEL_KEY, ids[i]);
        else pack_kv_i64(&pa, LATENT_MODEL_KEY, 3);
        rec = unpack(&a, &u);
        int rc = latent_check_model(rec, "0123456789abcdef", 1, why, sizeof why);
        CHECK(i == 0 ? rc == 0
                     : rc == -1 && strstr(why, i == 1 ? "latent from model fedcba9876543210, this is model 0123456789abcdef"
                                                      : "field \"model\" is an integer, not a string"));
        msgpack_unpacked_destroy(&u);
    }

    /* malformed: not an array; an element not a number; float64 out of float32 range */
    struct { int kind; const char *want; } bad[] = {{0, "not an array"}, {1, "element 1 is a string"},
                                                    {2, "out of float32 range"}};
    for (int i = 0; i < 3; i++) {
        a.size = 0;
        msgpack_pack_map(&pa, 1);
        pack_cstr(&pa, "z");
        if (bad[i].kind == 0) {
            pack_cstr(&pa, "x");
        } else {
            msgpack_pack_array(&pa, 2);
            msgpack_pack_double(&pa, 0.5);
            if (bad[i].kind == 1) pack_cstr(&pa, "x");
            else msgpack_pack_double(&pa, 1e39);
        }
        rec = unpack(&a, &u);
        int r = latent_read(rec, LATENT_KEY, 2, z, why, sizeof why);
        CHECK(r == -1 && strstr(why, bad[i].want));
        if (r != -1 || !strstr(why, bad[i].want)) fprintf(stderr, "  case %d: %s\n", i, why);
        msgpack_unpacked_destroy(&u);
    }
    msgpack_sbuffer_destroy(&a);
    msgpack_sbuffer_destroy(&b);
    return check_summary();
}
