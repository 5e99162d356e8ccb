/* runtime.h - the single-threaded event loop every controller runs on.
 *
 * Owns: wiring the bus subscriber (one cache per resource), the actions
 * socket, the work queue, expectations and timers into one poll loop, and
 * the rules that keep syncs honest:
 *   - no sync runs before the first complete snapshot of every resource AND
 *     the executor's InflightReport (so a sync never sees a half-built cache
 *     or re-does what is still in flight); the worker is marked ready then;
 *   - while a resource is being re-snapshotted (gap, informer restart) no
 *     sync runs; when the rebuild ends the changes it implies are delivered
 *     to handlers (adds, updates, deletes of vanished keys) and every key of
 *     the primary resource is queued;
 *   - every event is shown to the expectations (created names observed,
 *     deleted / terminating uids observed) before handlers run;
 *   - a key is "in sync" from workqueue_get until its sync returned AND its
 *     outstanding actions all have results; at most --concurrent-syncs keys
 *     are in sync at once; a key added meanwhile is synced again after;
 *   - sync returning < 0 re-queues the key rate-limited (cfg.rate_limit);
 *     0 forgets its failures;
 *   - a key whose expectations are still outstanding after its sync is
 *     synced again when they expire (no event needed), and an action
 *     adopted from the InflightReport that fails re-queues its owner.
 * worker_tick() is called at least once a second, and by each heartbeat's
 * due time (every 100 ms until ready, and while the subscriber has a
 * snapshot, replay or retry under way).
 *
 * A controller process does not build or run the runtime itself: its main.c
 * hands a ctrl_process_t to ctrl_process_main() (lib/ctrl/process.h), which
 * builds the runtime from the config the create hook fills, lets the attach
 * hook register handlers (ctrl_on), runs ctrl_run and tears down. Tests
 * build socket-less runtimes with ctrl_runtime_new_test (below).
 */
#ifndef KUBUS_CTRL_RUNTIME_H
#define KUBUS_CTRL_RUNTIME_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "ctrl/actions.h"
#include "ctrl/cache.h"
#include "ctrl/expectations.h"
#include "ctrl/workqueue.h"
#include "store.h"
#include "worker.h"

typedef struct ctrl_runtime ctrl_runtime_t;

/* Reconciles one key ("ns/name" of the primary resource). May issue
 * actions; returns 0, or < 0 to be retried with back-off. */
typedef int (*ctrl_sync_fn)(ctrl_runtime_t *rt, const char *key, void *ud);
/* A change of one object of `resource` (after the cache was updated):
 * CACHE_ADDED old=NULL, CACHE_MODIFIED both, CACHE_DELETED new=NULL and
 * old = the final state. Pointers valid during the call only. */
typedef void (*ctrl_handler_fn)(ctrl_runtime_t *rt, const char *resource, cache_change_t change,
                                const json_t *old_obj, const json_t *new_obj, void *ud);

/* How a key whose sync failed backs off (zero fields: client-go's
 * DefaultControllerRateLimiter, 5 ms doubling to 1000 s with a 10 qps
 * bucket, what most upstream controllers use). */
typedef struct {
    uint64_t base_delay_ms;        /* first retry after this (0: 5 ms) */
    uint64_t max_delay_ms;         /* doubling stops here (0: 1000 s) */
    bool no_bucket;                /* per-key back-off alone, no overall token bucket */
} ctrl_rate_limit_t;

/* See ctrl_config_t.stored_replay_wanted (ud: the config's). */
typedef bool (*ctrl_replay_filter_fn)(ctrl_runtime_t *rt, const char *resource, const store_rec_t *rec, void *ud);
/* See ctrl_config_t.stored_replay (ud: the config's). */
typedef void (*ctrl_replay_fn)(ctrl_runtime_t *rt, const char *resource, const store_rec_t *rec, void *ud);

typedef struct {
    const char *controller;        /* "replicaset": routing id "<controller>.<shard>" */
    const char *component;         /* Event source, e.g. "replicaset-controller" (NULL: controller) */
    const char *const *resources;  /* NULL-terminated resources to cache, e.g. {"replicasets","pods",NULL} */
    const char *primary;           /* resource whose keys are work keys (queued after every rebuild) */
    ctrl_sync_fn sync;
    void *ud;
    int concurrent_syncs;          /* 0: worker opts --concurrent-syncs */
    ctrl_rate_limit_t rate_limit;  /* the work queue's back-off on failed syncs */
    /* Cache and hand to handlers only {apiVersion, kind, metadata} of each
     * object (upstream's metadata-only informers, as its garbage collector
     * uses): for a controller that never reads spec or status. */
    bool metadata_only;
    /* The handlers of stored resources (cache_new_stored) only route
     * objects to primaries: after a stored resync, which queues every
     * primary, they are not called for each object in the store. */
    bool stored_routes_only;
    /* Otherwise, when set: the objects the handlers must hear of after a
     * stored resync, judged from the store's record alone (controller uid,
     * text) before any parse; a record it refuses is neither parsed nor
     * told. It must accept every object whose handler would do more than
     * route to a primary (or would route to a non-primary key). */
    ctrl_replay_filter_fn stored_replay_wanted;
    /* When set, each record that is to be told after a stored resync goes
     * to this, unparsed, instead of to the handlers as an ADDED tree: for a
     * controller that reads what its handlers need from the text faster
     * than jansson builds a tree (the garbage collector's metadata). It
     * must do what the handlers would do with the object as ADDED. */
    ctrl_replay_fn stored_replay;
} ctrl_config_t;

/* Builds the runtime (sockets connected, nothing received yet). NULL on
 * error (logged). The config's strings are copied. */
ctrl_runtime_t *ctrl_runtime_new(worker_t *w, const ctrl_config_t *cfg);
void ctrl_runtime_destroy(ctrl_runtime_t **rt);

/* Registers a change handler for a resource listed in cfg.resources
 * (several per resource allowed, called in order). 0 or -1. */
int ctrl_on(ctrl_runtime_t *rt, const char *resource, ctrl_handler_fn fn, void *ud);

/* Runs the loop until the worker is asked to stop. Returns the exit code. */
int ctrl_run(ctrl_runtime_t *rt);

/* ---- what syncs and handlers use ----------------------------------------- */
cache_t *ctrl_cache(ctrl_runtime_t *rt, const char *resource);   /* NULL if not cached */
expectations_t *ctrl_expectations(ctrl_runtime_t *rt);
workqueue_t *ctrl_queue(ctrl_runtime_t *rt);
worker_t *ctrl_worker(ctrl_runtime_t *rt);
const char *ctrl_controller_name(const ctrl_runtime_t *rt);
const char *ctrl_component(const ctrl_runtime_t *rt);

void ctrl_enqueue(ctrl_runtime_t *rt, const char *key);
void ctrl_enqueue_after(ctrl_runtime_t *rt, const char *key, uint64_t delay_ms);
void ctrl_enqueue_rate_limited(ctrl_runtime_t *rt, const char *key);
/* Queues the key of obj ("ns/name"). */
void ctrl_enqueue_obj(ctrl_runtime_t *rt, const json_t *obj);

/* Wall clock (unix seconds / ms), overridable for tests. */
int64_t ctrl_now_unix(const ctrl_runtime_t *rt);
uint64_t ctrl_now_unix_ms(const ctrl_runtime_t *rt);
/* True once every cache is synced and the inflight report arrived. */
bool ctrl_is_ready(const ctrl_runtime_t *rt);

/* Test hook: builds a runtime without sockets (actions go to send; no
 * subscriber). ctrl_test_apply feeds an event as the subscriber would;
 * ctrl_test_mark_ready skips the snapshot/report wait; ctrl_test_step runs
 * queued syncs (returns how many ran). */
ctrl_runtime_t *ctrl_runtime_new_test(const ctrl_config_t *cfg, actions_send_fn send, void *send_ud);
int ctrl_test_apply(ctrl_runtime_t *rt, const char *resource, json_t **obj, bool deleted);
void ctrl_test_mark_ready(ctrl_runtime_t *rt);
int ctrl_test_step(ctrl_runtime_t *rt);
/* Fixes the wall clock ctrl_now_unix* answers (0: the real clock again). */
void ctrl_test_set_unix_ms(ctrl_runtime_t *rt, uint64_t unix_ms);
/* Fixes the monotonic clock of the work queue, the expectations and the
 * actions (0: the real one again). Move it forward only. */
void ctrl_test_set_mono_ms(ctrl_runtime_t *rt, uint64_t mono_ms);
/* Feeds an InflightReport as the actions socket would (the cache decides
 * what the report's actions already did). */
void ctrl_test_report(ctrl_runtime_t *rt, const Kubus__V1__InflightReport *rep);
actions_t *ctrl_actions(ctrl_runtime_t *rt);

#endif
