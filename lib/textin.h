/* textin.h: reading text files line by line, plain or zstd-compressed (detected by magic).
 * Errors name the file and line: "tool: FILE: line N: problem". */
#ifndef SVGE_TEXTIN_H
#define SVGE_TEXTIN_H
#include <stddef.h>
#include <stdint.h>

#define TEXT_MAX_LINE (1u << 20)

typedef struct text_reader text_reader;
/* path "-" or NULL: stdin. Dies (exit 3) if it cannot be opened. */
text_reader *tr_open(const char *path);
/* Next line, NUL-terminated, without "\n" or "\r\n"; NULL at the end. The buffer is valid until
 * the next call and may be modified by the caller. Dies on a line over TEXT_MAX_LINE bytes, a NUL
 * byte, corrupt or truncated zstd. An empty file gives no lines. */
char *tr_line(text_reader *t, size_t *len);
uint64_t tr_lineno(const text_reader *t);
const char *tr_name(const text_reader *t);
_Noreturn void tr_fail(const text_reader *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tr_close(text_reader *t);

/* Split a CSV line in place at commas (no quoting). Returns the number of fields, at most max. */
int csv_split(char *line, char **fields, int max);
#endif
