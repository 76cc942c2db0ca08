/* cifar.h: CIFAR-10 images and labels, from the project's .jpgrec files or the standard binary batches.
 *
 * Two input formats, told apart by their first bytes and size:
 *  - .jpgrec (data/cifar10/SOURCES.md; all integers little-endian):
 *      "CIFJPG01", uint32 N, then N records: uint8 label (0..9), uint16 L (1..65535), L bytes of a
 *      32x32 3-component JPEG. Decoded with libjpeg(-turbo) from memory to RGB.
 *  - the CIFAR-10 "binary version" (data_batch_1.bin .. test_batch.bin): records of 1 label byte
 *    then 3072 pixel bytes (1024 R, 1024 G, 1024 B planes, rows top to bottom); recognised when the
 *    magic is absent and the file size is a non-zero multiple of 3073.
 * Everything is validated (magic, counts against the file size, every label and length, every
 * JPEG's size and components; libjpeg's errors AND warnings, e.g. a truncated JPEG, are errors).
 * Records are numbered from 0 in messages, like "record k" in SOURCES.md.
 *
 * Pixels are kept as bytes, CHW per image (the binary format's own layout): 50,000 images take
 * 154 MB as bytes but 614 MB as floats, and augmentation (random crop, flip) works on bytes.
 * cifar_normalize / cifar_batch turn them into the float CHW the network takes,
 * (x/255 - mean[c]) / std[c] with the usual CIFAR-10 statistics (CIFAR_MEAN, CIFAR_STD). */
#ifndef SVGE_CIFAR_H
#define SVGE_CIFAR_H

#include <stddef.h>
#include <stdint.h>

enum { CIFAR_SIDE = 32, CIFAR_CHANNELS = 3, CIFAR_PIXELS = 3 * 32 * 32, CIFAR_CLASSES = 10 };

/* Per-channel (R,G,B) mean and std of the CIFAR-10 training images on the [0,1] scale:
 * mean = (125.3, 123.0, 113.9)/255, std = (63.0, 62.1, 66.7)/255, the values NAS-Bench-201's
 * training code (and many CIFAR-10 recipes) use. */
extern const float CIFAR_MEAN[3], CIFAR_STD[3];

typedef struct {
    int n;            /* number of images */
    uint8_t *pixels;  /* (n,3,32,32) bytes 0..255: R plane, G plane, B plane per image */
    uint8_t *labels;  /* (n) 0..9 */
} cifar_set;

/* Read path into set (which the caller later frees with cifar_free). max_n > 0 reads only the first
 * max_n records (the rest of the file is not checked); max_n <= 0 reads all and rejects trailing
 * bytes. Returns 0, or EXIT_IO (cannot open/read) or EXIT_DATA (malformed) with "path: ..." in err
 * and set left empty. Does not exit, except when memory runs out (xmalloc). */
int cifar_read(cifar_set *set, const char *path, int max_n, char *err, size_t errlen);
/* The same, but a failure is fatal: die(EXIT_IO or EXIT_DATA, "path: record k: ..."). */
void cifar_load(cifar_set *set, const char *path, int max_n);
void cifar_free(cifar_set *set);

/* out (count,3,32,32) floats = normalized pixels (count,3,32,32) bytes. */
void cifar_normalize(float *out, const uint8_t *pixels, int count);
/* Gather a batch: x (count,3,32,32) normalized, y (count) labels, of images idx[0..count-1]
 * (idx NULL: images 0..count-1). */
void cifar_batch(float *x, int *y, const cifar_set *set, const int *idx, int count);

#endif
