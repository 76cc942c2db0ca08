/* latent.h: the latent point of a record (formats/records.md): "z" (and "z_logvar"), an array of
 * float32 of the model's graph_embedding_dim. The one owner of how latents are packed and read:
 * svge-encode writes them (in place, after a batch is encoded), svge-decode reads and writes them.
 * Nothing here dies: reading returns -1 with a message for the caller's rr_fail. */
#ifndef SVGE_LATENT_H
#define SVGE_LATENT_H

#include <msgpack.h>
#include <stddef.h>

#define LATENT_KEY "z"
#define LATENT_LOGVAR_KEY "z_logvar"
#define LATENT_MODEL_KEY "model" /* the id of the model that made the latent (modelfile.h: MF_ID_LEN hex digits) */

/* The record's field key as D floats into z: an array of D numbers (float32 or float64, each in
 * float32 range). 0, or -1 with why ("no \"z\" field", "field \"z\" has 3 numbers, ..."). */
int latent_read(const msgpack_object *rec, const char *key, int D, float *z, char *why, size_t whylen);

/* The record's latent is from the model id: its "model" is id, or it has none and any_model is set.
 * 0, or -1 with why ("latent from model X, this is model Y", ...). */
int latent_check_model(const msgpack_object *rec, const char *id, int any_model, char *why, size_t whylen);

/* Pack the pair key: [v[0], ..., v[D-1]] as float32. */
void latent_pack(msgpack_packer *pk, const char *key, const float *v, int D);

/* Pack the pair key: [D float32 placeholders] into sb (pk packs into sb) and return the offset in
 * sb of the first placeholder, for latent_fill once the values are known. The bytes after
 * latent_fill are those latent_pack writes. */
size_t latent_pack_slots(msgpack_packer *pk, const msgpack_sbuffer *sb, const char *key, int D);
/* Overwrite the D placeholders at p (sb->data + the offset) with v. */
void latent_fill(char *p, const float *v, int D);

#endif
