/* dep_rs.h - a Deployment's ReplicaSets as numbers, and their orderings.
 *
 * Owns: the view of one ReplicaSet the planning code works on (dep_rs_t),
 * read from its JSON, and upstream's orderings of ReplicaSets:
 * ReplicaSetsByCreationTimestamp (older first, then name),
 * ReplicaSetsBySizeNewer / BySizeOlder (larger first, ties newer / older
 * first) and ReplicaSetsByRevision (lower revision first, ties by creation).
 *
 * A view keeps two sizes: spec_replicas, what the cluster has, and
 * replicas, the working value that plans (dep_scale.h) change. `touched`
 * records that a plan called upstream's scaleReplicaSet on it (so its
 * replica annotations are brought up to date even when the size stays).
 * The obj pointer is borrowed (NULL for a ReplicaSet about to be created).
 */
#ifndef KUBUS_DEP_RS_H
#define KUBUS_DEP_RS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DEP_ANN_REVISION "deployment.kubernetes.io/revision"
#define DEP_ANN_REVISION_HISTORY "deployment.kubernetes.io/revision-history"
#define DEP_ANN_DESIRED_REPLICAS "deployment.kubernetes.io/desired-replicas"
#define DEP_ANN_MAX_REPLICAS "deployment.kubernetes.io/max-replicas"
#define DEP_LABEL_HASH "pod-template-hash"

typedef struct {
    const json_t *obj;           /* borrowed; NULL for a planned new ReplicaSet */
    const char *name, *uid;      /* borrowed from obj (or the planner) */
    int64_t created;             /* creationTimestamp, unix seconds */
    int32_t spec_replicas;       /* spec.replicas as observed */
    int32_t replicas;            /* working value */
    bool touched;                /* a plan asked to scale it (see header) */
    int32_t status_replicas, ready, available;
    bool has_terminating;        /* status.terminatingReplicas present */
    int32_t terminating;
    /* Pods it controls that are active (not terminating, not finished),
     * from the pod cache; they can outnumber spec.replicas until the
     * ReplicaSet controller has deleted the surplus. */
    int32_t active_pods;
    bool has_revision;           /* annotation present and a valid integer */
    int64_t revision;            /* 0 when absent or invalid */
    bool has_desired, has_max;
    int32_t desired, max;        /* replica annotations */
    bool deleting;               /* deletionTimestamp set */
    int64_t generation, observed_generation;
} dep_rs_t;

/* Fills v from a ReplicaSet's JSON (active_pods 0: the caller counts pods).
 * Missing or malformed numbers read as 0; spec.replicas absent reads as 1
 * (the API default). */
void dep_rs_from_json(dep_rs_t *v, const json_t *rs);

/* An int32 annotation like upstream getIntFromAnnotation (strconv.Atoi):
 * optional sign and decimal digits only. true and *out when valid. */
bool dep_annotation_int32(const json_t *obj, const char *key, int32_t *out);

/* Orderings of arrays of pointers to views (qsort comparators over
 * dep_rs_t *const *). */
int dep_rs_cmp_by_creation(const void *a, const void *b);
int dep_rs_cmp_by_size_newer(const void *a, const void *b);
int dep_rs_cmp_by_size_older(const void *a, const void *b);
int dep_rs_cmp_by_revision(const void *a, const void *b);

/* Upstream sums over a set of ReplicaSets (NULL entries skipped). */
int32_t dep_sum_replicas(dep_rs_t *const *rs, size_t n);            /* working replicas */
int32_t dep_sum_status_replicas(dep_rs_t *const *rs, size_t n);
int32_t dep_sum_ready(dep_rs_t *const *rs, size_t n);
int32_t dep_sum_available(dep_rs_t *const *rs, size_t n);

/* The available pods a ReplicaSet will keep: min(available, replicas). A
 * ReplicaSet scaled down deletes unavailable pods first, so a size cut is
 * never undone by a status that has not caught up yet. */
int32_t dep_rs_available_kept(const dep_rs_t *v);
/* The pods a ReplicaSet may have right now: max(replicas, active_pods). */
int32_t dep_rs_pods_upper(const dep_rs_t *v);

#endif
