/* cj_sync.c - the CronJob controller's handlers, sync and result callbacks.
 * See cj_sync.h; the decisions themselves are in cj_core.c / cj_sched.c.
 *
 * A sync (key "ns/name") does what upstream's sync + cleanupFinishedJobs +
 * syncCronJob do, on a working copy of the CronJob whose status is
 * written once at the end:
 *   1. history limits: delete the oldest finished Jobs beyond
 *      successfulJobsHistoryLimit / failedJobsHistoryLimit (Background);
 *   2. reconcile status.active with the Jobs the CronJob controls
 *      (SawCompletedJob, UnexpectedJob, lastSuccessfulTime), and drop
 *      active entries whose Job a live GET cannot find (MissingJob);
 *   3. unless being deleted / bad timeZone / suspended / bad schedule:
 *      find the most recent unmet schedule time; honour
 *      startingDeadlineSeconds (MissSchedule), the already-processed
 *      check and the concurrency policy (Forbid: JobAlreadyActive;
 *      Replace: delete the active Jobs first);
 *   4. create the Job "<name>-<minutes>" (an AlreadyExists of our own Job
 *      is adopted into status.active like upstream), then write status
 *      (active, lastScheduleTime) and re-queue for the next schedule time.
 * Upstream does steps 1-4 with blocking calls; here the deletes of step 3
 * are awaited (their results) before the create, and the create's result
 * before the status write. The key stays in sync meanwhile (runtime). */
#include "cj_sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cj_core.h"
#include "cj_metrics.h"
#include "ctrl/claim.h"
#include "ctrl/kobj.h"
#include "ctrl/ownerstate.h"
#include "log.h"
#include "ctrl/satint.h"

#define CJ_RESOURCE "cronjobs"
#define JOB_RESOURCE "jobs"
#define NO_REQUEUE (-1)
#define STALE_RVS_MAX 16

typedef struct {
    bool on;
    json_t *cj;             /* working copy; its status is edited */
    bool dirty;             /* status must be written */
    int pending;            /* deletes (history, replace) without a result */
    bool replace_failed;
    bool want_create;
    json_t *job;            /* the Job to create */
    int64_t scheduled;
    int64_t requeue_ms;     /* NO_REQUEUE or ms */
    bool failed;            /* back off (rate-limited) at the end */
    json_t *deletes;        /* job name -> {"uid":..., "replace":bool} */
    char *from_rv;          /* resourceVersion the status write is computed from */
} cj_plan_t;

typedef struct {
    ctrl_ostate_t base;     /* the CronJob this state is about (ctrl/ownerstate.h) */
    json_t *written;        /* the CronJob our last status write returned */
    json_t *stale_rvs;      /* resourceVersions older than written */
    json_t *missing;        /* job uid -> true: a live GET answered 404 */
    json_t *checking;       /* job name -> uid: live GETs out */
    cj_plan_t plan;
} cj_state_t;

struct cj_ctrl {
    ctrl_ostates_t *states; /* key -> cj_state_t */
    log_limit_t bad_log;
    prom_hist_t skew;       /* cronjob_controller_job_creation_skew_duration_seconds */
};

/* ---- state ------------------------------------------------------------------- */

static void plan_clear(cj_plan_t *p)
{
    json_decref(p->cj);
    json_decref(p->job);
    json_decref(p->deletes);
    free(p->from_rv);
    memset(p, 0, sizeof *p);
}

static int state_init(void *v)
{
    cj_state_t *s = v;
    s->stale_rvs = json_array();
    s->missing = json_object();
    s->checking = json_object();
    return s->stale_rvs && s->missing && s->checking ? 0 : -1;
}

static void state_fini(void *v)
{
    cj_state_t *s = v;
    json_decref(s->written);
    json_decref(s->stale_rvs);
    json_decref(s->missing);
    json_decref(s->checking);
    plan_clear(&s->plan);
}

static const ctrl_ostate_type_t cj_state_type = { .size = sizeof(cj_state_t), .init = state_init,
                                                  .fini = state_fini };

cj_ctrl_t *cj_ctrl_new(void)
{
    cj_ctrl_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->states = ctrl_ostates_new(&cj_state_type);
    c->bad_log = (log_limit_t)LOG_LIMIT_INIT(1, 20);
    cj_metrics_init(&c->skew);
    if (!c->states) {
        free(c);
        return NULL;
    }
    return c;
}

void cj_ctrl_destroy(cj_ctrl_t **cp)
{
    if (!cp || !*cp) return;
    ctrl_ostates_destroy(&(*cp)->states);
    free(*cp);
    *cp = NULL;
}

static bool rv_is_stale(const cj_state_t *s, const char *rv)
{
    size_t i;
    json_t *v;
    json_array_foreach(s->stale_rvs, i, v)
        if (strcmp(json_string_value(v), rv) == 0) return true;
    return false;
}

/* The freshest CronJob we know: the cached one, unless the cache still
 * shows a version our own status write has replaced (upstream re-reads
 * the CronJob live in that situation). */
static const json_t *cj_view(cj_state_t *s, const json_t *cached)
{
    if (s->written && rv_is_stale(s, kobj_resource_version(cached))) return s->written;
    json_decref(s->written);
    s->written = NULL;
    json_array_clear(s->stale_rvs);
    return cached;
}

static const json_t *current_cj(ctrl_runtime_t *rt, cj_state_t *s, const char *key)
{
    return ctrl_ostate_same(s, cache_get(ctrl_cache(rt, CJ_RESOURCE), key));
}

/* ---- routing events to keys ------------------------------------------------------ */

/* CronJobs as owners of Jobs (lib/ctrl/claim.h): a Job's change reaches
 * the CronJob its controller reference resolves to (upstream
 * resolveControllerRef; on a changed reference the old one too). The
 * controller never adopts: an orphan Job is nobody's business. */
static const ctrl_owner_t cj_owner = { .resource = CJ_RESOURCE, .api_version = CJ_API_VERSION, .kind = CJ_KIND,
                                       .no_orphans = true };

static void on_job(ctrl_runtime_t *rt, const char *resource, cache_change_t change, const json_t *old_obj,
                   const json_t *new_obj, void *ud)
{
    (void)resource;
    (void)ud;
    if (change == CACHE_MODIFIED && strcmp(kobj_resource_version(old_obj), kobj_resource_version(new_obj)) == 0)
        return;
    ctrl_route_owned(rt, &cj_owner, change, old_obj, new_obj);
}

static bool str_equal(const char *a, const char *b)
{
    if (!a || !b) return a == b;
    return strcmp(a, b) == 0;
}

/* upstream updateCronJob: a changed schedule or zone re-queues for the new
 * next time (or warns when it does not parse); any other change now. */
static void on_cronjob(ctrl_runtime_t *rt, const char *resource, cache_change_t change, const json_t *old_obj,
                       const json_t *new_obj, void *ud)
{
    (void)resource;
    (void)ud;
    if (change != CACHE_MODIFIED) {
        ctrl_enqueue_obj(rt, new_obj ? new_obj : old_obj);
        return;
    }
    const char *os = kobj_str(old_obj, "spec.schedule"), *ns = kobj_str(new_obj, "spec.schedule");
    const char *oz = kobj_str(old_obj, "spec.timeZone"), *nz = kobj_str(new_obj, "spec.timeZone");
    if (str_equal(os, ns) && str_equal(oz, nz)) {
        ctrl_enqueue_obj(rt, new_obj);
        return;
    }
    cj_spec_t spec;
    cj_sched_t sched;
    char err[256], zerr[160];
    if (cj_spec_read(new_obj, &spec, err, sizeof err) < 0) {
        ctrl_enqueue_obj(rt, new_obj);   /* the sync reports it */
        return;
    }
    const char *zone = spec.time_zone && cj_zone_check(spec.time_zone, zerr, sizeof zerr) == 0 ? spec.time_zone : NULL;
    if (cj_sched_parse(spec.schedule, zone, &sched, err, sizeof err) < 0) {
        ctrl_event(rt, new_obj, "Warning", "UnParseableCronJobSchedule", "unparseable schedule for cronjob: %s",
                   spec.schedule);
        return;
    }
    char key[512];
    if (kobj_key(new_obj, key, sizeof key) < 0) return;
    ctrl_enqueue_after(rt, key, cj_next_delay_ms(&sched, &spec, (int64_t)ctrl_now_unix_ms(rt)));
}

static void render_metrics(void *ud, sbuf_t *out) { cj_metrics_render(ud, out); }

int cj_ctrl_attach(cj_ctrl_t *c, ctrl_runtime_t *rt)
{
    /* no worker (the runtime's test mode) or no room: no metric, the controller still runs */
    if (ctrl_worker(rt) && worker_add_metrics(ctrl_worker(rt), render_metrics, &c->skew) < 0)
        LOGW("no cronjob_controller metrics");
    if (ctrl_on(rt, CJ_RESOURCE, on_cronjob, c) < 0) return -1;
    return ctrl_on(rt, JOB_RESOURCE, on_job, c);
}

/* ---- the end of a sync: status write and re-queue ----------------------------------- */

static void status_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    cj_ctrl_t *c = ud;
    cj_state_t *s = ctrl_ostates_get(c->states, res->owner_key);
    if (res->ok && ctrl_ostate_same(s, res->object)) {
        json_t *copy = json_deep_copy(res->object);
        if (copy) {
            json_decref(s->written);
            s->written = copy;
            if (s->plan.from_rv) {
                if (json_array_size(s->stale_rvs) >= STALE_RVS_MAX) json_array_remove(s->stale_rvs, 0);
                json_array_append_new(s->stale_rvs, json_string(s->plan.from_rv));
            }
        }
        return;
    }
    if (res->ok || res->status == 404) return;
    LOGFV(1, "%s: status update failed (%u %s): will retry", res->owner_key, res->status, res->reason);
    ctrl_enqueue_rate_limited(rt, res->owner_key);
}

static void plan_finish(cj_ctrl_t *c, ctrl_runtime_t *rt, cj_state_t *s, const char *key)
{
    cj_plan_t *p = &s->plan;
    if (p->dirty && current_cj(rt, s, key)) {
        json_t *copy = json_incref(p->cj);
        free(p->from_rv);
        p->from_rv = strdup(kobj_resource_version(p->cj));
        if (ctrl_update_status(rt, key, CJ_RESOURCE, &copy, status_done, c) == 0) p->failed = true;
    }
    uint64_t delay = p->requeue_ms >= 0 ? (uint64_t)p->requeue_ms : UINT64_MAX;
    if (cj_active_count(json_object_get(p->cj, "status")) > 0 && delay > CJ_ACTIVE_POLL_MS)
        delay = CJ_ACTIVE_POLL_MS;
    if (delay != UINT64_MAX) ctrl_enqueue_after(rt, key, delay);
    if (p->failed) ctrl_enqueue_rate_limited(rt, key);
    char *rv = p->from_rv;   /* status_done reads it later: keep it past the plan */
    p->from_rv = NULL;
    plan_clear(p);
    p->from_rv = rv;
}

static json_t *plan_status(cj_plan_t *p)
{
    json_t *st = json_object_get(p->cj, "status");
    if (!json_is_object(st)) {
        st = json_object();
        json_object_set_new(p->cj, "status", st);
    }
    return st;
}

/* ---- creating ------------------------------------------------------------------------- */

static const char *result_text(const ctrl_result_t *r, char *buf, size_t len)
{
    if (r->message && *r->message) return r->message;
    snprintf(buf, len, "status %u %s", r->status, r->reason ? r->reason : "");
    return buf;
}

static bool namespace_terminating(const ctrl_result_t *res)
{
    return res->status == 403 && res->message && strstr(res->message, "because it is being terminated");
}

/* The executor turns a 409 on our own Job (same controller uid) into 200
 * "AlreadyExists"; a create whose answer was lost and that had landed
 * reads the same but did create. */
static bool existed_before(const ctrl_result_t *res)
{
    return res->ok && res->reason && strcmp(res->reason, "AlreadyExists") == 0 &&
           !(res->message && strstr(res->message, "answer was lost"));
}

static void add_to_active(cj_plan_t *p, const json_t *job)
{
    json_t *st = plan_status(p);
    char stamp[32];
    cj_active_add(st, job);
    if (kobj_time_format(p->scheduled, stamp, sizeof stamp) > 0)
        json_object_set_new(st, "lastScheduleTime", json_string(stamp));
    p->dirty = true;
}

static void created_get_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    cj_ctrl_t *c = ud;
    cj_state_t *s = ctrl_ostates_get(c->states, res->owner_key);
    if (!s || !s->plan.on) return;
    if (res->ok && res->object && *kobj_uid(res->object)) add_to_active(&s->plan, res->object);
    else s->plan.failed = true;
    plan_finish(c, rt, s, res->owner_key);
}

static void create_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    cj_ctrl_t *c = ud;
    cj_state_t *s = ctrl_ostates_get(c->states, res->owner_key);
    if (!s || !s->plan.on) return;
    cj_plan_t *p = &s->plan;
    const json_t *cj = p->cj;
    char buf[160];
    if (!res->ok) {
        if (res->status == 409) {
            p->requeue_ms = NO_REQUEUE;   /* someone else's Job of that name: theirs to report */
        } else if (namespace_terminating(res)) {
            p->failed = true;
        } else {
            ctrl_event(rt, cj, "Warning", "FailedCreate", "Error creating job: %s", result_text(res, buf, sizeof buf));
            p->failed = true;
        }
        plan_finish(c, rt, s, res->owner_key);
        return;
    }
    bool existed = existed_before(res);
    if (existed) {
        LOGFI("%s: job %s already exists", res->owner_key, res->name);
        if (res->object && cj_active_has_uid(plan_status(p), kobj_uid(res->object))) {
            p->requeue_ms = NO_REQUEUE;
            plan_finish(c, rt, s, res->owner_key);
            return;
        }
    } else {
        ctrl_event(rt, cj, "Normal", "SuccessfulCreate", "Created job %s", res->name);
        if (res->object) cj_metrics_created(&c->skew, kobj_creation_time(res->object), p->scheduled);
    }
    if (res->object && *kobj_uid(res->object)) {
        add_to_active(p, res->object);
        plan_finish(c, rt, s, res->owner_key);
        return;
    }
    /* no object in the answer: read it to learn its uid */
    if (ctrl_get(rt, res->owner_key, JOB_RESOURCE, res->ns, res->name, created_get_done, c) == 0) {
        p->failed = true;
        plan_finish(c, rt, s, res->owner_key);
    }
}

static void plan_phase2(cj_ctrl_t *c, ctrl_runtime_t *rt, cj_state_t *s, const char *key)
{
    cj_plan_t *p = &s->plan;
    if (p->replace_failed) p->failed = true;
    if (p->want_create && !p->replace_failed && current_cj(rt, s, key)) {
        json_t *job = p->job;
        p->job = NULL;
        if (ctrl_create(rt, key, JOB_RESOURCE, &job, create_done, c) != 0) return;
        json_decref(job);
        p->failed = true;
    }
    plan_finish(c, rt, s, key);
}

/* ---- deleting --------------------------------------------------------------------------- */

static void delete_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    cj_ctrl_t *c = ud;
    cj_state_t *s = ctrl_ostates_get(c->states, res->owner_key);
    if (!s || !s->plan.on) return;
    cj_plan_t *p = &s->plan;
    json_t *d = json_object_get(p->deletes, res->name);
    const char *uid = kobj_str(d, "uid");
    bool replace = json_is_true(json_object_get(d, "replace"));
    char buf[160];
    if (res->ok && res->status != 404) {
        if (uid && cj_active_remove(plan_status(p), uid)) p->dirty = true;
        ctrl_event(rt, p->cj, "Normal", "SuccessfulDelete", "Deleted job %s", res->name);
    } else if (res->status == 404 && replace) {
        /* upstream reads the Job before deleting it: gone means FailedGet */
        ctrl_event(rt, p->cj, "Warning", "FailedGet", "Get job: jobs.batch \"%s\" not found", res->name);
        p->replace_failed = true;
    } else if (res->status == 404 || res->status == 409) {
        /* a history Job already gone (409: the uid precondition: replaced) */
    } else {
        ctrl_event(rt, p->cj, "Warning", "FailedDelete", "Deleted job: %s", result_text(res, buf, sizeof buf));
        if (replace) p->replace_failed = true;
        else if (uid && cj_active_remove(plan_status(p), uid)) {
            /* kept: upstream's reconcile then sees it finished in the active list */
            ctrl_event(rt, p->cj, "Normal", "SawCompletedJob", "Saw completed job: %s, condition: %s", res->name,
                       kobj_str(d, "cond"));
            p->dirty = true;
        }
    }
    if (--p->pending == 0) plan_phase2(c, rt, s, res->owner_key);
}

/* cond: the finished condition of a history Job ("Complete"/"Failed"), NULL for replace. */
static int delete_job(cj_ctrl_t *c, ctrl_runtime_t *rt, cj_state_t *s, const char *key, const char *ns,
                      const char *name, const char *uid, bool replace, const char *cond)
{
    cj_plan_t *p = &s->plan;
    if (!p->deletes && !(p->deletes = json_object())) return -1;
    json_object_set_new(p->deletes, name,
                        json_pack("{s:s, s:b, s:s}", "uid", uid, "replace", replace, "cond", cond ? cond : ""));
    ctrl_action_spec_t a = {
        .verb = KUBUS__V1__VERB__DELETE, .resource = JOB_RESOURCE, .ns = ns, .name = name,
        .propagation = KUBUS__V1__PROPAGATION__BACKGROUND, .precondition_uid = uid, .owner_key = key,
        .cb = delete_done, .ud = c,
    };
    if (ctrl_action(rt, &a) == 0) return -1;
    p->pending++;
    return 0;
}

/* ---- step 1: history limits --------------------------------------------------------------- */

static void prune(cj_ctrl_t *c, ctrl_runtime_t *rt, cj_state_t *s, const char *key, const json_t **jobs,
                  size_t n, int32_t limit)
{
    size_t excess = cj_history_excess(n, limit);
    if (excess == 0) return;
    cj_sort_by_start_time(jobs, n);
    for (size_t i = 0; i < excess; i++)
        if (delete_job(c, rt, s, key, kobj_namespace(jobs[i]), kobj_name(jobs[i]), kobj_uid(jobs[i]), false,
                       cj_job_state(jobs[i]) == CJ_JOB_COMPLETE ? "Complete" : "Failed") < 0)
            s->plan.failed = true;
}

static void cleanup_finished(cj_ctrl_t *c, ctrl_runtime_t *rt, cj_state_t *s, const char *key, const cj_spec_t *spec,
                             const cache_list_t *jobs)
{
    if (!spec->has_success_limit && !spec->has_failed_limit) return;
    const json_t **ok = malloc((jobs->n + 1) * sizeof *ok), **bad = malloc((jobs->n + 1) * sizeof *bad);
    size_t n_ok = 0, n_bad = 0;
    if (!ok || !bad) {
        free(ok);
        free(bad);
        s->plan.failed = true;
        return;
    }
    for (size_t i = 0; i < jobs->n; i++) {
        /* a delete already asked for and not yet seen is not asked for again */
        if (expectations_expects_delete(ctrl_expectations(rt), kobj_uid(jobs->items[i]))) continue;
        cj_job_state_t st = cj_job_state(jobs->items[i]);
        if (st == CJ_JOB_COMPLETE) ok[n_ok++] = jobs->items[i];
        else if (st == CJ_JOB_FAILED) bad[n_bad++] = jobs->items[i];
    }
    if (spec->has_success_limit) prune(c, rt, s, key, ok, n_ok, spec->success_limit);
    if (spec->has_failed_limit) prune(c, rt, s, key, bad, n_bad, spec->failed_limit);
    free(ok);
    free(bad);
}

/* ---- step 2: status.active against the Jobs ------------------------------------------------- */

static void update_last_successful(cj_plan_t *p, const json_t *job)
{
    int64_t done = cj_job_completion_time(job);
    if (!done) return;
    json_t *st = plan_status(p);
    const char *cur = kobj_str(st, "lastSuccessfulTime");
    int64_t cur_t;
    if (cur && kobj_time_parse(cur, &cur_t) == 0 && cur_t >= done) return;
    char stamp[32];
    if (kobj_time_format(done, stamp, sizeof stamp) < 0) return;
    json_object_set_new(st, "lastSuccessfulTime", json_string(stamp));
    p->dirty = true;
}

static void reconcile_jobs(ctrl_runtime_t *rt, cj_plan_t *p, const cache_list_t *jobs)
{
    json_t *st = plan_status(p);
    for (size_t i = 0; i < jobs->n; i++) {
        const json_t *j = jobs->items[i];
        bool found = cj_active_has_uid(st, kobj_uid(j));
        cj_job_state_t state = cj_job_state(j);
        if (!found && state == CJ_JOB_RUNNING) {
            ctrl_event(rt, p->cj, "Warning", "UnexpectedJob",
                       "Saw a job that the controller did not create or forgot: %s", kobj_name(j));
            continue;
        }
        if (state == CJ_JOB_RUNNING) continue;
        /* upstream's cleanup runs first and its delete takes the Job out of
         * status.active: no SawCompletedJob for it (delete_done removes it) */
        if (found && !json_object_get(p->deletes, kobj_name(j))) {
            cj_active_remove(st, kobj_uid(j));
            ctrl_event(rt, p->cj, "Normal", "SawCompletedJob", "Saw completed job: %s, condition: %s", kobj_name(j),
                       state == CJ_JOB_COMPLETE ? "Complete" : "Failed");
            p->dirty = true;
        }
        if (state == CJ_JOB_COMPLETE) update_last_successful(p, j);
    }
}

static bool listed(const cache_list_t *jobs, const char *uid)
{
    for (size_t i = 0; i < jobs->n; i++)
        if (strcmp(kobj_uid(jobs->items[i]), uid) == 0) return true;
    return false;
}

static void check_get_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    cj_ctrl_t *c = ud;
    cj_state_t *s = ctrl_ostates_get(c->states, res->owner_key);
    if (!s) return;
    const char *uid = kobj_str(s->checking, res->name);
    if (res->status == 404 && uid) {
        json_object_set_new(s->missing, uid, json_true());
        ctrl_enqueue(rt, res->owner_key);
    } else if (res->ok) {
        ctrl_enqueue_after(rt, res->owner_key, CJ_CACHE_LAG_RETRY_MS);   /* it exists: our cache is behind */
    } else {
        ctrl_enqueue_rate_limited(rt, res->owner_key);
    }
    json_object_del(s->checking, res->name);
}

/* Active entries whose Job is not in the cache: gone (a live GET said so:
 * MissingJob), just created (expected), or to be checked. Returns true
 * while checks are out (no scheduling decision then). */
static bool reconcile_missing(cj_ctrl_t *c, ctrl_runtime_t *rt, cj_state_t *s, const char *key,
                              const cache_list_t *jobs)
{
    json_t *st = plan_status(&s->plan);
    json_t *act = json_deep_copy(json_object_get(st, "active"));
    bool holding = false;
    size_t i;
    json_t *r;
    json_array_foreach(act, i, r) {
        const char *uid = kobj_str(r, "uid"), *name = kobj_str(r, "name"), *ns = kobj_str(r, "namespace");
        if (!uid || !name || listed(jobs, uid)) continue;
        char id[768];
        if (expectations_create_id(id, sizeof id, JOB_RESOURCE, ns ? ns : "", name) > 0 &&
            expectations_expects_create(ctrl_expectations(rt), id)) {
            holding = true;   /* ours, created, not yet seen */
            continue;
        }
        if (json_is_true(json_object_get(s->missing, uid))) {
            ctrl_event(rt, s->plan.cj, "Normal", "MissingJob", "Active job went missing: %s", name);
            cj_active_remove(st, uid);
            json_object_del(s->missing, uid);
            s->plan.dirty = true;
            continue;
        }
        holding = true;
        if (json_object_get(s->checking, name)) continue;
        json_object_set_new(s->checking, name, json_string(uid));
        if (ctrl_get(rt, key, JOB_RESOURCE, ns ? ns : "", name, check_get_done, c) == 0) {
            json_object_del(s->checking, name);
            s->plan.failed = true;
        }
    }
    json_decref(act);
    return holding;
}

/* ---- step 3: the schedule ---------------------------------------------------------------------- */

static void decide_schedule(cj_ctrl_t *c, ctrl_runtime_t *rt, cj_state_t *s, const char *key, const cj_spec_t *spec,
                            bool holding)
{
    cj_plan_t *p = &s->plan;
    const json_t *cj = p->cj;
    char err[256], zerr[160];
    if (kobj_being_deleted(cj)) return;
    if (spec->time_zone && cj_zone_check(spec->time_zone, zerr, sizeof zerr) < 0) {
        ctrl_event(rt, cj, "Warning", "UnknownTimeZone", "invalid timeZone: \"%s\": %s", spec->time_zone, zerr);
        return;
    }
    if (spec->suspend) return;
    if (strstr(spec->schedule, "TZ"))
        ctrl_event(rt, cj, "Warning", "UnsupportedSchedule",
                   "CRON_TZ or TZ used in schedule \"%s\" is not officially supported, see "
                   "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details",
                   spec->schedule);
    cj_sched_t sched;
    if (cj_sched_parse(spec->schedule, spec->time_zone, &sched, err, sizeof err) < 0) {
        ctrl_event(rt, cj, "Warning", "UnparseableSchedule", "unparseable schedule: \"%s\" : %s", spec->schedule, err);
        return;
    }
    int64_t now_ms = (int64_t)ctrl_now_unix_ms(rt);
    cj_recent_t r;
    if (cj_most_recent(&sched, spec, now_ms, true, &r, err, sizeof err) < 0) {
        ctrl_event(rt, cj, "Warning", "InvalidSchedule", "invalid schedule: %s : %s", spec->schedule, err);
        return;
    }
    p->requeue_ms = (int64_t)cj_next_delay_ms(&sched, spec, now_ms);
    if (!r.has_recent) return;
    if (r.missed == CJ_MISSED_MANY)
        ctrl_event(rt, cj, "Warning", "TooManyMissedTimes",
                   "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew");
    if (spec->has_deadline && sat_ms(sat_add64(r.recent, spec->starting_deadline)) < now_ms) {
        char when[64];
        cj_format_rfc1123z(r.recent, when, sizeof when);
        ctrl_event(rt, cj, "Warning", "MissSchedule", "Missed scheduled time to start a job: %s", when);
        return;
    }
    char name[320];
    if (cj_job_name(kobj_name(cj), r.recent, name, sizeof name) < 0) return;
    if (cj_active_has_name(plan_status(p), kobj_namespace(cj), name) ||
        (spec->has_last_schedule && spec->last_schedule == r.recent))
        return;   /* already processed */
    if (holding) {
        p->requeue_ms = NO_REQUEUE;   /* the checks' results bring us back */
        return;
    }
    if (spec->concurrency == CJ_FORBID && cj_active_count(plan_status(p)) > 0) {
        ctrl_event(rt, cj, "Normal", "JobAlreadyActive",
                   "Not starting job because prior execution is running and concurrency policy is Forbid");
        return;
    }
    if (spec->concurrency == CJ_REPLACE) {
        json_t *act = json_deep_copy(json_object_get(plan_status(p), "active"));
        size_t i;
        json_t *ref;
        json_array_foreach(act, i, ref) {
            const char *ns = kobj_str(ref, "namespace"), *jn = kobj_str(ref, "name"), *uid = kobj_str(ref, "uid");
            if (!jn || !uid || delete_job(c, rt, s, key, ns ? ns : kobj_namespace(cj), jn, uid, true, NULL) < 0)
                p->replace_failed = true;
        }
        json_decref(act);
    }
    p->job = cj_job_from_template(cj, r.recent, spec->time_zone);
    if (!p->job) {
        p->failed = true;
        return;
    }
    p->want_create = true;
    p->scheduled = r.recent;
}

/* ---- sync ---------------------------------------------------------------------------------------- */

static int list_children(ctrl_runtime_t *rt, const json_t *cj, cache_list_t *out)
{
    cache_list_t all;
    if (cache_list_namespace(ctrl_cache(rt, JOB_RESOURCE), kobj_namespace(cj), &all) < 0) return -1;
    out->items = malloc((all.n + 1) * sizeof *out->items);
    out->n = 0;
    if (!out->items) {
        cache_list_free(&all);
        return -1;
    }
    for (size_t i = 0; i < all.n; i++) {
        kobj_ownerref_t ref;
        /* upstream: any Job whose controller ref names this CronJob */
        if (kobj_controller_ref(all.items[i], &ref) == 0 && strcmp(ref.kind, CJ_KIND) == 0 &&
            strcmp(ref.name, kobj_name(cj)) == 0)
            out->items[out->n++] = all.items[i];
    }
    cache_list_free(&all);
    return 0;
}

int cj_sync(ctrl_runtime_t *rt, const char *key, void *ud)
{
    cj_ctrl_t *c = ud;
    const json_t *cached = cache_get(ctrl_cache(rt, CJ_RESOURCE), key);
    if (!cached) {
        expectations_forget(ctrl_expectations(rt), key);
        ctrl_ostates_forget(c->states, key);
        return 0;
    }
    cj_state_t *s = ctrl_ostates_for(c->states, key, cached);
    if (!s) return -1;
    plan_clear(&s->plan);
    cj_plan_t *p = &s->plan;
    p->cj = json_deep_copy(cj_view(s, cached));
    if (!p->cj) return -1;
    p->on = true;
    p->requeue_ms = NO_REQUEUE;
    cj_spec_t spec;
    char why[256];
    if (cj_spec_read(p->cj, &spec, why, sizeof why) < 0) {
        if (log_limit_allow(&c->bad_log))
            LOGW("CronJob refused: invalid spec", "cronjob", key, "reason", why);
        plan_clear(p);
        return 0;   /* the next edit re-queues it */
    }
    cache_list_t jobs;
    if (list_children(rt, p->cj, &jobs) < 0) {
        plan_clear(p);
        return -1;
    }
    cleanup_finished(c, rt, s, key, &spec, &jobs);
    reconcile_jobs(rt, p, &jobs);
    bool holding = reconcile_missing(c, rt, s, key, &jobs);
    decide_schedule(c, rt, s, key, &spec, holding);
    cache_list_free(&jobs);
    if (p->pending == 0) plan_phase2(c, rt, s, key);
    return 0;
}
