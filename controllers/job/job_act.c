/* job_act.c - the Job controller's actions and what their results do:
 * pod creates (slow start), pod deletes (with or without the tracking
 * finalizer first), finalizer removals, status writes, and the Events
 * upstream's pod control and job controller record with them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/kobj.h"
#include "job_priv.h"

static const char *result_text(const ctrl_result_t *r, char *buf, size_t len)
{
    if (r->message && *r->message) return r->message;
    snprintf(buf, len, "status %u %s", r->status, r->reason ? r->reason : "");
    return buf;
}

/* The cached Job for key if it is still the one s is about. */
static const json_t *current_job(ctrl_runtime_t *rt, const job_state_t *s, const char *key)
{
    return ctrl_ostate_same(s, cache_get(ctrl_cache(rt, JOB_RESOURCE), key));
}

static void fail_log(job_ctrl_t *c, const char *what, const ctrl_result_t *res, const char *why)
{
    if (log_limit_allow(&c->fail_log)) LOGW(what, "job", res->owner_key, "pod", res->name, "reason", why);
}

/* ---- creates ---------------------------------------------------------------------- */

static void create_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud);

/* Plan entries are [index, failures, ignored]: the counts are read from the
 * failed pod at plan time, while the sync still has it. */
int job_act_plan_add(job_state_t *s, int32_t index, int32_t failures, int32_t ignored)
{
    return json_array_append_new(s->create_plan, json_pack("[i, i, i]", index, failures, ignored));
}

/* The pod for a plan entry, named name, or NULL (OOM, no template). */
static json_t *planned_pod(const json_t *job, const json_t *entry, const char *name)
{
    int32_t ix = (int32_t)json_integer_value(json_array_get(entry, 0));
    int32_t failures = (int32_t)json_integer_value(json_array_get(entry, 1));
    json_t *pod = job_pod_from_template(job, name, ix);
    if (pod && failures >= 0 &&
        job_pod_set_index_failures(pod, failures, (int32_t)json_integer_value(json_array_get(entry, 2))) < 0) {
        json_decref(pod);
        return NULL;
    }
    return pod;
}

static void issue_batch(job_ctrl_t *c, ctrl_runtime_t *rt, job_state_t *s, const char *key)
{
    const json_t *job = current_job(rt, s, key);
    size_t left = json_array_size(s->create_plan);
    if (!job || kobj_being_deleted(job) || left == 0) {
        json_array_clear(s->create_plan);
        return;
    }
    int n = s->batch < (int)left ? s->batch : (int)left;
    for (int i = 0; i < n; i++) {
        json_t *entry = json_incref(json_array_get(s->create_plan, 0));
        json_array_remove(s->create_plan, 0);
        char prefix[300], name[320];
        job_pod_prefix(job, (int32_t)json_integer_value(json_array_get(entry, 0)), prefix, sizeof prefix);
        json_t *pod = ctrl_name_generate(prefix, name, sizeof name) > 0 ? planned_pod(job, entry, name) : NULL;
        json_decref(entry);
        if (!pod || ctrl_create(rt, key, POD_RESOURCE, &pod, create_done, c) == 0) {
            json_decref(pod);
            s->create_failed = true;
            continue;
        }
        s->creates_in_flight++;
    }
}

void job_act_start_creates(job_ctrl_t *c, ctrl_runtime_t *rt, job_state_t *s, const char *key)
{
    s->batch = 1;   /* upstream SlowStartInitialBatchSize */
    s->create_failed = false;
    issue_batch(c, rt, s, key);
}

/* upstream: a create refused because the namespace is terminating is not
 * an error (every create would fail the same way). */
static bool namespace_terminating(const ctrl_result_t *res)
{
    return res->status == 403 && res->message && strstr(res->message, "because it is being terminated");
}

static void create_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    job_ctrl_t *c = ud;
    job_state_t *s = job_state_get(c, res->owner_key);
    if (!s) return;
    const json_t *job = current_job(rt, s, res->owner_key);
    char buf[160];
    if (s->creates_in_flight > 0) s->creates_in_flight--;
    if (res->ok) {
        if (job) ctrl_event(rt, job, "Normal", "SuccessfulCreate", "Created pod: %s", res->name);
    } else if (!namespace_terminating(res)) {
        const char *why = result_text(res, buf, sizeof buf);
        if (job) ctrl_event(rt, job, "Warning", "FailedCreate", "Error creating: %s", why);
        fail_log(c, "pod create failed", res, why);
        s->create_failed = true;
    } else {
        s->create_failed = true;
    }
    if (s->creates_in_flight > 0) return;
    if (s->create_failed) {
        /* the skipped rest is never expected; the next sync retries */
        json_array_clear(s->create_plan);
        ctrl_enqueue_rate_limited(rt, res->owner_key);
        return;
    }
    s->batch *= 2;
    issue_batch(c, rt, s, res->owner_key);
}

/* ---- deletes ------------------------------------------------------------------------ */

static void delete_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    job_ctrl_t *c = ud;
    job_state_t *s = job_state_get(c, res->owner_key);
    const json_t *job = current_job(rt, s, res->owner_key);
    char buf[160];
    if (res->status == 404 || res->status == 409) return;   /* gone already (uid precondition) */
    if (res->ok) {
        if (job) ctrl_event(rt, job, "Normal", "SuccessfulDelete", "Deleted pod: %s", res->name);
        return;
    }
    const char *why = result_text(res, buf, sizeof buf);
    if (job) ctrl_event(rt, job, "Warning", "FailedDelete", "Error deleting: %s", why);
    fail_log(c, "pod delete failed", res, why);
    ctrl_enqueue_rate_limited(rt, res->owner_key);
}

void job_act_delete_keep(job_ctrl_t *c, ctrl_runtime_t *rt, const char *key, const json_t *pod)
{
    ctrl_action_spec_t sp = { .verb = KUBUS__V1__VERB__DELETE, .resource = POD_RESOURCE,
                              .ns = kobj_namespace(pod), .name = kobj_name(pod), .precondition_uid = kobj_uid(pod),
                              .owner_key = key, .flags = CTRL_ACT_NO_EXPECT, .cb = delete_done, .ud = c };
    ctrl_action(rt, &sp);
}

static json_t *remove_finalizer_patch(const json_t *pod)
{
    /* the uid makes the server refuse the patch if the name now holds another pod */
    return json_pack("{s:{s:s, s:[s]}}", "metadata", "uid", kobj_uid(pod), "$deleteFromPrimitiveList/finalizers",
                     JOB_TRACKING_FINALIZER);
}

static void removed_then_delete(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    job_ctrl_t *c = ud;
    char buf[160];
    if (res->status == 404) return;   /* gone: nothing to delete */
    if (!res->ok) {
        const char *why = result_text(res, buf, sizeof buf);
        job_state_t *s = job_state_get(c, res->owner_key);
        const json_t *job = current_job(rt, s, res->owner_key);
        if (job) ctrl_event(rt, job, "Warning", "FailedDelete", "Error deleting: removing completion finalizer: %s", why);
        fail_log(c, "removing the tracking finalizer before a delete failed", res, why);
        ctrl_enqueue_rate_limited(rt, res->owner_key);
        return;
    }
    const json_t *pod = cache_get_ns(ctrl_cache(rt, POD_RESOURCE), res->ns, res->name);
    const char *uid = res->object ? kobj_uid(res->object) : (pod ? kobj_uid(pod) : "");
    if (!*uid) return;
    ctrl_delete(rt, res->owner_key, POD_RESOURCE, res->ns, res->name, uid, delete_done, c);
}

void job_act_remove_and_delete(job_ctrl_t *c, ctrl_runtime_t *rt, const char *key, const json_t *pod)
{
    if (!job_pod_tracked(pod)) {
        ctrl_delete(rt, key, POD_RESOURCE, kobj_namespace(pod), kobj_name(pod), kobj_uid(pod), delete_done, c);
        return;
    }
    json_t *patch = remove_finalizer_patch(pod);
    ctrl_patch(rt, key, POD_RESOURCE, kobj_namespace(pod), kobj_name(pod), KUBUS__V1__PATCH_TYPE__STRATEGIC, &patch,
               removed_then_delete, c);
}

/* ---- finalizer removal ---------------------------------------------------------------- */

static void finalizer_removed(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    job_ctrl_t *c = ud;
    job_state_t *s = job_state_get(c, res->owner_key);
    if (!s) return;
    if (!res->ok) {
        /* no update will show it gone: stop expecting (404: the pod is gone
         * and its delete event settles it) */
        const json_t *pod = cache_get_ns(ctrl_cache(rt, POD_RESOURCE), res->ns, res->name);
        if (pod) strmap_del(s->rm_fin, kobj_uid(pod));
        if (res->status != 404) {
            char buf[160];
            fail_log(c, "removing the tracking finalizer failed", res, result_text(res, buf, sizeof buf));
            ctrl_enqueue_rate_limited(rt, res->owner_key);
        }
    }
    if (s->patches_in_flight > 0 && --s->patches_in_flight == 0)
        ctrl_enqueue(rt, res->owner_key);   /* count them now (upstream does it in the same sync) */
}

void job_act_remove_finalizer(job_ctrl_t *c, ctrl_runtime_t *rt, job_state_t *s, const char *key, const json_t *pod)
{
    json_t *patch = remove_finalizer_patch(pod);
    if (strmap_put(s->rm_fin, kobj_uid(pod), (void *)1) < 0) {
        json_decref(patch);
        return;
    }
    if (ctrl_patch(rt, key, POD_RESOURCE, kobj_namespace(pod), kobj_name(pod), KUBUS__V1__PATCH_TYPE__STRATEGIC, &patch,
                   finalizer_removed, c) == 0) {
        strmap_del(s->rm_fin, kobj_uid(pod));
        return;
    }
    s->patches_in_flight++;
}

static void orphan_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    (void)ud;
    if (res->ok || res->status == 404 || res->status == 409 || res->status == 422) return;
    LOGW("removing the tracking finalizer of an orphan pod failed", "pod", res->owner_key, "reason", res->message);
    ctrl_enqueue_rate_limited(rt, res->owner_key);
}

void job_act_remove_orphan_finalizer(ctrl_runtime_t *rt, const char *key, const json_t *pod)
{
    json_t *patch = remove_finalizer_patch(pod);
    ctrl_patch(rt, key, POD_RESOURCE, kobj_namespace(pod), kobj_name(pod), KUBUS__V1__PATCH_TYPE__STRATEGIC, &patch,
               orphan_done, NULL);
}

/* ---- status ---------------------------------------------------------------------------- */

static void record_finished(job_ctrl_t *c, ctrl_runtime_t *rt, job_state_t *s, const json_t *job)
{
    const char *type = json_string_value(json_object_get(s->finish_cond, "type"));
    if (!type) return;
    job_metrics_finished(c->metrics, s->write_indexed, strcmp(type, "Complete") == 0,
                         json_string_value(json_object_get(s->finish_cond, "reason")));
    if (strcmp(type, "Complete") == 0) {
        if (s->too_many_succeeded)
            ctrl_event(rt, job, "Warning", "TooManySucceededPods",
                       "Too many succeeded pods running after completion count reached");
        ctrl_event(rt, job, "Normal", "Completed", "Job completed");
        return;
    }
    const char *reason = json_string_value(json_object_get(s->finish_cond, "reason"));
    const char *msg = json_string_value(json_object_get(s->finish_cond, "message"));
    ctrl_event(rt, job, "Warning", reason ? reason : "Failed", "%s", msg ? msg : "");
}

static void clear_write(job_state_t *s)
{
    s->write_backoff = false;
    free(s->write_from_rv);
    s->write_from_rv = NULL;
    json_decref(s->finish_cond);
    s->finish_cond = NULL;
    s->too_many_succeeded = false;
    s->write_new_s = s->write_new_f = 0;
}

static void status_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    job_ctrl_t *c = ud;
    job_state_t *s = job_state_get(c, res->owner_key);
    if (!s) return;
    if (!res->ok) {
        if (res->status != 404) {
            LOGFV(1, "%s: status update failed (%u %s): will retry", res->owner_key, res->status, res->reason);
            ctrl_enqueue_rate_limited(rt, res->owner_key);
        }
        clear_write(s);
        return;
    }
    if (s->write_backoff) s->backoff = s->write_backoff_rec;
    job_metrics_pods_finished(c->metrics, s->write_indexed, true, s->write_new_s);
    job_metrics_pods_finished(c->metrics, s->write_indexed, false, s->write_new_f);
    const char *new_rv = res->object ? kobj_resource_version(res->object) : "";
    if (s->write_from_rv && strcmp(new_rv, s->write_from_rv) != 0) {
        /* until the cache shows our write, a sync would start from old counts */
        free(s->stale_rv);
        s->stale_rv = s->write_from_rv;
        s->write_from_rv = NULL;
        s->stale_since_ms = ctrl_now_unix_ms(rt);
    }
    if (s->finish_cond) {
        const json_t *job = res->object ? res->object : current_job(rt, s, res->owner_key);
        if (job) record_finished(c, rt, s, job);
    }
    clear_write(s);
}

void job_act_write_status(job_ctrl_t *c, ctrl_runtime_t *rt, job_state_t *s, const char *key, const json_t *job,
                          json_t **status)
{
    json_t *copy = json_deep_copy(job);
    if (!copy) {
        json_decref(*status);
        *status = NULL;
        return;
    }
    /* upstream recordJobPodFinished: what the write adds to the counters */
    const char *mode = kobj_str(job, "spec.completionMode");
    s->write_indexed = mode && strcmp(mode, "Indexed") == 0;
    s->write_new_s = kobj_int(*status, "succeeded", 0) - kobj_int(job, "status.succeeded", 0);
    s->write_new_f = kobj_int(*status, "failed", 0) - kobj_int(job, "status.failed", 0);
    json_object_set_new(copy, "status", *status);
    *status = NULL;
    free(s->write_from_rv);
    s->write_from_rv = strdup(kobj_resource_version(job));
    if (ctrl_update_status(rt, key, JOB_RESOURCE, &copy, status_done, c) == 0) clear_write(s);
}
