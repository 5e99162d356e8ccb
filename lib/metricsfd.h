/* metricsfd.h - a worker's metrics text, shared with its supervisor.
 *
 * Owns: the file in which a supervised worker publishes the Prometheus text
 * of its metrics (about once a second, with its heartbeat) and the
 * supervisor reads it back for /metrics. The file is a memfd the supervisor
 * makes for each start of a worker and passes as --metrics-fd; it dies with
 * the worker's run, and so do its series. Layout: "kubus-metrics <ms>\n"
 * (CLOCK_MONOTONIC milliseconds of the write, the same clock in both
 * processes: a reader tells a stale text from a fresh one), then the text.
 * Writer and reader each take a POSIX record lock (write / read) without
 * waiting, so neither can block the other: a busy file is skipped this time.
 * POSIX locks belong to processes, so they also exclude each other through
 * the one open file description both share.
 */
#ifndef KUBUS_METRICSFD_H
#define KUBUS_METRICSFD_H

#include <stddef.h>
#include <stdint.h>

/* A new memfd (close-on-exec), or -1 with errno. */
int metricsfd_create(const char *name);
/* Replaces the file's contents. 0, 1 when the reader holds it now, -1 on error. */
int metricsfd_publish(int fd, const char *text, size_t len, uint64_t mono_ms);
/* Reads the text (malloc'd, NUL-terminated) and its time. 0; 1 when the
 * writer holds it now or nothing was published yet; -1 on an error, a
 * file over max bytes or a malformed header. */
int metricsfd_read(int fd, size_t max, char **text, uint64_t *mono_ms);

#endif
