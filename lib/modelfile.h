/* modelfile.h: model files and checkpoints (formats/model.md): "SVGEMDL\0", a format version, one
 * msgpack map (config, meta, state, named float32 tensors), then a 64-bit FNV-1a checksum of all the
 * bytes before it. The checksum, as 16 hex digits, is the model id that records carry in "model".
 *
 * Writing builds the file in memory and writes it with lib/outfile.h: a regular file (or a new
 * one) through "<path>.tmp.<pid>", fsynced and renamed into place (the temporary file removed if
 * the process dies or is killed in between); a device or FIFO (-o /dev/null) written through.
 * Reading checks magic and version on the first 12 bytes, then reads the body only as far as its
 * msgpack lengths say (plus the checksum and one byte, to refuse a longer file), checks the checksum
 * before parsing, bounds every length against the bytes actually present before allocating, and
 * copies the tensors into aligned float arrays.
 * Errors never return from mf_write / mf_read / the mf_get_* lookups: they die with
 * "tool: <path>: problem", exit 1 (EXIT_DATA) for bad content, 3 (EXIT_IO) for I/O failures. */
#ifndef SVGE_MODELFILE_H
#define SVGE_MODELFILE_H

#include <stddef.h>
#include <stdint.h>

#define MF_MAGIC "SVGEMDL" /* plus its terminating NUL: 8 bytes */
#define MF_FORMAT_VERSION 1u
#define MF_MAX_DIMS 8                     /* dimensions per tensor */
#define MF_MAX_FILE_BYTES ((size_t)1 << 31) /* 2 GiB */
#define MF_MAX_ITEMS (1u << 20)           /* msgpack objects in the body */
#define MF_MAX_NAME 255                   /* bytes of a key or tensor name */
#define MF_ID_LEN 16                      /* hex digits of a model id */

/* A value of the config, meta or state maps. Strings and bins are (ptr, len); strings read from a
 * file are also NUL-terminated. */
typedef enum { MF_INT = 1, MF_FLOAT, MF_STR, MF_BIN } mf_kind;
typedef struct {
    const char *key;
    mf_kind kind;
    int64_t i;        /* MF_INT */
    double f;         /* MF_FLOAT (finite) */
    const void *p;    /* MF_STR, MF_BIN: the bytes */
    size_t len;       /* MF_STR, MF_BIN: their count */
} mf_value;

static inline mf_value mf_int(const char *key, int64_t v) { return (mf_value){key, MF_INT, v, 0, NULL, 0}; }
static inline mf_value mf_float(const char *key, double v) { return (mf_value){key, MF_FLOAT, 0, v, NULL, 0}; }
mf_value mf_str(const char *key, const char *s);
static inline mf_value mf_bin(const char *key, const void *p, size_t len) {
    return (mf_value){key, MF_BIN, 0, 0, p, len};
}

/* A named float32 tensor, row-major; count = product of shape (1 for ndim 0). */
typedef struct {
    const char *name;
    int ndim;
    uint64_t shape[MF_MAX_DIMS];
    const float *data;
} mf_tensor;

/* Everything a model file holds. config: space, model kind, dims, options; meta: free (e.g. the
 * training command, dataset, epochs run); state: checkpoint scalars (optimizer, scheduler, RNG,
 * epoch); tensors: parameters, then any checkpoint tensors (e.g. "optim.adam.m"). */
typedef enum { MF_CONFIG = 0, MF_META = 1, MF_STATE = 2 } mf_section;
typedef struct {
    const mf_value *sec[3];   /* indexed by mf_section */
    size_t nsec[3];
    const mf_tensor *tensors;
    size_t ntensors;
} mf_contents;

/* Write c to path atomically. If id is not NULL it receives the model id (16 hex digits + NUL).
 * Dies (exit 1) on contents that cannot be written (duplicate or empty names, too many
 * dimensions, NaN or infinite values), (exit 3) on I/O errors. */
void mf_write(const char *path, const mf_contents *c, char id[MF_ID_LEN + 1]);

typedef struct model_file model_file;

/* Read and validate a model file; dies on any problem. */
model_file *mf_read(const char *path);
/* Parse a model file held in memory (buf, len). Returns NULL with the problem in err (without the
 * name) if it is not a valid model file. The result does not refer to buf. */
model_file *mf_parse(const uint8_t *buf, size_t len, const char *name, char *err, size_t errlen);
void mf_free(model_file *m);

const char *mf_name(const model_file *m);        /* the path, for messages */
const char *mf_id(const model_file *m);          /* 16 lowercase hex digits */
const mf_contents *mf_contents_of(const model_file *m);

/* Lookups. mf_find_* return NULL if absent. */
const mf_value *mf_find(const model_file *m, mf_section s, const char *key);
const mf_tensor *mf_find_tensor(const model_file *m, const char *name);
/* These die with "<path>: ..." (exit 1) if the key is absent or of the wrong kind.
 * mf_get_float takes an integer too. */
int64_t mf_get_int(const model_file *m, mf_section s, const char *key);
double mf_get_float(const model_file *m, mf_section s, const char *key);
const char *mf_get_str(const model_file *m, mf_section s, const char *key);

/* 0 if tensor name exists with exactly this shape; else -1 and err holds e.g.
 * "tensor \"X\" has shape [3,4], this model needs [250,250]" or "no tensor \"X\"". */
int mf_check_tensor(const model_file *m, const char *name, int ndim, const uint64_t *shape, char *err,
                    size_t errlen);
/* The data of tensor name, which must have this shape (dies "<path>: <mf_check_tensor's message>"). */
const float *mf_get_tensor(const model_file *m, const char *name, int ndim, const uint64_t *shape);

/* The 64-bit FNV-1a hash of the bytes (the checksum of formats/model.md). */
uint64_t mf_fnv1a64(const void *p, size_t n);

#endif
