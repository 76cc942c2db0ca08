/* md5.c: MD5 (RFC 1321) for short messages, one at a time or sixteen at a time (AVX2).
 *
 * The graph hash computes tens of millions of digests of 40..500-byte messages, so there is no
 * streaming context: md5() hashes a message in one call (full blocks straight from the caller's
 * buffer, the padded tail from a local copy), and md5_many() runs messages that the caller padded
 * in place in the lanes of 256-bit vectors when the CPU has AVX2 (checked once at run time). */
#include "md5.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MD5_HAVE_AVX2 1
#include <immintrin.h>
#endif

static const uint32_t K[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

static const uint32_t IV[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};

/* The 64 steps, written once for both the scalar and the vector code. S(f, a,b,c,d, word, step,
 * shift) is one step; the word index per step follows RFC 1321 §3.4. */
#define MD5_STEPS(S, F, G, H, I)                                                                   \
    S(F, a, b, c, d, 0, 0, 7);   S(F, d, a, b, c, 1, 1, 12);  S(F, c, d, a, b, 2, 2, 17);           \
    S(F, b, c, d, a, 3, 3, 22);  S(F, a, b, c, d, 4, 4, 7);   S(F, d, a, b, c, 5, 5, 12);           \
    S(F, c, d, a, b, 6, 6, 17);  S(F, b, c, d, a, 7, 7, 22);  S(F, a, b, c, d, 8, 8, 7);            \
    S(F, d, a, b, c, 9, 9, 12);  S(F, c, d, a, b, 10, 10, 17); S(F, b, c, d, a, 11, 11, 22);        \
    S(F, a, b, c, d, 12, 12, 7); S(F, d, a, b, c, 13, 13, 12); S(F, c, d, a, b, 14, 14, 17);        \
    S(F, b, c, d, a, 15, 15, 22);                                                                  \
    S(G, a, b, c, d, 1, 16, 5);  S(G, d, a, b, c, 6, 17, 9);  S(G, c, d, a, b, 11, 18, 14);         \
    S(G, b, c, d, a, 0, 19, 20); S(G, a, b, c, d, 5, 20, 5);  S(G, d, a, b, c, 10, 21, 9);          \
    S(G, c, d, a, b, 15, 22, 14); S(G, b, c, d, a, 4, 23, 20); S(G, a, b, c, d, 9, 24, 5);          \
    S(G, d, a, b, c, 14, 25, 9); S(G, c, d, a, b, 3, 26, 14); S(G, b, c, d, a, 8, 27, 20);          \
    S(G, a, b, c, d, 13, 28, 5); S(G, d, a, b, c, 2, 29, 9);  S(G, c, d, a, b, 7, 30, 14);          \
    S(G, b, c, d, a, 12, 31, 20);                                                                  \
    S(H, a, b, c, d, 5, 32, 4);  S(H, d, a, b, c, 8, 33, 11); S(H, c, d, a, b, 11, 34, 16);         \
    S(H, b, c, d, a, 14, 35, 23); S(H, a, b, c, d, 1, 36, 4); S(H, d, a, b, c, 4, 37, 11);          \
    S(H, c, d, a, b, 7, 38, 16); S(H, b, c, d, a, 10, 39, 23); S(H, a, b, c, d, 13, 40, 4);         \
    S(H, d, a, b, c, 0, 41, 11); S(H, c, d, a, b, 3, 42, 16); S(H, b, c, d, a, 6, 43, 23);          \
    S(H, a, b, c, d, 9, 44, 4);  S(H, d, a, b, c, 12, 45, 11); S(H, c, d, a, b, 15, 46, 16);        \
    S(H, b, c, d, a, 2, 47, 23);                                                                   \
    S(I, a, b, c, d, 0, 48, 6);  S(I, d, a, b, c, 7, 49, 10); S(I, c, d, a, b, 14, 50, 15);         \
    S(I, b, c, d, a, 5, 51, 21); S(I, a, b, c, d, 12, 52, 6); S(I, d, a, b, c, 3, 53, 10);          \
    S(I, c, d, a, b, 10, 54, 15); S(I, b, c, d, a, 1, 55, 21); S(I, a, b, c, d, 8, 56, 6);          \
    S(I, d, a, b, c, 15, 57, 10); S(I, c, d, a, b, 6, 58, 15); S(I, b, c, d, a, 13, 59, 21);        \
    S(I, a, b, c, d, 4, 60, 6);  S(I, d, a, b, c, 11, 61, 10); S(I, c, d, a, b, 2, 62, 15);         \
    S(I, b, c, d, a, 9, 63, 21)

/* ---- scalar ---- */

#define SF(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define SG(x, y, z) ((y) ^ ((z) & ((x) ^ (y))))
#define SH(x, y, z) ((x) ^ (y) ^ (z))
#define SI(x, y, z) ((y) ^ ((x) | ~(z)))
#define SSTEP(f, a, b, c, d, k, i, s)                                                              \
    do {                                                                                           \
        a += f(b, c, d) + w[k] + K[i];                                                             \
        a = (a << s) | (a >> (32 - s));                                                            \
        a += b;                                                                                    \
    } while (0)

static inline uint32_t load_le32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

static inline void store_le32(uint8_t *p, uint32_t v) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    memcpy(p, &v, 4);
}

static void md5_block(uint32_t st[4], const uint8_t *blk) {
    uint32_t w[16];
    for (int i = 0; i < 16; i++) w[i] = load_le32(blk + 4 * i);
    uint32_t a = st[0], b = st[1], c = st[2], d = st[3];
    MD5_STEPS(SSTEP, SF, SG, SH, SI);
    st[0] += a;
    st[1] += b;
    st[2] += c;
    st[3] += d;
}

/* The padded tail of a message of len bytes whose full blocks end at tail: 1 or 2 blocks into
 * buf[128]. Returns the number of blocks. */
static int md5_tail(const uint8_t *tail, size_t len, uint8_t buf[128]) {
    size_t r = len & 63;
    int nb = r < 56 ? 1 : 2;
    if (r) memcpy(buf, tail, r); /* tail may be NULL when len is 0 */
    buf[r] = 0x80;
    memset(buf + r + 1, 0, (size_t)nb * 64 - 8 - r - 1);
    uint64_t bits = (uint64_t)len << 3;
    store_le32(buf + nb * 64 - 8, (uint32_t)bits);
    store_le32(buf + nb * 64 - 4, (uint32_t)(bits >> 32));
    return nb;
}

void md5(const void *data, size_t len, uint8_t digest[16]) {
    const uint8_t *p = data;
    uint32_t st[4] = {IV[0], IV[1], IV[2], IV[3]};
    size_t full = len >> 6;
    for (size_t i = 0; i < full; i++) md5_block(st, p + 64 * i);
    uint8_t buf[128];
    int nb = md5_tail(full ? p + 64 * full : p, len, buf);
    for (int i = 0; i < nb; i++) md5_block(st, buf + 64 * i);
    for (int i = 0; i < 4; i++) store_le32(digest + 4 * i, st[i]);
}

void md5_hex(const uint8_t digest[16], char hex[33]) {
    static const char xd[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        hex[2 * i] = xd[digest[i] >> 4];
        hex[2 * i + 1] = xd[digest[i] & 15];
    }
    hex[32] = 0;
}

size_t md5_pad(uint8_t *msg, size_t len) {
    size_t nb = (len + 8) / 64 + 1;
    memset(msg + len, 0, nb * 64 - len);
    msg[len] = 0x80;
    uint64_t bits = (uint64_t)len << 3;
    store_le32(msg + nb * 64 - 8, (uint32_t)bits);
    store_le32(msg + nb * 64 - 4, (uint32_t)(bits >> 32));
    return nb;
}

static void md5_many_scalar(const uint8_t *const msg[], const size_t nblocks[], size_t count,
                            uint8_t (*digest)[16]) {
    for (size_t m = 0; m < count; m++) {
        uint32_t st[4] = {IV[0], IV[1], IV[2], IV[3]};
        for (size_t k = 0; k < nblocks[m]; k++) md5_block(st, msg[m] + 64 * k);
        for (int i = 0; i < 4; i++) store_le32(digest[m] + 4 * i, st[i]);
    }
}

/* ---- sixteen lanes (AVX2) ----
 * Two groups of eight lanes run interleaved: one MD5 step is a chain of ~6 dependent vector ops,
 * so a single group leaves the vector units mostly idle. Each lane walks its own message block by
 * block; a lane that finishes writes its digest and takes the next message, so lengths may
 * differ. Idle lanes hash a dummy block. */
#ifdef MD5_HAVE_AVX2

#define VT __attribute__((target("avx2")))
#define VF(x, y, z) _mm256_xor_si256(z, _mm256_and_si256(x, _mm256_xor_si256(y, z)))
#define VG(x, y, z) _mm256_xor_si256(y, _mm256_and_si256(z, _mm256_xor_si256(x, y)))
#define VH(x, y, z) _mm256_xor_si256(_mm256_xor_si256(x, y), z)
#define VI(x, y, z) _mm256_xor_si256(y, _mm256_or_si256(x, _mm256_xor_si256(z, ones)))
/* a + (w + K) first, so that only one add waits for f(b, c, d). */
#define VSTEP1(f, a, b, c, d, w, k, i, s)                                                          \
    do {                                                                                           \
        a = _mm256_add_epi32(_mm256_add_epi32(a, _mm256_add_epi32(w[k], _mm256_set1_epi32((int)K[i]))), \
                             f(b, c, d));                                                          \
        a = _mm256_or_si256(_mm256_slli_epi32(a, s), _mm256_srli_epi32(a, 32 - s));                \
        a = _mm256_add_epi32(a, b);                                                                \
    } while (0)
#define VSTEP(f, a, b, c, d, k, i, s)                                                              \
    VSTEP1(f, a, b, c, d, w, k, i, s);                                                             \
    VSTEP1(f, a##1, b##1, c##1, d##1, w1, k, i, s)

/* r[0..7] are eight rows of eight 32-bit words; on return r[j] holds word j of every row. */
VT static inline void transpose8(__m256i r[8]) {
    __m256i t0 = _mm256_unpacklo_epi32(r[0], r[1]), t1 = _mm256_unpackhi_epi32(r[0], r[1]);
    __m256i t2 = _mm256_unpacklo_epi32(r[2], r[3]), t3 = _mm256_unpackhi_epi32(r[2], r[3]);
    __m256i t4 = _mm256_unpacklo_epi32(r[4], r[5]), t5 = _mm256_unpackhi_epi32(r[4], r[5]);
    __m256i t6 = _mm256_unpacklo_epi32(r[6], r[7]), t7 = _mm256_unpackhi_epi32(r[6], r[7]);
    __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
    __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
    __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
    __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
    r[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
    r[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
    r[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
    r[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
    r[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
    r[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
    r[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
    r[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

/* Eight lanes' current blocks (64 bytes each) -> w[16], word-major. */
VT static inline void load_words(const uint8_t *const blk[8], __m256i w[16]) {
    for (int i = 0; i < 8; i++) {
        w[i] = _mm256_loadu_si256((const __m256i *)blk[i]);
        w[8 + i] = _mm256_loadu_si256((const __m256i *)(blk[i] + 32));
    }
    transpose8(w);
    transpose8(w + 8);
}

#define LANES 16
VT static void md5_many_avx2(const uint8_t *const msg[], const size_t nblocks[], size_t count,
                             uint8_t (*digest)[16]) {
    static const uint8_t dummy[64];
    const __m256i ones = _mm256_set1_epi32(-1);
    const uint8_t *blk[LANES]; /* the lane's next block */
    size_t left[LANES];        /* blocks left in the lane's message */
    long id[LANES];            /* message in the lane, -1 if idle */
    uint32_t st[4][LANES] __attribute__((aligned(32)));
    size_t next = 0;
    for (int i = 0; i < LANES; i++) {
        if (next < count) {
            blk[i] = msg[next], left[i] = nblocks[next], id[i] = (long)next;
            next++;
        } else {
            blk[i] = dummy, left[i] = 0, id[i] = -1;
        }
        for (int j = 0; j < 4; j++) st[j][i] = IV[j];
    }
    __m256i A = _mm256_load_si256((const __m256i *)st[0]), A1 = _mm256_load_si256((const __m256i *)(st[0] + 8));
    __m256i B = _mm256_load_si256((const __m256i *)st[1]), B1 = _mm256_load_si256((const __m256i *)(st[1] + 8));
    __m256i C = _mm256_load_si256((const __m256i *)st[2]), C1 = _mm256_load_si256((const __m256i *)(st[2] + 8));
    __m256i D = _mm256_load_si256((const __m256i *)st[3]), D1 = _mm256_load_si256((const __m256i *)(st[3] + 8));
    for (;;) {
        __m256i w[16], w1[16];
        load_words(blk, w);
        load_words(blk + 8, w1);
        __m256i a = A, b = B, c = C, d = D, a1 = A1, b1 = B1, c1 = C1, d1 = D1;
        MD5_STEPS(VSTEP, VF, VG, VH, VI);
        A = _mm256_add_epi32(A, a), A1 = _mm256_add_epi32(A1, a1);
        B = _mm256_add_epi32(B, b), B1 = _mm256_add_epi32(B1, b1);
        C = _mm256_add_epi32(C, c), C1 = _mm256_add_epi32(C1, c1);
        D = _mm256_add_epi32(D, d), D1 = _mm256_add_epi32(D1, d1);

        int done = 0;
        for (int i = 0; i < LANES; i++) {
            if (id[i] < 0) continue;
            blk[i] += 64;
            if (--left[i] == 0) done = 1;
        }
        if (!done) continue;
        /* Some lane finished its message: emit and refill through memory. */
        _mm256_store_si256((__m256i *)st[0], A), _mm256_store_si256((__m256i *)(st[0] + 8), A1);
        _mm256_store_si256((__m256i *)st[1], B), _mm256_store_si256((__m256i *)(st[1] + 8), B1);
        _mm256_store_si256((__m256i *)st[2], C), _mm256_store_si256((__m256i *)(st[2] + 8), C1);
        _mm256_store_si256((__m256i *)st[3], D), _mm256_store_si256((__m256i *)(st[3] + 8), D1);
        int active = 0;
        for (int i = 0; i < LANES; i++) {
            if (id[i] >= 0 && left[i] == 0) {
                for (int j = 0; j < 4; j++) {
                    store_le32(digest[id[i]] + 4 * j, st[j][i]);
                    st[j][i] = IV[j];
                }
                if (next < count) {
                    blk[i] = msg[next], left[i] = nblocks[next], id[i] = (long)next;
                    next++;
                } else {
                    blk[i] = dummy, id[i] = -1;
                }
            }
            active += id[i] >= 0;
        }
        if (!active) break;
        A = _mm256_load_si256((const __m256i *)st[0]), A1 = _mm256_load_si256((const __m256i *)(st[0] + 8));
        B = _mm256_load_si256((const __m256i *)st[1]), B1 = _mm256_load_si256((const __m256i *)(st[1] + 8));
        C = _mm256_load_si256((const __m256i *)st[2]), C1 = _mm256_load_si256((const __m256i *)(st[2] + 8));
        D = _mm256_load_si256((const __m256i *)st[3]), D1 = _mm256_load_si256((const __m256i *)(st[3] + 8));
    }
}
#endif

void md5_many(const uint8_t *const msg[], const size_t nblocks[], size_t count, uint8_t (*digest)[16]) {
#ifdef MD5_HAVE_AVX2
    static int have_avx2 = -1;
    if (have_avx2 < 0) have_avx2 = __builtin_cpu_supports("avx2") && !getenv("SVGE_NO_SIMD");
    /* One or two messages gain nothing from the lanes. */
    if (have_avx2 && count > 2) {
        md5_many_avx2(msg, nblocks, count, digest);
        return;
    }
#endif
    md5_many_scalar(msg, nblocks, count, digest);
}
