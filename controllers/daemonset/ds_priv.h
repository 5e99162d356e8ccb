/* ds_priv.h - what the DaemonSet controller's runtime files share.
 *
 * Owns: the per-DaemonSet working state, the controller struct, the view
 * one sync builds (claimed pods grouped by node, node eligibility), and the
 * functions one file of the controller offers the others:
 *   ds_sync.c      state, the view, manage / rolling update, the sync;
 *   ds_route.c     which DaemonSets an event wakes;
 *   ds_claim.c     adopting and releasing pods and revisions;
 *   ds_write.c     pod creates (slow start) and deletes, status writes;
 *   ds_revisions.c the history: current revision, rollback renumbering,
 *                  collisions, cleanup.
 */
#ifndef KUBUS_DS_PRIV_H
#define KUBUS_DS_PRIV_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "ctrl/claim.h"
#include "ctrl/ownerstate.h"
#include "ctrl/runtime.h"
#include "ds_core.h"
#include "ds_sync.h"
#include "log.h"
#include "strmap.h"

#define DS_KIND "DaemonSet"

/* DaemonSets as owners of pods and ControllerRevisions (ds_route.c). */
extern const ctrl_owner_t ds_owner;

typedef struct {
    ctrl_ostate_t base;     /* the DaemonSet this state is about (ctrl/ownerstate.h) */
    bool plan_active;
    ds_slowstart_t plan;
    json_t *plan_nodes;     /* node names still to create on, in order */
    char *plan_hash;
} ds_state_t;

struct ds_ctrl {
    ctrl_adopter_t *adopter;/* orphan pods and revisions, adopted after a live GET */
    ctrl_ostates_t *states; /* key -> ds_state_t */
    strmap_t *backoff;      /* "uid/observedGeneration/node" -> ds_backoff_t */
    uint64_t last_gc_ms;
    log_limit_t bad_log, fail_log;
};

typedef struct {
    const json_t **v;
    size_t n, cap;
} podvec_t;

typedef struct {
    const json_t *ds;
    const char *key;
    ds_spec_t spec;
    const char *hash;
    cache_list_t nodes;          /* sorted by name */
    bool *run, *cont;            /* per node */
    strmap_t *by_node;           /* node name -> podvec_t (claimed, not deleted-terminal) */
    const json_t **owned;        /* every claimed pod (history keeps their hashes) */
    size_t n_owned;
    json_t *adopt;               /* uids of orphan pods to adopt */
    cache_list_t pods;
    int issued;                  /* actions this sync issued (creates + deletes) */
} view_t;

/* The cached DaemonSet for key if it is still the one s is about. */
const json_t *ds_current(ctrl_runtime_t *rt, const ds_state_t *s, const char *key);

/* The claimed pods bound to node (NULL: none). */
podvec_t *ds_pods_on(const view_t *v, const char *node);

/* ds_claim.c: sorts pod into v->owned, v->adopt, or releases it. */
void ds_claim_pod(ctrl_runtime_t *rt, view_t *v, const json_t *pod);
/* The adopter of orphan pods and revisions (ds_ctrl_t's). */
ctrl_adopter_t *ds_adopter_new(ds_ctrl_t *c);
/* Uids of the orphaned revisions of ds's namespace that sel matches. */
json_t *ds_orphan_revisions(ctrl_runtime_t *rt, const json_t *ds, const selector_t *sel);

/* ds_write.c: upstream syncNodes (deletes, then creates in slow-start batches). */
void ds_sync_nodes(ds_ctrl_t *c, ctrl_runtime_t *rt, ds_state_t *s, view_t *v, const json_t **del, size_t n_del,
                   const char **create, size_t n_create);
/* Writes the status v implies when it changed (observedGeneration when
 * observe). A write computed from a version our previous write already
 * replaced earns a 409 and a rate-limited retry: skipping such writes
 * instead left a re-created DaemonSet's counts stale when the event that
 * should have woken it had already come (seen in CI). */
void ds_update_status(ds_ctrl_t *c, ctrl_runtime_t *rt, view_t *v, bool observe);
/* Result of a status write (ud: the ds_ctrl_t, or NULL). */
void ds_status_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud);

/* ds_revisions.c: upstream constructHistory; NULL while a revision is on its way. */
const json_t *ds_construct_history(ctrl_runtime_t *rt, const char *key, const json_t *ds, cache_list_t *all,
                                   const json_t **old, size_t *n_old);
void ds_cleanup_history(ctrl_runtime_t *rt, const view_t *v, const json_t **old, size_t n_old);

#endif
