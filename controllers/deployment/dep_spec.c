/* dep_spec.c - reading and validating a Deployment's spec (see dep_spec.h). */
#include "dep_spec.h"

#include <stdio.h>
#include <string.h>

/* The API server defaults both fenceposts to 25%. */
static const kobj_intstr_t default_quarter = {.is_percent = true, .value = 25};

int dep_resolve_fenceposts(const kobj_intstr_t *surge, const kobj_intstr_t *unavailable,
                           int32_t desired, int32_t *out_surge, int32_t *out_unavailable)
{
    int32_t s = 0, u = 0;
    if (kobj_intstr_scaled(surge, desired, true, &s) != 0 ||
        kobj_intstr_scaled(unavailable, desired, false, &u) != 0)
        return -1;
    if (s == 0 && u == 0) {
        /* Rounding down can make both zero; upstream then allows one pod
         * unavailable rather than never making progress (surge may be
         * blocked by quota). */
        u = 1;
    }
    *out_surge = s;
    *out_unavailable = u;
    return 0;
}

/* A non-negative int32 at path, def when absent. -1 when present but not a
 * non-negative integer within int32. */
static int read_count(const json_t *d, const char *path, int32_t def, int32_t *out, char *err,
                      size_t errlen)
{
    json_t *v = kobj_get(d, path);
    if (!v || json_is_null(v)) {
        *out = def;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > DEP_INT32_MAX) {
        snprintf(err, errlen, "%s: must be a non-negative 32-bit integer", path);
        return -1;
    }
    *out = (int32_t)json_integer_value(v);
    return 0;
}

static int read_intstr(const json_t *d, const char *path, kobj_intstr_t *out, char *err,
                       size_t errlen)
{
    json_t *v = kobj_get(d, path);
    if (!v || json_is_null(v)) {
        *out = default_quarter;
        return 0;
    }
    char why[160] = "";
    if (kobj_intstr_parse(v, out, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", path, why[0] ? why : "invalid IntOrString");
        return -1;
    }
    if (out->value < 0) {
        snprintf(err, errlen, "%s: must not be negative", path);
        return -1;
    }
    return 0;
}

static int read_strategy(const json_t *d, dep_spec_t *s, char *err, size_t errlen)
{
    const char *type = kobj_str(d, "spec.strategy.type");
    if (!type || !type[0] || strcmp(type, "RollingUpdate") == 0) {
        s->strategy = DEP_ROLLING_UPDATE;
    } else if (strcmp(type, "Recreate") == 0) {
        s->strategy = DEP_RECREATE;
        return 0;
    } else {
        snprintf(err, errlen, "spec.strategy.type: deployment type \"%.64s\" isn't supported",
                 type);
        return -1;
    }
    if (read_intstr(d, "spec.strategy.rollingUpdate.maxSurge", &s->max_surge_raw, err,
                    errlen) != 0 ||
        read_intstr(d, "spec.strategy.rollingUpdate.maxUnavailable", &s->max_unavailable_raw,
                    err, errlen) != 0)
        return -1;
    if (dep_resolve_fenceposts(&s->max_surge_raw, &s->max_unavailable_raw, s->replicas,
                               &s->max_surge, &s->max_unavailable) != 0) {
        snprintf(err, errlen, "spec.strategy.rollingUpdate: fenceposts overflow for %d replicas",
                 s->replicas);
        return -1;
    }
    /* Upstream MaxUnavailable: nothing may be unavailable of nothing, and
     * never more than the whole deployment. */
    if (s->replicas == 0)
        s->max_unavailable = 0;
    else if (s->max_unavailable > s->replicas)
        s->max_unavailable = s->replicas;
    /* maxSurge + replicas is used as a pod count everywhere. */
    if ((int64_t)s->replicas + s->max_surge > DEP_INT32_MAX) {
        snprintf(err, errlen, "spec.strategy.rollingUpdate.maxSurge: too large");
        return -1;
    }
    return 0;
}

int dep_spec_parse(const json_t *d, dep_spec_t *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    if (err && errlen)
        err[0] = '\0';
    if (!json_is_object(d)) {
        snprintf(err, errlen, "not an object");
        return -1;
    }
    if (read_count(d, "spec.replicas", 1, &s->replicas, err, errlen) != 0 ||
        read_count(d, "spec.minReadySeconds", 0, &s->min_ready_seconds, err, errlen) != 0 ||
        read_count(d, "spec.revisionHistoryLimit", DEP_DEFAULT_HISTORY_LIMIT, &s->history_limit,
                   err, errlen) != 0 ||
        read_count(d, "spec.progressDeadlineSeconds", DEP_DEFAULT_PROGRESS_DEADLINE,
                   &s->progress_deadline, err, errlen) != 0)
        return -1;
    s->has_history_limit = s->history_limit != DEP_INT32_MAX;
    s->has_progress_deadline = s->progress_deadline != DEP_INT32_MAX;
    json_t *paused = kobj_get(d, "spec.paused");
    if (paused && !json_is_boolean(paused) && !json_is_null(paused)) {
        snprintf(err, errlen, "spec.paused: must be a boolean");
        return -1;
    }
    s->paused = json_is_true(paused);
    s->generation = kobj_generation(d);
    return read_strategy(d, s, err, errlen);
}

int32_t dep_min_available(const dep_spec_t *s)
{
    if (s->strategy != DEP_ROLLING_UPDATE)
        return 0;
    return s->replicas - s->max_unavailable;
}
