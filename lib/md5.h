/* md5.h: MD5 (RFC 1321), used only for NAS-Bench-101's graph hash. */
#ifndef SVGE_MD5_H
#define SVGE_MD5_H
#include <stddef.h>
#include <stdint.h>
void md5(const void *data, size_t len, uint8_t digest[16]);
/* 32 lowercase hex characters and a NUL. */
void md5_hex(const uint8_t digest[16], char hex[33]);

/* Many short messages at once (sixteen lanes with AVX2, else one by one), for callers that build
 * their messages in buffers with MD5_PAD_MAX bytes to spare: md5_pad appends the padding in place
 * and returns the number of 64-byte blocks; md5_many then sets digest[i] = MD5 of the message
 * that was padded into msg[i] (nblocks[i] blocks). The environment variable SVGE_NO_SIMD forces
 * the one-by-one code (to test it on machines with AVX2). */
#define MD5_PAD_MAX 72
size_t md5_pad(uint8_t *msg, size_t len);
void md5_many(const uint8_t *const msg[], const size_t nblocks[], size_t count, uint8_t (*digest)[16]);
#endif
