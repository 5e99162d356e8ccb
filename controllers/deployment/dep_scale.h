/* dep_scale.h - how big each of a Deployment's ReplicaSets should be.
 *
 * Owns: the sizing decisions of upstream's sync.go / rolling.go /
 * recreate.go / deployment_util.go as pure plans over ReplicaSet views
 * (dep_rs.h). A plan changes views' working `replicas` and sets `touched`;
 * the controller turns every touched view into one ReplicaSet update.
 *   - NewRSNewReplicas: how far the new ReplicaSet may grow now;
 *   - FindActiveOrLatest, IsSaturated, isScalingEvent;
 *   - scale(): proportional scaling of all active ReplicaSets when the
 *     Deployment's size changes mid-rollout or while paused (shares by the
 *     max-replicas annotation, leftovers to the first of the sort: the
 *     largest, newest when scaling up / oldest when scaling down);
 *   - the rolling update: reconcileNewReplicaSet, then
 *     reconcileOldReplicaSets = cleanupUnhealthyReplicas +
 *     scaleDownOldReplicaSetsForRollingUpdate;
 *   - Recreate: old ReplicaSets to zero.
 *
 * Two deliberate differences keep the bounds true while the ReplicaSet
 * controller (another process) lags behind our writes; with a settled
 * cluster they change nothing:
 *   - the pods counted against replicas + maxSurge are, per ReplicaSet,
 *     max(spec.replicas, active pods): a ReplicaSet just scaled down still
 *     has its surplus pods until they are deleted;
 *   - available pods counted against replicas - maxUnavailable are, per
 *     ReplicaSet, min(status.availableReplicas, spec.replicas): a status
 *     that has not caught up with a scale-down must not be spent twice.
 */
#ifndef KUBUS_DEP_SCALE_H
#define KUBUS_DEP_SCALE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dep_rs.h"
#include "dep_spec.h"

/* Upstream NewRSNewReplicas. all includes new_rs. */
int32_t dep_new_rs_new_replicas(const dep_spec_t *s, dep_rs_t *const *all, size_t n,
                                const dep_rs_t *new_rs);

/* Upstream IsSaturated. */
bool dep_is_saturated(const dep_spec_t *s, const dep_rs_t *rs);

/* Upstream FindActiveOrLatest: the only ReplicaSet with replicas > 0, or
 * the newest (new_rs first) when none has any; NULL when several do. old is
 * reordered (newest first). */
dep_rs_t *dep_find_active_or_latest(dep_rs_t *new_rs, dep_rs_t **old, size_t n);

/* Upstream isScalingEvent: some active ReplicaSet's desired-replicas
 * annotation differs from spec.replicas. */
bool dep_is_scaling_event(const dep_spec_t *s, dep_rs_t *new_rs, dep_rs_t *const *old, size_t n);

/* Upstream getReplicaSetFraction / GetReplicaSetProportion.
 * status_replicas: the Deployment's status.replicas (the fallback when a
 * ReplicaSet has no max-replicas annotation). */
int32_t dep_rs_fraction(const dep_spec_t *s, const dep_rs_t *rs, int32_t status_replicas);
int32_t dep_rs_proportion(const dep_spec_t *s, const dep_rs_t *rs, int32_t status_replicas,
                          int32_t to_add, int32_t added);

/* Upstream scale(): sizes new_rs (may be NULL) and old for a scaling event
 * or a paused Deployment. old is reordered. */
void dep_plan_scale(const dep_spec_t *s, int32_t status_replicas, dep_rs_t *new_rs, dep_rs_t **old,
                    size_t n);

/* Upstream reconcileNewReplicaSet. all includes new_rs. true if it scaled. */
bool dep_plan_rolling_new(const dep_spec_t *s, dep_rs_t *const *all, size_t n, dep_rs_t *new_rs);

/* Upstream reconcileOldReplicaSets. all: every ReplicaSet including new_rs
 * (for the pod total); old: the active old ones (reordered). Returns how
 * many replicas it took away (0: nothing to do). */
int32_t dep_plan_rolling_old(const dep_spec_t *s, dep_rs_t *const *all, size_t n_all,
                             dep_rs_t **old, size_t n_old, dep_rs_t *new_rs);

/* The two halves, exposed for tests. old sorted by creation on return. */
int32_t dep_cleanup_unhealthy(dep_rs_t **old, size_t n, int32_t max_cleanup);
int32_t dep_scale_down_old_rolling(const dep_spec_t *s, dep_rs_t **old, size_t n,
                                   const dep_rs_t *new_rs);

/* Upstream scaleDownOldReplicaSetsForRecreate: every active old one to 0.
 * true if any was scaled. */
bool dep_plan_recreate_down(dep_rs_t **old, size_t n);

/* A ReplicaSet counts as active when it has replicas (FilterActiveReplicaSets).
 * Copies the active ones of in into out (room for n); returns how many. */
size_t dep_filter_active(dep_rs_t *const *in, size_t n, dep_rs_t **out);

/* Scales v to n the way scaleReplicaSetAndRecordEvent does: nothing when
 * the size is already n. true if it changed. */
bool dep_scale_to(dep_rs_t *v, int32_t n);

#endif
