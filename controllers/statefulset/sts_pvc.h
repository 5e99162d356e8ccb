/* sts_pvc.h - persistentVolumeClaimRetentionPolicy on a claim's ownerReferences.
 *
 * Owns: upstream's isClaimOwnerUpToDate / updateClaimOwnerRefForSetAndPod:
 *   Retain/Retain: no ref to the set nor the pod;
 *   whenDeleted=Delete: a controller ref to the set (while the pod is in range);
 *   whenScaled=Delete: a controller ref to the pod once it is scaled down
 *   (its ordinal left the range);
 * claims with a stale ref (same name, other uid) or another controller are
 * left alone (the garbage collector or their controller decides).
 */
#ifndef KUBUS_STS_PVC_H
#define KUBUS_STS_PVC_H

#include <jansson.h>
#include <stdbool.h>

#include "sts_spec.h"

/* True when claim's refs already agree with the policy for (set, pod). */
bool sts_claim_refs_ok(const json_t *claim, const json_t *sts, const sts_spec_t *spec, const json_t *pod,
                       bool pod_in_range);
/* The ownerReferences the claim should have (new array reference). */
json_t *sts_claim_refs_wanted(const json_t *claim, const json_t *sts, const sts_spec_t *spec, const json_t *pod,
                              bool pod_in_range);

#endif
