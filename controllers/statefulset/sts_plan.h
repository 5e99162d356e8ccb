/* sts_plan.h - what one sync of a StatefulSet should do, as a pure function.
 *
 * Owns: upstream's updateStatefulSet decisions (stateful_set_control.go),
 * given the set's spec, its member pods, its claims and its two revisions:
 *   - replicas: ordinals [start, start+replicas); condemned: other valid
 *     ordinals, handled highest first;
 *   - each replica in ordinal order: a Failed/Succeeded pod is deleted (and
 *     recreated by a later sync); a missing pod gets its missing claims
 *     first, then the pod (at the current revision below the partition,
 *     else at the update revision); a Pending pod gets missing claims;
 *     OrderedReady stops at the first pod that is terminating, not Running
 *     and Ready, or not available; Parallel goes on;
 *   - retention-policy ownerReferences on claims, wrong identity labels;
 *   - condemned pods: OrderedReady deletes one at a time, highest first,
 *     only while everything lower is healthy; Parallel deletes all;
 *   - RollingUpdate (OnDelete stops here): delete pods not at the update
 *     revision, highest ordinal first, down to the partition, keeping at
 *     most maxUnavailable replicas unavailable;
 *   - status counts (replicas, ready, available, current, updated).
 * The caller turns steps into actions.
 */
#ifndef KUBUS_STS_PLAN_H
#define KUBUS_STS_PLAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sts_spec.h"

typedef enum {
    STS_STEP_CREATE_CLAIM = 1,  /* ordinal, tmpl */
    STS_STEP_CREATE_POD,        /* ordinal, use_current */
    STS_STEP_DELETE_POD,        /* pod */
    STS_STEP_FIX_IDENTITY,      /* pod */
    STS_STEP_CLAIM_REFS,        /* pod, ordinal, tmpl, in_range */
    STS_STEP_CLAIM_DELETING,    /* ordinal, tmpl: the pod cannot be created yet */
} sts_step_kind_t;

typedef struct {
    sts_step_kind_t kind;
    int32_t ordinal;
    const json_t *pod;   /* borrowed */
    size_t tmpl;         /* index into spec.volumeClaimTemplates */
    bool use_current;    /* CREATE_POD: at the current revision */
    bool in_range;       /* CLAIM_REFS */
    bool for_update;     /* DELETE_POD: a rolling-update delete */
} sts_step_t;

/* The claim named name in the set's namespace, or NULL. */
typedef const json_t *(*sts_claim_get_fn)(void *ud, const char *name);

typedef struct {
    const json_t *sts;
    const sts_spec_t *spec;
    const char *current_rev, *update_rev;
    const json_t *const *pods;   /* the set's member pods */
    size_t n_pods;
    sts_claim_get_fn claim_get;
    void *claim_ud;
    int64_t now;
} sts_plan_in_t;

typedef struct {
    sts_step_t *steps;
    size_t n, cap;
    int32_t replicas, ready, available, current, updated;
    int64_t recheck_at;   /* unix s when a pod becomes available (0: none) */
} sts_plan_t;

/* 0, or -1 on OOM (plan freed then). */
int sts_plan_make(const sts_plan_in_t *in, sts_plan_t *out);
void sts_plan_free(sts_plan_t *p);

#endif
