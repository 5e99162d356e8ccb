/* procmetrics.h - the process_* metrics of the controller manager.
 *
 * Owns: client_golang's process collector families as kube-controller-
 * manager exposes them, for kubus as one controller manager made of a
 * supervisor and its workers: process_cpu_seconds_total (the supervisor,
 * its running workers and every worker that already exited and was
 * reaped: a counter that only grows), process_resident_memory_bytes,
 * process_virtual_memory_bytes and process_open_fds (sums over the
 * supervisor and its running workers), process_max_fds (the supervisor's
 * limit, the one its workers inherit) and process_start_time_seconds (the
 * supervisor's start). Read from /proc; a process that vanishes between
 * listing and reading is skipped. The parser of /proc/<pid>/stat is pure.
 */
#ifndef KUBUS_SUP_PROCMETRICS_H
#define KUBUS_SUP_PROCMETRICS_H

#include <stdint.h>
#include <sys/types.h>

#include "sbuf.h"

typedef struct {
    uint64_t utime, stime;     /* clock ticks */
    uint64_t starttime;        /* clock ticks after boot */
    uint64_t vsize;            /* bytes */
    int64_t rss;               /* pages */
} procstat_t;

/* Fields 14, 15, 22, 23 and 24 of a /proc/<pid>/stat text (the command
 * in parentheses may hold spaces and parentheses). 0, or -1 if malformed. */
int procstat_parse(const char *text, procstat_t *out);

typedef struct {
    double cpu_seconds;
    double resident_bytes, virtual_bytes;
    double open_fds, max_fds;
    double start_time_seconds;
} procmetrics_t;

/* The sums for this process and the given workers' pids (0 entries skipped). */
void procmetrics_read(const pid_t *pids, size_t n, procmetrics_t *out);
void procmetrics_render(const procmetrics_t *m, sbuf_t *out);

#endif
