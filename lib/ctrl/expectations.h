/* expectations.h - what a controller has asked for and not yet seen.
 *
 * Owns: per owner key ("ns/name" of the ReplicaSet, Job, ...) the objects
 * it expects to see created (identity "resource/ns/name": the create's
 * client-chosen name) and the uids it expects to see deleted (upstream's
 * UIDTrackingControllerExpectations, with names instead of counts because
 * our creates carry their names). While an owner has any outstanding, its
 * sync must not create or delete more: the gap it would see is already
 * being closed.
 *
 * An expectation is satisfied by observing the object (created: any
 * event showing the name; deleted: a DELETED event or a deletionTimestamp
 * for the uid) or by a failed result (lowered). Each owner's record expires
 * 5 minutes after its last raise (upstream ExpectationsTimeout), after
 * which the owner counts as satisfied so a lost event cannot wedge it.
 *
 * Observations are looked up globally (identity -> owner), so the runtime
 * can feed every event without knowing who owns what.
 * Cost: O(1) average per operation.
 */
#ifndef KUBUS_CTRL_EXPECTATIONS_H
#define KUBUS_CTRL_EXPECTATIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EXPECTATIONS_TTL_MS (5u * 60u * 1000u)

typedef struct expectations expectations_t;
typedef uint64_t (*expectations_clock_fn)(void *ud);

/* clock NULL: now_mono_ms. */
expectations_t *expectations_new(expectations_clock_fn clock, void *clock_ud);
void expectations_destroy(expectations_t **e);

/* Identity of a created object: writes "resource/ns/name". Length or -1. */
int expectations_create_id(char *out, size_t outlen, const char *resource, const char *ns,
                           const char *name);

/* Raise: owner expects create_id to appear / uid to disappear. 0 or -1. */
int expectations_expect_create(expectations_t *e, const char *owner_key, const char *create_id);
int expectations_expect_delete(expectations_t *e, const char *owner_key, const char *uid);

/* Observe (or lower after a failure): drops the expectation wherever it is.
 * Returns the owner key it belonged to (valid until the next call that
 * changes e; copy it) or NULL if nobody expected it. */
const char *expectations_observe_create(expectations_t *e, const char *create_id);
const char *expectations_observe_delete(expectations_t *e, const char *uid);

/* True when owner_key has nothing outstanding, or its record expired
 * (an expired record is dropped). */
bool expectations_satisfied(expectations_t *e, const char *owner_key);
/* Outstanding counts (0 when satisfied/expired). */
size_t expectations_pending_creates(const expectations_t *e, const char *owner_key);
size_t expectations_pending_deletes(const expectations_t *e, const char *owner_key);
/* Ms until owner_key's record expires (0: it has; it is dropped by the next
 * expectations_satisfied), or -1 when nothing is outstanding for it. */
int64_t expectations_expires_in_ms(const expectations_t *e, const char *owner_key);
/* Is this particular create / delete still expected? */
bool expectations_expects_create(const expectations_t *e, const char *create_id);
bool expectations_expects_delete(const expectations_t *e, const char *uid);
/* A copy of every uid some owner expects to see deleted (for a check
 * against a state that arrived without events: the store after a resync).
 * Free with expectations_free_uids. 0, or -1 on OOM (nothing returned). */
int expectations_delete_uids(const expectations_t *e, char ***uids, size_t *n);
void expectations_free_uids(char **uids, size_t n);
/* Forget an owner entirely (the owner was deleted). */
void expectations_forget(expectations_t *e, const char *owner_key);

#endif
