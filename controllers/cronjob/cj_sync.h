/* cj_sync.h - the CronJob controller on the runtime: handlers and sync.
 *
 * Owns: per-CronJob working state (the CronJob as our last status write
 * left it, until the cache shows it; active Jobs a live GET found gone;
 * the plan of one sync while its actions are out) and turning cj_core's
 * decisions into actions, events and re-queues. State is keyed by
 * "ns/name" and dropped when the CronJob leaves the cache.
 */
#ifndef KUBUS_CJ_SYNC_H
#define KUBUS_CJ_SYNC_H

#include "ctrl/runtime.h"

/* While a CronJob has active Jobs it is looked at again at least this
 * often (Job events normally come first). */
#define CJ_ACTIVE_POLL_MS 5000u
/* An active Job missing from the cache but found by a live GET: look again
 * after this (the cache is behind). */
#define CJ_CACHE_LAG_RETRY_MS 1000u

typedef struct cj_ctrl cj_ctrl_t;

cj_ctrl_t *cj_ctrl_new(void);
void cj_ctrl_destroy(cj_ctrl_t **c);
/* Registers the handlers on rt (after ctrl_runtime_new). 0 or -1. */
int cj_ctrl_attach(cj_ctrl_t *c, ctrl_runtime_t *rt);
/* The ctrl_sync_fn (ud = the cj_ctrl_t). */
int cj_sync(ctrl_runtime_t *rt, const char *key, void *ud);

#endif
