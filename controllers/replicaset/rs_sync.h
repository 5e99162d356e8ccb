/* rs_sync.h - the ReplicaSet controller on the runtime: handlers and sync.
 *
 * Owns: per-ReplicaSet working state (compiled selector, the slow-start
 * plan in progress, the last manageReplicas error) and turning rs_core's
 * decisions into actions. State is keyed by "ns/name" and dropped when the
 * ReplicaSet leaves the cache.
 */
#ifndef KUBUS_RS_SYNC_H
#define KUBUS_RS_SYNC_H

#include "ctrl/runtime.h"

typedef struct rs_ctrl rs_ctrl_t;

rs_ctrl_t *rs_ctrl_new(void);
void rs_ctrl_destroy(rs_ctrl_t **c);
/* Registers the handlers on rt (after ctrl_runtime_new). 0 or -1. */
int rs_ctrl_attach(rs_ctrl_t *c, ctrl_runtime_t *rt);
/* The ctrl_sync_fn (ud = the rs_ctrl_t). */
int rs_sync(ctrl_runtime_t *rt, const char *key, void *ud);

#endif
