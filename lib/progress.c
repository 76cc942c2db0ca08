/* progress.c: the progress line of long jobs on a terminal (progress.h). */
#include "progress.h"

#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#define FIRST_AFTER 0.5 /* seconds before the first line */
#define EVERY 1.0       /* seconds between lines */

void progress_begin(progress *p, const char *label, const char *unit, uint64_t total) {
    *p = (progress){.on = verbosity() > VERB_QUIET && isatty(2), .label = label, .unit = unit, .total = total};
    p->start = now_seconds();
    p->next = p->start + FIRST_AFTER;
}

int progress_due(progress *p) {
    if (!p->on) return 0;
    const double t = now_seconds();
    if (t < p->next) return 0;
    p->next = t + EVERY;
    return 1;
}

void progress_line(progress *p, const char *fmt, ...) {
    if (!p->on) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "\r\033[K%s: ", tool_name());
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fflush(stderr);
    p->shown = 1;
    stderr_line_open(1);
}

void progress_update(progress *p, uint64_t done) {
    if (!progress_due(p)) return;
    const double el = now_seconds() - p->start, rate = el > 0 ? (double)done / el : 0;
    char total[32] = "", eta[64] = "", d[40];
    if (p->total) {
        snprintf(total, sizeof total, "/%llu", (unsigned long long)p->total);
        if (rate > 0 && done <= p->total)
            snprintf(eta, sizeof eta, ", ETA %s", progress_duration((double)(p->total - done) / rate, d, sizeof d));
    }
    progress_line(p, "%s%s%llu%s %s, %.0f %s/s%s", p->label ? p->label : "", p->label ? ": " : "",
                  (unsigned long long)done, total, p->unit, rate, p->unit, eta);
}

void progress_end(progress *p) {
    if (p->shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        stderr_line_open(0);
    }
    p->shown = 0;
}

const char *progress_duration(double s, char *buf, size_t len) {
    if (!(s >= 0) || s > 1e9) s = 0;
    const long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, len, "%ld h %02ld min", t / 3600, (t / 60) % 60);
    else if (t >= 60) snprintf(buf, len, "%ld min %ld s", t / 60, t % 60);
    else snprintf(buf, len, "%ld s", t);
    return buf;
}
