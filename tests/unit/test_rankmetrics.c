/* test_rankmetrics.c: lib/rankmetrics.c against values worked out by hand (in the comments), ties
 * included, and Kendall's tau-b (Knight, O(N log N)) against the O(N^2) definition on random
 * inputs full of ties. Prints "N passed, M failed"; exits 1 on any failure. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "rankmetrics.h"

#include "check.h"

static int near(double a, double b) { return fabs(a - b) <= 1e-12 * (1.0 + fabs(b)); }

/* No ties. x = 1 2 3 4 5, y = 2 1 4 3 5.
 *   y - x = 1 -1 1 -1 0: RMSE = sqrt(4/5) = 0.894427191..., MAE = 4/5 = 0.8.
 *   Pearson: means 3 and 3; dx = -2 -1 0 1 2, dy = -1 -2 1 0 2; sxy = 2+2+0+0+4 = 8, sxx = syy = 10:
 *     r = 0.8. Spearman: the values are their ranks, rho = 0.8.
 *   Kendall: of the 10 pairs, (0,1) and (2,3) are discordant, the 8 others concordant:
 *     tau = (8 - 2) / 10 = 0.6.
 *   Top order: x: 4 3 2 1 0; y: 4 2 3 0 1. p@1 = |{4}∩{4}| = 1; p@2 = |{4,3}∩{4,2}|/2 = 0.5;
 *     p@3 = |{4,3,2}∩{4,2,3}|/3 = 1; p@5 = 1; p@6: k > N. */
static void test_no_ties(void) {
    const double x[] = {1, 2, 3, 4, 5}, y[] = {2, 1, 4, 3, 5};
    double v;
    CHECK(near(rm_rmse(x, y, 5), sqrt(0.8)));
    CHECK(near(rm_mae(x, y, 5), 0.8));
    CHECK(rm_pearson(x, y, 5, &v) == RM_OK && near(v, 0.8));
    CHECK(rm_spearman(x, y, 5, &v) == RM_OK && near(v, 0.8));
    rm_kendall_counts c;
    CHECK(rm_kendall_tau_b(x, y, 5, &v, &c) == RM_OK && near(v, 0.6));
    CHECK(c.n0 == 10 && c.tie_x == 0 && c.tie_y == 0 && c.tie_xy == 0 && c.discordant == 2);
    const size_t ks[] = {1, 2, 3, 5, 6};
    double p[5];
    rm_status st[5];
    rm_precision_at_k(x, y, 5, 1, ks, 5, p, st);
    CHECK(st[0] == RM_OK && p[0] == 1.0);
    CHECK(st[1] == RM_OK && p[1] == 0.5);
    CHECK(st[2] == RM_OK && p[2] == 1.0);
    CHECK(st[3] == RM_OK && p[3] == 1.0);
    CHECK(st[4] == RM_K_TOO_LARGE);
    /* ascending: top order x: 0 1 2 3 4; y: 1 0 3 2 4. p@1 = 0, p@2 = 1, p@3 = |{0,1,2}∩{1,0,3}|/3 */
    rm_precision_at_k(x, y, 5, 0, ks, 3, p, st);
    CHECK(p[0] == 0.0 && p[1] == 1.0 && near(p[2], 2.0 / 3.0));
}

/* Ties. x = 1 2 2 3, y = 1 3 2 2.
 *   y - x = 0 1 0 -1: RMSE = sqrt(2/4) = 0.707106781..., MAE = 2/4 = 0.5.
 *   Pearson: means 2 and 2; dx = -1 0 0 1, dy = -1 1 0 0; sxy = 1, sxx = syy = 2: r = 0.5.
 *   Average ranks: x: 1, (2+3)/2 = 2.5, 2.5, 4; y: 1 -> 1, the two 2s (items 2, 3) -> 2.5, 3 -> 4:
 *     ry = 1 4 2.5 2.5. Pearson of the ranks: means 2.5; drx = -1.5 0 0 1.5, dry = -1.5 1.5 0 0;
 *     sxy = 2.25, sxx = syy = 4.5: rho = 0.5.
 *   Kendall, the 6 pairs: (0,1) C, (0,2) C, (0,3) C, (1,2) tied in x, (1,3) D (x up, y 3 -> 2),
 *     (2,3) tied in y. C = 3, D = 1, n0 = 6, n1 = 1, n2 = 1, n3 = 0:
 *     tau_b = (3 - 1) / sqrt((6 - 1)(6 - 1)) = 0.4.
 *   Top order (descending, ties in input order): x: 3 1 2 0 (the tied 2s: item 1 before item 2);
 *     y: 1 2 3 0. p@1 = |{3}∩{1}| = 0; p@2 = |{3,1}∩{1,2}|/2 = 0.5 (the tie at x's 2nd place
 *     goes to item 1; item 2 is out); p@3 = |{3,1,2}∩{1,2,3}|/3 = 1. */
static void test_ties(void) {
    const double x[] = {1, 2, 2, 3}, y[] = {1, 3, 2, 2};
    double v, rx[4], ry[4];
    CHECK(near(rm_rmse(x, y, 4), sqrt(0.5)));
    CHECK(near(rm_mae(x, y, 4), 0.5));
    CHECK(rm_pearson(x, y, 4, &v) == RM_OK && near(v, 0.5));
    rm_average_ranks(x, 4, rx);
    rm_average_ranks(y, 4, ry);
    CHECK(rx[0] == 1 && rx[1] == 2.5 && rx[2] == 2.5 && rx[3] == 4);
    CHECK(ry[0] == 1 && ry[1] == 4 && ry[2] == 2.5 && ry[3] == 2.5);
    CHECK(rm_spearman(x, y, 4, &v) == RM_OK && near(v, 0.5));
    rm_kendall_counts c;
    CHECK(rm_kendall_tau_b(x, y, 4, &v, &c) == RM_OK && near(v, 0.4));
    CHECK(c.n0 == 6 && c.tie_x == 1 && c.tie_y == 1 && c.tie_xy == 0 && c.discordant == 1);
    const size_t ks[] = {1, 2, 3};
    double p[3];
    rm_status st[3];
    rm_precision_at_k(x, y, 4, 1, ks, 3, p, st);
    CHECK(p[0] == 0.0 && p[1] == 0.5 && p[2] == 1.0);
    size_t o[4];
    rm_top_order(x, 4, 1, o);
    CHECK(o[0] == 3 && o[1] == 1 && o[2] == 2 && o[3] == 0);
}

/* Ties in x, in y and in both. x = 1 1 2 2 3, y = 1 1 1 2 2.
 *   The 10 pairs: (0,1) tied in both; (0,2) tied in y; (0,3) C; (0,4) C; (1,2) tied in y; (1,3) C;
 *   (1,4) C; (2,3) tied in x; (2,4) C; (3,4) tied in y. C = 5, D = 0;
 *   n1 = 2 ((0,1), (2,3)), n2 = 4 ((0,1), (0,2), (1,2), (3,4)), n3 = 1 ((0,1)):
 *   tau_b = 5 / sqrt((10 - 2)(10 - 4)) = 5 / sqrt(48) = 0.721687836...
 *   Average ranks: x: 1.5 1.5 3.5 3.5 5; y: 2 2 2 4.5 4.5. Means 3; drx = -1.5 -1.5 0.5 0.5 2,
 *   dry = -1 -1 -1 1.5 1.5: sxy = 1.5+1.5-0.5+0.75+3 = 6.25; sxx = 2.25+2.25+0.25+0.25+4 = 9,
 *   syy = 1+1+1+2.25+2.25 = 7.5: rho = 6.25 / sqrt(67.5) = 0.760725...
 *   Pearson: means 1.8 and 1.4; dx = -.8 -.8 .2 .2 1.2, dy = -.4 -.4 -.4 .6 .6;
 *   sxy = .32+.32-.08+.12+.72 = 1.4; sxx = .64+.64+.04+.04+1.44 = 2.8; syy = .16*3+.36*2 = 1.2:
 *   r = 1.4 / sqrt(3.36) = 0.763762615... */
static void test_joint_ties(void) {
    const double x[] = {1, 1, 2, 2, 3}, y[] = {1, 1, 1, 2, 2};
    double v;
    rm_kendall_counts c;
    CHECK(rm_kendall_tau_b(x, y, 5, &v, &c) == RM_OK && near(v, 5.0 / sqrt(48.0)));
    CHECK(c.n0 == 10 && c.tie_x == 2 && c.tie_y == 4 && c.tie_xy == 1 && c.discordant == 0);
    CHECK(rm_spearman(x, y, 5, &v) == RM_OK && near(v, 6.25 / sqrt(67.5)));
    CHECK(rm_pearson(x, y, 5, &v) == RM_OK && fabs(v - 1.4 / sqrt(3.36)) < 1e-12);
}

/* Perfect agreement and disagreement; undefined cases. */
static void test_extremes(void) {
    const double x[] = {0.1, 0.7, 0.3, 0.3, 0.9}, neg[] = {-0.1, -0.7, -0.3, -0.3, -0.9};
    double v;
    CHECK(rm_rmse(x, x, 5) == 0.0 && rm_mae(x, x, 5) == 0.0);
    CHECK(rm_pearson(x, x, 5, &v) == RM_OK && v == 1.0);
    CHECK(rm_spearman(x, x, 5, &v) == RM_OK && v == 1.0);
    CHECK(rm_kendall_tau_b(x, x, 5, &v, NULL) == RM_OK && v == 1.0);
    CHECK(rm_pearson(x, neg, 5, &v) == RM_OK && v == -1.0);
    CHECK(rm_spearman(x, neg, 5, &v) == RM_OK && v == -1.0);
    CHECK(rm_kendall_tau_b(x, neg, 5, &v, NULL) == RM_OK && v == -1.0);
    /* 0.1 three times: its floating-point mean is not exactly 0.1, yet the field is constant */
    const double c[] = {0.1, 0.1, 0.1}, d[] = {1, 2, 3};
    CHECK(rm_pearson(c, d, 3, &v) == RM_X_CONSTANT && v == 0.0);
    CHECK(rm_spearman(c, d, 3, &v) == RM_X_CONSTANT);
    CHECK(rm_kendall_tau_b(c, d, 3, &v, NULL) == RM_X_CONSTANT);
    CHECK(rm_pearson(d, c, 3, &v) == RM_Y_CONSTANT);
    CHECK(rm_kendall_tau_b(d, c, 3, &v, NULL) == RM_Y_CONSTANT);
    CHECK(rm_pearson(d, d, 1, &v) == RM_TOO_FEW);
    CHECK(rm_kendall_tau_b(d, d, 1, &v, NULL) == RM_TOO_FEW);
    rm_summary s;
    rm_summarize(c, d, 3, &s);
    CHECK(s.n == 3 && near(s.rmse, sqrt((0.81 + 3.61 + 8.41) / 3)) && s.spearman_st == RM_X_CONSTANT);
}

/* The definition, O(N^2): every pair once. */
static double kendall_reference(const double *x, const double *y, size_t n, rm_kendall_counts *c) {
    int64_t cd = 0;
    *c = (rm_kendall_counts){(uint64_t)n * (n - 1) / 2, 0, 0, 0, 0};
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            int sx = (x[j] > x[i]) - (x[j] < x[i]), sy = (y[j] > y[i]) - (y[j] < y[i]);
            c->tie_x += sx == 0;
            c->tie_y += sy == 0;
            c->tie_xy += sx == 0 && sy == 0;
            c->discordant += sx * sy < 0;
            cd += sx * sy;
        }
    return (double)cd / sqrt((double)(c->n0 - c->tie_x) * (double)(c->n0 - c->tie_y));
}

static uint64_t lcg = 88172645463325252ull;
static uint32_t next_u32(void) {
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(lcg >> 33);
}

static void test_kendall_random(void) {
    enum { MAXN = 300 };
    double x[MAXN], y[MAXN];
    int bad = 0, runs = 0;
    for (int trial = 0; trial < 400; trial++) {
        size_t n = 2 + next_u32() % (MAXN - 1);
        uint32_t levels = 1 + next_u32() % (trial % 3 == 0 ? 4 : 1000); /* few levels: many ties */
        for (size_t i = 0; i < n; i++) {
            x[i] = (double)(next_u32() % levels) * 0.25;
            y[i] = trial % 5 == 0 ? x[i] + (double)(next_u32() % 3) : (double)(next_u32() % levels) - 3.5;
        }
        rm_kendall_counts want, got;
        double tau;
        rm_status st = rm_kendall_tau_b(x, y, n, &tau, &got);
        int constant = 1, yconst = 1;
        for (size_t i = 1; i < n; i++) {
            constant &= x[i] == x[0];
            yconst &= y[i] == y[0];
        }
        if (constant || yconst) {
            bad += st == RM_OK;
            continue;
        }
        runs++;
        double ref = kendall_reference(x, y, n, &want);
        if (st != RM_OK || fabs(tau - ref) > 1e-12 || got.n0 != want.n0 || got.tie_x != want.tie_x ||
            got.tie_y != want.tie_y || got.tie_xy != want.tie_xy || got.discordant != want.discordant) {
            fprintf(stderr, "  n %zu: tau %.17g, reference %.17g\n", n, tau, ref);
            bad++;
        }
    }
    CHECK(bad == 0);
    CHECK(runs > 300);
}

/* 400,000 pairs with many ties (100,000 levels), at the size of NB101: a field against itself and
 * against its negation gives exactly 1 and -1 (the O(N^2) reference would take minutes). */
static void test_kendall_large(void) {
    size_t n = 400000;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) {
        x[i] = (double)(next_u32() % 100000);
        y[i] = -x[i];
    }
    double v;
    CHECK(rm_kendall_tau_b(x, x, n, &v, NULL) == RM_OK && v == 1.0);
    CHECK(rm_kendall_tau_b(x, y, n, &v, NULL) == RM_OK && v == -1.0);
    CHECK(rm_spearman(x, y, n, &v) == RM_OK && near(v, -1.0));
    free(x);
    free(y);
}

int main(void) {
    test_no_ties();
    test_ties();
    test_joint_ties();
    test_extremes();
    test_kendall_random();
    test_kendall_large();
    return check_summary();
}
