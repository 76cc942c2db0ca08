/* rankmetrics.h: how well predicted numbers match true ones: errors (RMSE, MAE), linear and rank
 * correlations (Pearson r, Spearman rho, Kendall tau-b) and precision@k of the top-k sets.
 *
 * Every function takes the N pairs (x[i], y[i]) = (true, predicted), finite doubles, and is
 * deterministic (no dependence on anything but the arrays and their order).
 *
 * Ties:
 *   Spearman: Pearson's r of the average ranks (tied values share the mean of the ranks they span).
 *   Kendall:  tau-b = (C - D) / sqrt((n0 - n1)(n0 - n2)), n0 = N(N-1)/2, n1 and n2 the pairs tied in
 *             x and in y; a pair tied in x or y is neither concordant nor discordant (scipy's
 *             kendalltau, variant 'b'). Knight's O(N log N) algorithm (merge sort, swap count).
 *   precision@k: the top k of a field are its k largest values (or smallest, `descending` false),
 *             ties at the k-th place broken by input order (the earlier pair is in): the order of
 *             `stream-top`. So precision@k = |true top-k ∩ predicted top-k| / k.
 * A correlation is undefined (returned as RM_UNDEFINED with a reason) when either array is constant,
 * or N < 2; no division by zero ever happens. */
#ifndef SVGE_RANKMETRICS_H
#define SVGE_RANKMETRICS_H

#include <stddef.h>
#include <stdint.h>

/* Why a metric has no value. */
typedef enum {
    RM_OK = 0,
    RM_TOO_FEW,     /* fewer than 2 pairs */
    RM_X_CONSTANT,  /* every true value is the same */
    RM_Y_CONSTANT,  /* every predicted value is the same */
    RM_K_TOO_LARGE, /* precision@k with k > N */
} rm_status;

/* "fewer than 2 pairs", "the true field is constant", ... for messages and records. */
const char *rm_status_text(rm_status s);

/* Root mean squared error and mean absolute error of y against x (N >= 1). */
double rm_rmse(const double *x, const double *y, size_t n);
double rm_mae(const double *x, const double *y, size_t n);

/* Pearson's r in [-1, 1], two passes around the means. RM_OK, or why it is undefined. */
rm_status rm_pearson(const double *x, const double *y, size_t n, double *r);

/* Average ranks, 1-based: rank[i] of x[i] among x[0..n-1] (ties share their mean rank). */
void rm_average_ranks(const double *x, size_t n, double *rank);

/* Spearman's rho: Pearson's r of the average ranks. */
rm_status rm_spearman(const double *x, const double *y, size_t n, double *rho);

/* Kendall's tau-b, Knight's algorithm, O(N log N) time and O(N) memory. The pair counts (n0, ties
 * in x, in y, in both, discordant) are returned through counts if it is not NULL. */
typedef struct {
    uint64_t n0, tie_x, tie_y, tie_xy, discordant;
} rm_kendall_counts;
rm_status rm_kendall_tau_b(const double *x, const double *y, size_t n, double *tau, rm_kendall_counts *counts);

/* Top-k order of a field: order[p] = index of the pair at place p (0 = best): values descending
 * (ascending if `descending` is 0), ties in index order. */
void rm_top_order(const double *v, size_t n, int descending, size_t *order);

/* precision@k for each of ks[0..nk-1]: |top-k of x ∩ top-k of y| / k, through out[j]; status[j] is
 * RM_OK or RM_K_TOO_LARGE (k > n; out[j] left 0). k must be >= 1. */
void rm_precision_at_k(const double *x, const double *y, size_t n, int descending, const size_t *ks, size_t nk,
                       double *out, rm_status *status);

/* All metrics at once. */
typedef struct {
    size_t n;
    double rmse, mae, pearson, spearman, kendall;
    rm_status pearson_st, spearman_st, kendall_st;
} rm_summary;
void rm_summarize(const double *x, const double *y, size_t n, rm_summary *s);

#endif
