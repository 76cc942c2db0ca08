/* cell-train: train the network of each graph record on CIFAR-10 and add the measured accuracies.
 *
 * NAS-Bench-101 cells (nb101, and nb101x: the same operations in cells of up to 8 nodes) and ENAS
 * architectures (lib/nb101net.h builds the NB101 network, lib/celltrain.h trains it with the
 * NB101 recipe). Every record is trained from the same seed, so a record's result does not depend
 * on its position in the stream (shards give the same results as the whole). With --checkpoint the
 * state is saved after every epoch (atomically) together with the results of the records already
 * finished; --resume continues an interrupted run and writes the same records as an
 * uninterrupted one. --threads only changes the speed: the network's layers run as a fixed number
 * of tasks whatever the thread count (lib/cellnet_internal.h), so any count writes the same bytes
 * and a checkpoint resumes at any count. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cellnet.h"
#include "celltrain.h"
#include "celltrain_ckpt.h"
#include "cifar.h"
#include "enasnet.h"
#include "graph.h"
#include "modelfile.h"
#include "nb101net.h"
#include "opts.h"
#include "outfile.h"
#include "parallel.h"
#include "record.h"
#include "stream.h"
#include "util.h"


#define MAX_MEMORY_BYTES ((size_t)16 << 30) /* refuse networks whose training needs more */

typedef struct {
    const char *input, *train, *test, *checkpoint;
    int epochs, stem, stacks, cells, batch, train_images, test_images, train_eval;
    int enas_filters, enas_shared, enas_separable; /* ENAS macro networks (enas6, enas12 records) */
    int threads; /* worker threads (lib/parallel.h); 0 = one per online CPU */
    int resume, timing;
    double max_minutes, bn_momentum;
    celltrain_config tc;
} options;

/* The small default: a few minutes on 2 cores with the shipped subset (README: cell-train). */
static const options DEFAULTS = {
    .epochs = 3, .stem = 16, .stacks = 3, .cells = 1, .batch = 64, .timing = 1, .train_eval = 5000,
    .enas_filters = 16, .threads = 0,
    .bn_momentum = 0.1,
    .tc = {.opt = CT_RMSPROP, .lr = 0.1, .momentum = 0.9, .weight_decay = 1e-4, .clip = 5.0,
           .rms_eps = 1.0, .rms_rho = 0.9, .seed = 0},
};

static void usage(void) {
    const options *d = &DEFAULTS;
    printf("Usage: %s [OPTION]... [FILE]\n"
           "Read NAS-Bench-101 cells or ENAS architectures (graph records of space nb101, nb101x (NB101's\n"
           "operations in cells of up to 8 nodes: the same network), enas6 or enas12;\n"
           "FILE, or stdin if absent or '-'), train each one's network on CIFAR-10 and write the records\n"
           "to stdout with these fields added (or replaced):\n"
           "  \"train_accuracy\"  fraction of the training images classified right (evaluation mode;\n"
           "                     the first --train-eval-images of them)\n"
           "  \"test_accuracy\"   fraction of the test images classified right\n"
           "  \"train_loss\"      mean training cross-entropy of the last epoch\n"
           "  \"parameters\"      trainable parameters of the network\n"
           "  \"train_epochs\"    epochs trained\n"
           "  \"train_seconds\"   wall time of training and evaluation (omitted with --no-timing)\n"
           "Every other field is passed through in order.\n"
           "\n"
           "Network (NAS-Bench-101: 3x3 conv stem, stacks of cells, 2x2 max-pool and twice the channels\n"
           "between stacks, global average pool, dense; NB101's own values: 128, 3, 3):\n"
           "      --stem-channels N    stem channels (default %d)\n"
           "      --stacks N           stacks, 1..6 (default %d)\n"
           "      --cells-per-stack N  cells per stack (default %d)\n"
           "ENAS macro network (6 or 12 layers, the graph's ops and skip connections; lib/enasnet.h):\n"
           "      --enas-filters F     filters of the stem and the first stage, even, doubled at the\n"
           "                           two reductions (default %d; D-VAE's final training: 96)\n"
           "      --enas-mode M        fixed: a layer as ENAS trains a found architecture alone (skip\n"
           "                           inputs concatenated, then 1x1 conv); shared: as inside ENAS's\n"
           "                           weight-sharing search (skips summed) (default fixed)\n"
           "      --enas-separable     sep3/sep5 as depthwise + pointwise convolutions (ENAS's fixed\n"
           "                           mode builds them as plain convolutions; shared mode always\n"
           "                           separates)\n"
           "Training (NB101's recipe; its values: 108 epochs, batch 256, lr 0.2):\n"
           "      --epochs N           epochs (default %d)\n"
           "      --batch N            images per step (default %d)\n"
           "      --optimizer NAME     rmsprop (TensorFlow's, eps 1, decay 0.9) or sgd (default rmsprop)\n"
           "      --lr X               peak learning rate, cosine decay to 0 (default %g)\n"
           "      --momentum X         (default %g)\n"
           "      --weight-decay X     L2 on every parameter (default %g)\n"
           "      --clip X             clip the gradient's global norm to X, 0 = never (default %g)\n"
           "      --bn-momentum X      batch-norm running-statistics momentum, PyTorch convention\n"
           "                           (default %g; NB101's TF decay 0.997 is 0.003)\n"
           "      --seed N             seed of initialisation, batch order and augmentation (default %u)\n"
           "Data (CIFAR-10 as .jpgrec or the binary batches data_batch_N.bin / test_batch.bin):\n"
           "      --train FILE         training images (default data/cifar10/train_20k.jpgrec)\n"
           "      --test FILE          test images (default data/cifar10/test_small.jpgrec)\n"
           "      --train-images N     use only the first N training images (default all)\n"
           "      --test-images N      use only the first N test images (default all)\n"
           "      --train-eval-images N\n"
           "                           measure train_accuracy on the first N training images, 0 = all\n"
           "                           (default %d)\n"
           "Long runs:\n"
           "      --checkpoint FILE    save the state after every epoch (atomically)\n"
           "      --resume             continue from --checkpoint FILE (same options, input and images:\n"
           "                           the checkpoint holds their digest; otherwise a usage error)\n"
           "      --max-minutes M      stop after the first epoch that ends after M minutes, with a\n"
           "                           checkpoint (needs --checkpoint); rerun with --resume\n"
           PAR_THREADS_HELP("          ")
           "Output:\n"
           "      --no-timing          omit \"train_seconds\" (the output is then bitwise reproducible)\n"
           OPTS_FORCE_HELP("              ")
           "  -q, --quiet              only errors and warnings on stderr (no progress)\n"
           "  -v, --verbose            also a summary on stderr (records read and written)\n"
           "  -h, --help               show this help and exit\n"
           "\n"
           "Bad input or data (exit 1) includes an unsupported space, an invalid cell, bad data files and\n"
           "a diverged run.\n"
           "\n"
           OPTS_EXIT_HELP,
           tool_name(), d->stem, d->stacks, d->cells, d->enas_filters, d->epochs, d->batch, d->tc.lr, d->tc.momentum,
           d->tc.weight_decay, d->tc.clip, d->bn_momentum, d->tc.seed, d->train_eval);
}

enum {
    OPT_EPOCHS = 256, OPT_STEM, OPT_STACKS, OPT_CELLS, OPT_BATCH, OPT_LR, OPT_OPTIMIZER, OPT_MOMENTUM,
    OPT_WD, OPT_CLIP, OPT_BNMOM, OPT_SEED, OPT_TRAIN, OPT_TEST, OPT_TRAIN_N, OPT_TEST_N, OPT_CKPT,
    OPT_RESUME, OPT_MAXMIN, OPT_NOTIMING, OPT_TRAIN_EVAL, OPT_ENAS_F, OPT_ENAS_MODE, OPT_ENAS_SEP, OPT_THREADS
};

static void parse_args(int argc, char **argv, options *o) {
    static const struct option longopts[] = {
        {"epochs", required_argument, NULL, OPT_EPOCHS},
        {"stem-channels", required_argument, NULL, OPT_STEM},
        {"stacks", required_argument, NULL, OPT_STACKS},
        {"cells-per-stack", required_argument, NULL, OPT_CELLS},
        {"enas-filters", required_argument, NULL, OPT_ENAS_F},
        {"enas-mode", required_argument, NULL, OPT_ENAS_MODE},
        {"enas-separable", no_argument, NULL, OPT_ENAS_SEP},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"batch", required_argument, NULL, OPT_BATCH},
        {"lr", required_argument, NULL, OPT_LR},
        {"optimizer", required_argument, NULL, OPT_OPTIMIZER},
        {"momentum", required_argument, NULL, OPT_MOMENTUM},
        {"weight-decay", required_argument, NULL, OPT_WD},
        {"clip", required_argument, NULL, OPT_CLIP},
        {"bn-momentum", required_argument, NULL, OPT_BNMOM},
        {"seed", required_argument, NULL, OPT_SEED},
        {"train", required_argument, NULL, OPT_TRAIN},
        {"test", required_argument, NULL, OPT_TEST},
        {"train-images", required_argument, NULL, OPT_TRAIN_N},
        {"test-images", required_argument, NULL, OPT_TEST_N},
        {"train-eval-images", required_argument, NULL, OPT_TRAIN_EVAL},
        {"checkpoint", required_argument, NULL, OPT_CKPT},
        {"resume", no_argument, NULL, OPT_RESUME},
        {"max-minutes", required_argument, NULL, OPT_MAXMIN},
        {"no-timing", no_argument, NULL, OPT_NOTIMING},
        OPTS_QV_LONG,
        OPTS_FORCE_LONG,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = DEFAULTS;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":hqv" OPTS_FORCE, longopts, NULL)) != -1) {
        switch (c) {
        case OPT_EPOCHS: o->epochs = (int)opt_uint("--epochs", optarg, 1, 100000); break;
        case OPT_STEM: o->stem = (int)opt_uint("--stem-channels", optarg, 1, 4096); break;
        case OPT_STACKS: o->stacks = (int)opt_uint("--stacks", optarg, 1, 6); break;
        case OPT_CELLS: o->cells = (int)opt_uint("--cells-per-stack", optarg, 1, 64); break;
        case OPT_BATCH: o->batch = (int)opt_uint("--batch", optarg, 1, 4096); break;
        case OPT_ENAS_F:
            o->enas_filters = (int)opt_uint("--enas-filters", optarg, 2, 4096);
            if (o->enas_filters % 2) die_usage("--enas-filters: '%s' is odd (ENAS's reductions halve it)", optarg);
            break;
        case OPT_ENAS_MODE:
            o->enas_shared = opt_word("--enas-mode", optarg, (const char *const[]){"fixed", "shared", NULL});
            break;
        case OPT_ENAS_SEP: o->enas_separable = 1; break;
        case OPT_THREADS: o->threads = par_threads_arg("--threads", optarg); break;
        case OPT_LR: o->tc.lr = opt_number("--lr", optarg, 0, 100, 0, 0); break;
        case OPT_OPTIMIZER:
            o->tc.opt = opt_word("--optimizer", optarg, (const char *const[]){"rmsprop", "sgd", NULL}) ? CT_SGD : CT_RMSPROP;
            break;
        case OPT_MOMENTUM: o->tc.momentum = opt_number("--momentum", optarg, 0, 0.999999, 0, 0); break;
        case OPT_WD: o->tc.weight_decay = opt_number("--weight-decay", optarg, 0, 1, 0, 0); break;
        case OPT_CLIP: o->tc.clip = opt_number("--clip", optarg, 0, 1e30, 0, 0); break;
        case OPT_BNMOM: o->bn_momentum = opt_number("--bn-momentum", optarg, 0, 1, 0, 0); break;
        case OPT_SEED: o->tc.seed = (uint32_t)(int)opt_uint("--seed", optarg, 0, 2147483647); break;
        case OPT_TRAIN: o->train = optarg; break;
        case OPT_TEST: o->test = optarg; break;
        case OPT_TRAIN_N: o->train_images = (int)opt_uint("--train-images", optarg, 1, 100000000); break;
        case OPT_TEST_N: o->test_images = (int)opt_uint("--test-images", optarg, 1, 100000000); break;
        case OPT_TRAIN_EVAL: o->train_eval = (int)opt_uint("--train-eval-images", optarg, 0, 100000000); break;
        case OPT_CKPT: o->checkpoint = optarg; break;
        case OPT_RESUME: o->resume = 1; break;
        case OPT_MAXMIN: o->max_minutes = opt_number("--max-minutes", optarg, 0, 1e9, 0, 0); break;
        case OPT_NOTIMING: o->timing = 0; break;
        case 'h': usage(); exit(EXIT_OK);
        default: opt_common(c, argv);
        }
    }
    if (o->resume && !o->checkpoint) die_usage("--resume needs --checkpoint FILE");
    if (o->max_minutes > 0 && !o->checkpoint) die_usage("--max-minutes needs --checkpoint FILE");
    o->input = opt_one_input(argc, argv);
    o->tc.epochs = o->epochs;
    o->tc.batch = o->batch;
}

/* ---- results and checkpoints ---- */

/* The settings a checkpoint must agree with. */
static ctck_settings settings_of(const options *o, const cifar_set *train, const cifar_set *test) {
    ctck_settings s = {.stem = o->stem, .stacks = o->stacks, .cells = o->cells, .enas_filters = o->enas_filters,
                       .enas_shared = o->enas_shared, .enas_separable = o->enas_separable, .epochs = o->epochs,
                       .batch = o->batch, .bn_momentum = o->bn_momentum, .tc = o->tc, .train_images = train->n,
                       .test_images = test->n, .train_eval = o->train_eval};
    ctck_data_digest(train, test, s.data_md5);
    return s;
}

/* ---- progress ---- */
typedef struct {
    int tty;
    uint64_t record;
    int epoch, epochs;
    double last;
} progress_state;

static void batch_progress(void *arg, int done, int total) {
    progress_state *p = arg;
    if (!p->tty) return;
    double t = now_seconds();
    if (t - p->last < 0.25 && done < total) return;
    p->last = t;
    fprintf(stderr, "\r\033[Krecord %llu epoch %d/%d batch %d/%d", (unsigned long long)p->record, p->epoch,
            p->epochs, done, total);
}

/* ---- main ---- */

static void write_result(rec_writer *w, const msgpack_object *rec, const celltrain_result *res, const options *o) {
    static const char *const drop[] = {"train_accuracy", "test_accuracy", "train_loss", "parameters",
                                       "train_epochs", "train_seconds", NULL};
    msgpack_packer *pk = rw_packer(w);
    pack_enriched_begin(pk, rec, NULL, 0, drop, o->timing ? 6 : 5);
    pack_kv_double(pk, "train_accuracy", res->train_acc);
    pack_kv_double(pk, "test_accuracy", res->test_acc);
    pack_kv_double(pk, "train_loss", res->train_loss);
    pack_kv_i64(pk, "parameters", res->params);
    pack_kv_i64(pk, "train_epochs", o->epochs);
    if (o->timing) pack_kv_double(pk, "train_seconds", round(res->seconds * 1000) / 1000);
    rw_end_record(w);
}

int main(int argc, char **argv) {
    tool_init(argv[0]);
    options o;
    parse_args(argc, argv, &o);
    // every layer runs as a fixed number of tasks on our threads (lib/cellnet_internal.h), each
    // calling OpenBLAS single-threaded: the output is the same for every --threads
    par_blas_single();
    par_pool *pool = par_create(par_threads_resolve(o.threads));
    if (o.checkpoint) of_check(o.checkpoint); /* an unusable checkpoint path fails before training */

    char *def_train = xstrdup(data_path("cifar10/train_20k.jpgrec"));
    char *def_test = xstrdup(data_path("cifar10/test_small.jpgrec"));
    const char *train_path = o.train ? o.train : def_train, *test_path = o.test ? o.test : def_test;
    cifar_set train = {0}, test = {0};
    cifar_load(&train, train_path, o.train_images);
    cifar_load(&test, test_path, o.test_images);
    if (o.train_images && train.n < o.train_images)
        die(EXIT_DATA, "%s: --train-images %d, the file has %d", train_path, o.train_images, train.n);
    if (o.test_images && test.n < o.test_images)
        die(EXIT_DATA, "%s: --test-images %d, the file has %d", test_path, o.test_images, test.n);

    const ctck_settings cks = settings_of(&o, &train, &test);
    ctck_resume ri = {0};
    if (o.resume) ctck_read(&ri, o.checkpoint, &cks);
    celltrain_result *done = xcalloc((size_t)ri.n_done + 1, sizeof *done);
    int n_done = ri.n_done, cap_done = ri.n_done + 1;
    if (ri.n_done) memcpy(done, ri.done, (size_t)ri.n_done * sizeof *done);

    const nb101_config ncfg = {.stem = o.stem, .stacks = o.stacks, .cells = o.cells, .classes = CIFAR_CLASSES};
    enasnet_config ecfg = enasnet_default_config();
    ecfg.out_filters = o.enas_filters;
    ecfg.mode = o.enas_shared ? ENASNET_SHARED : ENASNET_FIXED;
    ecfg.separable = o.enas_separable;
    ecfg.classes = CIFAR_CLASSES;
    ecfg.side = CIFAR_SIDE;
    const int max_batch = o.batch < train.n ? o.batch : train.n;
    const int quiet = verbosity() == VERB_QUIET;
    progress_state ps = {.tty = !quiet && isatty(2), .epochs = o.epochs};
    const double run_start = now_seconds();
    int stopped = 0;

    rec_reader *r = rr_open(o.input);
    rec_writer *w = rw_open(NULL, 0);
    const msgpack_object *rec;
    while (!stopped && (rec = rr_next(r))) {
        const uint64_t k = rr_count(r); // 1-based
        char why[512];
        const space_info *sp;
        graph g;
        memset(&g, 0, sizeof g);
        if (graph_read(rec, &sp, &g, why, sizeof why) != 0) rr_fail(r, "%s", why);
        const int enas = sp->id == SPACE_ENAS6 || sp->id == SPACE_ENAS12;
        if (!space_nb101_rules(sp) && !enas)
            rr_fail(r, "a graph of space %s; cell-train trains nb101 / nb101x cells and enas6 / enas12 architectures",
                    sp->name);
        if (graph_check(sp, &g, why, sizeof why) != 0) rr_fail(r, "invalid %s %s: %s", sp->name, enas ? "architecture" : "cell", why);
        if (k <= (uint64_t)ri.n_done) { // finished before the interruption
            if (!graph_equal(&g, &done[k - 1].g))
                rr_fail(r, "not the cell the checkpoint %s trained as record %llu (other input?)", o.checkpoint,
                        (unsigned long long)k);
            write_result(w, rec, &done[k - 1], &o);
            continue;
        }
        cellnet *net = enas ? enasnet_build(&g, &ecfg, why, sizeof why) : nb101net_build(&g, &ncfg, why, sizeof why);
        if (!net) rr_fail(r, "cannot build the network: %s", why);
        // activations, params, grads, buffers (cellnet) + the optimizer's two states
        size_t need_bytes = (cellnet_memory_floats(net, max_batch) + 2 * cellnet_param_count(net)) * sizeof(float);
        if (need_bytes > MAX_MEMORY_BYTES)
            rr_fail(r, "the network needs %.1f GiB at batch %d (at most %.0f GiB); use a smaller --batch or "
                       "--stem-channels", (double)need_bytes / (1 << 30), max_batch,
                    (double)MAX_MEMORY_BYTES / (1 << 30));
        if (cellnet_compile(net, max_batch, why, sizeof why) != 0) rr_fail(r, "%s", why);
        net->bn_momentum = (float)o.bn_momentum; // (--bn-momentum for ENAS too: its TF decay 0.9 is 0.1)
        net->pool = pool;
        celltrain_state st;
        celltrain_start(&st, net, &o.tc);
        ctck_progress pi = {.has_current = 1, .g = g};
        if (ri.has_current && k == (uint64_t)ri.n_done + 1) {
            if (!graph_equal(&g, &ri.g))
                rr_fail(r, "not the cell the checkpoint %s was training (other input?)", o.checkpoint);
            ctck_restore(&ri, net, &st, &pi.seconds);
        }
        ps.record = k;
        if (!quiet)
            say("record %llu: %zu parameters, %d training images, %d epochs of %d batches of %d",
                (unsigned long long)k, net->n_params, train.n, o.epochs, celltrain_batches(train.n, o.batch),
                max_batch);
        double t0 = now_seconds() - pi.seconds;
        celltrain_epoch_stats es = {0};
        while (st.epoch < o.epochs) {
            ps.epoch = st.epoch + 1;
            es = celltrain_epoch(net, &st, &o.tc, &train, batch_progress, &ps);
            if (es.nonfinite)
                rr_fail(r, "training diverged in epoch %d (the loss or a parameter is not finite); try a "
                           "lower --lr", st.epoch);
            pi.seconds = now_seconds() - t0;
            if (!quiet)
                fprintf(stderr, "%s%s: record %llu epoch %d/%d: loss %.4f, train accuracy %.4f (augmented), lr %.4g, %.1f s\n",
                        ps.tty ? "\r\033[K" : "", tool_name(), (unsigned long long)k, st.epoch, o.epochs, es.loss,
                        es.accuracy, es.lr, pi.seconds);
            if (o.checkpoint && st.epoch < o.epochs) {
                ctck_write(o.checkpoint, &cks, done, n_done, &pi, net, &st);
                if (o.max_minutes > 0 && now_seconds() - run_start >= o.max_minutes * 60) {
                    stopped = 1;
                    break;
                }
            }
        }
        if (!stopped) {
            celltrain_result res;
            memset(&res, 0, sizeof res); // the checkpoint stores its bytes: no stray padding
            res.g = g;
            res.train_loss = es.loss;
            res.params = (int64_t)net->n_params;
            res.test_acc = celltrain_evaluate(net, &test, 0);
            res.train_acc = celltrain_evaluate(net, &train, o.train_eval);
            res.seconds = now_seconds() - t0;
            if (!quiet)
                say("record %llu: test accuracy %.4f, train accuracy %.4f, %.1f s", (unsigned long long)k,
                    res.test_acc, res.train_acc, res.seconds);
            if (n_done == cap_done) done = xrealloc(done, (size_t)(cap_done *= 2) * sizeof *done);
            done[n_done++] = res;
            write_result(w, rec, &res, &o);
            if (o.checkpoint) {
                ctck_progress none = {0};
                ctck_write(o.checkpoint, &cks, done, n_done, &none, net, &st);
            }
        }
        celltrain_free(&st);
        cellnet_free(net);
    }
    if (stopped)
        say("stopped after %.1f minutes (--max-minutes %g); the checkpoint %s holds the state: rerun with --resume",
            (now_seconds() - run_start) / 60, o.max_minutes, o.checkpoint);
    rr_close(r);
    rw_close(w);
    ctck_free(&ri);
    free(done);
    free(def_train), free(def_test);
    cifar_free(&train);
    cifar_free(&test);
    par_free(pool);
    return EXIT_OK;
}
