/* ds_core.h - the DaemonSet controller's decisions, as pure functions.
 *
 * Owns: what upstream's daemon_controller.go, update.go and daemon/util
 * decide, without I/O:
 *   - reading the spec with the API server's defaults (RollingUpdate,
 *     maxUnavailable 1, maxSurge 0, revisionHistoryLimit 10) and the
 *     template generation annotation;
 *   - the pod a DaemonSet makes for a node (template + default tolerations
 *     + pod-template-generation / controller-revision-hash labels + node
 *     binding + controller ownerReference);
 *   - per node: which pods to create and delete (podsShouldBeOnNode);
 *   - the rolling update step (maxUnavailable or maxSurge);
 *   - the status a set of nodes and pods implies;
 *   - slow-start batches and the failed-pod back-off.
 * JSON arguments are borrowed; returned JSON is a new reference.
 */
#ifndef KUBUS_DS_CORE_H
#define KUBUS_DS_CORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctrl/kobj.h"
#include "ctrl/selector.h"

#define DS_BURST_REPLICAS 250
#define DS_LABEL_TEMPLATE_GENERATION "pod-template-generation"
#define DS_ANN_TEMPLATE_GENERATION "deprecated.daemonset.template.generation"

typedef enum { DS_ROLLING_UPDATE = 0, DS_ON_DELETE = 1 } ds_strategy_t;

typedef struct {
    selector_t *selector;          /* owned; never empty or nothing */
    json_t *podspec;               /* owned: template spec + default tolerations (eligibility) */
    ds_strategy_t strategy;
    kobj_intstr_t max_unavailable;
    bool has_max_surge;
    kobj_intstr_t max_surge;
    int64_t revision_history_limit;
    int32_t min_ready_seconds;
    bool has_generation;           /* the template generation annotation parsed */
    int64_t template_generation;
} ds_spec_t;

typedef enum { DS_SPEC_OK = 0, DS_SPEC_INVALID = -1, DS_SPEC_SELECTS_ALL = -2 } ds_spec_rc_t;
/* Reads ds. DS_SPEC_SELECTS_ALL for the {} selector (upstream's SelectingAll
 * event); DS_SPEC_INVALID with a reason in err otherwise. */
ds_spec_rc_t ds_spec_read(const json_t *ds, ds_spec_t *out, char *err, size_t errlen);
void ds_spec_free(ds_spec_t *s);

/* upstream SurgeCount / UnavailableCount for desired nodes, with the
 * "neither: accept 1 unavailable" rule. */
void ds_rolling_limits(const ds_spec_t *s, int32_t desired, int32_t *max_surge, int32_t *max_unavailable);
/* upstream AllowsSurge. */
bool ds_allows_surge(const ds_spec_t *s);

/* upstream IsPodUpdated. */
bool ds_pod_is_updated(const json_t *pod, const char *hash, const ds_spec_t *s);

/* The pod to create on node (metadata.name = name, generateName "<ds>-"). */
json_t *ds_pod_new(const json_t *ds, const ds_spec_t *s, const char *hash, const char *node, const char *name);

/* podByCreationTimestampAndPhase: scheduled first, then older, then name. */
int ds_pod_order_cmp(const json_t *a, const json_t *b);
void ds_pods_sort(const json_t **pods, size_t n);

/* ---- per node -------------------------------------------------------------- */

/* What to do with a terminal pod found on a node that may keep its pod:
 * the caller applies the back-off, raises the event and answers whether
 * to delete it now. */
typedef bool (*ds_terminal_fn)(const json_t *pod, bool failed, void *ud);

typedef struct {
    bool create;                 /* the node needs a pod */
    const json_t **del;          /* pods to delete (caller's array, room for n pods) */
    size_t n_del;
} ds_node_plan_t;

/* upstream podsShouldBeOnNode. pods: the claimed pods for this node (may
 * be empty), has_entry: the node has an entry in the node->pods map at all.
 * Fills plan (plan->del must have room for n). */
void ds_plan_node(const ds_spec_t *s, bool should_run, bool should_continue, const json_t **pods, size_t n,
                  bool has_entry, const char *hash, int64_t now_sec, ds_terminal_fn terminal, void *ud,
                  ds_node_plan_t *plan);

/* ---- rolling update ------------------------------------------------------- */

typedef struct {
    const char *node;
    const json_t **pods;         /* claimed pods on the node */
    size_t n;
    bool should_run;             /* NodeShouldRunDaemonPod for the node (false: node unknown) */
} ds_node_pods_t;

/* upstream rollingUpdate for the nodes (those with pods plus those that
 * should run one). Writes pods to delete into del (room: total pods) and
 * nodes to create into create (room: n_nodes). */
void ds_rolling_update(const ds_spec_t *s, const ds_node_pods_t *nodes, size_t n_nodes, const char *hash,
                       int32_t max_surge, int32_t max_unavailable, int32_t desired, int64_t now_sec,
                       const json_t **del, size_t *n_del, const char **create, size_t *n_create);

/* ---- status ------------------------------------------------------------------ */

typedef struct {
    int32_t desired, current, misscheduled, ready, updated, available, unavailable;
} ds_counts_t;

/* upstream updateDaemonSetStatus's counting. nodes: every known node
 * (should_run set), with its claimed pods (reordered: oldest first). */
void ds_status_count(const ds_spec_t *s, const ds_node_pods_t *nodes, size_t n, const char *hash, int64_t now_sec,
                     ds_counts_t *out);
/* storeDaemonSetStatus's "nothing to write" test. */
bool ds_status_unchanged(const json_t *ds, const ds_counts_t *c);
/* The new status object (rest of ds.status kept): counts, and
 * observedGeneration = generation when observe. */
json_t *ds_status_build(const json_t *ds, const ds_counts_t *c, bool observe);

/* ---- slow start ------------------------------------------------------------ */

/* Batches of 1, 2, 4 ...; the next batch only when the whole current one
 * succeeded; the first failure skips the rest. */
typedef struct {
    int total, issued, in_flight, failed, skipped;
    int batch;
} ds_slowstart_t;
void ds_slowstart_init(ds_slowstart_t *s, int count);
/* How many to issue now (counted in flight). */
int ds_slowstart_next(ds_slowstart_t *s);
void ds_slowstart_result(ds_slowstart_t *s, bool ok);
bool ds_slowstart_done(const ds_slowstart_t *s);

/* ---- failed pod back-off (client-go flowcontrol.Backoff 1 s .. 15 min) --- */
#define DS_BACKOFF_INITIAL_MS 1000u
#define DS_BACKOFF_MAX_MS (15u * 60u * 1000u)
typedef struct {
    uint64_t delay_ms;
    uint64_t last_ms;
} ds_backoff_t;
/* IsInBackOffSinceUpdate. */
bool ds_backoff_active(const ds_backoff_t *b, uint64_t now_ms);
/* Next: first time (or after 2 * max of quiet) the initial delay, else doubled up to max. */
void ds_backoff_next(ds_backoff_t *b, uint64_t now_ms);
/* GC test: quiet for more than 2 * max. */
bool ds_backoff_expired(const ds_backoff_t *b, uint64_t now_ms);

#endif
