/* ttl_sync.h - the TTL-after-finished controller on the runtime.
 *
 * Owns: routing Job events to keys (a Job not being deleted that needs
 * cleanup is queued), and the sync: a Job whose TTL has not run out is
 * queued again for when it does; an expired one is read live (upstream
 * re-checks a fresh copy: the cached one may be stale, e.g. the TTL was
 * just raised) and, still expired, deleted with propagation Foreground
 * and a uid precondition. A finished Job without a finish time is an
 * error, retried with back-off. No state beyond the runtime's.
 */
#ifndef KUBUS_TTL_SYNC_H
#define KUBUS_TTL_SYNC_H

#include "ctrl/runtime.h"

/* Registers the Job handler on rt. 0 or -1. */
int ttl_attach(ctrl_runtime_t *rt);
/* The ctrl_sync_fn (ud unused). */
int ttl_sync(ctrl_runtime_t *rt, const char *key, void *ud);

#endif
