/* celltrain_ckpt.h: cell-train's checkpoints (a model file, formats/model.md, of config kind
 * "cell-train-checkpoint"): the settings of the run (which a resumed run must repeat), the results
 * of the records finished so far, and the state of the record in training (its graph, training
 * seconds, epoch, step, RNG, the network's params and buffers, the optimizer's two states).
 * Every function here either succeeds or exits (never returns an error): writing is atomic and dies
 * (exit 3) on I/O errors; reading dies with exit 3 if the file cannot be read, 1 if it is not a
 * cell-train checkpoint or is corrupt, 2 (a usage error) if it was made with other settings or
 * other images (a checkpoint from before the images' digest is resumed with a warning). */
#ifndef SVGE_CELLTRAIN_CKPT_H
#define SVGE_CELLTRAIN_CKPT_H

#include <stdint.h>

#include "cellnet.h"
#include "cifar.h"
#include "celltrain.h"
#include "graph.h"
#include "modelfile.h"

#define CTCK_KIND "cell-train-checkpoint"
#define CTCK_VERSION 1

/* What a finished record gets (and what a checkpoint keeps of it, as bytes: zero it before
 * filling it in, so that no padding is stray). */
typedef struct {
    graph g;
    double train_acc, test_acc, train_loss, seconds;
    int64_t params;
} celltrain_result;

/* The settings a checkpoint must agree with. */
typedef struct {
    int stem, stacks, cells, enas_filters, enas_shared, enas_separable, epochs, batch;
    double bn_momentum;
    celltrain_config tc; /* opt, lr, momentum, weight_decay, clip, seed */
    int train_images, test_images, train_eval;
    char data_md5[33]; /* ctck_data_digest of the training and test images */
} ctck_settings;

/* The MD5 (32 hex digits) of the images and labels of the training and the test set. */
void ctck_data_digest(const cifar_set *train, const cifar_set *test, char hex[33]);

/* Training in progress, as a checkpoint holds it. */
typedef struct {
    int has_current;     /* a record is partly trained */
    graph g;             /* its graph */
    double seconds;      /* its training seconds so far */
} ctck_progress;

/* A resumed run: the finished results and the model file holding the current record's state. */
typedef struct {
    model_file *f;
    const celltrain_result *done; /* n_done, inside f */
    int n_done;
    int has_current;
    graph g;
} ctck_resume;

/* Write the checkpoint (atomically): the settings, the n_done results, and with pi->has_current
 * the network's and st's state. */
void ctck_write(const char *path, const ctck_settings *s, const celltrain_result *done, int n_done,
                const ctck_progress *pi, const cellnet *net, const celltrain_state *st);
/* Read a checkpoint made with settings s. */
void ctck_read(ctck_resume *ri, const char *path, const ctck_settings *s);
/* ctck_read's checks of a parsed checkpoint f (named path): fills ri (except ri->f) and returns 0,
 * or EXIT_DATA (not a checkpoint, corrupt) or EXIT_USAGE (other settings) with the message in err. */
int ctck_check(ctck_resume *ri, const model_file *f, const char *path, const ctck_settings *s, char *err, size_t el);
/* Restore the current record's training state (net built for ri->g, st started). */
void ctck_restore(const ctck_resume *ri, cellnet *net, celltrain_state *st, double *seconds);
void ctck_free(ctck_resume *ri);

#endif
