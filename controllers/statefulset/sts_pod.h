/* sts_pod.h - the pods and claims of a StatefulSet: identity and health.
 *
 * Owns: what upstream's stateful_set_utils.go says about one pod:
 *   - its parent and ordinal, read from the name "<parent>-<ordinal>";
 *   - health predicates (created, running and ready, available,
 *     unavailable, terminating, failed/succeeded);
 *   - its revision (label controller-revision-hash = the revision's name);
 *   - whether its identity label is right;
 *   - the pod a template makes for an ordinal (name, hostname, subdomain,
 *     pod-name / pod-index / revision labels, controller ownerReference, the
 *     claim volumes) and the claims it needs ("<template>-<set>-<ordinal>",
 *     labelled with the selector's matchLabels).
 * Everything borrows its arguments; builders return new references.
 */
#ifndef KUBUS_STS_POD_H
#define KUBUS_STS_POD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STS_LABEL_POD_NAME "statefulset.kubernetes.io/pod-name"
#define STS_LABEL_POD_INDEX "apps.kubernetes.io/pod-index"
#define STS_LABEL_REVISION "controller-revision-hash"

/* The ordinal of a pod named "<parent>-<digits>" (an int32), else -1.
 * parent (may be NULL) gets a copy of the part before the last dash. */
int32_t sts_name_ordinal(const char *name, char *parent, size_t parentlen);
/* Ordinal of pod if it belongs to the set named set_name, else -1. */
int32_t sts_member_ordinal(const json_t *pod, const char *set_name);

bool sts_pod_created(const json_t *pod);          /* status.phase set */
bool sts_pod_terminating(const json_t *pod);      /* deletionTimestamp */
bool sts_pod_finished(const json_t *pod);         /* Failed or Succeeded */
bool sts_pod_pending(const json_t *pod);
bool sts_pod_running_ready(const json_t *pod);
bool sts_pod_available(const json_t *pod, int32_t min_ready, int64_t now);
/* NULL (not created yet) is unavailable too. */
bool sts_pod_unavailable(const json_t *pod, int32_t min_ready, int64_t now);
/* When a ready pod becomes available (unix s), 0 if it already is or never will. */
int64_t sts_pod_available_at(const json_t *pod, int32_t min_ready, int64_t now);
const char *sts_pod_revision(const json_t *pod);  /* "" if none */
/* The pod-name label (and pod-index) agree with the name. */
bool sts_pod_identity_ok(const json_t *pod);

/* "<template>-<set>-<ordinal>"; length or -1. */
int sts_claim_name(char *out, size_t outlen, const char *tmpl_name, const char *set_name, int32_t ordinal);

/* The pod for ordinal from template (the set's own, or a revision's) at
 * revision rev_name. NULL on OOM. */
json_t *sts_pod_new(const json_t *sts, const json_t *template, const char *service_name, int32_t ordinal,
                    const char *rev_name);
/* The claim for template i of the set, for ordinal. NULL if the template
 * has no name, or on OOM. */
json_t *sts_claim_new(const json_t *sts, const json_t *claim_tmpl, int32_t ordinal);

#endif
