/* ttl_core.c - the TTL-after-finished controller's pure decisions. See ttl_core.h. */
#include "ttl_core.h"

#include <string.h>

#include "ctrl/kobj.h"
#include "ctrl/satint.h"

static bool ttl_of(const json_t *job, int64_t *ttl)
{
    json_t *v = kobj_get(job, "spec.ttlSecondsAfterFinished");
    if (!json_is_integer(v) || json_integer_value(v) < 0) return false;
    *ttl = json_integer_value(v);
    return true;
}

/* The first Complete/Failed condition with status True, or NULL. */
static const json_t *finished_condition(const json_t *job)
{
    json_t *conds = kobj_get(job, "status.conditions");
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c) {
        const char *t = json_string_value(json_object_get(c, "type"));
        const char *s = json_string_value(json_object_get(c, "status"));
        if (t && s && (strcmp(t, "Complete") == 0 || strcmp(t, "Failed") == 0) && strcmp(s, "True") == 0) return c;
    }
    return NULL;
}

bool ttl_needs_cleanup(const json_t *job)
{
    int64_t ttl;
    return ttl_of(job, &ttl) && finished_condition(job) != NULL;
}

int ttl_finish_time(const json_t *job, int64_t *finish_sec)
{
    const json_t *c = finished_condition(job);
    if (!c) return -1;
    return kobj_time_parse(json_string_value(json_object_get(c, "lastTransitionTime")), finish_sec);
}

int ttl_time_left_ms(const json_t *job, int64_t now_ms, int64_t *left_ms)
{
    int64_t ttl, finish;
    if (!ttl_of(job, &ttl) || ttl_finish_time(job, &finish) < 0) return -1;
    *left_ms = sat_sub64(sat_ms(sat_add64(finish, ttl)), now_ms);
    return 0;
}
