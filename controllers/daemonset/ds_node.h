/* ds_node.h - which nodes a DaemonSet's pod belongs on.
 *
 * Owns: upstream's scheduling predicates the DaemonSet controller checks
 * itself (NodeShouldRunDaemonPod), as pure functions over JSON:
 *   - the template's spec.nodeName;
 *   - spec.nodeSelector (every label equal);
 *   - required node affinity (terms ORed; a term ANDs its matchExpressions
 *     on labels and matchFields on metadata.name; an empty or unparsable
 *     term matches nothing, as nodeaffinity does);
 *   - NoSchedule/NoExecute taints against tolerations (PreferNoSchedule is
 *     ignored), after the default DaemonSet tolerations are added;
 * plus the pod-side edits upstream makes: the default tolerations
 * (AddOrUpdateDaemonPodTolerations), binding a pod to a node through a
 * required matchFields term (ReplaceDaemonSetPodNodeNameNodeAffinity) and
 * reading that binding back (GetTargetNodeName).
 */
#ifndef KUBUS_DS_NODE_H
#define KUBUS_DS_NODE_H

#include <jansson.h>
#include <stdbool.h>

/* Adds the default DaemonSet tolerations to podspec.tolerations in place
 * (an equal toleration is replaced, others appended in upstream's order;
 * network-unavailable only for hostNetwork pods). 0 or -1 (OOM, not an
 * object). */
int ds_add_default_tolerations(json_t *podspec);

/* Does this toleration tolerate this taint (upstream ToleratesTaint)? */
bool ds_toleration_tolerates(const json_t *toleration, const json_t *taint);

/* Required node affinity of podspec (nodeSelector and
 * requiredDuringScheduling terms) matches node. */
bool ds_node_affinity_matches(const json_t *podspec, const json_t *node);

/* upstream NodeShouldRunDaemonPod. podspec: the template's spec WITH the
 * default tolerations already added (ds_add_default_tolerations on a copy).
 * should_run: a new pod belongs there; should_continue: an existing pod may
 * stay (it tolerates every NoExecute taint). */
void ds_node_should_run(const json_t *podspec, const json_t *node, bool *should_run, bool *should_continue);

/* Replaces the required node affinity terms of podspec with the single
 * term matchFields metadata.name In [node] (creating affinity objects as
 * needed). 0 or -1. */
int ds_bind_to_node(json_t *podspec, const char *node);

/* The node a daemon pod is for: spec.nodeName, else the single value of a
 * required matchFields metadata.name In term. NULL if neither. */
const char *ds_pod_target_node(const json_t *pod);

#endif
