/* record.c: field access and packing helpers for records (see record.h). */
#include "record.h"

#include <string.h>

const msgpack_object *rec_get(const msgpack_object *map, const char *key) {
    if (!map || map->type != MSGPACK_OBJECT_MAP) return NULL;
    size_t n = strlen(key);
    const msgpack_object_kv *kv = map->via.map.ptr;
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &kv[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n && memcmp(k->via.str.ptr, key, n) == 0)
            return &kv[i].val;
    }
    return NULL;
}

bool obj_is_str(const msgpack_object *o, const char *s) {
    size_t n = strlen(s);
    return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == n && memcmp(o->via.str.ptr, s, n) == 0;
}

bool obj_is_number(const msgpack_object *o) {
    return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER || o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ||
           o->type == MSGPACK_OBJECT_FLOAT32 || o->type == MSGPACK_OBJECT_FLOAT64;
}

double obj_double(const msgpack_object *o) {
    switch (o->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER: return (double)o->via.u64;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return (double)o->via.i64;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: return o->via.f64;
    default: return 0.0;
    }
}

const char *obj_type_name(const msgpack_object *o) {
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: return "nil";
    case MSGPACK_OBJECT_BOOLEAN: return "a boolean";
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "an integer";
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: return "a float";
    case MSGPACK_OBJECT_STR: return "a string";
    case MSGPACK_OBJECT_ARRAY: return "an array";
    case MSGPACK_OBJECT_MAP: return "a map";
    case MSGPACK_OBJECT_BIN: return "binary";
    default: return "an extension";
    }
}

int rec_get_str(const msgpack_object *map, const char *key, const char **s, uint32_t *len) {
    const msgpack_object *o = rec_get(map, key);
    if (!o) return 0;
    if (o->type != MSGPACK_OBJECT_STR) return -1;
    *s = o->via.str.ptr;
    *len = o->via.str.size;
    return 1;
}

int rec_get_double(const msgpack_object *map, const char *key, double *out) {
    const msgpack_object *o = rec_get(map, key);
    if (!o) return 0;
    if (!obj_is_number(o)) return -1;
    *out = obj_double(o);
    return 1;
}

int rec_get_i64(const msgpack_object *map, const char *key, int64_t *out) {
    const msgpack_object *o = rec_get(map, key);
    if (!o) return 0;
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= (uint64_t)INT64_MAX) {
        *out = (int64_t)o->via.u64;
        return 1;
    }
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *out = o->via.i64;
        return 1;
    }
    return -1;
}

void pack_cstr(msgpack_packer *pk, const char *s) {
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

void pack_kv_str(msgpack_packer *pk, const char *key, const char *val) {
    pack_cstr(pk, key);
    pack_cstr(pk, val);
}

void pack_kv_double(msgpack_packer *pk, const char *key, double val) {
    pack_cstr(pk, key);
    msgpack_pack_double(pk, val);
}

void pack_kv_i64(msgpack_packer *pk, const char *key, int64_t val) {
    pack_cstr(pk, key);
    msgpack_pack_int64(pk, val);
}

void pack_kv_bool(msgpack_packer *pk, const char *key, bool val) {
    pack_cstr(pk, key);
    if (val) msgpack_pack_true(pk);
    else msgpack_pack_false(pk);
}

static bool dropped(const msgpack_object *k, const char *const *drop) {
    for (; drop && *drop; drop++)
        if (obj_is_str(k, *drop)) return true;
    return false;
}

/* Bytes of the map header at raw (fixmap, map 16 or map 32), 0 if raw is not a map's. */
static size_t map_header_len(const char *raw, size_t len) {
    const unsigned char c = len ? (unsigned char)raw[0] : 0;
    if (c >= 0x80 && c <= 0x8f) return 1;
    if (c == 0xde) return 3;
    if (c == 0xdf) return 5;
    return 0;
}

void pack_enriched_begin(msgpack_packer *pk, const msgpack_object *in, const char *raw, size_t raw_len,
                         const char *const *drop, uint32_t n_new) {
    const msgpack_object_kv *kv = in->via.map.ptr;
    uint32_t keep = 0;
    for (uint32_t i = 0; i < in->via.map.size; i++)
        if (!dropped(&kv[i].key, drop)) keep++;
    msgpack_pack_map(pk, keep + n_new);
    const size_t h = raw ? map_header_len(raw, raw_len) : 0;
    if (h && keep == in->via.map.size) { /* nothing dropped: the fields' bytes as they came */
        pk->callback(pk->data, raw + h, raw_len - h);
        return;
    }
    for (uint32_t i = 0; i < in->via.map.size; i++) {
        if (dropped(&kv[i].key, drop)) continue;
        msgpack_pack_object(pk, kv[i].key);
        msgpack_pack_object(pk, kv[i].val);
    }
}
