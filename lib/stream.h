/* stream.h: record streams (formats/records.md): zstd frames (with checksums) of msgpack maps.
 *
 * Reading: bytes are decompressed into a buffer; a pre-scan (mpscan.h) finds where each record ends,
 * bounds every length and element count and rejects NaN/Inf before msgpack-c builds any object;
 * then the record is unpacked in place and checked (map keys strings and none twice, strings valid
 * UTF-8, at any depth; "v" == 1). A frame is decompressed whole and its checksum checked before any
 * of its records is returned (frames up to STREAM_MAX_VERIFIED_FRAME; a larger one is passed on as
 * it comes). An error is deferred: rr_next returns NULL, as at the end, so that the tool finishes
 * the records before it (flushes its batch); the next rr_next or rr_close then dies with
 * "tool: <input>: record N: problem", exit 1 (bad data) or 3 (I/O). A tool that exits without
 * rr_close still fails with it (an exit check).
 *
 * Writing: records are packed into a buffer and compressed; a frame ends after each
 * STREAM_FRAME_BYTES of records, on close and on die(), so the output is always a valid stream of
 * whole records. */
#ifndef SVGE_STREAM_H
#define SVGE_STREAM_H

#include <msgpack.h>
#include <stdint.h>
#include <stdio.h>

#define STREAM_FORMAT_VERSION 1
#define STREAM_MAX_RECORD_BYTES (16u << 20)   /* one record's msgpack bytes */
#define STREAM_MAX_RECORD_ITEMS (1u << 20)    /* objects (array elements + map keys/values) per record */
#define STREAM_FRAME_BYTES (1u << 20)         /* the writer ends a frame after this much msgpack */
#define STREAM_MAX_VERIFIED_FRAME (64u << 20) /* the reader checks frames up to this before use */

typedef struct rec_reader rec_reader;
typedef struct rec_writer rec_writer;

/* Open a stream for reading. path "-" or NULL means stdin. Dies (exit 3) if it cannot be opened. */
rec_reader *rr_open(const char *path);
/* Next record: a validated map with "v" == 1, or NULL at the end of the stream or at an error
 * (raised by the next rr_next or by rr_close). The object (and its strings) stay valid until the
 * next call. */
const msgpack_object *rr_next(rec_reader *r);
/* Raw msgpack bytes of the record last returned. */
const char *rr_raw(const rec_reader *r, size_t *len);
/* 1-based number of the record last returned (0 before the first). */
uint64_t rr_count(const rec_reader *r);
/* Name used in messages ("stdin" or the path). */
const char *rr_name(const rec_reader *r);
/* Close; dies with the deferred error if there was one. At VERB_VERBOSE (-v) says "<input>: N
 * records read". */
void rr_close(rec_reader *r);

/* Die with "tool: <input>: record N: <message>" (exit 1): for problems found in a record by a tool. */
_Noreturn void rr_fail(const rec_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Open a stream for writing. path "-" or NULL means stdout (refused,
 * exit 2, if it is a terminal, unless --force: opts.h); any other path is opened by of_open
 * (lib/outfile.h: a regular file is written to a temporary file renamed into place by rw_close, a
 * device or FIFO is written through). level: zstd level (0 = STREAM_DEFAULT_LEVEL). */
rec_writer *rw_open(const char *path, int level);
/* zstd level 1: on these streams both faster and smaller than zstd's default 3 (all NB101 as
 * graphs: 12.0 against 14.0 MB; with 56-float latents, incompressible, 124.1 against 124.7 MB and
 * 0.8 against 2.1 s of compression on one core), and compression is most of a light filter's time. */
#define STREAM_DEFAULT_LEVEL 1
/* The packer to pack one record into; call rw_end_record after each whole record. */
msgpack_packer *rw_packer(rec_writer *w);
void rw_end_record(rec_writer *w);
/* Append a record that is already msgpack bytes (e.g. rr_raw of an input record). */
void rw_write_raw(rec_writer *w, const char *buf, size_t len);
/* Finish the frame, flush, close (rename into place for files). Dies (exit 3) on I/O errors. At
 * VERB_VERBOSE (-v) says "<output>: N records written". */
void rw_close(rec_writer *w);
uint64_t rw_count(const rec_writer *w);

#endif
