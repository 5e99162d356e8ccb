/* ctrl/runtime_priv.h - the controller runtime's state, shared by its two
 * files: runtime.c (the loop, events into caches, syncs, actions socket)
 * and runtime_store.c (attaching the shard's store to the stored slots,
 * their live events, and what a stored resync implies). Not for use
 * outside lib/ctrl/runtime*.c.
 */
#ifndef KUBUS_CTRL_RUNTIME_PRIV_H
#define KUBUS_CTRL_RUNTIME_PRIV_H

#include "ctrl/linkwatch.h"
#include "ctrl/runtime.h"
#include "log.h"
#include "store.h"
#include "strmap.h"
#include "subscriber.h"

#define MAX_HANDLERS 8
#define MAX_RESOURCES 16

typedef struct {
    ctrl_handler_fn fn;
    void *ud;
} handler_t;

typedef struct {
    ctrl_runtime_t *rt;
    char *resource;
    cache_t *cache;
    handler_t handlers[MAX_HANDLERS];
    int n_handlers;
    bool rebuilding;
    bool stored;              /* read from the shard's store (cache_new_stored) */
} slot_t;

struct ctrl_runtime {
    worker_t *w;
    char *controller, *component, *primary;
    ctrl_sync_fn sync;
    void *ud;
    slot_t slots[MAX_RESOURCES];
    int n_slots;
    const char *resource_names[MAX_RESOURCES + 1];
    const char *stored_names[MAX_RESOURCES + 1];   /* the stored slots' resources */
    int n_stored;
    store_t *store;           /* the shard's store of the epoch followed (NULL: none yet) */
    char bus_dir[256];
    bool store_pending;       /* a stored resync ended but its store could not be opened */
    subscriber_t *sub;
    void *dealer;
    linkwatch_t *link;        /* reconnects of the dealer to the broker */
    workqueue_t *queue;
    expectations_t *exp;
    actions_t *actions;
    strmap_t *held;           /* keys in sync waiting for their actions */
    bool ready;
    bool metadata_only;       /* cfg.metadata_only */
    uint64_t objects_refused; /* metadata-only events whose text was refused */
    log_limit_t bad_object;   /* their log lines */
    bool stored_routes_only;  /* cfg.stored_routes_only */
    ctrl_replay_filter_fn stored_replay_wanted;   /* cfg.stored_replay_wanted */
    ctrl_replay_fn stored_replay;                 /* cfg.stored_replay */
    bool trim_pending;        /* a snapshot was delivered this turn */
    bool test_mode;
    bool test_ready;
    uint64_t test_unix_ms;    /* 0: real clock */
    uint64_t test_mono_ms;    /* 0: real monotonic clock (work queue, expectations, actions) */
    uint64_t syncs;
    actions_send_fn test_send;
    void *test_send_ud;
};

/* ---- runtime.c ---- */

/* A cache change of slot ud (a slot_t *): the expectations observe it and
 * every handler of the slot hears of it (a cache_change_fn). */
void runtime_on_change(cache_change_t ch, const json_t *old_obj, const json_t *new_obj, void *ud);
/* Ends every cache's borrowed trees (after each sync and loop turn). */
void runtime_release_parsed(ctrl_runtime_t *rt);
/* Queues every object of the primary resource. */
void runtime_queue_all_primary(ctrl_runtime_t *rt);

/* ---- runtime_store.c ---- */

/* A live event of stored slot s (obj: its object, borrowed). */
void runtime_stored_event(ctrl_runtime_t *rt, slot_t *s, const subscriber_event_t *ev, json_t *obj);
/* The stored slots whose resync ended (rt->store_pending): attached and
 * replayed; retried every turn while the store cannot be opened or read. */
void runtime_finish_stored_resyncs(ctrl_runtime_t *rt);

#endif
