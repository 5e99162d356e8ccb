/* gc_decide.h - what the garbage collector does about one item, as pure
 * functions of the graph and of live answers from the API server (upstream's
 * attemptToDeleteItem / processDeletingDependentsItem / classifyReferences).
 *
 * Owns: the rules. No I/O, no allocation except where noted.
 *
 * The rules, in the order they are applied to an item:
 *  1. A virtual node (an owner only referenced) is verified with a live GET:
 *     absent (404, or another uid under that name) -> its dependents are
 *     re-examined; present -> wait for the informer to show it.
 *  2. An item being deleted is on a one-way trip: nothing to do, unless it is
 *     waiting for its own dependents (foreground): then, with no dependent
 *     left that blocks it (blockOwnerDeletion=true), its foregroundDeletion
 *     finalizer is removed; otherwise its blocking dependents are examined.
 *  3. An item without ownerReferences is left alone.
 *  4. Each owner is classified: solid (exists, not in foreground deletion),
 *     dangling (confirmed absent by a live GET - never by the cache alone),
 *     or waiting (exists, deletionTimestamp + foregroundDeletion). A solid
 *     verdict may come from the graph (observed, same identity, not being
 *     deleted): it can only stop a deletion, never cause one.
 *  5. Some owner solid: the item lives; dangling and waiting references are
 *     removed from it (a waiting owner would otherwise wait for it forever).
 *     No owner solid, some waiting, and the item has dependents of its own:
 *     delete it in the foreground so the cascade continues (first making its
 *     own references non-blocking if one of its dependents is also deleting
 *     its dependents - upstream's cycle breaker). Otherwise delete it, with
 *     the propagation its own finalizers ask for (orphan, foreground) or
 *     background.
 * Orphaning an owner (orphan finalizer + deletionTimestamp) removes its
 * reference from every dependent, then the orphan finalizer.
 */
#ifndef KUBUS_GC_DECIDE_H
#define KUBUS_GC_DECIDE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "gc_graph.h"
#include "gc_kinds.h"
#include "gc_meta.h"

typedef enum {
    GC_OWNER_SOLID = 0,
    GC_OWNER_DANGLING,
    GC_OWNER_WAITING,
} gc_owner_state_t;

typedef enum {
    GC_PROP_BACKGROUND = 0,
    GC_PROP_FOREGROUND,
    GC_PROP_ORPHAN,
} gc_prop_t;

/* Step 1-3: what kind of work an item from the attempt-to-delete queue is. */
typedef enum {
    GC_ITEM_GONE = 0,          /* not in the graph any more: forget it */
    GC_ITEM_VERIFY_VIRTUAL,    /* GET it; absent -> gc_graph_confirm_absent */
    GC_ITEM_SKIP,              /* being deleted, or no owners, or already known absent */
    GC_ITEM_FINISH_FOREGROUND, /* no blocking dependents left: drop foregroundDeletion */
    GC_ITEM_WAIT_DEPENDENTS,   /* foreground, blocked: examine the blocking dependents */
    GC_ITEM_CLASSIFY,          /* look at its owners */
} gc_item_work_t;

gc_item_work_t gc_decide_item_work(const gc_node_t *n);

/* Step 4, from the graph alone, for item's reference ref. */
typedef enum {
    GC_LOOKUP_SOLID = 0,       /* observed owner, same identity, not being deleted */
    GC_LOOKUP_DANGLING,        /* a live GET already confirmed the owner absent */
    GC_LOOKUP_GET,             /* ask the API server (kind filled in) */
    GC_LOOKUP_UNCHECKABLE,     /* unknown kind: cannot be verified, counts as solid */
    GC_LOOKUP_INVALID,         /* cluster-scoped item, namespaced owner: leave item alone */
} gc_lookup_t;

gc_lookup_t gc_decide_lookup(const gc_graph_t *g, const gc_kinds_t *kinds, const gc_meta_t *item,
                             const gc_ref_t *ref, gc_kind_t *kind);
/* Namespace to GET ref's owner in: the item's for a namespaced kind. */
const char *gc_owner_namespace(const gc_meta_t *item, const gc_kind_t *kind);

/* Step 4, from a live GET of the owner named by ref (obj: the object the
 * server returned, may be NULL). Returns 0 with *out set, or -1 when the
 * answer says nothing (transport failure, 5xx, 403, unusable object):
 * retry later. */
int gc_decide_owner_from_get(const gc_ref_t *ref, unsigned http_status, const json_t *obj,
                             gc_owner_state_t *out);
/* Same for verifying a virtual node: 1 absent, 0 present, -1 unknown. */
int gc_decide_absent_from_get(const char *uid, unsigned http_status, const json_t *obj);

/* Step 5. */
typedef enum {
    GC_ACT_NONE = 0,
    GC_ACT_DROP_REFS,          /* patch out the dangling and waiting references */
    GC_ACT_DELETE,             /* delete the item with .propagation */
    GC_ACT_UNBLOCK_AND_DELETE, /* patch its refs non-blocking, then delete foreground */
} gc_act_t;

typedef struct {
    gc_act_t act;
    gc_prop_t propagation;
} gc_verdict_t;

/* states[i] is the state of item->refs[i] (n_refs entries). */
gc_verdict_t gc_decide_dependent(const gc_meta_t *item, const gc_owner_state_t *states,
                                 bool has_dependents, bool dependent_deleting_dependents);

/* True if some dependent of n is itself deleting its dependents. */
bool gc_any_dependent_deleting_dependents(const gc_node_t *n);

/* Names for logs. */
const char *gc_prop_name(gc_prop_t p);
const char *gc_act_name(gc_act_t a);
const char *gc_owner_state_name(gc_owner_state_t s);

#endif
