/* progress.h: a progress line for long jobs on a terminal, e.g.
 *   svge-metrics: reconstruction: 1200/1563 graphs, 95 graphs/s, ETA 4 s
 * written on stderr and rewritten in place (\r) about once a second, cleared at the end. Only when
 * stderr is a terminal and the tool is not quiet (-q): in a pipeline or a log every call here does
 * nothing, so the job's stderr holds only its messages. */
#ifndef SVGE_PROGRESS_H
#define SVGE_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int on;            /* stderr is a terminal and the verbosity is not quiet */
    int shown;         /* a line is on the terminal */
    const char *label; /* before the count, or NULL */
    const char *unit;  /* "graphs", "cells" */
    uint64_t total;    /* 0: unknown (no ETA) */
    double start, next;
} progress;

/* Starts counting now; the first line appears after half a second, if the job lasts that long. */
void progress_begin(progress *p, const char *label, const char *unit, uint64_t total);
/* done units so far: "tool: [label: ]done[/total] unit, R unit/s[, ETA T]" if a second passed since
 * the last line (a clock read otherwise). */
void progress_update(progress *p, uint64_t done);
/* For a tool's own line: 1 if progress_line should be called now (and the next one is a second away). */
int progress_due(progress *p);
/* "tool: " and the formatted text as the progress line. */
void progress_line(progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Clears the line, if one is shown; call it before a die() the tool expects, and before the
 * progress_begin of a new phase. */
void progress_end(progress *p);
/* A duration for people: "4 s", "3 min 20 s", "2 h 05 min". */
const char *progress_duration(double seconds, char *buf, size_t len);

#endif
