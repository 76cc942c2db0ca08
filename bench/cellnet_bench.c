/* cellnet_bench: training throughput of the NAS-Bench-101 network in C (lib/cellnet + lib/nb101net),
 * the counterpart of bench/cellnet_torch.py (PyTorch); bench/run.sh runs both with the same size.
 *
 *   cellnet_bench [--stem 128] [--stacks 3] [--cells 3] [--batch 128] [--warmup 1] [--seconds 60]
 *                 [--min-steps 2] [--seed 1] [--threads 1]
 *
 * The cell is the NB101 cell of highest val_acc_108ep (record id 171411 of bin/graph-parse nb101,
 * 31,552,906 parameters at the full size). A step is forward (batch norm in training mode) +
 * softmax cross-entropy + backward + weight decay, clipping and the RMSprop update of cell-train,
 * on a fixed batch of N(0,1) noise with random labels (speed does not depend on the values).
 * --threads worker threads (lib/parallel.h, the network's fixed tasks; OpenBLAS single-threaded in
 * each, as cell-train). --warmup steps are not timed; then steps until --seconds have passed and at
 * least --min-steps were taken. Prints one line:
 *   cellnet-c: threads=1 stem=C stacks=S cells=K batch=B params=P steps=N seconds=S images_per_s=R
 *              forward_s=F backward_s=B update_s=U peak_rss_mb=M */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "celltrain.h"
#include "cellnet.h"
#include "nb101net.h"
#include "parallel.h"
#include "rng.h"
#include "space.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double peak_rss_mb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

int main(int argc, char **argv) {
    int stem = 128, stacks = 3, cells = 3, batch = 128, warmup = 1, min_steps = 2, threads = 1;
    double seconds = 60;
    unsigned seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc) {
            fprintf(stderr, "cellnet_bench: %s needs a value\n", a);
            return 2;
        }
        const char *v = argv[++i];
        if (!strcmp(a, "--stem")) stem = atoi(v);
        else if (!strcmp(a, "--stacks")) stacks = atoi(v);
        else if (!strcmp(a, "--cells")) cells = atoi(v);
        else if (!strcmp(a, "--batch")) batch = atoi(v);
        else if (!strcmp(a, "--warmup")) warmup = atoi(v);
        else if (!strcmp(a, "--seconds")) seconds = atof(v);
        else if (!strcmp(a, "--min-steps")) min_steps = atoi(v);
        else if (!strcmp(a, "--seed")) seed = (unsigned)atoi(v);
        else if (!strcmp(a, "--threads")) threads = atoi(v);
        else {
            fprintf(stderr, "cellnet_bench: unknown option %s\n", a);
            return 2;
        }
    }
    if (threads < 1) threads = 1;
    par_blas_single();
    // the best NB101 cell: input, conv3x3, maxpool, conv3x3, conv1x1, conv3x3, output
    graph g = {.n = 7, .type = {TYPE_INPUT, NB101_CONV3X3, NB101_MAXPOOL3X3, NB101_CONV3X3, NB101_CONV1X1,
                                NB101_CONV3X3, TYPE_OUTPUT}};
    static const int E[][2] = {{0, 1}, {0, 5}, {0, 6}, {1, 2}, {2, 3}, {3, 4}, {3, 5}, {4, 5}, {5, 6}};
    for (size_t e = 0; e < sizeof E / sizeof E[0]; e++) graph_add_edge(&g, E[e][0], E[e][1]);
    nb101_config cfg = {.stem = stem, .stacks = stacks, .cells = cells, .classes = 10};
    char why[256];
    cellnet *net = nb101net_build(&g, &cfg, why, sizeof why);
    if (!net || batch < 1 || cellnet_compile(net, batch, why, sizeof why) != 0) {
        fprintf(stderr, "cellnet_bench: %s\n", net ? why : "bad size");
        return 1;
    }
    net->pool = par_create(threads);
    celltrain_config tc = {.epochs = 1, .batch = batch, .opt = CT_RMSPROP, .lr = 0.2, .momentum = 0.9,
                           .weight_decay = 1e-4, .clip = 5, .rms_eps = 1, .rms_rho = 0.9, .seed = seed};
    celltrain_state st;
    celltrain_start(&st, net, &tc);
    float *x = malloc((size_t)batch * 3 * 32 * 32 * sizeof(float));
    int *y = malloc((size_t)batch * sizeof(int));
    for (size_t k = 0; k < (size_t)batch * 3 * 32 * 32; k++) x[k] = (float)rng_gauss(&st.rng);
    for (int n = 0; n < batch; n++) y[n] = (int)rng_interval(&st.rng, 9);
    double tf = 0, tb = 0, tu = 0, t0 = 0;
    int steps = 0;
    for (int s = 0;; s++) {
        if (s == warmup) {
            t0 = now_s();
            tf = tb = tu = 0;
        }
        if (s >= warmup && steps >= min_steps && now_s() - t0 >= seconds) break;
        double a = now_s();
        cellnet_forward(net, x, batch, 1);
        cellnet_loss(net, y);
        double b = now_s();
        cellnet_zero_grad(net);
        cellnet_backward(net, y, 1.0f);
        double c = now_s();
        celltrain_update(net, &st, &tc, 0.01);
        double d = now_s();
        tf += b - a, tb += c - b, tu += d - c;
        if (s >= warmup) steps++;
    }
    double el = now_s() - t0;
    printf("cellnet-c: threads=%d stem=%d stacks=%d cells=%d batch=%d params=%zu steps=%d seconds=%.2f "
           "images_per_s=%.2f forward_s=%.3f backward_s=%.3f update_s=%.3f peak_rss_mb=%.1f\n",
           threads, stem, stacks, cells, batch, net->n_params, steps, el, steps * batch / el, tf / steps, tb / steps,
           tu / steps, peak_rss_mb());
    free(x), free(y);
    celltrain_free(&st);
    par_free(net->pool);
    cellnet_free(net);
    return 0;
}
