/* fuzz_modelfile.c: libFuzzer target for the model-file reader (mf_parse, what mf_read runs on the
 * bytes it read). An input whose first byte is odd gets its checksum fixed first, so that mutations
 * reach the body's parser; an even one is parsed as it is (the checksum and truncation paths).
 * Properties checked: a parsed file's values and tensors are what its lookups return, every tensor's
 * element count matches its shape, and every element is finite. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "modelfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    int fix = data[0] & 1;
    data++, size--;
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    if (fix && size >= 20) {
        uint64_t h = mf_fnv1a64(buf, size - 8);
        for (int i = 0; i < 8; i++) buf[size - 8 + i] = (uint8_t)(h >> (8 * i));
    }
    char err[512];
    model_file *m = mf_parse(buf, size, "fuzz", err, sizeof err);
    if (!m) {
        if (!err[0]) abort(); /* a refusal always says why */
    } else {
        const mf_contents *c = mf_contents_of(m);
        for (int s = 0; s < 3; s++)
            for (size_t i = 0; i < c->nsec[s]; i++)
                if (mf_find(m, (mf_section)s, c->sec[s][i].key) != &c->sec[s][i]) abort(); /* keys are unique */
        for (size_t i = 0; i < c->ntensors; i++) {
            const mf_tensor *t = &c->tensors[i];
            if (mf_find_tensor(m, t->name) != t) abort();
            if (mf_check_tensor(m, t->name, t->ndim, t->shape, err, sizeof err) != 0) abort();
            size_t n = 1;
            for (int d = 0; d < t->ndim; d++) n *= (size_t)t->shape[d];
            for (size_t e = 0; e < n; e++)
                if (!isfinite(t->data[e])) abort();
        }
        if (strlen(mf_id(m)) != MF_ID_LEN) abort();
        mf_free(m);
    }
    free(buf);
    return 0;
}
