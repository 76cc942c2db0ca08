/* record.h: reading fields of a record (a msgpack map with string keys) and packing new ones.
 *
 * Getters return 1 if the field is present with the right type, 0 if absent, and -1 if it is
 * present with the wrong type (the caller reports it, usually via rr_fail). Nothing here exits. Numbers: any msgpack
 * int or float is accepted where a double is wanted; ints must fit where an integer is wanted. */
#ifndef SVGE_RECORD_H
#define SVGE_RECORD_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

/* The value of key in map, or NULL. */
const msgpack_object *rec_get(const msgpack_object *map, const char *key);
bool obj_is_str(const msgpack_object *o, const char *s);        /* o is the string s */
bool obj_is_number(const msgpack_object *o);
double obj_double(const msgpack_object *o);                        /* o must be a number */
int rec_get_str(const msgpack_object *map, const char *key, const char **s, uint32_t *len);
int rec_get_double(const msgpack_object *map, const char *key, double *out);
int rec_get_i64(const msgpack_object *map, const char *key, int64_t *out);
/* A msgpack type as a word for messages: "string", "array", ... */
const char *obj_type_name(const msgpack_object *o);

/* Pack helpers. */
void pack_cstr(msgpack_packer *pk, const char *s);
void pack_kv_str(msgpack_packer *pk, const char *key, const char *val);
void pack_kv_double(msgpack_packer *pk, const char *key, double val);
void pack_kv_i64(msgpack_packer *pk, const char *key, int64_t val);
void pack_kv_bool(msgpack_packer *pk, const char *key, bool val);

/* Begin an enriched copy of record `in`: packs a map header for all of in's fields except those
 * named in drop[] (NULL-terminated, may be NULL), plus n_new, then packs the kept fields in their
 * original order. The caller then packs exactly n_new key/value pairs. This is how a filter adds
 * or replaces fields while passing every field it does not know through unchanged.
 * raw, raw_len: in's own msgpack bytes (rr_raw), or NULL: when no field is dropped, the fields are
 * copied from them instead of packed again (the same bytes for a minimally packed record, as msgpack-c
 * and this project's tools pack; repacking is a light filter's largest per-record cost otherwise). */
void pack_enriched_begin(msgpack_packer *pk, const msgpack_object *in, const char *raw, size_t raw_len,
                         const char *const *drop, uint32_t n_new);

#endif
