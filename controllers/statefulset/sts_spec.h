/* sts_spec.h - reading a StatefulSet's spec.
 *
 * Owns: the fields the controller acts on, with the API's defaults applied
 * when a field is absent (replicas 1, OrderedReady, RollingUpdate with
 * partition 0 and maxUnavailable 1, revisionHistoryLimit 10, Retain/Retain),
 * and the checks that make a spec unusable (no/empty selector, template
 * labels the selector does not match, negative replicas or start).
 * Borrowed JSON pointers stay valid while the StatefulSet object does.
 */
#ifndef KUBUS_STS_SPEC_H
#define KUBUS_STS_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctrl/kobj.h"
#include "ctrl/selector.h"

#define STS_API_VERSION "apps/v1"
#define STS_KIND "StatefulSet"
#define STS_DEFAULT_HISTORY_LIMIT 10

typedef struct {
    int32_t replicas;
    int32_t start;                 /* spec.ordinals.start */
    bool parallel;                 /* podManagementPolicy Parallel */
    bool on_delete;                /* updateStrategy OnDelete */
    int32_t partition;
    kobj_intstr_t max_unavailable; /* default 1 */
    int32_t min_ready_seconds;
    int32_t history_limit;
    const char *service_name;      /* borrowed, "" when absent */
    const json_t *claim_templates; /* borrowed array (may be NULL) */
    bool delete_when_deleted;      /* persistentVolumeClaimRetentionPolicy.whenDeleted == Delete */
    bool delete_when_scaled;       /* ... whenScaled == Delete */
    selector_t *selector;          /* owned */
} sts_spec_t;

/* 0, or -1 with a reason in err (nothing to free then). */
int sts_spec_read(const json_t *sts, sts_spec_t *out, char *err, size_t errlen);
void sts_spec_free(sts_spec_t *s);

/* maxUnavailable as a count of replicas: rounded down, at least 1. */
int32_t sts_spec_max_unavailable(const sts_spec_t *s);

#endif
