/* graph_hash.c: NAS-Bench-101's graph hash (graph_util.py hash_module), its pruning
 * (ModelSpec._prune), and the lookup key built from both.
 *
 * hash_module hashes hex strings with MD5 and sorts hex strings. Lowercase hex sorts like the
 * bytes it encodes, so we sort 16-byte digests (as two big-endian words) and write hex only where
 * it becomes message text. A round's n messages are independent, and so are different graphs:
 * graph_hash_many runs up to BATCH graphs' rounds in lockstep and hashes all their messages of a
 * round in one md5_many call, which keeps sixteen vector lanes busy. */
#include "graph_hash.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "md5.h"

#define N GRAPH_MAX_NODES
#define BATCH 16
/* Longest round message: every other node (and, with a self-loop, the node itself) as in- and
 * out-neighbour, 32 hex chars each, two '|' and the node's own hash; plus room for MD5 padding.
 * The final message "['..', ..]" (36 chars per node) is shorter. */
#define MSG_CAP (2 * N * 32 + 2 + 32 + MD5_PAD_MAX)

/* 16 digest bytes -> 32 lowercase hex chars (not terminated). */
static inline void to_hex(const uint8_t d[16], char *out) {
#ifdef __SSE2__
    __m128i x = _mm_loadu_si128((const __m128i *)d);
    __m128i m = _mm_set1_epi8(15);
    __m128i hi = _mm_and_si128(_mm_srli_epi16(x, 4), m), lo = _mm_and_si128(x, m);
    __m128i n0 = _mm_unpacklo_epi8(hi, lo), n1 = _mm_unpackhi_epi8(hi, lo); /* nibbles in order */
    __m128i zero = _mm_set1_epi8('0'), nine = _mm_set1_epi8(9), gap = _mm_set1_epi8('a' - '0' - 10);
    n0 = _mm_add_epi8(_mm_add_epi8(n0, zero), _mm_and_si128(_mm_cmpgt_epi8(n0, nine), gap));
    n1 = _mm_add_epi8(_mm_add_epi8(n1, zero), _mm_and_si128(_mm_cmpgt_epi8(n1, nine), gap));
    _mm_storeu_si128((__m128i *)out, n0);
    _mm_storeu_si128((__m128i *)(out + 16), n1);
#else
    static const char xd[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = xd[d[i] >> 4];
        out[2 * i + 1] = xd[d[i] & 15];
    }
#endif
}

static inline uint64_t load_be64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* order[0..n) = node indices sorted by digest (= by hex string), ties by index.
 * Ranks are counted without branches (random digests make a comparison sort's branches
 * unpredictable), on the first 8 bytes; only if two different digests share them (never seen in
 * practice) is the full 16-byte comparison needed. */
static void sort_nodes(int n, uint8_t (*dg)[16], int *order) {
    uint64_t h[N];
    for (int i = 0; i < n; i++) h[i] = load_be64(dg[i]);
    for (int i = 0; i < n; i++) {
        int r = 0;
        for (int j = 0; j < i; j++) r += h[j] <= h[i];
        for (int j = i + 1; j < n; j++) r += h[j] < h[i];
        order[r] = i;
    }
    for (int k = 1; k < n; k++) {
        if (h[order[k - 1]] == h[order[k]] && memcmp(dg[order[k - 1]], dg[order[k]], 16) != 0) {
            /* Insertion sort on the whole digest (stable: ties keep index order). */
            for (int i = 0; i < n; i++) {
                int j = i;
                while (j > 0 && memcmp(dg[i], dg[order[j - 1]], 16) < 0) {
                    order[j] = order[j - 1];
                    j--;
                }
                order[j] = i;
            }
            return;
        }
    }
}

static inline int popcount16(unsigned x) {
    x = x - ((x >> 1) & 0x5555u);
    x = (x & 0x3333u) + ((x >> 2) & 0x3333u);
    x = (x + (x >> 4)) & 0x0f0fu;
    return (int)((x + (x >> 8)) & 0x1fu);
}

/* Python's str() of a small int. */
static char *put_int(char *p, int v) {
    if (v < 0) {
        *p++ = '-';
        v = -v;
    }
    if (v >= 100) *p++ = (char)('0' + v / 100);
    if (v >= 10) *p++ = (char)('0' + v / 10 % 10);
    *p++ = (char)('0' + v % 10);
    return p;
}

/* One graph in flight. */
typedef struct {
    int n;
    uint16_t pred[N], succ[N]; /* edge masks, restricted to the n nodes */
    uint8_t dg[N][16];         /* current hash of each node */
    char hex[N][32];
} job;

/* Scratch of one batch: the messages of a round, packed one after the other (each at most
 * MSG_CAP bytes, padding included), and the pool handed to md5_many. */
typedef struct {
    char arena[BATCH * N * MSG_CAP];
    const uint8_t *mp[BATCH * N];
    size_t nb[BATCH * N];
    uint8_t out[BATCH * N][16];
} pool;

static _Thread_local pool g_pool;

/* Pad message m, which starts at mp[m] and ends at end; returns where the next one starts. */
static inline char *seal(pool *P, size_t m, char *end) {
    char *start = (char *)P->mp[m];
    P->nb[m] = md5_pad((uint8_t *)start, (size_t)(end - start));
    return start + 64 * P->nb[m];
}

/* Hash count <= BATCH graphs. */
static void hash_batch(const space_info *const sp[], const graph *g, size_t count, uint8_t (*digest)[16]) {
    pool *P = &g_pool;
    job jb[BATCH];
    int maxn = 0;
    size_t m = 0;
    char *cur = P->arena;

    /* Round 0: md5(str((out_degree, in_degree, label))), e.g. "(1, 0, -1)". */
    for (size_t c = 0; c < count; c++) {
        job *J = &jb[c];
        int n = J->n = g[c].n;
        if (n > maxn) maxn = n;
        unsigned all = (1u << n) - 1;
        for (int v = 0; v < n; v++) J->pred[v] = 0;
        for (int i = 0; i < n; i++) {
            J->succ[i] = (uint16_t)(g[c].succ[i] & all);
            for (unsigned s = J->succ[i]; s; s &= s - 1) J->pred[__builtin_ctz(s)] |= (uint16_t)(1u << i);
        }
        for (int v = 0; v < n; v++, m++) {
            char *p = cur;
            P->mp[m] = (const uint8_t *)p;
            *p++ = '(';
            p = put_int(p, popcount16(J->succ[v]));
            *p++ = ',', *p++ = ' ';
            p = put_int(p, popcount16(J->pred[v]));
            *p++ = ',', *p++ = ' ';
            p = put_int(p, sp[c]->hash_labels[g[c].type[v]]);
            *p++ = ')';
            cur = seal(P, m, p);
        }
    }
    md5_many(P->mp, P->nb, m, P->out);
    m = 0;
    for (size_t c = 0; c < count; c++)
        for (int v = 0; v < jb[c].n; v++) memcpy(jb[c].dg[v], P->out[m++], 16);

    /* n rounds: md5(sorted in-neighbour hashes + '|' + sorted out-neighbour hashes + '|' + own).
     * Graphs with fewer nodes drop out early. */
    for (int round = 0; round < maxn; round++) {
        m = 0;
        cur = P->arena;
        for (size_t c = 0; c < count; c++) {
            job *J = &jb[c];
            int n = J->n;
            if (round >= n) continue;
            int order[N], rank[N];
            for (int v = 0; v < n; v++) to_hex(J->dg[v], J->hex[v]);
            sort_nodes(n, J->dg, order);
            for (int k = 0; k < n; k++) rank[order[k]] = k;
            for (int v = 0; v < n; v++, m++) {
                /* Neighbour sets as masks over ranks: their set bits in ascending order are the
                 * neighbours in sorted order. */
                unsigned in = 0, outr = 0;
                for (unsigned s = J->pred[v]; s; s &= s - 1) in |= 1u << rank[__builtin_ctz(s)];
                for (unsigned s = J->succ[v]; s; s &= s - 1) outr |= 1u << rank[__builtin_ctz(s)];
                char *p = cur;
                P->mp[m] = (const uint8_t *)p;
                for (; in; in &= in - 1, p += 32) memcpy(p, J->hex[order[__builtin_ctz(in)]], 32);
                *p++ = '|';
                for (; outr; outr &= outr - 1, p += 32) memcpy(p, J->hex[order[__builtin_ctz(outr)]], 32);
                *p++ = '|';
                memcpy(p, J->hex[v], 32);
                cur = seal(P, m, p + 32);
            }
        }
        md5_many(P->mp, P->nb, m, P->out);
        m = 0;
        for (size_t c = 0; c < count; c++)
            if (round < jb[c].n)
                for (int v = 0; v < jb[c].n; v++) memcpy(jb[c].dg[v], P->out[m++], 16);
    }

    /* Fingerprint: md5(str(sorted(hashes))), e.g. "['0a..', '3f..']". */
    cur = P->arena;
    for (size_t c = 0; c < count; c++) {
        job *J = &jb[c];
        int order[N];
        sort_nodes(J->n, J->dg, order);
        char *p = cur;
        P->mp[c] = (const uint8_t *)p;
        *p++ = '[';
        for (int k = 0; k < J->n; k++) {
            if (k) *p++ = ',', *p++ = ' ';
            *p++ = '\'';
            to_hex(J->dg[order[k]], p);
            p += 32;
            *p++ = '\'';
        }
        *p++ = ']';
        cur = seal(P, c, p);
    }
    md5_many(P->mp, P->nb, count, digest);
}

void graph_hash_many(const space_info *const sp[], const graph g[], size_t count, uint8_t (*digest)[16]) {
    for (size_t c = 0; c < count; c += BATCH) {
        size_t k = count - c < BATCH ? count - c : BATCH;
        hash_batch(sp + c, g + c, k, digest + c);
    }
}

void graph_hash(const space_info *sp, const graph *g, uint8_t digest[16]) {
    graph_hash_many(&sp, g, 1, (uint8_t(*)[16])digest);
}

/* ModelSpec._prune: keep the nodes reachable from the input and reaching the output, looking only
 * at edges that go forward (as the original, which walks rows/columns past the current node). */
int graph_prune(graph *g) {
    int n = g->n;
    if (n < 2) return -1; /* the original rejects n == 1 (|extraneous| 0 > n - 2) */
    uint32_t from_in = 1, to_out = 1u << (n - 1);
    /* Forward edges go to higher indices, so one ascending / descending sweep reaches everything. */
    for (int i = 0; i < n; i++)
        if ((from_in >> i) & 1) from_in |= (uint32_t)g->succ[i] & ~((2u << i) - 1) & ((1u << n) - 1);
    for (int i = n - 2; i >= 0; i--)
        if (g->succ[i] & to_out & ~((2u << i) - 1)) to_out |= 1u << i;
    uint32_t keep = from_in & to_out;
    if (!((keep >> (n - 1)) & 1)) return -1; /* no input -> output path */
    if (keep == (1u << n) - 1) return 0;

    int map[N], m = 0;
    for (int i = 0; i < n; i++) map[i] = (keep >> i) & 1 ? m++ : -1;
    graph out = {0};
    out.n = m;
    for (int i = 0; i < n; i++) {
        if (map[i] < 0) continue;
        out.type[map[i]] = g->type[i];
        for (int j = 0; j < n; j++)
            if (map[j] >= 0 && ((g->succ[i] >> j) & 1)) out.succ[map[i]] |= (uint16_t)(1u << map[j]);
    }
    *g = out;
    return 0;
}

int graph_key(const space_info *sp, const graph *g, uint8_t digest[16]) {
    if (space_nb101_rules(sp)) {
        graph p = *g;
        if (graph_prune(&p) != 0) return -1;
        graph_hash(sp, &p, digest);
    } else {
        graph_hash(sp, g, digest);
    }
    return 0;
}

static inline int hex_val(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int hash_from_hex(const char *hex, size_t len, uint8_t digest[16]) {
    if (len != 32) return -1;
    for (int i = 0; i < 16; i++) {
        int hi = hex_val(hex[2 * i]), lo = hex_val(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return -1;
        digest[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}
