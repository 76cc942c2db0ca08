/* graph-parse: a benchmark's native file -> graph records (formats/records.md).
 *
 *   graph-parse nb101 [FILE]   NAS-Bench-101 cell table (CSV hash,num_vertices,adjacency,ops), joined
 *                              by hash with the validation accuracies (--accuracies)
 *   graph-parse nb201 [FILE]   NAS-Bench-201 table (CSV index,arch_str,<accuracy columns in percent>)
 *   graph-parse enas6 [FILE]   D-VAE's final_structures6.txt ("[[op], [op, f0], ...], acc" lines)
 *   graph-parse enas12 FILE    the same format with 12 layers (no data ships)
 * FILE may be plain or zstd-compressed; without FILE the copy in data/ is read. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_parse.h"
#include "opts.h"
#include "progress.h"
#include "stream.h"
#include "util.h"

static void usage(void) {
    printf("Usage: graph-parse SPACE [FILE] [OPTIONS]\n"
           "Read a benchmark's native file and write graph records (a zstd msgpack stream) to stdout.\n"
           "\n"
           "Spaces and files (FILE plain or zstd-compressed; '-' is stdin; default: the copy in data/):\n"
           "  nb101   CSV with columns hash,num_vertices,adjacency,ops (default data/nb101/cells.csv.zst)\n"
           "  nb201   CSV with columns index,arch_str and accuracy columns in percent\n"
           "          (default data/nb201/accuracies.csv.zst)\n"
           "  enas6   D-VAE final_structures6.txt lines \"[[op], [op, f0], ...], acc\"\n"
           "          (default data/enas6/final_structures6.txt.zst); every line is a record\n"
           "  enas12  the same with 12 layers; no data ships, FILE is required\n"
           "  (nb101x, NB101's operations in cells of up to 8 nodes, has no native file: graph-gen)\n"
           "\n"
           "Options:\n"
           "  --accuracies FILE  nb101: CSV hash,<columns...> joined by hash\n"
           "                     (default data/nb101/val_accuracies.csv.zst)\n"
           "  --no-accuracies    nb101: structure only\n"
           OPTS_FORCE_HELP("        ")
           "  -q, --quiet        only errors and warnings on stderr (no progress)\n"
           "  -v, --verbose      also a summary on stderr (records read and written)\n"
           "  -h, --help         show this help and exit\n"
           "\n"
           "Accuracies are fractions in [0,1] (NB201's percentages are divided by 100). A cell without a\n"
           "known accuracy has no accuracy field.\n"
           "\n"
           OPTS_EXIT_HELP);
}

typedef struct {
    rec_writer *w;
    progress pg;
    uint64_t n;
} output;

static void write_record(void *ctx, const char *rec, size_t len) {
    output *out = ctx;
    rw_write_raw(out->w, rec, len);
    progress_update(&out->pg, ++out->n);
}

int main(int argc, char **argv) {
    tool_init(argv[0]);
    const char *accpath = NULL;
    int no_acc = 0;
    static const struct option opts[] = {
        {"accuracies", required_argument, 0, 'a'},
        {"no-accuracies", no_argument, 0, 'n'},
        OPTS_QV_LONG,
        OPTS_FORCE_LONG,
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    opterr = 0; /* our own messages, through die_usage */
    int c;
    while ((c = getopt_long(argc, argv, ":hqv" OPTS_FORCE, opts, NULL)) != -1) {
        switch (c) {
        case 'a': accpath = optarg; break;
        case 'n': no_acc = 1; break;
        case 'h': usage(); return EXIT_OK;
        default: opt_common(c, argv);
        }
    }
    if (optind >= argc) die_usage("missing SPACE (one of %s)", space_list());
    opt_operands(argc, argv, 2, "SPACE and one FILE at most");
    const char *name = argv[optind];
    const space_info *sp = space_by_name(name, strlen(name));
    if (!sp) die_usage("unknown space \"%s\" (known: %s)", name, space_list());
    const char *path = argc - optind == 2 ? argv[optind + 1] : NULL;
    if (sp->id == SPACE_NB101X)
        die_usage("nb101x has no native file: its cells are written as graph records (graph-gen nb101-8, or "
                  "JSON lines through jsonl-to-stream)");
    if ((accpath || no_acc) && sp->id != SPACE_NB101) die_usage("--accuracies and --no-accuracies are for nb101");

    char *defpath = NULL;
    if (!path) {
        path = bench_default_file(sp);
        if (!path) die_usage("no %s data ships with the project (final_structures12.txt is not available); give FILE", sp->name);
        path = defpath = xstrdup(path);
    }
    char *defacc = NULL;
    if (sp->id == SPACE_NB101 && !no_acc && !accpath) accpath = defacc = xstrdup(data_path("nb101/val_accuracies.csv.zst"));

    output out = {.w = rw_open(NULL, 0)};
    progress_begin(&out.pg, NULL, "cells", 0);
    record_sink sink;
    sink_init(&sink, write_record, &out);
    bench_parse(sp, path, no_acc ? NULL : accpath, &sink);
    sink_destroy(&sink);
    progress_end(&out.pg);
    rw_close(out.w);
    free(defpath);
    free(defacc);
    return EXIT_OK;
}
