/* dep_scale.c - ReplicaSet sizing plans (see dep_scale.h). */
#include "dep_scale.h"

#include <math.h>
#include <stdlib.h>

static int32_t min32(int32_t a, int32_t b)
{
    return a < b ? a : b;
}

static int32_t max32(int32_t a, int32_t b)
{
    return a > b ? a : b;
}

bool dep_scale_to(dep_rs_t *v, int32_t n)
{
    if (v->replicas == n)
        return false;
    v->replicas = n;
    v->touched = true;
    return true;
}

/* scaleReplicaSet: always brings the annotations up to date. */
static void scale_and_annotate(dep_rs_t *v, int32_t n)
{
    v->replicas = n;
    v->touched = true;
}

size_t dep_filter_active(dep_rs_t *const *in, size_t n, dep_rs_t **out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (in[i] && in[i]->replicas > 0)
            out[k++] = in[i];
    return k;
}

int32_t dep_new_rs_new_replicas(const dep_spec_t *s, dep_rs_t *const *all, size_t n,
                                const dep_rs_t *new_rs)
{
    if (s->strategy == DEP_RECREATE)
        return s->replicas;
    int64_t current = 0;
    for (size_t i = 0; i < n; i++)
        if (all[i])
            current += dep_rs_pods_upper(all[i]);
    int64_t max_total = (int64_t)s->replicas + s->max_surge;
    if (current >= max_total)
        return new_rs->replicas;
    int64_t up = max_total - current;
    int64_t room = (int64_t)s->replicas - new_rs->replicas;
    if (room < up)
        up = room;
    return (int32_t)(new_rs->replicas + up);
}

bool dep_is_saturated(const dep_spec_t *s, const dep_rs_t *rs)
{
    if (!rs || !rs->has_desired)
        return false;
    return rs->replicas == s->replicas && rs->desired == s->replicas &&
           rs->available == s->replicas;
}

dep_rs_t *dep_find_active_or_latest(dep_rs_t *new_rs, dep_rs_t **old, size_t n)
{
    if (!new_rs && n == 0)
        return NULL;
    qsort(old, n, sizeof old[0], dep_rs_cmp_by_creation);
    /* newest first, as upstream's reverse sort */
    for (size_t i = 0; i < n / 2; i++) {
        dep_rs_t *t = old[i];
        old[i] = old[n - 1 - i];
        old[n - 1 - i] = t;
    }
    dep_rs_t *active = NULL;
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (old[i]->replicas > 0) {
            active = old[i];
            count++;
        }
    if (new_rs && new_rs->replicas > 0) {
        active = new_rs;
        count++;
    }
    if (count == 1)
        return active;
    if (count == 0)
        return new_rs ? new_rs : old[0];
    return NULL;
}

bool dep_is_scaling_event(const dep_spec_t *s, dep_rs_t *new_rs, dep_rs_t *const *old, size_t n)
{
    if (new_rs && new_rs->replicas > 0 && new_rs->has_desired && new_rs->desired != s->replicas)
        return true;
    for (size_t i = 0; i < n; i++)
        if (old[i] && old[i]->replicas > 0 && old[i]->has_desired &&
            old[i]->desired != s->replicas)
            return true;
    return false;
}

int32_t dep_rs_fraction(const dep_spec_t *s, const dep_rs_t *rs, int32_t status_replicas)
{
    /* Scaling to zero: the whole ReplicaSet goes. */
    if (s->replicas == 0)
        return -rs->replicas;
    int64_t deployment_replicas = (int64_t)s->replicas + s->max_surge;
    int64_t annotated = rs->has_max ? rs->max : status_replicas;
    /* Upstream divides by zero here (a ReplicaSet without annotation of a
     * Deployment without status); we treat it as keeping its share. */
    if (annotated <= 0)
        return 0;
    double size = (double)rs->replicas * (double)deployment_replicas / (double)annotated;
    double r = round(size);
    if (r > 2147483647.0)
        r = 2147483647.0;
    return (int32_t)((int64_t)r - rs->replicas);
}

int32_t dep_rs_proportion(const dep_spec_t *s, const dep_rs_t *rs, int32_t status_replicas,
                          int32_t to_add, int32_t added)
{
    if (!rs || rs->replicas == 0 || to_add == 0 || to_add == added)
        return 0;
    int32_t fraction = dep_rs_fraction(s, rs, status_replicas);
    int32_t allowed = to_add - added;
    /* Never more than allowed in the direction we scale. */
    return to_add > 0 ? min32(fraction, allowed) : max32(fraction, allowed);
}

static void scale_proportionally(const dep_spec_t *s, int32_t status_replicas, dep_rs_t **all,
                                 size_t n)
{
    int32_t current = dep_sum_replicas(all, n);
    int32_t allowed = s->replicas > 0 ? s->replicas + s->max_surge : 0;
    int32_t to_add = allowed - current;
    if (to_add > 0)
        qsort(all, n, sizeof all[0], dep_rs_cmp_by_size_newer);
    else if (to_add < 0)
        qsort(all, n, sizeof all[0], dep_rs_cmp_by_size_older);
    int32_t added = 0;
    int32_t *size = calloc(n ? n : 1, sizeof *size);
    if (!size)
        return;
    for (size_t i = 0; i < n; i++) {
        int32_t p = dep_rs_proportion(s, all[i], status_replicas, to_add, added);
        size[i] = all[i]->replicas + p;
        added += p;
    }
    /* Leftovers go to the first: the largest one (newest when growing,
     * oldest when shrinking). */
    if (n > 0 && to_add != 0) {
        size[0] += to_add - added;
        if (size[0] < 0)
            size[0] = 0;
    }
    for (size_t i = 0; i < n; i++)
        scale_and_annotate(all[i], size[i]);
    free(size);
}

void dep_plan_scale(const dep_spec_t *s, int32_t status_replicas, dep_rs_t *new_rs, dep_rs_t **old,
                    size_t n)
{
    dep_rs_t *only = dep_find_active_or_latest(new_rs, old, n);
    if (only) {
        dep_scale_to(only, s->replicas);
        return;
    }
    if (dep_is_saturated(s, new_rs)) {
        /* A saturated new ReplicaSet (e.g. after adopting one) owns it all. */
        for (size_t i = 0; i < n; i++)
            if (old[i]->replicas > 0)
                dep_scale_to(old[i], 0);
        return;
    }
    if (s->strategy != DEP_ROLLING_UPDATE)
        return;
    dep_rs_t **all = calloc(n + 1, sizeof *all);
    if (!all)
        return;
    size_t k = dep_filter_active(old, n, all);
    if (new_rs && new_rs->replicas > 0)
        all[k++] = new_rs;
    scale_proportionally(s, status_replicas, all, k);
    free(all);
}

bool dep_plan_rolling_new(const dep_spec_t *s, dep_rs_t *const *all, size_t n, dep_rs_t *new_rs)
{
    if (new_rs->replicas == s->replicas)
        return false;
    if (new_rs->replicas > s->replicas)
        return dep_scale_to(new_rs, s->replicas);
    return dep_scale_to(new_rs, dep_new_rs_new_replicas(s, all, n, new_rs));
}

int32_t dep_cleanup_unhealthy(dep_rs_t **old, size_t n, int32_t max_cleanup)
{
    qsort(old, n, sizeof old[0], dep_rs_cmp_by_creation);
    int32_t total = 0;
    for (size_t i = 0; i < n && total < max_cleanup; i++) {
        dep_rs_t *rs = old[i];
        int32_t kept = dep_rs_available_kept(rs);
        if (rs->replicas == 0 || rs->replicas == kept)
            continue;
        /* The ReplicaSet controller deletes not-ready pods first, so this
         * costs no availability. */
        int32_t count = min32(max_cleanup - total, rs->replicas - kept);
        dep_scale_to(rs, rs->replicas - count);
        total += count;
    }
    return total;
}

int32_t dep_scale_down_old_rolling(const dep_spec_t *s, dep_rs_t **old, size_t n,
                                   const dep_rs_t *new_rs)
{
    int32_t min_available = s->replicas - s->max_unavailable;
    int64_t available = new_rs ? dep_rs_available_kept(new_rs) : 0;
    for (size_t i = 0; i < n; i++)
        available += dep_rs_available_kept(old[i]);
    if (available <= min_available)
        return 0;
    qsort(old, n, sizeof old[0], dep_rs_cmp_by_creation);
    int32_t want = (int32_t)(available - min_available);
    int32_t total = 0;
    for (size_t i = 0; i < n && total < want; i++) {
        dep_rs_t *rs = old[i];
        if (rs->replicas == 0)
            continue;
        int32_t count = min32(rs->replicas, want - total);
        dep_scale_to(rs, rs->replicas - count);
        total += count;
    }
    return total;
}

int32_t dep_plan_rolling_old(const dep_spec_t *s, dep_rs_t *const *all, size_t n_all,
                             dep_rs_t **old, size_t n_old, dep_rs_t *new_rs)
{
    if (dep_sum_replicas(old, n_old) == 0)
        return 0;
    int32_t all_pods = dep_sum_replicas(all, n_all);
    int32_t min_available = s->replicas - s->max_unavailable;
    int32_t new_unavailable = new_rs ? new_rs->replicas - dep_rs_available_kept(new_rs) : 0;
    /* Unavailable new pods must not let old ones go (they may never come up). */
    int64_t max_scaled_down = (int64_t)all_pods - min_available - new_unavailable;
    if (max_scaled_down <= 0)
        return 0;
    int32_t cleaned = dep_cleanup_unhealthy(old, n_old, (int32_t)max_scaled_down);
    int32_t scaled = dep_scale_down_old_rolling(s, old, n_old, new_rs);
    return cleaned + scaled;
}

bool dep_plan_recreate_down(dep_rs_t **old, size_t n)
{
    bool scaled = false;
    for (size_t i = 0; i < n; i++)
        if (old[i]->replicas > 0)
            scaled |= dep_scale_to(old[i], 0);
    return scaled;
}
