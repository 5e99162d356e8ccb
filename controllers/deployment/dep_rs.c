/* dep_rs.c - ReplicaSet views and their orderings (see dep_rs.h). */
#include "dep_rs.h"

#include <string.h>

#include "ctrl/kobj.h"
#include "dep_revision.h"

static int32_t clamp_i32(int64_t v)
{
    if (v < 0)
        return 0;
    if (v > 2147483647)
        return 2147483647;
    return (int32_t)v;
}

bool dep_annotation_int32(const json_t *obj, const char *key, int32_t *out)
{
    int64_t v = 0;
    const char *s = kobj_annotation(obj, key);
    if (!s || dep_parse_int64(s, &v) != 0 || v < -2147483648LL || v > 2147483647LL)
        return false;
    *out = (int32_t)v;
    return true;
}

void dep_rs_from_json(dep_rs_t *v, const json_t *rs)
{
    memset(v, 0, sizeof *v);
    v->obj = rs;
    v->name = kobj_name(rs);
    v->uid = kobj_uid(rs);
    v->created = kobj_creation_time(rs);
    v->spec_replicas = clamp_i32(kobj_int(rs, "spec.replicas", 1));
    v->replicas = v->spec_replicas;
    v->status_replicas = clamp_i32(kobj_int(rs, "status.replicas", 0));
    v->ready = clamp_i32(kobj_int(rs, "status.readyReplicas", 0));
    v->available = clamp_i32(kobj_int(rs, "status.availableReplicas", 0));
    json_t *term = kobj_get(rs, "status.terminatingReplicas");
    v->has_terminating = json_is_integer(term);
    v->terminating = v->has_terminating ? clamp_i32(json_integer_value(term)) : 0;
    const char *rev = kobj_annotation(rs, DEP_ANN_REVISION);
    v->has_revision = rev && dep_parse_int64(rev, &v->revision) == 0;
    if (!v->has_revision)
        v->revision = 0;
    v->has_desired = dep_annotation_int32(rs, DEP_ANN_DESIRED_REPLICAS, &v->desired);
    v->has_max = dep_annotation_int32(rs, DEP_ANN_MAX_REPLICAS, &v->max);
    v->deleting = kobj_being_deleted(rs);
    v->generation = kobj_generation(rs);
    v->observed_generation = kobj_int(rs, "status.observedGeneration", 0);
}

/* ---- orderings ---------------------------------------------------------- */

static const dep_rs_t *deref(const void *p)
{
    return *(dep_rs_t *const *)p;
}

static int cmp_created(const dep_rs_t *a, const dep_rs_t *b)
{
    if (a->created != b->created)
        return a->created < b->created ? -1 : 1;
    return strcmp(a->name ? a->name : "", b->name ? b->name : "");
}

int dep_rs_cmp_by_creation(const void *pa, const void *pb)
{
    return cmp_created(deref(pa), deref(pb));
}

int dep_rs_cmp_by_size_newer(const void *pa, const void *pb)
{
    const dep_rs_t *a = deref(pa), *b = deref(pb);
    if (a->replicas != b->replicas)
        return a->replicas > b->replicas ? -1 : 1;
    return cmp_created(b, a);
}

int dep_rs_cmp_by_size_older(const void *pa, const void *pb)
{
    const dep_rs_t *a = deref(pa), *b = deref(pb);
    if (a->replicas != b->replicas)
        return a->replicas > b->replicas ? -1 : 1;
    return cmp_created(a, b);
}

int dep_rs_cmp_by_revision(const void *pa, const void *pb)
{
    const dep_rs_t *a = deref(pa), *b = deref(pb);
    if (!a->has_revision || !b->has_revision || a->revision == b->revision)
        return cmp_created(a, b);
    return a->revision < b->revision ? -1 : 1;
}

/* ---- sums ----------------------------------------------------------------- */

int32_t dep_sum_replicas(dep_rs_t *const *rs, size_t n)
{
    int64_t t = 0;
    for (size_t i = 0; i < n; i++)
        if (rs[i])
            t += rs[i]->replicas;
    return clamp_i32(t);
}

int32_t dep_sum_status_replicas(dep_rs_t *const *rs, size_t n)
{
    int64_t t = 0;
    for (size_t i = 0; i < n; i++)
        if (rs[i])
            t += rs[i]->status_replicas;
    return clamp_i32(t);
}

int32_t dep_sum_ready(dep_rs_t *const *rs, size_t n)
{
    int64_t t = 0;
    for (size_t i = 0; i < n; i++)
        if (rs[i])
            t += rs[i]->ready;
    return clamp_i32(t);
}

int32_t dep_sum_available(dep_rs_t *const *rs, size_t n)
{
    int64_t t = 0;
    for (size_t i = 0; i < n; i++)
        if (rs[i])
            t += rs[i]->available;
    return clamp_i32(t);
}

int32_t dep_rs_available_kept(const dep_rs_t *v)
{
    return v->available < v->replicas ? v->available : v->replicas;
}

int32_t dep_rs_pods_upper(const dep_rs_t *v)
{
    return v->active_pods > v->replicas ? v->active_pods : v->replicas;
}
