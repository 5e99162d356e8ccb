/* dep_status.c - Deployment status, conditions and progress (see dep_status.h). */
#include "dep_status.h"

#include <stdio.h>
#include <string.h>

#include "ctrl/kobj.h"

void dep_format_time(int64_t unix_sec, char *out, size_t outlen)
{
    if (kobj_time_format(unix_sec, out, outlen) < 0 && outlen)
        out[0] = '\0';
}

static const char *str_field(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : "";
}

static bool str_field_is(const json_t *o, const char *key, const char *want)
{
    return strcmp(str_field(o, key), want) == 0;
}

/* ---- conditions ----------------------------------------------------------- */

json_t *dep_cond_get(const json_t *status, const char *type)
{
    json_t *conds = json_object_get(status, "conditions");
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c) {
        if (json_is_object(c) && str_field_is(c, "type", type))
            return c;
    }
    return NULL;
}

json_t *dep_cond_new(const char *type, const char *status, const char *reason,
                     const char *message, int64_t now)
{
    char ts[32];
    dep_format_time(now, ts, sizeof ts);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", type, "status", status,
                     "lastUpdateTime", ts, "lastTransitionTime", ts, "reason", reason,
                     "message", message);
}

bool dep_cond_remove(json_t *status, const char *type)
{
    json_t *conds = json_object_get(status, "conditions");
    bool removed = false;
    for (size_t i = json_array_size(conds); i-- > 0;) {
        json_t *c = json_array_get(conds, i);
        if (json_is_object(c) && str_field_is(c, "type", type)) {
            json_array_remove(conds, i);
            removed = true;
        }
    }
    if (conds && json_array_size(conds) == 0)
        json_object_del(status, "conditions");
    return removed;
}

bool dep_cond_set(json_t *status, json_t *cond)
{
    if (!cond)
        return false;
    const char *type = str_field(cond, "type");
    json_t *cur = dep_cond_get(status, type);
    if (cur && str_field_is(cur, "status", str_field(cond, "status")) &&
        str_field_is(cur, "reason", str_field(cond, "reason"))) {
        json_decref(cond);
        return false;
    }
    if (cur && str_field_is(cur, "status", str_field(cond, "status"))) {
        json_t *ltt = json_object_get(cur, "lastTransitionTime");
        if (ltt)
            json_object_set(cond, "lastTransitionTime", ltt);
    }
    dep_cond_remove(status, type);
    json_t *conds = json_object_get(status, "conditions");
    if (!json_is_array(conds)) {
        conds = json_array();
        if (!conds || json_object_set_new(status, "conditions", conds) != 0) {
            json_decref(cond);
            return false;
        }
    }
    json_array_append_new(conds, cond);
    return true;
}

bool dep_cond_update_time(const json_t *cond, int64_t *out)
{
    const char *t = str_field(cond, "lastUpdateTime");
    return t[0] && kobj_time_parse(t, out) == 0;
}

/* ---- counts --------------------------------------------------------------- */

void dep_counts_from_status(const json_t *st, dep_counts_t *c)
{
    c->observed_generation = kobj_int(st, "observedGeneration", 0);
    c->replicas = (int32_t)kobj_int(st, "replicas", 0);
    c->updated = (int32_t)kobj_int(st, "updatedReplicas", 0);
    c->ready = (int32_t)kobj_int(st, "readyReplicas", 0);
    c->available = (int32_t)kobj_int(st, "availableReplicas", 0);
    c->unavailable = (int32_t)kobj_int(st, "unavailableReplicas", 0);
}

/* omitempty: zero integers are not written. */
static void set_count(json_t *st, const char *key, int64_t v)
{
    if (v != 0)
        json_object_set_new(st, key, json_integer(v));
    else
        json_object_del(st, key);
}

/* Upstream GetTerminatingReplicaCountForReplicaSets: the sum, or unknown
 * (-1) when a ReplicaSet the ReplicaSet controller has seen does not report
 * it (a controller without the field). Not yet observed ones are skipped. */
static int64_t terminating_replicas(dep_rs_t *const *all, size_t n)
{
    int64_t t = 0;
    for (size_t i = 0; i < n; i++) {
        if (!all[i] || (all[i]->observed_generation == 0 && !all[i]->has_terminating))
            continue;
        if (!all[i]->has_terminating)
            return -1;
        t += all[i]->terminating;
    }
    return t;
}

json_t *dep_calc_status(const dep_spec_t *s, const json_t *old_status, dep_rs_t *const *all,
                        size_t n, const dep_rs_t *new_rs, int64_t now)
{
    int64_t available = 0, total_spec = 0, actual = 0, ready = 0;
    for (size_t i = 0; i < n; i++) {
        if (!all[i])
            continue;
        available += all[i]->available;
        total_spec += all[i]->spec_replicas;
        actual += all[i]->status_replicas;
        ready += all[i]->ready;
    }
    /* More available than desired happens while scaling down. */
    int64_t unavailable = total_spec - available;
    if (unavailable < 0)
        unavailable = 0;
    json_t *st = json_object();
    if (!st)
        return NULL;
    set_count(st, "observedGeneration", s->generation);
    set_count(st, "replicas", actual);
    set_count(st, "updatedReplicas", new_rs ? new_rs->status_replicas : 0);
    set_count(st, "readyReplicas", ready);
    set_count(st, "availableReplicas", available);
    set_count(st, "unavailableReplicas", unavailable);
    /* a pointer upstream: written when known, even as 0 */
    int64_t terminating = terminating_replicas(all, n);
    if (terminating >= 0)
        json_object_set_new(st, "terminatingReplicas", json_integer(terminating));
    json_t *cc = json_object_get(old_status, "collisionCount");
    if (json_is_integer(cc))
        json_object_set(st, "collisionCount", cc);
    json_t *conds = json_object_get(old_status, "conditions");
    if (json_is_array(conds) && json_array_size(conds) > 0)
        json_object_set_new(st, "conditions", json_deep_copy(conds));
    /* Recreate has no maxUnavailable: everything must be available. */
    int32_t max_unavailable = s->strategy == DEP_ROLLING_UPDATE ? s->max_unavailable : 0;
    if (available >= (int64_t)s->replicas - max_unavailable)
        dep_cond_set(st, dep_cond_new(DEP_COND_AVAILABLE, "True", DEP_REASON_MIN_AVAILABLE,
                                      "Deployment has minimum availability.", now));
    else
        dep_cond_set(st, dep_cond_new(DEP_COND_AVAILABLE, "False", DEP_REASON_MIN_UNAVAILABLE,
                                      "Deployment does not have minimum availability.", now));
    return st;
}

/* ---- progress ------------------------------------------------------------- */

bool dep_deployment_complete(const dep_spec_t *s, const json_t *status)
{
    dep_counts_t c;
    dep_counts_from_status(status, &c);
    return c.updated == s->replicas && c.replicas == s->replicas && c.available == s->replicas &&
           c.observed_generation >= s->generation;
}

bool dep_deployment_progressing(const json_t *old_status, const json_t *new_status)
{
    dep_counts_t o, n;
    dep_counts_from_status(old_status, &o);
    dep_counts_from_status(new_status, &n);
    int32_t old_old = o.replicas - o.updated;
    int32_t new_old = n.replicas - n.updated;
    return n.updated > o.updated || new_old < old_old || n.ready > o.ready ||
           n.available > o.available;
}

bool dep_deployment_timed_out(const dep_spec_t *s, const json_t *new_status, int64_t now)
{
    if (!s->has_progress_deadline)
        return false;
    json_t *cond = dep_cond_get(new_status, DEP_COND_PROGRESSING);
    if (!cond)
        return false;
    /* A finished rollout is not judged again until a new one starts. */
    if (str_field_is(cond, "reason", DEP_REASON_NEW_RS_AVAILABLE))
        return false;
    if (str_field_is(cond, "reason", DEP_REASON_TIMED_OUT))
        return true;
    int64_t from;
    if (!dep_cond_update_time(cond, &from))
        return false;
    return from + s->progress_deadline < now;
}

json_t *dep_replica_failure(dep_rs_t *const *all, size_t n, const dep_rs_t *new_rs)
{
    const dep_rs_t *order[2] = {new_rs, NULL};
    for (int pass = 0; pass < 2; pass++) {
        size_t count = pass == 0 ? (new_rs ? 1 : 0) : n;
        for (size_t i = 0; i < count; i++) {
            const dep_rs_t *rs = pass == 0 ? order[0] : all[i];
            if (!rs || !rs->obj)
                continue;
            size_t j;
            json_t *c;
            json_array_foreach(kobj_get(rs->obj, "status.conditions"), j, c) {
                if (!json_is_object(c) || !str_field_is(c, "type", DEP_COND_REPLICA_FAILURE))
                    continue;
                const char *ltt = str_field(c, "lastTransitionTime");
                return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type",
                                 DEP_COND_REPLICA_FAILURE, "status", str_field(c, "status"),
                                 "lastUpdateTime", ltt, "lastTransitionTime", ltt, "reason",
                                 str_field(c, "reason"), "message", str_field(c, "message"));
            }
        }
    }
    return NULL;
}

static void progress_message(char *out, size_t len, const char *what, const dep_rs_t *new_rs,
                             const char *deployment_name)
{
    if (new_rs)
        snprintf(out, len, "ReplicaSet \"%s\" %s", new_rs->name ? new_rs->name : "", what);
    else
        snprintf(out, len, "Deployment \"%s\" %s", deployment_name, what);
}

static void update_progressing(const dep_spec_t *s, const json_t *cur_status, json_t *st,
                               const dep_rs_t *new_rs, const char *name, int64_t now)
{
    json_t *cur = dep_cond_get(cur_status, DEP_COND_PROGRESSING);
    char msg[512];
    if (dep_deployment_complete(s, st)) {
        progress_message(msg, sizeof msg, "has successfully progressed.", new_rs, name);
        dep_cond_set(st, dep_cond_new(DEP_COND_PROGRESSING, "True", DEP_REASON_NEW_RS_AVAILABLE,
                                      msg, now));
    } else if (dep_deployment_progressing(cur_status, st)) {
        /* Progress refreshes lastUpdateTime even when the reason stays. */
        progress_message(msg, sizeof msg, "is progressing.", new_rs, name);
        json_t *cond = dep_cond_new(DEP_COND_PROGRESSING, "True", DEP_REASON_RS_UPDATED, msg, now);
        if (cur) {
            json_t *ltt = json_object_get(cur, "lastTransitionTime");
            if (str_field_is(cur, "status", "True") && ltt && cond)
                json_object_set(cond, "lastTransitionTime", ltt);
            dep_cond_remove(st, DEP_COND_PROGRESSING);
        }
        dep_cond_set(st, cond);
    } else if (dep_deployment_timed_out(s, st, now)) {
        progress_message(msg, sizeof msg, "has timed out progressing.", new_rs, name);
        dep_cond_set(st, dep_cond_new(DEP_COND_PROGRESSING, "False", DEP_REASON_TIMED_OUT, msg,
                                      now));
    }
}

/* requeueStuckDeployment: when to look again for a timeout. */
static int64_t stuck_requeue_ms(const dep_spec_t *s, const json_t *cur_status,
                                const json_t *new_status, int64_t now_ms)
{
    json_t *cur = dep_cond_get(cur_status, DEP_COND_PROGRESSING);
    if (!s->has_progress_deadline || !cur)
        return -1;
    if (dep_deployment_complete(s, new_status) || str_field_is(cur, "reason", DEP_REASON_TIMED_OUT))
        return -1;
    int64_t from;
    if (!dep_cond_update_time(cur, &from))
        return -1;
    int64_t after = (from + s->progress_deadline) * 1000 - now_ms;
    if (after < 1000)
        return 0;
    /* one more second against sub-second skew (upstream does the same) */
    return after + 1000;
}

json_t *dep_rollout_status(const dep_spec_t *s, const json_t *cur_status, dep_rs_t *const *all,
                           size_t n, const dep_rs_t *new_rs, const char *deployment_name,
                           int64_t now_ms, int64_t *requeue_ms)
{
    int64_t now = now_ms / 1000;
    *requeue_ms = -1;
    json_t *st = dep_calc_status(s, cur_status, all, n, new_rs, now);
    if (!st)
        return NULL;
    if (!s->has_progress_deadline)
        dep_cond_remove(st, DEP_COND_PROGRESSING);
    json_t *cur = dep_cond_get(cur_status, DEP_COND_PROGRESSING);
    dep_counts_t c;
    dep_counts_from_status(st, &c);
    bool finished = c.replicas == c.updated && cur &&
                    str_field_is(cur, "reason", DEP_REASON_NEW_RS_AVAILABLE);
    if (s->has_progress_deadline && !finished)
        update_progressing(s, cur_status, st, new_rs, deployment_name, now);
    json_t *failure = dep_replica_failure(all, n, new_rs);
    if (failure)
        dep_cond_set(st, failure);
    else
        dep_cond_remove(st, DEP_COND_REPLICA_FAILURE);
    if (json_equal(st, cur_status) || (json_object_size(st) == 0 && !cur_status))
        *requeue_ms = stuck_requeue_ms(s, cur_status, st, now_ms);
    return st;
}

bool dep_check_paused_conditions(const dep_spec_t *s, json_t *status, int64_t now)
{
    json_t *cond = dep_cond_get(status, DEP_COND_PROGRESSING);
    /* A reported lack of progress is not overwritten by pausing. */
    if (cond && str_field_is(cond, "reason", DEP_REASON_TIMED_OUT))
        return false;
    bool paused_cond = cond && str_field_is(cond, "reason", DEP_REASON_PAUSED);
    if (s->paused && !paused_cond)
        return dep_cond_set(status, dep_cond_new(DEP_COND_PROGRESSING, "Unknown",
                                                 DEP_REASON_PAUSED, "Deployment is paused", now));
    if (!s->paused && paused_cond)
        return dep_cond_set(status, dep_cond_new(DEP_COND_PROGRESSING, "Unknown",
                                                 DEP_REASON_RESUMED, "Deployment is resumed", now));
    return false;
}
