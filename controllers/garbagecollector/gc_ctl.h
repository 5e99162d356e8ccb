/* gc_ctl.h - the garbage collector as a controller on the kubus runtime.
 *
 * Owns: the ownership graph fed by the runtime's caches (one handler per
 * watched resource), the work keys the graph asks for, and the jobs that
 * carry out the decisions of gc_decide.h through actions:
 *   "D/<uid>"  attempt to delete: verify a virtual owner, finish or push a
 *              foreground deletion, or classify an item's owners (live GETs)
 *              and delete it / drop its dangling references;
 *   "O/<uid>"  orphan: remove the owner's reference from its dependents, then
 *              its orphan finalizer.
 * Failed work is retried with its own back-off (the runtime forgets a key's
 * failures as soon as its sync returns, before the answers are in).
 *
 * Every mutation is guarded so that stale state fails instead of doing harm:
 * DELETE carries the item's uid and the resourceVersion its decision was made
 * from (a dependent patched meanwhile - e.g. just orphaned - is not deleted);
 * patches carry test ops.
 */
#ifndef KUBUS_GC_CTL_H
#define KUBUS_GC_CTL_H

#include <stdint.h>

#include "ctrl/runtime.h"
#include "gc_graph.h"

#define GC_CONTROLLER "garbagecollector"
#define GC_COMPONENT "garbage-collector-controller"
#define GC_DEFAULT_CONCURRENT_SYNCS 20

typedef struct gc_ctl gc_ctl_t;

typedef struct {
    uint64_t objects_refused;   /* events whose metadata was malformed */
    uint64_t gets;              /* live GETs issued */
    uint64_t deletes;           /* DELETEs issued */
    uint64_t patches;           /* PATCHes issued */
    uint64_t retries;           /* work keys retried after a failure */
} gc_stats_t;

gc_ctl_t *gc_ctl_new(void);
/* Frees the graph and any job whose answers never came (call after the
 * runtime is destroyed: no callback may run afterwards). */
void gc_ctl_destroy(gc_ctl_t **c);

/* The runtime config for the GC (resources, sync, ud). */
void gc_ctl_config(gc_ctl_t *c, ctrl_config_t *cfg, int concurrent_syncs);
/* Binds to rt and registers the handlers. 0 or -1. */
int gc_ctl_attach(gc_ctl_t *c, ctrl_runtime_t *rt);

/* The runtime's sync function (ud = the gc_ctl_t). */
int gc_ctl_sync(ctrl_runtime_t *rt, const char *key, void *ud);

const gc_graph_t *gc_ctl_graph(const gc_ctl_t *c);
void gc_ctl_stats(const gc_ctl_t *c, gc_stats_t *out);
/* Jobs waiting for answers now. */
size_t gc_ctl_jobs(const gc_ctl_t *c);

#endif
