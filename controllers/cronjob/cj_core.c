/* cj_core.c - the CronJob controller's pure decisions. See cj_core.h. */
#include "cj_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/kobj.h"
#include "ctrl/satint.h"

/* ---- spec ----------------------------------------------------------------------- */

static int read_limit(const json_t *cj, const char *path, bool *has, int32_t *out, char *err, size_t errlen)
{
    json_t *v = kobj_get(cj, path);
    *has = false;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT32_MAX) {
        snprintf(err, errlen, "%s must be a non-negative integer", path);
        return -1;
    }
    *has = true;
    *out = (int32_t)json_integer_value(v);
    return 0;
}

int cj_spec_read(const json_t *cj, cj_spec_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->schedule = kobj_str(cj, "spec.schedule");
    if (!out->schedule) {
        snprintf(err, errlen, "spec.schedule is missing");
        return -1;
    }
    if (!json_is_object(kobj_get(cj, "spec.jobTemplate"))) {
        snprintf(err, errlen, "spec.jobTemplate is missing");
        return -1;
    }
    json_t *tz = kobj_get(cj, "spec.timeZone");
    if (tz && !json_is_null(tz) && !json_is_string(tz)) {
        snprintf(err, errlen, "spec.timeZone must be a string");
        return -1;
    }
    out->time_zone = json_is_string(tz) ? json_string_value(tz) : NULL;
    json_t *susp = kobj_get(cj, "spec.suspend");
    out->suspend = json_is_true(susp);
    const char *cp = kobj_str(cj, "spec.concurrencyPolicy");
    if (!cp || !*cp || strcmp(cp, "Allow") == 0) out->concurrency = CJ_ALLOW;
    else if (strcmp(cp, "Forbid") == 0) out->concurrency = CJ_FORBID;
    else if (strcmp(cp, "Replace") == 0) out->concurrency = CJ_REPLACE;
    else {
        snprintf(err, errlen, "unknown spec.concurrencyPolicy %.40s", cp);
        return -1;
    }
    json_t *sds = kobj_get(cj, "spec.startingDeadlineSeconds");
    if (sds && !json_is_null(sds)) {
        if (!json_is_integer(sds) || json_integer_value(sds) < 0 || json_integer_value(sds) > (int64_t)1 << 40) {
            snprintf(err, errlen, "spec.startingDeadlineSeconds must be a non-negative integer");
            return -1;
        }
        out->has_deadline = true;
        out->starting_deadline = json_integer_value(sds);
    }
    if (read_limit(cj, "spec.successfulJobsHistoryLimit", &out->has_success_limit, &out->success_limit, err, errlen) < 0 ||
        read_limit(cj, "spec.failedJobsHistoryLimit", &out->has_failed_limit, &out->failed_limit, err, errlen) < 0)
        return -1;
    out->creation = kobj_creation_time(cj);
    const char *lst = kobj_str(cj, "status.lastScheduleTime");
    out->has_last_schedule = lst && kobj_time_parse(lst, &out->last_schedule) == 0;
    return 0;
}

/* ---- schedule times ---------------------------------------------------------------- */

/* Go: now.Before(t), where CJ_NEVER is the zero time (nothing is before it). */
static bool now_before(int64_t now_ms, int64_t t)
{
    return t != CJ_NEVER && now_ms < t * 1000;
}

static int64_t floor_sec(int64_t ms) { return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000); }

int cj_most_recent(const cj_sched_t *s, const cj_spec_t *spec, int64_t now_ms, bool with_deadline,
                   cj_recent_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->earliest_ms = (spec->has_last_schedule ? spec->last_schedule : spec->creation) * 1000;
    if (with_deadline && spec->has_deadline) {
        int64_t deadline_ms = sat_sub64(now_ms, sat_ms(spec->starting_deadline));
        if (deadline_ms > out->earliest_ms) out->earliest_ms = deadline_ms;
    }
    int64_t t1 = cj_sched_next(s, floor_sec(out->earliest_ms));
    int64_t t2 = cj_sched_next(s, t1);
    if (now_before(now_ms, t1)) return 0;
    if (now_before(now_ms, t2)) {
        out->has_recent = true;
        out->recent = t1;
        return 0;
    }
    int64_t between = (t1 == CJ_NEVER || t2 == CJ_NEVER) ? 0 : t2 - t1;
    if (between < 1) {
        snprintf(err, errlen, "time difference between two schedules is less than 1 second");
        return -1;
    }
    /* a rough count (uniform spacing assumed), then an exact walk over the
     * last stretch, as upstream does: cheap for any number of misses */
    int64_t elapsed = (now_ms - t1 * 1000) / 1000;
    int64_t n = elapsed / between + 1;
    int64_t t = cj_sched_next(s, t1 + (n - 2) * between);
    for (int guard = 0; t != CJ_NEVER && t * 1000 <= now_ms && guard < 100000; guard++) {
        out->has_recent = true;
        out->recent = t;
        t = cj_sched_next(s, t);
    }
    out->missed_count = n;
    out->missed = n > CJ_MANY_MISSED ? CJ_MISSED_MANY : CJ_MISSED_FEW;
    return 0;
}

uint64_t cj_next_delay_ms(const cj_sched_t *s, const cj_spec_t *spec, int64_t now_ms)
{
    cj_recent_t r;
    char err[128];
    int64_t from_ms;
    if (cj_most_recent(s, spec, now_ms, false, &r, err, sizeof err) < 0) from_ms = now_ms;
    else if (r.has_recent) from_ms = r.recent * 1000;
    else from_ms = r.missed == CJ_MISSED_NONE ? r.earliest_ms : now_ms;
    int64_t next = cj_sched_next(s, floor_sec(from_ms));
    if (next == CJ_NEVER) return 0;
    int64_t d = next * 1000 + CJ_NEXT_SCHEDULE_DELTA_MS - now_ms;
    return d > 0 ? (uint64_t)d : 0;
}

/* ---- the Job ------------------------------------------------------------------------- */

int cj_job_name(const char *cj_name, int64_t scheduled, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "%s-%lld", cj_name, (long long)(scheduled / 60));
    return n < 0 || (size_t)n >= outlen ? -1 : n;
}

static json_t *copy_string_map(const json_t *m)
{
    json_t *out = json_object();
    const char *k;
    json_t *v;
    if (!out) return NULL;
    json_object_foreach((json_t *)m, k, v)
        if (json_is_string(v)) json_object_set(out, k, v);
    return out;
}

json_t *cj_job_from_template(const json_t *cj, int64_t scheduled, const char *zone)
{
    char name[320], stamp[64];
    if (cj_job_name(kobj_name(cj), scheduled, name, sizeof name) < 0) return NULL;
    if (cj_format_rfc3339(scheduled, zone, stamp, sizeof stamp) < 0) return NULL;
    json_t *labels = copy_string_map(kobj_get(cj, "spec.jobTemplate.metadata.labels"));
    json_t *annotations = copy_string_map(kobj_get(cj, "spec.jobTemplate.metadata.annotations"));
    json_t *ref = kobj_new_controller_ref(CJ_API_VERSION, CJ_KIND, cj);
    json_t *spec = json_deep_copy(kobj_get(cj, "spec.jobTemplate.spec"));
    json_t *meta = json_object(), *job = json_object();
    if (!spec) spec = json_object();
    if (!labels || !annotations || !ref || !spec || !meta || !job ||
        json_object_set_new(annotations, CJ_SCHEDULED_ANNOTATION, json_string(stamp)) < 0) {
        json_decref(labels); json_decref(annotations); json_decref(ref);
        json_decref(spec); json_decref(meta); json_decref(job);
        return NULL;
    }
    json_object_set_new(meta, "name", json_string(name));
    json_object_set_new(meta, "namespace", json_string(kobj_namespace(cj)));
    if (json_object_size(labels) > 0) json_object_set_new(meta, "labels", labels);
    else json_decref(labels);
    json_object_set_new(meta, "annotations", annotations);
    json_object_set_new(meta, "ownerReferences", json_pack("[o]", ref));
    json_object_set_new(job, "apiVersion", json_string(CJ_API_VERSION));
    json_object_set_new(job, "kind", json_string(CJ_JOB_KIND));
    json_object_set_new(job, "metadata", meta);
    json_object_set_new(job, "spec", spec);
    return job;
}

/* ---- jobs ------------------------------------------------------------------------------ */

cj_job_state_t cj_job_state(const json_t *job)
{
    json_t *conds = kobj_get(job, "status.conditions");
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c) {
        const char *type = kobj_str(c, "type"), *st = kobj_str(c, "status");
        if (!type || !st || strcmp(st, "True") != 0) continue;
        if (strcmp(type, "Complete") == 0) return CJ_JOB_COMPLETE;
        if (strcmp(type, "Failed") == 0) return CJ_JOB_FAILED;
    }
    return CJ_JOB_RUNNING;
}

int64_t cj_job_completion_time(const json_t *job)
{
    const char *s = kobj_str(job, "status.completionTime");
    int64_t t;
    return s && kobj_time_parse_us(s, &t) == 0 ? t / 1000000 : 0;
}

static bool start_time(const json_t *job, int64_t *us)
{
    const char *s = kobj_str(job, "status.startTime");
    return s && kobj_time_parse_us(s, us) == 0;
}

static int by_start_time(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    int64_t tx, ty;
    bool hx = start_time(x, &tx), hy = start_time(y, &ty);
    if (hx != hy) return hx ? -1 : 1;          /* never-started jobs go last */
    if (hx && tx != ty) return tx < ty ? -1 : 1;
    return strcmp(kobj_name(x), kobj_name(y));
}

void cj_sort_by_start_time(const json_t **jobs, size_t n)
{
    if (n > 1) qsort(jobs, n, sizeof *jobs, by_start_time);
}

size_t cj_history_excess(size_t n, int32_t limit)
{
    return limit >= 0 && n > (size_t)limit ? n - (size_t)limit : 0;
}

/* ---- status.active ------------------------------------------------------------------------- */

bool cj_active_has_uid(const json_t *status, const char *uid)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(status, "active"), i, r) {
        const char *u = kobj_str(r, "uid");
        if (u && uid && strcmp(u, uid) == 0) return true;
    }
    return false;
}

bool cj_active_has_name(const json_t *status, const char *ns, const char *name)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(status, "active"), i, r) {
        const char *n = kobj_str(r, "name"), *s = kobj_str(r, "namespace");
        if (n && strcmp(n, name) == 0 && strcmp(s ? s : "", ns) == 0) return true;
    }
    return false;
}

bool cj_active_remove(json_t *status, const char *uid)
{
    json_t *act = json_object_get(status, "active");
    bool hit = false;
    for (size_t i = json_array_size(act); i-- > 0;) {
        const char *u = kobj_str(json_array_get(act, i), "uid");
        if (u && strcmp(u, uid) == 0) {
            json_array_remove(act, i);
            hit = true;
        }
    }
    if (act && json_array_size(act) == 0) json_object_del(status, "active");
    return hit;
}

int cj_active_add(json_t *status, const json_t *job)
{
    json_t *act = json_object_get(status, "active");
    if (!json_is_array(act)) {
        act = json_array();
        if (!act || json_object_set_new(status, "active", act) < 0) return -1;
    }
    json_t *ref = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kind", CJ_JOB_KIND, "namespace", kobj_namespace(job),
                            "name", kobj_name(job), "uid", kobj_uid(job), "apiVersion", CJ_API_VERSION,
                            "resourceVersion", kobj_resource_version(job));
    return ref ? json_array_append_new(act, ref) : -1;
}

size_t cj_active_count(const json_t *status)
{
    return json_array_size(json_object_get(status, "active"));
}
