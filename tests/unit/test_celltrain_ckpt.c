/* test_celltrain_ckpt.c: lib/celltrain_ckpt.c: a checkpoint written mid-record reads back with its
 * results and graph and restores the network, the optimizer and the RNG bitwise; one of other
 * settings is refused (exit 2), a file that is no checkpoint is bad data (exit 1) and a missing one
 * an I/O error (exit 3), each in a child process. Uses $TMPDIR (default /tmp).
 * Prints "N passed, M failed"; exits 1 on any failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "celltrain_ckpt.h"
#include "nb101net.h"

#include "check.h"

static graph cell(void) { /* input -> conv3x3 -> output, input -> output */
    graph g;
    memset(&g, 0, sizeof g);
    g.n = 3;
    g.type[0] = 1, g.type[1] = NB101_CONV3X3, g.type[2] = 0;
    graph_add_edge(&g, 0, 1), graph_add_edge(&g, 1, 2), graph_add_edge(&g, 0, 2);
    return g;
}

static cellnet *net_for(const graph *g) {
    nb101_config cfg = {.stem = 4, .stacks = 1, .cells = 1, .classes = 10, .side = 8};
    char why[256];
    cellnet *net = nb101net_build(g, &cfg, why, sizeof why);
    if (!net || cellnet_compile(net, 2, why, sizeof why) != 0) abort();
    return net;
}

static int read_status(const char *path, const ctck_settings *s) {
    pid_t p = fork();
    if (p == 0) {
        if (!freopen("/dev/null", "w", stderr)) _exit(99);
        ctck_resume ri = {0};
        ctck_read(&ri, path, s);
        _exit(0);
    }
    int st;
    waitpid(p, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(void) {
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char path[512], junk[512];
    snprintf(path, sizeof path, "%s/test_ckpt.%d", tmp, (int)getpid());
    snprintf(junk, sizeof junk, "%s/test_ckpt_junk.%d", tmp, (int)getpid());
    ctck_settings s = {.stem = 4, .stacks = 1, .cells = 1, .enas_filters = 16, .epochs = 3, .batch = 2,
                       .bn_momentum = 0.1, .tc = {.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-4, .clip = 5, .seed = 7},
                       .train_images = 10, .test_images = 4, .train_eval = 10};
    graph g = cell();
    cellnet *net = net_for(&g);
    celltrain_state st;
    celltrain_start(&st, net, &s.tc);
    st.epoch = 2, st.step = 17;
    for (size_t i = 0; i < st.n; i++) st.m1[i] = (float)i, st.m2[i] = 1.0f / (float)(i + 1);
    (void)rng_gauss(&st.rng);
    celltrain_result done[2];
    memset(done, 0, sizeof done);
    done[0].g = g, done[0].test_acc = 0.25, done[0].params = 123;
    done[1].g = g, done[1].train_loss = 1.5;
    ctck_progress pi = {.has_current = 1, .g = g, .seconds = 4.5};
    ctck_write(path, &s, done, 2, &pi, net, &st);

    ctck_resume ri = {0};
    ctck_read(&ri, path, &s);
    CHECK(ri.n_done == 2 && memcmp(ri.done, done, sizeof done) == 0);
    CHECK(ri.has_current && graph_equal(&ri.g, &g));
    cellnet *net2 = net_for(&g);
    celltrain_state st2;
    celltrain_config other = s.tc;
    other.seed = 99;
    celltrain_start(&st2, net2, &other);
    double seconds = 0;
    ctck_restore(&ri, net2, &st2, &seconds);
    CHECK(seconds == 4.5 && st2.epoch == 2 && st2.step == 17);
    CHECK(memcmp(net2->params, net->params, net->n_params * sizeof(float)) == 0);
    CHECK(memcmp(net2->buffers, net->buffers, net->n_buffers * sizeof(float)) == 0);
    CHECK(memcmp(st2.m1, st.m1, st.n * sizeof(float)) == 0 && memcmp(st2.m2, st.m2, st.n * sizeof(float)) == 0);
    CHECK(memcmp(&st2.rng, &st.rng, sizeof st.rng) == 0);
    ctck_free(&ri);
    CHECK(ri.f == NULL);

    ctck_settings s2 = s;
    s2.epochs = 4;
    CHECK(read_status(path, &s) == 0);
    CHECK(read_status(path, &s2) == 2);
    FILE *f = fopen(junk, "w");
    fputs("not a model file\n", f);
    fclose(f);
    CHECK(read_status(junk, &s) == 1);
    unlink(junk);
    CHECK(read_status(junk, &s) == 3);
    unlink(path);
    celltrain_free(&st), celltrain_free(&st2);
    cellnet_free(net), cellnet_free(net2);
    return check_summary();
}
