/* sts_spec.c - reading a StatefulSet's spec. See sts_spec.h. */
#include "sts_spec.h"

#include <stdio.h>
#include <string.h>

static bool is_delete_policy(const json_t *sts, const char *field)
{
    char path[96];
    snprintf(path, sizeof path, "spec.persistentVolumeClaimRetentionPolicy.%s", field);
    const char *v = kobj_str(sts, path);
    return v && strcmp(v, "Delete") == 0;
}

static int read_strategy(const json_t *sts, sts_spec_t *out, char *err, size_t errlen)
{
    const char *type = kobj_str(sts, "spec.updateStrategy.type");
    out->on_delete = type && strcmp(type, "OnDelete") == 0;
    if (type && !out->on_delete && strcmp(type, "RollingUpdate") != 0) {
        snprintf(err, errlen, "unknown updateStrategy.type %s", type);
        return -1;
    }
    int64_t partition = kobj_int(sts, "spec.updateStrategy.rollingUpdate.partition", 0);
    if (partition < 0 || partition > INT32_MAX) {
        snprintf(err, errlen, "invalid updateStrategy.rollingUpdate.partition");
        return -1;
    }
    out->partition = (int32_t)partition;
    out->max_unavailable = (kobj_intstr_t){ .is_percent = false, .value = 1 };
    const json_t *mu = kobj_get(sts, "spec.updateStrategy.rollingUpdate.maxUnavailable");
    if (mu && !json_is_null(mu)) {
        char why[128];
        if (kobj_intstr_parse(mu, &out->max_unavailable, why, sizeof why) < 0) {
            snprintf(err, errlen, "invalid updateStrategy.rollingUpdate.maxUnavailable: %s", why);
            return -1;
        }
    }
    return 0;
}

static int read_numbers(const json_t *sts, sts_spec_t *out, char *err, size_t errlen)
{
    int64_t replicas = kobj_int(sts, "spec.replicas", 1);
    int64_t start = kobj_int(sts, "spec.ordinals.start", 0);
    int64_t mrs = kobj_int(sts, "spec.minReadySeconds", 0);
    int64_t hist = kobj_int(sts, "spec.revisionHistoryLimit", STS_DEFAULT_HISTORY_LIMIT);
    if (replicas < 0 || replicas > 1000000) {
        snprintf(err, errlen, "invalid spec.replicas %lld", (long long)replicas);
        return -1;
    }
    if (start < 0 || start > INT32_MAX - replicas) {
        snprintf(err, errlen, "invalid spec.ordinals.start %lld", (long long)start);
        return -1;
    }
    if (mrs < 0 || mrs > INT32_MAX || hist > INT32_MAX) {
        snprintf(err, errlen, "invalid minReadySeconds or revisionHistoryLimit");
        return -1;
    }
    out->replicas = (int32_t)replicas;
    out->start = (int32_t)start;
    out->min_ready_seconds = (int32_t)mrs;
    out->history_limit = hist < 0 ? -1 : (int32_t)hist;
    return 0;
}

int sts_spec_read(const json_t *sts, sts_spec_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(kobj_get(sts, "spec.template.spec"))) {
        snprintf(err, errlen, "spec.template.spec is missing");
        return -1;
    }
    if (read_numbers(sts, out, err, errlen) < 0 || read_strategy(sts, out, err, errlen) < 0) return -1;
    const char *policy = kobj_str(sts, "spec.podManagementPolicy");
    out->parallel = policy && strcmp(policy, "Parallel") == 0;
    const char *svc = kobj_str(sts, "spec.serviceName");
    out->service_name = svc ? svc : "";
    const json_t *tmpls = kobj_get(sts, "spec.volumeClaimTemplates");
    out->claim_templates = json_is_array(tmpls) ? tmpls : NULL;
    out->delete_when_deleted = is_delete_policy(sts, "whenDeleted");
    out->delete_when_scaled = is_delete_policy(sts, "whenScaled");
    char why[256];
    out->selector = selector_compile(kobj_get(sts, "spec.selector"), why, sizeof why);
    if (!out->selector) {
        snprintf(err, errlen, "invalid selector: %s", why);
        return -1;
    }
    if (selector_is_empty(out->selector) || selector_is_nothing(out->selector)) {
        snprintf(err, errlen, "empty selector is invalid for statefulset");
        sts_spec_free(out);
        return -1;
    }
    if (!selector_matches(out->selector, kobj_get(sts, "spec.template.metadata.labels"))) {
        snprintf(err, errlen, "selector does not match template labels");
        sts_spec_free(out);
        return -1;
    }
    return 0;
}

void sts_spec_free(sts_spec_t *s)
{
    if (s) selector_destroy(&s->selector);
}

int32_t sts_spec_max_unavailable(const sts_spec_t *s)
{
    int32_t n = 1;
    if (kobj_intstr_scaled(&s->max_unavailable, s->replicas, false, &n) < 0) n = 1;
    return n < 1 ? 1 : n;
}
