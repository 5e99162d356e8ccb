/* claim.h - controller references, once: what upstream's
 * ControllerRefManager and its controllers' event handlers share.
 *
 * Owns, for a controller whose objects own others (ReplicaSet -> pods,
 * Deployment -> ReplicaSets, DaemonSet and StatefulSet -> pods and
 * ControllerRevisions):
 *   - which owners it is about (ctrl_owner_t): where they are cached, the
 *     apiVersion and kind of their references, how one selects an object;
 *   - routing a change of an owned object to owner keys (upstream's
 *     add/update/delete handlers): to its controller, when the controller
 *     reference resolves to a cached owner of that kind, group and uid
 *     (resolveControllerRef); for an orphan, to every owner of its
 *     namespace that selects it (they may adopt it);
 *   - the two patches: adopt (add our controller reference) and release
 *     (delete it), strategic merge, both carrying the object's uid so that
 *     an object replaced under the same name refuses them; an owner with a
 *     finalizer (the Job's tracking finalizer) adds it with the reference
 *     and removes it with the release, as upstream's PodControllerRefManager
 *     does with its finalizers;
 *   - adoption after a live GET (upstream RecheckDeletionTimestamp): the
 *     orphans a sync found are adopted only once a fresh read shows the
 *     owner still there with the same uid and not being deleted, each one
 *     re-checked in the cache first (still an orphan, not being deleted,
 *     still selected). Until the GET's result the owner's key stays in sync
 *     (the runtime waits for every action of a key), so one adoption per
 *     key is under way at a time.
 * Which objects a sync owns, adopts or releases stays each controller's
 * decision (rs_claim, ...): the rules differ in details upstream too.
 */
#ifndef KUBUS_CTRL_CLAIM_H
#define KUBUS_CTRL_CLAIM_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "ctrl/actions.h"
#include "ctrl/cache.h"
#include "ctrl/kobj.h"

typedef struct ctrl_owner ctrl_owner_t;

/* Does owner select obj? */
typedef bool (*ctrl_selects_fn)(const ctrl_owner_t *o, const json_t *owner, const json_t *obj);

struct ctrl_owner {
    const char *resource;      /* where the owners are cached: "replicasets" */
    const char *api_version;   /* of the references we write: "apps/v1"; those we follow must be of its group */
    const char *kind;          /* "ReplicaSet" */
    ctrl_selects_fn selects;   /* NULL: ctrl_spec_selects */
    void *ud;                  /* for selects */
    const char *finalizer;     /* added on adoption, removed on release (NULL: none) */
    uint32_t enqueue_after_ms; /* routing queues owners this much later (a batch period; 0: at once) */
    bool no_orphans;           /* the owners never adopt: orphans are routed to nobody */
};

/* ---- owners and routing ------------------------------------------------------ */

/* The owner's spec.selector, valid and neither empty nor "nothing", matches
 * obj's labels (a bad or empty selector selects nothing when routing). */
bool ctrl_spec_selects(const json_t *owner, const json_t *obj);
/* o->selects, or ctrl_spec_selects. */
bool ctrl_owner_selects(const ctrl_owner_t *o, const json_t *owner, const json_t *obj);

/* The cached owner ref names in namespace ns, if ref is of o's kind and
 * group and the cached owner of that name has its uid; else NULL. */
const json_t *ctrl_owner_resolve(ctrl_runtime_t *rt, const ctrl_owner_t *o, const char *ns,
                                 const kobj_ownerref_t *ref);
/* The resolved controller of obj (NULL: none, not ours, or not cached). */
const json_t *ctrl_owner_of(ctrl_runtime_t *rt, const ctrl_owner_t *o, const json_t *obj);

/* Queues obj's controller, if it resolves (obj may be NULL). */
void ctrl_enqueue_controller(ctrl_runtime_t *rt, const ctrl_owner_t *o, const json_t *obj);
/* Queues every owner of obj's namespace that selects obj. */
void ctrl_enqueue_selecting(ctrl_runtime_t *rt, const ctrl_owner_t *o, const json_t *obj);
/* Its controller when obj has a controller reference, else (an orphan)
 * every owner that selects it. */
void ctrl_enqueue_owners(ctrl_runtime_t *rt, const ctrl_owner_t *o, const json_t *obj);
/* The change handler of an owned resource: the owners of the object; on a
 * modification whose controller reference or labels changed, those of the
 * old state as well. */
void ctrl_route_owned(ctrl_runtime_t *rt, const ctrl_owner_t *o, cache_change_t change, const json_t *old_obj,
                      const json_t *new_obj);

/* ---- adopting and releasing ----------------------------------------------------- */

/* {"metadata":{"ownerReferences":[<controller ref to owner>],"uid":<obj's>}}
 * plus "finalizers":[o->finalizer] when o has one (new reference; NULL on
 * OOM). */
json_t *ctrl_adopt_patch(const ctrl_owner_t *o, const json_t *owner, const json_t *obj);
/* {"metadata":{"ownerReferences":[{"$patch":"delete","uid":<owner's>}],"uid":<obj's>}} */
json_t *ctrl_release_patch(const json_t *owner, const json_t *obj);
/* Issue those patches on obj (of resource) for the work key. Action id or 0. */
uint64_t ctrl_adopt(ctrl_runtime_t *rt, const char *key, const ctrl_owner_t *o, const json_t *owner,
                    const char *resource, const json_t *obj, ctrl_result_fn cb, void *ud);
uint64_t ctrl_release(ctrl_runtime_t *rt, const char *key, const json_t *owner, const char *resource,
                      const json_t *obj, ctrl_result_fn cb, void *ud);
/* The release patch plus "$deleteFromPrimitiveList/finalizers":[o->finalizer]
 * when o has one; ctrl_release_as issues it. */
json_t *ctrl_release_patch_as(const ctrl_owner_t *o, const json_t *owner, const json_t *obj);
uint64_t ctrl_release_as(ctrl_runtime_t *rt, const char *key, const ctrl_owner_t *o, const json_t *owner,
                         const char *resource, const json_t *obj, ctrl_result_fn cb, void *ud);
/* A result callback for them: the object gone (404), replaced (409) or
 * refusing the reference (422) needs nothing; other failures are logged
 * and re-queue the key with back-off. */
void ctrl_claim_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud);

/* ---- adoption after a live GET --------------------------------------------------- */

typedef struct ctrl_adopter ctrl_adopter_t;

typedef struct {
    const ctrl_owner_t *owner;   /* borrowed: must outlive the adopter */
    /* An extra test each orphan must still pass (NULL: none). */
    bool (*still)(const json_t *owner, const json_t *obj, void *ud);
    /* Adopts one orphan (NULL: ctrl_adopt with done). */
    void (*adopt)(ctrl_runtime_t *rt, const char *key, const json_t *owner, const char *resource,
                  const json_t *obj, void *ud);
    ctrl_result_fn done;         /* results of ctrl_adopt's patches (NULL: ctrl_claim_done) */
    void *ud;                    /* for still, adopt and done */
    bool resync;                 /* queue the owner again once the GET confirmed it */
} ctrl_adopter_config_t;

ctrl_adopter_t *ctrl_adopter_new(const ctrl_adopter_config_t *cfg);
void ctrl_adopter_destroy(ctrl_adopter_t **a);

/* Adopts the objects of resource whose uids are in *uids (a JSON array of
 * strings; taken) for the owner of key, once a live GET of the owner
 * confirms it. A failed GET (other than 404) re-queues the key with
 * back-off. 0, or -1 when the GET could not be issued (the key is then
 * re-queued with back-off). */
int ctrl_adopter_start(ctrl_adopter_t *a, ctrl_runtime_t *rt, const char *key, const json_t *owner,
                       const char *resource, json_t **uids);

#endif
