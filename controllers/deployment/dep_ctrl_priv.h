/* dep_ctrl_priv.h - the Deployment controller's state shared by its files.
 *
 * Owns: the layout of the controller (dep_ctrl_t), of one Deployment's
 * remembered facts between syncs (dep_state_t), of what an issued action is
 * for (dep_act_t, looked up by action id when its result comes back), and
 * of one sync in progress (dep_sync_t). Not a public interface: dep_ctrl.h is.
 *
 * Files: dep_ctrl.c (life cycle, event handlers, per-Deployment state),
 * dep_sync.c (one sync: upstream's syncDeployment and its strategies),
 * dep_write.c (turning a finished plan into actions, and their results),
 * dep_claim.c (adopting and releasing ReplicaSets).
 */
#ifndef KUBUS_DEP_CTRL_PRIV_H
#define KUBUS_DEP_CTRL_PRIV_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctrl/claim.h"
#include "ctrl/ownerstate.h"
#include "ctrl/runtime.h"
#include "strmap.h"
#include "dep_ctrl.h"
#include "ctrl/pending.h"
#include "dep_rs.h"
#include "dep_spec.h"

#define DEP_KEY_MAX 512
#define DEP_NAME_MAX 254

/* Deployments as owners of ReplicaSets (dep_ctrl.c). */
extern const ctrl_owner_t dep_owner;

struct dep_ctrl {
    ctrl_runtime_t *rt;
    ctrl_adopter_t *adopter;  /* orphan ReplicaSets, adopted after a live GET */
    ctrl_pending_t *pending;  /* updates not yet seen back */
    ctrl_ostates_t *states;  /* deployment key -> dep_state_t */
    strmap_t *acts;          /* action id ("%llu") -> dep_act_t */
};

typedef struct {
    ctrl_ostate_t base;          /* the Deployment this is about, the generation warned about */
    bool collision;              /* creating the new ReplicaSet said AlreadyExists */
    char create_error[512];      /* why the last create failed ("" none) */
} dep_state_t;

typedef enum {
    DEP_ACT_RS_CREATE = 1,
    DEP_ACT_RS_UPDATE,
    DEP_ACT_RS_DELETE,
    DEP_ACT_STATUS,
} dep_act_kind_t;

typedef struct {
    dep_act_kind_t kind;
    char key[DEP_KEY_MAX];       /* the Deployment this serves */
    char uid[128];               /* the object updated (pending entry), "" none */
    char from_rv[128];           /* the resourceVersion the update was computed from */
    char rs_name[DEP_NAME_MAX];
    int32_t from, to;            /* ReplicaSet size before/after (events) */
    json_t *involved;            /* the Deployment, for events (owned) */
} dep_act_t;

/* One sync of one Deployment. */
typedef struct {
    dep_ctrl_t *c;
    ctrl_runtime_t *rt;
    const char *key;
    const json_t *d;             /* the cached Deployment (borrowed) */
    json_t *wd;                  /* working copy: what we will write back */
    dep_state_t *state;
    dep_spec_t spec;
    dep_rs_t *views;             /* the Deployment's ReplicaSets */
    json_t **copies;             /* per view: an edited copy, or NULL */
    size_t n;
    dep_rs_t planned;            /* the new ReplicaSet created in this sync */
    json_t *create_body;         /* its body until issued (owned) */
    dep_rs_t *new_rs;            /* &views[i], &planned or NULL */
    dep_rs_t **old;              /* every view but new_rs */
    size_t n_old;
    dep_rs_t **all;              /* old + new_rs */
    size_t n_all;
    dep_rs_t **deletes;          /* old ReplicaSets the history limit lets go */
    size_t n_deletes;
    int64_t requeue_ms;          /* look again after this (-1 no) */
    int64_t now_ms;              /* wall clock, for conditions */
} dep_sync_t;

/* dep_ctrl.c */
/* An object reference for Events about deployment d (new reference). */
json_t *dep_involved(const json_t *d);

/* dep_write.c */
/* Issues every change the plan in s made: ReplicaSet create, updates,
 * deletes, then the Deployment's status (when it changed), and the
 * requeue. 0, or -1 when something could not be issued. */
int dep_write(dep_sync_t *s);
/* An edited copy of view i (made on first use; NULL on OOM). */
json_t *dep_copy_of(dep_sync_t *s, size_t i);
/* The working copy's annotations object (created when absent). */
json_t *dep_annotations_of(json_t *obj);
/* Drops what an action's result no longer needs (dep_ctrl_destroy). */
void dep_act_free(void *act);

#endif
