/* sts_sync.h - the StatefulSet controller on the runtime: handlers and sync.
 *
 * Owns: routing pod, claim and revision events to their StatefulSet, and
 * one sync: claim pods (adopt / release), pick the current and update
 * ControllerRevisions (create, or renumber on rollback), run sts_plan and
 * turn its steps into actions with upstream's events, write status, and
 * trim the revision history. Per-set state (the generation an invalid
 * spec was reported for) is keyed by "ns/name" and dropped with the set.
 */
#ifndef KUBUS_STS_SYNC_H
#define KUBUS_STS_SYNC_H

#include "ctrl/runtime.h"

typedef struct sts_ctrl sts_ctrl_t;

sts_ctrl_t *sts_ctrl_new(void);
void sts_ctrl_destroy(sts_ctrl_t **c);
/* Registers the handlers on rt (after ctrl_runtime_new). 0 or -1. */
int sts_ctrl_attach(sts_ctrl_t *c, ctrl_runtime_t *rt);
/* The ctrl_sync_fn (ud = the sts_ctrl_t). */
int sts_sync(ctrl_runtime_t *rt, const char *key, void *ud);

#endif
