/* rankmetrics.c: RMSE, MAE, Pearson, Spearman (average ranks), Kendall tau-b (Knight 1966) and
 * precision@k. See rankmetrics.h for the conventions. */
#include "rankmetrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

const char *rm_status_text(rm_status s) {
    switch (s) {
    case RM_OK: return "defined";
    case RM_TOO_FEW: return "fewer than 2 pairs";
    case RM_X_CONSTANT: return "the true field is constant";
    case RM_Y_CONSTANT: return "the predicted field is constant";
    case RM_K_TOO_LARGE: return "k is larger than the number of pairs";
    }
    return "?";
}

double rm_rmse(const double *x, const double *y, size_t n) {
    if (n == 0) return 0.0;
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = y[i] - x[i];
        s += d * d;
    }
    return sqrt(s / (double)n);
}

double rm_mae(const double *x, const double *y, size_t n) {
    if (n == 0) return 0.0;
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += fabs(y[i] - x[i]);
    return s / (double)n;
}

static int is_constant(const double *v, size_t n) {
    for (size_t i = 1; i < n; i++)
        if (v[i] != v[0]) return 0;
    return 1;
}

/* Undefined-ness shared by the correlations: checked on the values themselves (a constant array's
 * centred sum of squares need not be exactly 0 in floating point). */
static rm_status corr_status(const double *x, const double *y, size_t n) {
    if (n < 2) return RM_TOO_FEW;
    if (is_constant(x, n)) return RM_X_CONSTANT;
    if (is_constant(y, n)) return RM_Y_CONSTANT;
    return RM_OK;
}

rm_status rm_pearson(const double *x, const double *y, size_t n, double *r) {
    *r = 0.0;
    rm_status st = corr_status(x, y, n);
    if (st != RM_OK) return st;
    double mx = 0.0, my = 0.0;
    for (size_t i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= (double)n;
    my /= (double)n;
    double sxx = 0.0, syy = 0.0, sxy = 0.0;
    for (size_t i = 0; i < n; i++) {
        double dx = x[i] - mx, dy = y[i] - my;
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    /* Non-constant arrays have a positive sum of squares (some deviation is nonzero); the guard is
     * for underflow of tiny deviations only. */
    if (!(sxx > 0.0)) return RM_X_CONSTANT;
    if (!(syy > 0.0)) return RM_Y_CONSTANT;
    /* sqrt(sxx * syy) (not sqrt(sxx) * sqrt(syy)) so that x against itself gives exactly 1. */
    double v = sxy / sqrt(sxx * syy);
    *r = v > 1.0 ? 1.0 : v < -1.0 ? -1.0 : v;
    return RM_OK;
}

/* Index order by value ascending, ties by index (qsort_r's context is the value array). */
static int by_value_then_index(const void *a, const void *b, void *ctx) {
    const double *v = ctx;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    if (v[i] < v[j]) return -1;
    if (v[i] > v[j]) return 1;
    return (i > j) - (i < j);
}

void rm_average_ranks(const double *x, size_t n, double *rank) {
    size_t *idx = xmalloc((n ? n : 1) * sizeof *idx);
    for (size_t i = 0; i < n; i++) idx[i] = i;
    qsort_r(idx, n, sizeof *idx, by_value_then_index, (void *)x);
    for (size_t a = 0; a < n;) {
        size_t b = a + 1;
        while (b < n && x[idx[b]] == x[idx[a]]) b++;
        /* places a..b-1 (0-based) are ranks a+1..b: their mean is (a + 1 + b) / 2 */
        double r = 0.5 * ((double)a + 1.0 + (double)b);
        for (size_t p = a; p < b; p++) rank[idx[p]] = r;
        a = b;
    }
    free(idx);
}

rm_status rm_spearman(const double *x, const double *y, size_t n, double *rho) {
    *rho = 0.0;
    rm_status st = corr_status(x, y, n);
    if (st != RM_OK) return st;
    double *rx = xmalloc(n * sizeof *rx), *ry = xmalloc(n * sizeof *ry);
    rm_average_ranks(x, n, rx);
    rm_average_ranks(y, n, ry);
    st = rm_pearson(rx, ry, n, rho);
    free(rx);
    free(ry);
    return st;
}

/* Pairs within runs of equal values of v[0..n-1] (v sorted so that equal values are adjacent). */
static uint64_t tied_pairs(const double *v, size_t n) {
    uint64_t t = 0;
    for (size_t a = 0; a < n;) {
        size_t b = a + 1;
        while (b < n && v[b] == v[a]) b++;
        uint64_t m = b - a;
        t += m * (m - 1) / 2;
        a = b;
    }
    return t;
}

/* Bottom-up merge sort of v (ascending, stable), returning the number of swaps: pairs i < j with
 * v[i] > v[j] (equal values are not counted). */
static uint64_t merge_sort_swaps(double *v, size_t n) {
    double *tmp = xmalloc((n ? n : 1) * sizeof *tmp);
    uint64_t swaps = 0;
    double *src = v, *dst = tmp;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                if (src[j] < src[i]) {
                    swaps += mid - i; /* src[j] jumps over every element left in the left run */
                    dst[k++] = src[j++];
                } else {
                    dst[k++] = src[i++];
                }
            }
            while (i < mid) dst[k++] = src[i++];
            while (j < hi) dst[k++] = src[j++];
        }
        double *t = src; src = dst; dst = t;
    }
    if (src != v) memcpy(v, src, n * sizeof *v);
    free(tmp);
    return swaps;
}

typedef struct {
    const double *x, *y;
} xy_ctx;

static int by_x_then_y(const void *a, const void *b, void *ctx) {
    const xy_ctx *c = ctx;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    if (c->x[i] != c->x[j]) return c->x[i] < c->x[j] ? -1 : 1;
    if (c->y[i] != c->y[j]) return c->y[i] < c->y[j] ? -1 : 1;
    return (i > j) - (i < j);
}

/* Knight (1966), "A computer method for calculating Kendall's tau with ungrouped data":
 *   1. sort the pairs by x, then y; count n1 (pairs tied in x) and n3 (tied in x and y);
 *   2. merge sort the y sequence of that order, counting swaps: each swap is one discordant pair
 *      (x_i < x_j, y_i > y_j); pairs tied in x are already in y order and are never swapped;
 *   3. count n2 (pairs tied in y) in the sorted y;
 *   C - D = n0 - n1 - n2 + n3 - 2 * swaps,  tau_b = (C - D) / sqrt((n0 - n1)(n0 - n2)). */
rm_status rm_kendall_tau_b(const double *x, const double *y, size_t n, double *tau, rm_kendall_counts *counts) {
    *tau = 0.0;
    if (counts) *counts = (rm_kendall_counts){0};
    rm_status st = corr_status(x, y, n);
    if (st != RM_OK) return st;
    size_t *idx = xmalloc(n * sizeof *idx);
    for (size_t i = 0; i < n; i++) idx[i] = i;
    xy_ctx c = {x, y};
    qsort_r(idx, n, sizeof *idx, by_x_then_y, &c);
    double *xs = xmalloc(n * sizeof *xs), *ys = xmalloc(n * sizeof *ys);
    for (size_t p = 0; p < n; p++) {
        xs[p] = x[idx[p]];
        ys[p] = y[idx[p]];
    }
    free(idx);
    uint64_t n0 = (uint64_t)n * (n - 1) / 2, n1 = tied_pairs(xs, n), n3 = 0;
    for (size_t a = 0; a < n;) {
        size_t b = a + 1;
        while (b < n && xs[b] == xs[a] && ys[b] == ys[a]) b++;
        uint64_t m = b - a;
        n3 += m * (m - 1) / 2;
        a = b;
    }
    uint64_t swaps = merge_sort_swaps(ys, n);
    uint64_t n2 = tied_pairs(ys, n);
    free(xs);
    free(ys);
    if (counts) *counts = (rm_kendall_counts){n0, n1, n2, n3, swaps};
    /* Not constant, so n0 > n1 and n0 > n2. */
    double s = (double)(int64_t)(n0 - n1 - n2 + n3) - 2.0 * (double)swaps;
    double v = s / sqrt((double)(n0 - n1) * (double)(n0 - n2));
    *tau = v > 1.0 ? 1.0 : v < -1.0 ? -1.0 : v;
    return RM_OK;
}

static int by_value_desc_then_index(const void *a, const void *b, void *ctx) {
    const double *v = ctx;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    if (v[i] > v[j]) return -1;
    if (v[i] < v[j]) return 1;
    return (i > j) - (i < j);
}

void rm_top_order(const double *v, size_t n, int descending, size_t *order) {
    for (size_t i = 0; i < n; i++) order[i] = i;
    qsort_r(order, n, sizeof *order, descending ? by_value_desc_then_index : by_value_then_index, (void *)v);
}

void rm_precision_at_k(const double *x, const double *y, size_t n, int descending, const size_t *ks, size_t nk,
                       double *out, rm_status *status) {
    size_t *ox = xmalloc((n ? n : 1) * sizeof *ox), *oy = xmalloc((n ? n : 1) * sizeof *oy);
    size_t *place_x = xmalloc((n ? n : 1) * sizeof *place_x);
    rm_top_order(x, n, descending, ox);
    rm_top_order(y, n, descending, oy);
    for (size_t p = 0; p < n; p++) place_x[ox[p]] = p;
    for (size_t j = 0; j < nk; j++) {
        out[j] = 0.0;
        if (ks[j] > n || ks[j] == 0) {
            status[j] = RM_K_TOO_LARGE;
            continue;
        }
        size_t hits = 0;
        for (size_t p = 0; p < ks[j]; p++) hits += place_x[oy[p]] < ks[j];
        out[j] = (double)hits / (double)ks[j];
        status[j] = RM_OK;
    }
    free(ox);
    free(oy);
    free(place_x);
}

void rm_summarize(const double *x, const double *y, size_t n, rm_summary *s) {
    s->n = n;
    s->rmse = rm_rmse(x, y, n);
    s->mae = rm_mae(x, y, n);
    s->pearson_st = rm_pearson(x, y, n, &s->pearson);
    s->spearman_st = rm_spearman(x, y, n, &s->spearman);
    s->kendall_st = rm_kendall_tau_b(x, y, n, &s->kendall, NULL);
}
