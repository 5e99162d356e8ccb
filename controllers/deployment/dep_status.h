/* dep_status.h - a Deployment's status: counts, conditions, progress.
 *
 * Owns: what the controller writes to status (upstream calculateStatus,
 * syncRolloutStatus, checkPausedConditions, getReplicaFailures and the
 * DeploymentComplete / DeploymentProgressing / DeploymentTimedOut /
 * requeueStuckDeployment rules) as pure functions over status JSON.
 *
 * Status objects are built the way the API server serialises them (the
 * integer fields are omitempty), so "did anything change" is json_equal
 * against the stored status. Conditions follow SetDeploymentCondition: the
 * same status and reason is no change at all (not even the message), the
 * same status keeps lastTransitionTime, a changed one goes to the end.
 * Times are RFC3339 seconds ("2006-01-02T15:04:05Z"), like metav1.Time.
 */
#ifndef KUBUS_DEP_STATUS_H
#define KUBUS_DEP_STATUS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dep_rs.h"
#include "dep_spec.h"

#define DEP_COND_PROGRESSING "Progressing"
#define DEP_COND_AVAILABLE "Available"
#define DEP_COND_REPLICA_FAILURE "ReplicaFailure"

#define DEP_REASON_RS_UPDATED "ReplicaSetUpdated"
#define DEP_REASON_RS_CREATE_ERROR "ReplicaSetCreateError"
#define DEP_REASON_NEW_RS "NewReplicaSetCreated"
#define DEP_REASON_FOUND_NEW_RS "FoundNewReplicaSet"
#define DEP_REASON_NEW_RS_AVAILABLE "NewReplicaSetAvailable"
#define DEP_REASON_TIMED_OUT "ProgressDeadlineExceeded"
#define DEP_REASON_PAUSED "DeploymentPaused"
#define DEP_REASON_RESUMED "DeploymentResumed"
#define DEP_REASON_MIN_AVAILABLE "MinimumReplicasAvailable"
#define DEP_REASON_MIN_UNAVAILABLE "MinimumReplicasUnavailable"

/* ---- conditions on a status object -------------------------------------- */
/* The condition of type, or NULL (borrowed). */
json_t *dep_cond_get(const json_t *status, const char *type);
/* A new condition object; lastUpdateTime = lastTransitionTime = now. */
json_t *dep_cond_new(const char *type, const char *status, const char *reason,
                     const char *message, int64_t now);
/* SetDeploymentCondition (takes the reference to cond). true if changed. */
bool dep_cond_set(json_t *status, json_t *cond);
/* RemoveDeploymentCondition. true if one was removed. */
bool dep_cond_remove(json_t *status, const char *type);
/* lastUpdateTime of a condition in unix seconds; false if absent/bad. */
bool dep_cond_update_time(const json_t *cond, int64_t *out);

/* ---- counts ------------------------------------------------------------- */
typedef struct {
    int64_t observed_generation;
    int32_t replicas, updated, ready, available, unavailable;
} dep_counts_t;

/* Reads the counts of a status object (absent = 0). */
void dep_counts_from_status(const json_t *status, dep_counts_t *out);

/* Upstream calculateStatus: a new status object from the ReplicaSets
 * (all: every one incl. new_rs, which may be NULL), keeping the old
 * status's collisionCount and conditions and setting Available;
 * terminatingReplicas when every observed ReplicaSet reports it.
 * Sums use what the cluster has (spec_replicas), not plans. */
json_t *dep_calc_status(const dep_spec_t *s, const json_t *old_status, dep_rs_t *const *all,
                        size_t n, const dep_rs_t *new_rs, int64_t now);

/* ---- progress ----------------------------------------------------------- */
bool dep_deployment_complete(const dep_spec_t *s, const json_t *status);
bool dep_deployment_progressing(const json_t *old_status, const json_t *new_status);
bool dep_deployment_timed_out(const dep_spec_t *s, const json_t *new_status, int64_t now);

/* Upstream syncRolloutStatus without the write: the status to store.
 * cur_status: the Deployment's status as this sync has it so far (with
 * conditions this sync already set). ReplicaFailure is copied up from the
 * ReplicaSets. *requeue_ms: when nothing changed, when to look for a
 * timeout again (-1: no need, 0: now, rate-limited); -1 otherwise. */
json_t *dep_rollout_status(const dep_spec_t *s, const json_t *cur_status, dep_rs_t *const *all,
                           size_t n, const dep_rs_t *new_rs, const char *deployment_name,
                           int64_t now_ms, int64_t *requeue_ms);

/* getReplicaFailures: the first ReplicaFailure condition of new_rs, else of
 * any in all, as a Deployment condition (new reference), or NULL. */
json_t *dep_replica_failure(dep_rs_t *const *all, size_t n, const dep_rs_t *new_rs);

/* checkPausedConditions on status (changed in place). true if changed. */
bool dep_check_paused_conditions(const dep_spec_t *s, json_t *status, int64_t now);

/* "2006-01-02T15:04:05Z" for unix seconds into out (>= 21 bytes). */
void dep_format_time(int64_t unix_sec, char *out, size_t outlen);

#endif
