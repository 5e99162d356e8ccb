/* dep_spec.h - what a Deployment asks for, read once and validated.
 *
 * Owns: turning a Deployment's JSON into the numbers every other part of
 * the controller works with: replicas, strategy, the resolved rolling-update
 * fenceposts (upstream ResolveFenceposts / MaxSurge / MaxUnavailable /
 * MinAvailable), minReadySeconds, revisionHistoryLimit,
 * progressDeadlineSeconds, paused and generation.
 *
 * Absent fields take the API server's apps/v1 defaults (replicas 1,
 * RollingUpdate 25%/25%, revisionHistoryLimit 10, progressDeadlineSeconds
 * 600): objects from the API server always carry them, hand-made ones may not.
 * Anything the API server's validation would refuse (negative counts, an
 * unknown strategy type, a malformed IntOrString such as "abc%") makes
 * dep_spec_parse fail with a reason, so the controller can report it
 * instead of acting on a guess. Pure functions, no I/O.
 */
#ifndef KUBUS_DEP_SPEC_H
#define KUBUS_DEP_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctrl/kobj.h"

#define DEP_DEFAULT_HISTORY_LIMIT 10
#define DEP_DEFAULT_PROGRESS_DEADLINE 600
/* Upstream treats MaxInt32 as "no limit" for both limits. */
#define DEP_INT32_MAX 2147483647

typedef enum { DEP_ROLLING_UPDATE = 0, DEP_RECREATE = 1 } dep_strategy_t;

typedef struct {
    int32_t replicas;             /* spec.replicas */
    dep_strategy_t strategy;
    kobj_intstr_t max_surge_raw;  /* as written (rolling only) */
    kobj_intstr_t max_unavailable_raw;
    int32_t max_surge;            /* MaxSurge(): 0 for Recreate */
    int32_t max_unavailable;      /* MaxUnavailable(): 0 for Recreate or replicas 0, <= replicas */
    int32_t min_ready_seconds;
    bool has_history_limit;       /* false: keep every old ReplicaSet */
    int32_t history_limit;
    bool has_progress_deadline;   /* false: never report ProgressDeadlineExceeded */
    int32_t progress_deadline;
    bool paused;
    int64_t generation;
} dep_spec_t;

/* Upstream ResolveFenceposts: maxSurge scaled rounding up, maxUnavailable
 * rounding down, both 0 -> maxUnavailable 1. 0, or -1 on overflow. */
int dep_resolve_fenceposts(const kobj_intstr_t *surge, const kobj_intstr_t *unavailable,
                           int32_t desired, int32_t *out_surge, int32_t *out_unavailable);

/* Reads and validates deployment. 0, or -1 with a reason in err (which names
 * the field, e.g. "spec.strategy.rollingUpdate.maxSurge: invalid value ..."). */
int dep_spec_parse(const json_t *deployment, dep_spec_t *out, char *err, size_t errlen);

/* Upstream MinAvailable: replicas - maxUnavailable for RollingUpdate, 0 else. */
int32_t dep_min_available(const dep_spec_t *s);

#endif
