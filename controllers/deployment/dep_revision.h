/* dep_revision.h - revisions, the annotations that carry them, and history.
 *
 * Owns: the deployment.kubernetes.io/... annotation rules of upstream's
 * deployment_util.go:
 *   - revision numbers (MaxRevision over the old ReplicaSets; the new one
 *     gets max + 1, and only ever goes up);
 *   - revision-history: when an old ReplicaSet becomes the new one again
 *     (a rollback), its previous revision is appended, oldest entries
 *     dropped past DEP_REVISION_HISTORY_MAX_CHARS;
 *   - copying the Deployment's annotations to its new ReplicaSet, except
 *     those the controller manages and kubectl's last-applied-configuration
 *     (upstream annotationsToSkip);
 *   - desired-replicas / max-replicas on every ReplicaSet it scales;
 *   - which old ReplicaSets the revisionHistoryLimit lets go (upstream
 *     cleanupDeployment: oldest revision first, never one with replicas,
 *     pods, an unobserved generation, or already being deleted).
 * Annotation objects are jansson objects of strings the caller owns.
 */
#ifndef KUBUS_DEP_REVISION_H
#define KUBUS_DEP_REVISION_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dep_rs.h"
#include "dep_spec.h"

/* Upstream maxRevHistoryLengthInChars. */
#define DEP_REVISION_HISTORY_MAX_CHARS 2000
#define DEP_ANN_LAST_APPLIED "kubectl.kubernetes.io/last-applied-configuration"
#define DEP_ANN_ROLLBACK_TO "deprecated.deployment.rollback.to"

/* strconv.ParseInt(s, 10, 64): optional sign, decimal digits, no overflow.
 * 0 or -1. */
int dep_parse_int64(const char *s, int64_t *out);

/* True for the annotations never copied between a Deployment and its
 * ReplicaSets. */
bool dep_annotation_skipped(const char *key);

/* Highest valid revision among the views (0 if none). */
int64_t dep_max_revision(dep_rs_t *const *rs, size_t n);

/* Upstream SetNewReplicaSetAnnotations on rs_ann (the new ReplicaSet's
 * annotations, changed in place): copies deployment's annotations, raises
 * the revision to new_revision when lower (recording the old one in
 * revision-history), and for a ReplicaSet not yet created (exists false)
 * sets desired/max replicas. Returns true when rs_ann changed. An existing
 * revision that is not an integer leaves the revision alone and returns
 * false (as upstream). */
bool dep_set_new_rs_annotations(const json_t *deployment, json_t *rs_ann, int64_t new_revision,
                                bool exists, int32_t desired, int32_t max_replicas);

/* Upstream SetReplicasAnnotations / ReplicasAnnotationsNeedUpdate. */
bool dep_set_replicas_annotations(json_t *ann, int32_t desired, int32_t max_replicas);
bool dep_replicas_annotations_need_update(const json_t *ann, int32_t desired, int32_t max_replicas);

/* Sets a string annotation when it differs. true if changed (false on OOM). */
bool dep_set_annotation(json_t *ann, const char *key, const char *value);

/* Old ReplicaSets the history limit deletes, oldest revision first, into
 * out (room for n). old is reordered. Returns how many. 0 when the spec has
 * no limit. */
size_t dep_history_to_delete(const dep_spec_t *s, dep_rs_t **old, size_t n, dep_rs_t **out);

#endif
