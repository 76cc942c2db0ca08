/* vae_team.h: a model's inference on several threads (lib/parallel.h), with results bitwise the
 * same for every thread count.
 *
 * A team is T models (model 0 loaded, the others copies of its parameters, each with its own
 * buffers, since a model's forward writes scratch into the model) and, for generation, T
 * generation workspaces over model 0's decoder (generation only reads the model). Work is split
 * into tasks that do not depend on T, exactly as one thread would split it:
 *   - encoding B graphs "in groups of G" means what G-graph vae_encode calls over consecutive
 *     groups do (the last group may be shorter): each call encodes its group in chunks of max_g
 *     graphs. Each chunk is a task. A graph's latent depends (in its last bits) on the graphs that
 *     share its chunk, not on the model copy that encodes it, so the chunks keep the bytes the same.
 *   - generating B rows "in groups of G" means what G-row vae_generate_batch calls over consecutive
 *     groups do: each group in chunks of the workspace's max_b rows. Each chunk is a task. Every
 *     row has its own random stream (lib/generate.h, keyed by its id); the chunk only changes the
 *     rounding.
 * The T threads (lib/parallel.h's pool) claim the chunks in turn, each with its own model or
 * workspace; a task writes only its own rows and nothing else is shared, so which thread runs a
 * chunk changes nothing: the output is that of one thread. The team's threads call OpenBLAS single-threaded: call
 * par_blas_single() before using one. The team's functions are called from one thread. */
#ifndef SVGE_VAE_TEAM_H
#define SVGE_VAE_TEAM_H

#include "parallel.h"
#include "vae.h"

typedef struct {
    int threads;
    par_pool *pool;
    vae_model *m;      /* (threads): m[0] is loaded; m[i > 0] are built when an encoding needs them */
    int max_g;         /* every model's batch limit */
    generate_ws *ws;   /* (threads), or NULL before vae_team_generate_init */
    int ws_ready;      /* workspaces initialised */
} vae_team;

/* Load the model of f for batches of up to max_g graphs (vae_load: dies as it does) and start a
 * pool of threads (>= 1; resolve --threads with par_threads_resolve first). */
void vae_team_load(vae_team *t, const model_file *f, int max_g, int threads);
void vae_team_free(vae_team *t);

/* Rebuild every model for graphs of space sp (cfg.space = sp: buffers for its node limit; same
 * vocabulary, so the same parameters), keeping parameters and id. Dies (exit 1, 3 without memory)
 * if it cannot. The generation workspaces are not rebuilt. */
void vae_team_respace(vae_team *t, const space_info *sp);

/* Eval-mode mu (B,D) and logvar (B,D, unless NULL) of gs (B), in groups of `group` graphs as above
 * (group >= 1). 0, or -1 if a graph does not fit the model. */
int vae_team_encode(vae_team *t, const graph *gs, int B, int group, float *mu, float *logvar);

/* vae_team_encode (the same bytes) while the calling thread runs beside(ctx), e.g. a stream's
 * reading and writing: the other threads start on the chunks and the calling thread joins them
 * when beside returns (with one thread: beside, then the encoding). */
int vae_team_encode_beside(vae_team *t, const graph *gs, int B, int group, float *mu, float *logvar,
                           void (*beside)(void *ctx), void *ctx);

/* T generation workspaces of max_b rows each (vae_generate_ws_init). 0, or -1 without memory. */
int vae_team_generate_init(vae_team *t, int max_b);
/* vae_generate_batch over B rows c (B,D) with stream ids (B, not NULL), in groups of `group` rows
 * as above, into out (B) and flags (B, or NULL). 0, or -1 on bad options. */
int vae_team_generate(vae_team *t, const float *c, int B, int group, const uint64_t *ids, const generate_opts *o,
                      graph *out, uint8_t *flags);

#endif
