/* gc_graph.h - the ownership graph: one node per object uid, edges from each
 * dependent to each distinct owner uid in its ownerReferences.
 *
 * Owns: the nodes, the edges and each observed node's last metadata.
 *
 * Nodes are "observed" (the informer showed us the object) or "virtual" (only
 * referenced: an owner not, or not yet, seen). A virtual node lives exactly as
 * long as something refers to it: when its last dependent edge goes, it is
 * freed. An observed node that is deleted while it still has dependents turns
 * virtual again (the dependents still name it) until they drop the reference
 * or are gone.
 *
 * The graph decides nothing by itself about deletion; it tells a sink which
 * items are worth a look, following upstream's graph builder:
 *   attempt_delete(uid)  a new virtual owner (does it exist?), the dependents
 *                        of a deleted owner or of one entering foreground
 *                        deletion, an owner entering foreground deletion or
 *                        waiting for one of its dependents that went away or
 *                        stopped blocking, a dependent whose reference is
 *                        suspicious (owner in another namespace, name/kind
 *                        differ from what was observed for that uid).
 *   attempt_orphan(uid)  an owner entering orphan deletion, or gaining a
 *                        dependent while it is in it.
 * Sink callbacks only record; they must not call back into the graph.
 *
 * Cost: observe O(r + r_old) (r = ownerReferences of the object, usually 1),
 * delete O(r + d) (d = dependents enqueued). Edges are doubly linked in the
 * owner's list, so removing one is O(1) even for an owner with 10k pods.
 * Not thread-safe: the GC runs the graph on one thread.
 */
#ifndef KUBUS_GC_GRAPH_H
#define KUBUS_GC_GRAPH_H

#include <stdbool.h>
#include <stddef.h>

#include "gc_kinds.h"
#include "gc_meta.h"

typedef struct gc_graph gc_graph_t;
typedef struct gc_node gc_node_t;

typedef struct {
    void (*attempt_delete)(void *ctx, const char *uid);
    void (*attempt_orphan)(void *ctx, const char *uid);
    void *ctx;
} gc_sink_t;

/* kinds and sink are copied; the lookup's arg must outlive the graph. */
gc_graph_t *gc_graph_new(const gc_kinds_t *kinds, const gc_sink_t *sink);
void gc_graph_destroy(gc_graph_t **g);

/* An object was observed (snapshot, added, modified). Takes ownership of
 * *meta and NULLs it. Returns 0, or -1 when out of memory (the node may then
 * lack some owner edges). */
int gc_graph_observe(gc_graph_t *g, gc_meta_t **meta);
/* The object with this uid was observed deleted. */
void gc_graph_observe_delete(gc_graph_t *g, const char *uid);
/* A live GET showed that the virtual node's object does not exist: its
 * dependents are enqueued. False (and nothing done) for an unknown uid or an
 * observed node. */
bool gc_graph_confirm_absent(gc_graph_t *g, const char *uid);

const gc_node_t *gc_graph_find(const gc_graph_t *g, const char *uid);
size_t gc_graph_count(const gc_graph_t *g);
/* Calls fn for every node until it returns false. fn must not change g. */
void gc_graph_each(const gc_graph_t *g, bool (*fn)(const gc_node_t *n, void *arg), void *arg);

/* Identity: from the observed object, or from the first reference to it. */
const char *gc_node_uid(const gc_node_t *n);
const char *gc_node_api_version(const gc_node_t *n);
const char *gc_node_kind(const gc_node_t *n);
const char *gc_node_namespace(const gc_node_t *n);
const char *gc_node_name(const gc_node_t *n);

bool gc_node_observed(const gc_node_t *n);
/* The last observed metadata; NULL while virtual. */
const gc_meta_t *gc_node_meta(const gc_node_t *n);
bool gc_node_being_deleted(const gc_node_t *n);
bool gc_node_deleting_dependents(const gc_node_t *n);
bool gc_node_orphaning(const gc_node_t *n);
/* A live GET confirmed the (virtual) node's object absent. */
bool gc_node_confirmed_absent(const gc_node_t *n);

size_t gc_node_dependent_count(const gc_node_t *n);
size_t gc_node_owner_count(const gc_node_t *n);
/* Dependents whose reference to n has blockOwnerDeletion=true. */
size_t gc_node_blocking_count(const gc_node_t *n);
/* Calls fn(dependent, blocking, arg) for every dependent until it returns false. */
void gc_node_each_dependent(const gc_node_t *n,
                            bool (*fn)(const gc_node_t *dep, bool blocking, void *arg), void *arg);
/* Calls fn(owner, arg) for every distinct owner node until it returns false. */
void gc_node_each_owner(const gc_node_t *n, bool (*fn)(const gc_node_t *owner, void *arg), void *arg);

#endif
