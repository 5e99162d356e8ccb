/* ctrl/pending.h - updates we made and have not seen come back yet.
 *
 * Owns: per object uid, the resourceVersion an UPDATE was computed from,
 * from the moment it is issued until the cache shows another version (or
 * the update failed, or CTRL_PENDING_TTL_MS passed). The executor's result
 * usually arrives before the watch event of the same write; a sync run in
 * between would plan from the old object again (a 409 at best, at worst a
 * second scale-down computed from a status that does not yet reflect the
 * first). Expectations cover creates and deletes; this covers updates
 * (the Deployment controller's ReplicaSet and status writes, the ReplicaSet
 * controller's status writes).
 * Cost: O(1) average per operation.
 */
#ifndef KUBUS_CTRL_PENDING_H
#define KUBUS_CTRL_PENDING_H

#include <stdbool.h>
#include <stdint.h>

#define CTRL_PENDING_TTL_MS 30000u

typedef struct ctrl_pending ctrl_pending_t;

ctrl_pending_t *ctrl_pending_new(void);
void ctrl_pending_destroy(ctrl_pending_t **p);

/* An update of uid computed from resource version rv was issued. 0 or -1. */
int ctrl_pending_add(ctrl_pending_t *p, const char *uid, const char *rv, uint64_t now_ms);
/* The update's outcome: failed, or succeeded without changing the version
 * (nothing to wait for): forget it. */
void ctrl_pending_drop(ctrl_pending_t *p, const char *uid);
/* True while uid has an update in flight or unseen: the cache still shows
 * the version it was computed from, and it is younger than the TTL. An
 * entry found stale (other version seen, or expired) is dropped. */
bool ctrl_pending_blocks(ctrl_pending_t *p, const char *uid, const char *cached_rv, uint64_t now_ms);
/* The cache now shows rv for uid (or the object is gone: rv NULL). */
void ctrl_pending_observe(ctrl_pending_t *p, const char *uid, const char *rv);

#endif
