/* jsonl-to-stream: JSON lines (one object per line) -> a record stream; the reverse of
 * stream-to-jsonl. A strict RFC 8259 parser (lib/json_read.c); every line must be an object with "v": 1. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_read.h"
#include "opts.h"
#include "stream.h"
#include "textin.h"
#include "util.h"

#define MAX_LINE (16u << 20) /* bytes in one line, newline excluded */

static void usage(void) {
    printf("Usage: %s [OPTION]... [FILE]\n"
           "Read JSON lines (FILE, or stdin if absent or '-'; plain or zstd-compressed) and write them as\n"
           "a record stream on stdout. Each non-blank line must be one JSON object (RFC 8259) with \"v\": 1.\n"
           "\n"
           "  integers without fraction or exponent become msgpack integers (beyond the\n"
           "  int64/uint64 range: float64); other numbers float64; {\"$base64\": \"...\"} alone\n"
           "  becomes msgpack bin. Rejected with line and column (in bytes): invalid JSON,\n"
           "  NaN/Infinity, unpaired \\u surrogates, invalid UTF-8, duplicate keys, nesting deeper\n"
           "  than %d levels (the record itself is one), lines longer than %u MiB, more than %u\n"
           "  values in a line. Records before a bad line are still written as a valid stream.\n"
           "\n"
           "  -l, --level N   zstd compression level, 1..19 (default %d)\n"
           OPTS_FORCE_HELP("     ")
           "  -q, --quiet     only errors and warnings on stderr (no progress)\n"
           "  -v, --verbose   also a summary on stderr (records read and written)\n"
           "  -h, --help      show this help and exit\n"
           "\n"
           OPTS_EXIT_HELP,
           tool_name(), JSON_MAX_DEPTH, MAX_LINE >> 20, STREAM_MAX_RECORD_ITEMS, STREAM_DEFAULT_LEVEL);
}

/* Where a line is, for messages: "FILE: line N" ("stdin: line N"). */
static const char *where(const text_reader *t) {
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s: line %llu", tr_name(t), (unsigned long long)tr_lineno(t));
    return buf;
}

/* ---------------------------------------------------------------- records */

static const char *type_word(const json_node *nd) {
    switch ((json_type)nd->type) {
    case JSON_NULL: return "null";
    case JSON_FALSE:
    case JSON_TRUE: return "a boolean";
    case JSON_INT:
    case JSON_UINT: return "an integer";
    case JSON_FLOAT: return "a float";
    case JSON_STRING: return "a string";
    case JSON_BIN: return "a $base64 object";
    case JSON_ARRAY: return "an array";
    case JSON_OBJECT: return "an object";
    }
    return "?";
}

/* The parsed line must be an object with "v": 1. */
static void check_record(const text_reader *lr, const json_doc *d) {
    const json_node *root = &d->nodes[0];
    if (root->type != JSON_OBJECT)
        die(EXIT_DATA, "%s: a record must be a JSON object, not %s", where(lr), type_word(root));
    size_t k = 1;
    for (uint32_t m = 0; m < root->n; m++) {
        const json_node *key = &d->nodes[k], *val = &d->nodes[k + 1];
        if (key->n == 1 && json_str(d, key)[0] == 'v') {
            if (val->type == JSON_UINT && val->v.u == STREAM_FORMAT_VERSION) return;
            if (val->type == JSON_UINT)
                die(EXIT_DATA, "%s: format version %llu is not supported (this tool reads version %d)", where(lr),
                    (unsigned long long)val->v.u, STREAM_FORMAT_VERSION);
            if (val->type == JSON_INT)
                die(EXIT_DATA, "%s: format version %lld is not supported (this tool reads version %d)", where(lr),
                    (long long)val->v.i, STREAM_FORMAT_VERSION);
            die(EXIT_DATA, "%s: column %u: \"v\" is %s, it must be the integer %d", where(lr), val->pos + 1,
                type_word(val), STREAM_FORMAT_VERSION);
        }
        k = val->next;
    }
    die(EXIT_DATA, "%s: no \"v\" field (records need \"v\": %d; see formats/records.md)", where(lr),
        STREAM_FORMAT_VERSION);
}

static int blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return 0;
    return 1;
}

int main(int argc, char **argv) {
    tool_init(argv[0]);
    static const struct option longopts[] = {
        {"level", required_argument, NULL, 'l'},
        OPTS_QV_LONG,
        OPTS_FORCE_LONG,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int level = STREAM_DEFAULT_LEVEL;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":l:hqv" OPTS_FORCE, longopts, NULL)) != -1) {
        switch (c) {
        case 'l':
            level = (int)opt_uint("--level", optarg, 1, 19);
            break;
        case 'h': usage(); return EXIT_OK;
        default: opt_common(c, argv);
        }
    }
    const char *path = opt_one_input(argc, argv);
    text_reader *lr = tr_open_max(path, MAX_LINE);

    rec_writer *w = rw_open(NULL, level);
    json_doc doc;
    json_doc_init(&doc);
    doc.max_nodes = STREAM_MAX_RECORD_ITEMS; /* what a reader accepts, the root map included */
    char *line, *enc = NULL;
    size_t len, enc_cap = 0;
    while ((line = tr_line(lr, &len))) {
        if (blank(line, len)) continue;
        if (json_parse(&doc, line, len) < 0)
            die(EXIT_DATA, "%s: column %zu: %s", where(lr), doc.err_pos + 1, doc.err);
        check_record(lr, &doc);
        /* Encoding into our own buffer then handing the record over whole is several times faster
         * than msgpack-c's packer callback per value; the bytes are the same (tests/unit/test_json). */
        if (JSON_ENCODE_BOUND(&doc) > enc_cap) {
            enc_cap = 2 * JSON_ENCODE_BOUND(&doc);
            enc = xrealloc(enc, enc_cap);
        }
        size_t n = json_encode(&doc, 0, enc);
        if (n > STREAM_MAX_RECORD_BYTES)
            die(EXIT_DATA, "%s: the record would take %zu bytes of msgpack, more than the %u MiB a record may hold",
                where(lr), n, STREAM_MAX_RECORD_BYTES >> 20);
        rw_write_raw(w, enc, n);
    }
    rw_close(w);
    json_doc_free(&doc);
    free(enc);
    tr_close(lr);
    return EXIT_OK;
}
