/* textin.h: reading text files line by line, plain or zstd-compressed (detected by magic): the
 * benchmarks' CSV and text files (bench_parse) and JSON lines (jsonl-to-stream).
 * Errors name the file and line: "tool: FILE: line N: problem". */
#ifndef SVGE_TEXTIN_H
#define SVGE_TEXTIN_H
#include <stddef.h>
#include <stdint.h>

#define TEXT_MAX_LINE (1u << 20)

typedef struct text_reader text_reader;
/* path "-" or NULL: stdin. Dies (exit 3) if it cannot be opened. Lines of up to TEXT_MAX_LINE bytes. */
text_reader *tr_open(const char *path);
/* The same with lines of up to max_line bytes (a multiple of 1 MiB). */
text_reader *tr_open_max(const char *path, size_t max_line);
/* Next line, NUL-terminated, without "\n" or "\r\n"; NULL at the end. The buffer is valid until
 * the next call and may be modified by the caller. Dies (exit 1) on a line over the maximum ("line
 * N: longer than M MiB"), a NUL byte, corrupt or truncated zstd; exit 3 on a read error. An empty
 * file gives no lines. Every function here either succeeds or exits (tr_fail: exit 1). */
char *tr_line(text_reader *t, size_t *len);
uint64_t tr_lineno(const text_reader *t);
const char *tr_name(const text_reader *t);
_Noreturn void tr_fail(const text_reader *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tr_close(text_reader *t);

/* Split a CSV line in place at commas (no quoting). Returns the number of fields, at most max. */
int csv_split(char *line, char **fields, int max);
#endif
