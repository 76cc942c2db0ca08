/* test_modelfile.c: lib/modelfile.c (formats/model.md): bit-exact round trip, model id, another
 * format version refused, every flipped bit and every truncation detected (never a crash), hostile
 * lengths and shapes refused before allocating, shape-mismatch messages, atomic writes (no temporary
 * file left behind, also when the process dies while writing), and the exit codes of mf_read.
 * Usage: test_modelfile [DIR] (a scratch directory; default: a fresh one under $TMPDIR or /tmp).
 * Prints "N passed, M failed"; exits 1 on any failure. */
#include "modelfile.h"

#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "util.h"

static char g_dir[4096];

static const char *path_in(const char *name) {
    static char buf[2][4200];
    static int k;
    k ^= 1;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) buf = realloc(buf, cap = cap ? 2 * cap : 4096);
        size_t k = fread(buf + n, 1, cap - n, f);
        if (k == 0) break;
        n += k;
    }
    fclose(f);
    *len = n;
    return buf;
}

static void spit(const char *path, const uint8_t *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(3);
    }
}

/* Entries of g_dir whose name contains ".tmp." */
static int count_temp_files(void) {
    DIR *d = opendir(g_dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".tmp.")) n++;
    if (d) closedir(d);
    return n;
}

/* Run fn(arg) in a child; return its exit status (or 128+signal) and its stderr in msg. */
static int in_child(void (*fn)(const void *), const void *arg, char *msg, size_t msglen) {
    int fds[2];
    if (pipe(fds) != 0) return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        fn(arg);
        _exit(0);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t k;
    while ((k = read(fds[0], msg + n, msglen - 1 - n)) > 0) n += (size_t)k;
    msg[n] = 0;
    close(fds[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---------------------------------------------------------------- a small model */

static float w_data[12], b_data[4], s_data[1];
static const uint8_t rng_bytes[5] = {1, 2, 3, 0, 255};
static mf_value cfg[6], meta[2], state[3];
static mf_tensor tens[4];
static mf_contents contents;

static void make_model(void) {
    for (int i = 0; i < 12; i++) w_data[i] = (float)(i - 5) / 7.0f;
    w_data[0] = -0.0f;
    w_data[1] = FLT_MIN / 8; /* a subnormal */
    w_data[2] = FLT_MAX;
    w_data[3] = -FLT_MAX;
    for (int i = 0; i < 4; i++) b_data[i] = 1e-3f * (float)(i + 1);
    s_data[0] = 42.5f;
    cfg[0] = mf_str("kind", "svge");
    cfg[1] = mf_str("space", "nb101");
    cfg[2] = mf_int("ndim", 250);
    cfg[3] = mf_int("neg", -7);
    cfg[4] = mf_float("dropout", 0.25);
    cfg[5] = mf_str("agg", "gsum");
    meta[0] = mf_str("cmd", "svge-train --epochs 3");
    meta[1] = mf_float("seconds", 12.5);
    state[0] = mf_int("epoch", 3);
    state[1] = mf_bin("rng", rng_bytes, sizeof rng_bytes);
    state[2] = mf_float("lr", 1e-4);
    memset(tens, 0, sizeof tens);
    tens[0] = (mf_tensor){"enc.w", 2, {3, 4}, w_data};
    tens[1] = (mf_tensor){"enc.b", 1, {4}, b_data};
    tens[2] = (mf_tensor){"scalar", 0, {0}, s_data};
    tens[3] = (mf_tensor){"empty", 2, {0, 5}, NULL};
    contents = (mf_contents){{cfg, meta, state}, {6, 2, 3}, tens, 4};
}

/* Wrap msgpack bytes as a model file with a correct checksum (for hostile bodies). */
static uint8_t *wrap(const char *body, size_t blen, uint32_t version, size_t *len) {
    *len = 12 + blen + 8;
    uint8_t *p = malloc(*len);
    memcpy(p, "SVGEMDL", 8);
    for (int i = 0; i < 4; i++) p[8 + i] = (uint8_t)(version >> (8 * i));
    memcpy(p + 12, body, blen);
    uint64_t h = mf_fnv1a64(p, 12 + blen);
    for (int i = 0; i < 8; i++) p[12 + blen + i] = (uint8_t)(h >> (8 * i));
    return p;
}

/* ---------------------------------------------------------------- tests */

static void test_roundtrip(void) {
    char id[MF_ID_LEN + 1], id2[MF_ID_LEN + 1];
    const char *p = path_in("model.svge");
    mf_write(p, &contents, id);
    CHECK(strlen(id) == 16 && strspn(id, "0123456789abcdef") == 16);
    CHECK(count_temp_files() == 0);
    model_file *m = mf_read(p);
    CHECK(strcmp(mf_id(m), id) == 0);
    CHECK(strcmp(mf_name(m), p) == 0);
    /* tensors bit-exact, shapes, order */
    const mf_contents *c = mf_contents_of(m);
    CHECK(c->ntensors == 4);
    uint64_t sw[2] = {3, 4}, sb[1] = {4}, se[2] = {0, 5};
    const float *w = mf_get_tensor(m, "enc.w", 2, sw);
    CHECK(memcmp(w, w_data, sizeof w_data) == 0);
    CHECK(signbit(w[0]) && w[1] == FLT_MIN / 8 && w[2] == FLT_MAX);
    CHECK(memcmp(mf_get_tensor(m, "enc.b", 1, sb), b_data, sizeof b_data) == 0);
    CHECK(mf_get_tensor(m, "scalar", 0, NULL)[0] == 42.5f);
    CHECK(mf_find_tensor(m, "empty") && mf_check_tensor(m, "empty", 2, se, NULL, 0) == 0);
    CHECK(strcmp(c->tensors[0].name, "enc.w") == 0 && strcmp(c->tensors[3].name, "empty") == 0);
    /* config, meta, state */
    CHECK(strcmp(mf_get_str(m, MF_CONFIG, "kind"), "svge") == 0);
    CHECK(strcmp(mf_get_str(m, MF_CONFIG, "space"), "nb101") == 0);
    CHECK(mf_get_int(m, MF_CONFIG, "ndim") == 250);
    CHECK(mf_get_int(m, MF_CONFIG, "neg") == -7);
    CHECK(mf_get_float(m, MF_CONFIG, "dropout") == 0.25);
    CHECK(mf_get_float(m, MF_CONFIG, "ndim") == 250.0);
    CHECK(strcmp(mf_get_str(m, MF_META, "cmd"), "svge-train --epochs 3") == 0);
    CHECK(mf_get_float(m, MF_STATE, "lr") == 1e-4);
    const mf_value *r = mf_find(m, MF_STATE, "rng");
    CHECK(r && r->kind == MF_BIN && r->len == 5 && memcmp(r->p, rng_bytes, 5) == 0);
    CHECK(mf_find(m, MF_CONFIG, "nope") == NULL && mf_find_tensor(m, "nope") == NULL);
    mf_free(m);

    /* the id is stable: same contents, same id; re-reading gives it too; other contents, other id */
    mf_write(path_in("model2.svge"), &contents, id2);
    CHECK(strcmp(id, id2) == 0);
    m = mf_read(path_in("model2.svge"));
    CHECK(strcmp(mf_id(m), id) == 0);
    mf_free(m);
    size_t l1, l2;
    uint8_t *a = slurp(p, &l1), *b = slurp(path_in("model2.svge"), &l2);
    CHECK(a && b && l1 == l2 && memcmp(a, b, l1) == 0); /* deterministic bytes */
    free(a);
    free(b);
    b_data[0] += 1e-7f;
    mf_write(path_in("model3.svge"), &contents, id2);
    b_data[0] -= 1e-7f;
    CHECK(strcmp(id, id2) != 0);
    /* overwrite in place is atomic too */
    mf_write(p, &contents, id2);
    CHECK(strcmp(id, id2) == 0 && count_temp_files() == 0);
}

/* The model file as bytes. */
static uint8_t *good_bytes(size_t *len) { return slurp(path_in("model.svge"), len); }

static void test_version(void) {
    size_t len;
    char err[512];
    uint8_t *p = good_bytes(&len);
    p[8] = 3;
    CHECK(mf_parse(p, len, "x", err, sizeof err) == NULL);
    CHECK(strcmp(err, "format version 3 is not supported (this tool reads version 1)") == 0);
    spit(path_in("v3.svge"), p, len);
    free(p);
}

static void read_path(const void *arg) {
    model_file *m = mf_read(arg);
    mf_free(m);
}

static void test_read_errors(void) {
    char msg[2048], want[4500];
    int st = in_child(read_path, path_in("v3.svge"), msg, sizeof msg);
    snprintf(want, sizeof want, "%s: format version 3 is not supported (this tool reads version 1)", path_in("v3.svge"));
    CHECK(st == 1 && strstr(msg, want));
    st = in_child(read_path, path_in("does-not-exist"), msg, sizeof msg);
    CHECK(st == 3 && strstr(msg, "cannot open"));
    uint8_t junk[300];
    for (int i = 0; i < 300; i++) junk[i] = (uint8_t)(i * 37 + 11);
    spit(path_in("junk"), junk, sizeof junk);
    st = in_child(read_path, path_in("junk"), msg, sizeof msg);
    CHECK(st == 1 && strstr(msg, "not a model file"));
    spit(path_in("empty"), junk, 0);
    st = in_child(read_path, path_in("empty"), msg, sizeof msg);
    CHECK(st == 1 && strstr(msg, "truncated"));
    /* a corrupt file through mf_read */
    size_t len;
    uint8_t *p = good_bytes(&len);
    p[len / 2] ^= 0x40;
    spit(path_in("corrupt.svge"), p, len);
    free(p);
    st = in_child(read_path, path_in("corrupt.svge"), msg, sizeof msg);
    CHECK(st == 1 && strstr(msg, "checksum mismatch") && strstr(msg, "corrupt or truncated"));
    st = in_child(read_path, g_dir, msg, sizeof msg); /* a directory: read error */
    CHECK(st == 3);
}

static void test_flips_and_truncation(void) {
    size_t len;
    char err[512];
    uint8_t *p = good_bytes(&len);
    int bad_flip = 0, bad_trunc = 0;
    for (size_t i = 0; i < len; i++)
        for (int bit = 0; bit < 8; bit++) {
            p[i] ^= (uint8_t)(1u << bit);
            model_file *m = mf_parse(p, len, "x", err, sizeof err);
            if (m) {
                bad_flip++;
                mf_free(m);
            }
            p[i] ^= (uint8_t)(1u << bit);
        }
    CHECK(bad_flip == 0);
    for (size_t n = 0; n < len; n++) {
        uint8_t *q = malloc(n ? n : 1); /* exactly n bytes: ASan catches any over-read */
        memcpy(q, p, n);
        model_file *m = mf_parse(q, n, "x", err, sizeof err);
        if (m || !*err) {
            bad_trunc++;
            mf_free(m);
        }
        free(q);
    }
    CHECK(bad_trunc == 0);
    /* checksum errors name the problem */
    p[len - 20] ^= 1;
    CHECK(mf_parse(p, len, "x", err, sizeof err) == NULL && strstr(err, "checksum mismatch"));
    p[len - 20] ^= 1;
    /* an extra byte at the end */
    uint8_t *q = malloc(len + 1);
    memcpy(q, p, len);
    q[len] = 0;
    CHECK(mf_parse(q, len + 1, "x", err, sizeof err) == NULL);
    free(q);
    model_file *m = mf_parse(p, len, "x", err, sizeof err);
    CHECK(m != NULL);
    mf_free(m);
    free(p);
}

/* Pack a body: {"config": {}, "tensors": [ one tensor ]} with the given pieces. */
static char *body_with_tensor(const char *name, const char *dtype, const uint64_t *shape, int ndim, uint32_t bin_len,
                              size_t *blen) {
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "config", 6);
    msgpack_pack_map(&pk, 0);
    msgpack_pack_str_with_body(&pk, "tensors", 7);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_map(&pk, 4);
    msgpack_pack_str_with_body(&pk, "name", 4);
    msgpack_pack_str_with_body(&pk, name, strlen(name));
    msgpack_pack_str_with_body(&pk, "dtype", 5);
    msgpack_pack_str_with_body(&pk, dtype, strlen(dtype));
    msgpack_pack_str_with_body(&pk, "shape", 5);
    msgpack_pack_array(&pk, (size_t)ndim);
    for (int d = 0; d < ndim; d++) msgpack_pack_uint64(&pk, shape[d]);
    msgpack_pack_str_with_body(&pk, "data", 4);
    msgpack_pack_bin(&pk, bin_len);
    char *zeros = calloc(1, bin_len ? bin_len : 1);
    msgpack_pack_bin_body(&pk, zeros, bin_len);
    free(zeros);
    *blen = sb.size;
    return sb.data; /* malloc'd by the sbuffer */
}

/* 1 if body (as a whole file, good checksum) is refused with a message containing want. */
static int refused(const char *body, size_t blen, const char *want) {
    size_t len;
    char err[512] = "";
    uint8_t *p = wrap(body, blen, 1, &len);
    model_file *m = mf_parse(p, len, "x", err, sizeof err);
    free(p);
    if (m) {
        mf_free(m);
        fprintf(stderr, "  accepted a body that should be refused (want \"%s\")\n", want);
        return 0;
    }
    if (!strstr(err, want)) {
        fprintf(stderr, "  message \"%s\" lacks \"%s\"\n", err, want);
        return 0;
    }
    return 1;
}

#define REFUSED(lit, want) refused(lit, sizeof(lit) - 1, want)

static void test_hostile(void) {
    size_t bl;
    char *b;
    uint64_t big2[2] = {1ull << 32, 1ull << 32}, big1[1] = {1ull << 40}, ok[2] = {2, 2};
    uint64_t wrap64[3] = {1ull << 62, 8, 8}, nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    b = body_with_tensor("t", "f32", big2, 2, 16, &bl);
    CHECK(refused(b, bl, "shape is larger than its 16 data bytes"));
    free(b);
    b = body_with_tensor("t", "f32", big1, 1, 4, &bl);
    CHECK(refused(b, bl, "shape is larger"));
    free(b);
    b = body_with_tensor("t", "f32", wrap64, 3, 16, &bl); /* a product that wraps around 2^64 */
    CHECK(refused(b, bl, "shape is larger"));
    free(b);
    b = body_with_tensor("t", "f32", ok, 2, 20, &bl);
    CHECK(refused(b, bl, "shape holds 4 floats but data has 20 bytes"));
    free(b);
    b = body_with_tensor("t", "f64", ok, 2, 16, &bl);
    CHECK(refused(b, bl, "\"dtype\" is missing or not \"f32\""));
    free(b);
    b = body_with_tensor("t", "f32", nine, 9, 4, &bl);
    CHECK(refused(b, bl, "at most 8 sizes"));
    free(b);
    b = body_with_tensor("", "f32", ok, 2, 16, &bl);
    CHECK(refused(b, bl, "\"name\" is missing"));
    free(b);
    b = body_with_tensor("t", "f32", ok, 2, 16, &bl); /* valid: accepted */
    {
        size_t len;
        char err[512];
        uint8_t *p = wrap(b, bl, 1, &len);
        model_file *m = mf_parse(p, len, "x", err, sizeof err);
        CHECK(m != NULL);
        uint64_t want[2] = {250, 250};
        CHECK(m && mf_check_tensor(m, "t", 2, want, err, sizeof err) == -1 &&
              strcmp(err, "tensor \"t\" has shape [2,2], this model needs [250,250]") == 0);
        mf_free(m);
        /* NaN data */
        size_t at = bl - 4;
        memcpy(b + at, "\x00\x00\xc0\x7f", 4);
        free(p);
        p = wrap(b, bl, 1, &len);
        CHECK(mf_parse(p, len, "x", err, sizeof err) == NULL && strstr(err, "element 3 is NaN"));
        free(p);
        /* a stray byte after the header (checksum fixed) */
        char *b2 = malloc(bl + 1);
        memcpy(b2, b, bl);
        b2[bl] = (char)0xc0;
        CHECK(refused(b2, bl + 1, "1 stray bytes after the header"));
        free(b2);
    }
    free(b);
    /* headers claiming more than is there: refused by the pre-scan, nothing allocated from them */
    CHECK(REFUSED("\x82\xa6""config\x80\xa7tensors\xdd\xff\xff\xff\xff", "header"));
    CHECK(REFUSED("\xdf\xff\xff\xff\xff", "header"));
    CHECK(REFUSED("\x82\xa6""config\x80\xa7tensors\x91\x84\xa4name\xa1t\xa5""dtype\xa3""f32\xa5shape\x91\x01\xa4""data\xc6\xff\xff\xff\xf0\0\0\0\0", "header"));
    CHECK(REFUSED("\x82\xa6""config\x80\xa7tensors\xc1", "header"));
    /* structure */
    CHECK(REFUSED("\x93\x01\x02\x03", "the header is not a map"));
    CHECK(REFUSED("\x81\xa7tensors\x90", "no \"config\" section"));
    CHECK(REFUSED("\x81\xa6""config\x80", "no \"tensors\" section"));
    CHECK(REFUSED("\x82\xa6""config\x81\xa1k\x91\x01\xa7tensors\x90", "not an integer, float, string or bin"));
    CHECK(REFUSED("\x82\xa6""config\x82\xa1k\x01\xa1k\x02\xa7tensors\x90", "appears twice"));
    CHECK(REFUSED("\x82\xa6""config\x80\xa7tensors\x91\x01", "tensor 1 is not a map"));
    CHECK(REFUSED("\x82\xa6""config\x81\xa1x\xcb\x7f\xf8\0\0\0\0\0\0\xa7tensors\x90", "NaN"));
    /* the smallest valid file */
    {
        size_t len;
        char err[512];
        static const char small[] = "\x82\xa6""config\x80\xa7tensors\x90";
        uint8_t *p = wrap(small, sizeof small - 1, 1, &len);
        model_file *m = mf_parse(p, len, "x", err, sizeof err);
        CHECK(m && mf_contents_of(m)->ntensors == 0);
        mf_free(m);
        free(p);
    }
}

static void get_shape_wrong(const void *arg) {
    (void)arg;
    model_file *m = mf_read(path_in("model.svge"));
    uint64_t want[2] = {250, 250};
    mf_get_tensor(m, "enc.w", 2, want);
}
static void get_missing(const void *arg) {
    (void)arg;
    model_file *m = mf_read(path_in("model.svge"));
    mf_get_int(m, MF_CONFIG, "gdim");
}
static void get_wrong_kind(const void *arg) {
    (void)arg;
    model_file *m = mf_read(path_in("model.svge"));
    mf_get_int(m, MF_CONFIG, "kind");
}

static void test_lookups(void) {
    char msg[2048], want[4500];
    int st = in_child(get_shape_wrong, NULL, msg, sizeof msg);
    snprintf(want, sizeof want, "%s: tensor \"enc.w\" has shape [3,4], this model needs [250,250]", path_in("model.svge"));
    CHECK(st == 1 && strstr(msg, want));
    st = in_child(get_missing, NULL, msg, sizeof msg);
    CHECK(st == 1 && strstr(msg, "no \"gdim\" in the config section"));
    st = in_child(get_wrong_kind, NULL, msg, sizeof msg);
    CHECK(st == 1 && strstr(msg, "config \"kind\" is not an integer"));
    model_file *m = mf_read(path_in("model.svge"));
    char err[256];
    uint64_t s1[1] = {12};
    CHECK(mf_check_tensor(m, "enc.w", 1, s1, err, sizeof err) == -1 &&
          strcmp(err, "tensor \"enc.w\" has shape [3,4], this model needs [12]") == 0);
    CHECK(mf_check_tensor(m, "nope", 1, s1, err, sizeof err) == -1 && strstr(err, "no tensor \"nope\""));
    mf_free(m);
}

/* Writes that must fail, in a child. */
static void write_to(const void *arg) { mf_write(arg, &contents, NULL); }
static void write_nan(const void *arg) {
    float bad[4] = {1, 2, NAN, 4};
    mf_tensor t = {"bad", 1, {4}, bad};
    mf_contents c = {{NULL, NULL, NULL}, {0, 0, 0}, &t, 1};
    mf_write(arg, &c, NULL);
}
static void write_dup(const void *arg) {
    mf_tensor t[2] = {tens[0], tens[0]};
    mf_contents c = {{NULL, NULL, NULL}, {0, 0, 0}, t, 2};
    mf_write(arg, &c, NULL);
}

static void test_atomic(void) {
    char msg[2048];
    /* a directory is refused before anything is written (a failed rename: tests/outputs.bats) */
    const char *d = path_in("adir");
    mkdir(d, 0755);
    spit(path_in("adir/keep"), (const uint8_t *)"x", 1);
    int st = in_child(write_to, d, msg, sizeof msg);
    CHECK(st == 3 && strstr(msg, "is a directory"));
    CHECK(count_temp_files() == 0);
    st = in_child(write_to, path_in("no/such/dir/model.svge"), msg, sizeof msg);
    CHECK(st == 3 && strstr(msg, "cannot write in directory"));
    struct stat sb;
    st = in_child(write_nan, path_in("nan.svge"), msg, sizeof msg);
    CHECK(st == 1 && strstr(msg, "tensor \"bad\" element 2 is NaN"));
    CHECK(stat(path_in("nan.svge"), &sb) != 0 && count_temp_files() == 0);
    st = in_child(write_dup, path_in("dup.svge"), msg, sizeof msg);
    CHECK(st == 1 && strstr(msg, "given twice"));
    CHECK(stat(path_in("dup.svge"), &sb) != 0 && count_temp_files() == 0);
}

int main(int argc, char **argv) {
    tool_init("test_modelfile");
    char made[4096] = "";
    if (argc > 1) {
        snprintf(g_dir, sizeof g_dir, "%s", argv[1]);
    } else {
        const char *t = getenv("TMPDIR");
        snprintf(made, sizeof made, "%s/test_modelfile.XXXXXX", t && *t ? t : "/tmp");
        if (!mkdtemp(made)) {
            fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
            return 3;
        }
        snprintf(g_dir, sizeof g_dir, "%s", made);
    }
    make_model();
    test_roundtrip();
    test_version();
    test_read_errors();
    test_flips_and_truncation();
    test_hostile();
    test_lookups();
    test_atomic();
    if (*made) { /* clean up what we created */
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", made);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", made);
    }
    return check_summary();
}
