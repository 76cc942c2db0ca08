/* stream-to-jsonl: a record stream -> JSON lines (one object per record), for jq, pandas and
 * anything else that reads JSON. The reverse is jsonl-to-stream; see lib/json_write.h for the mapping. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json_write.h"
#include "mpscan.h"
#include "opts.h"
#include "stream.h"
#include "util.h"

#define OUT_FLUSH (256u << 10)

static void usage(void) {
    printf("Usage: %s [OPTION]... [FILE]\n"
           "Write each record of a record stream (FILE, or stdin if absent or '-') as one JSON object\n"
           "per line on stdout, keys in stored order.\n"
           "\n"
           "  nil, booleans, integers, strings, arrays and maps map to their JSON forms;\n"
           "  floats print as the shortest decimal that reads back to the same float64 (or float32)\n"
           "  bits, always with a '.' or an exponent (1.0, 1e-05), so they stay floats;\n"
           "  msgpack bin becomes {\"$base64\": \"...\"}.\n"
           "  Errors (record and field named): ext values, a map whose only key is \"$base64\"; and\n"
           "  what every tool's reader refuses: non-string map keys, a key twice in a map, invalid\n"
           "  UTF-8, nesting deeper than %d levels (jsonl-to-stream's limit too). Lines of the\n"
           "  records before a bad one are still written. jsonl-to-stream reads the output back\n"
           "  into the same records (float32 values come back as float64 of the same value).\n"
           "\n"
           "  -q, --quiet    only errors and warnings on stderr (no progress)\n"
           "  -v, --verbose  also a summary on stderr (records read and written)\n"
           "  -h, --help     show this help and exit\n"
           "\n"
           OPTS_EXIT_HELP,
           tool_name(), MPSCAN_MAX_DEPTH);
}

static json_buf out;
static size_t out_done; /* bytes of `out` that are whole lines */

/* Write the whole lines in the buffer. */
static void flush_out(void) {
    size_t n = out_done;
    out_done = 0; /* not again from the exit hook */
    if (n && fwrite(out.p, 1, n, stdout) != n) die(EXIT_IO, "stdout: write error: %s", strerror(errno));
    if (out.len > n) memmove(out.p, out.p + n, out.len - n);
    out.len -= n;
}

/* Exit hook: the lines of the records before a bad one still reach stdout. */
static void flush_on_die(void *arg) {
    (void)arg;
    if (out_done) (void)!fwrite(out.p, 1, out_done, stdout);
    fflush(stdout);
}

int main(int argc, char **argv) {
    tool_init(argv[0]);
    static const struct option longopts[] = {
        OPTS_QV_LONG,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":hqv", longopts, NULL)) != -1) {
        switch (c) {
        case 'h': usage(); return EXIT_OK;
        default: opt_common(c, argv);
        }
    }
    const char *input = opt_one_input(argc, argv);

    int tty = isatty(STDOUT_FILENO);
    rec_reader *r = rr_open(input);
    on_die(flush_on_die, NULL);
    const msgpack_object *rec;
    char why[512];
    while ((rec = rr_next(r))) {
        size_t line_start = out.len;
        if (json_write(&out, rec, why, sizeof why) < 0) {
            out.len = line_start;
            rr_fail(r, "%s", why);
        }
        jb_reserve(&out, 1);
        out.p[out.len++] = '\n';
        out_done = out.len;
        if (tty || out.len >= OUT_FLUSH) {
            flush_out();
            if (tty && fflush(stdout) != 0) die(EXIT_IO, "stdout: write error: %s", strerror(errno));
        }
    }
    flush_out();
    on_die_remove(flush_on_die, NULL);
    rr_close(r);
    if (fflush(stdout) != 0 || ferror(stdout)) die(EXIT_IO, "stdout: write error: %s", strerror(errno));
    jb_free(&out);
    return EXIT_OK;
}
