/* ttl_sync.c - the TTL-after-finished controller's handler, sync and
 * results. See ttl_sync.h; the rules are in ttl_core.c. */
#include "ttl_sync.h"

#include <string.h>

#include "ctrl/kobj.h"
#include "log.h"
#include "ttl_core.h"

#define JOB_RESOURCE "jobs"

static void on_job(ctrl_runtime_t *rt, const char *resource, cache_change_t change, const json_t *old_obj,
                   const json_t *new_obj, void *ud)
{
    (void)resource;
    (void)old_obj;
    (void)ud;
    if (change == CACHE_DELETED) return;
    if (!kobj_being_deleted(new_obj) && ttl_needs_cleanup(new_obj)) ctrl_enqueue_obj(rt, new_obj);
}

int ttl_attach(ctrl_runtime_t *rt)
{
    return ctrl_on(rt, JOB_RESOURCE, on_job, NULL);
}

/* 1: expired now. 0: not (or no cleanup needed); queued again for when it
 * will be. -1: finished but without a usable finish time (no or a bad
 * lastTransitionTime): upstream returns an error, so the key is retried
 * with back-off instead of the Job being kept forever. */
static int expired(ctrl_runtime_t *rt, const char *key, const json_t *job)
{
    int64_t left;
    if (kobj_being_deleted(job) || !ttl_needs_cleanup(job)) return 0;
    if (ttl_time_left_ms(job, (int64_t)ctrl_now_unix_ms(rt), &left) < 0) {
        LOGW("finished Job has no finish time (lastTransitionTime), will retry", "job", key);
        return -1;
    }
    if (left <= 0) return 1;
    ctrl_enqueue_after(rt, key, (uint64_t)left);
    return 0;
}

static void delete_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    (void)ud;
    /* 404 gone; 409 the uid precondition: a new Job under the name */
    if (res->ok || res->status == 404 || res->status == 409) {
        if (res->ok) LOGFV(2, "%s: deleted the finished Job (TTL expired)", res->owner_key);
        return;
    }
    LOGW("deleting an expired Job failed", "job", res->owner_key, "reason", res->message);
    ctrl_enqueue_rate_limited(rt, res->owner_key);
}

/* upstream: the fresh copy decides. Foreground, as upstream: the Job
 * stays (with its foregroundDeletion finalizer) until the garbage
 * collector has deleted its pods. */
static void fresh_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    (void)ud;
    if (!res->ok || !res->object) {
        if (res->status != 404) ctrl_enqueue_rate_limited(rt, res->owner_key);
        return;
    }
    const json_t *fresh = res->object;
    int e = expired(rt, res->owner_key, fresh);
    if (e < 0) ctrl_enqueue_rate_limited(rt, res->owner_key);
    if (e <= 0) return;
    ctrl_action_spec_t sp = { .verb = KUBUS__V1__VERB__DELETE, .resource = JOB_RESOURCE, .ns = kobj_namespace(fresh),
                              .name = kobj_name(fresh), .precondition_uid = kobj_uid(fresh),
                              .propagation = KUBUS__V1__PROPAGATION__FOREGROUND, .owner_key = res->owner_key,
                              .flags = CTRL_ACT_NO_EXPECT, .cb = delete_done };
    if (ctrl_action(rt, &sp) == 0) ctrl_enqueue_rate_limited(rt, res->owner_key);
}

int ttl_sync(ctrl_runtime_t *rt, const char *key, void *ud)
{
    (void)ud;
    const json_t *job = cache_get(ctrl_cache(rt, JOB_RESOURCE), key);
    if (!job) return 0;
    int e = expired(rt, key, job);
    if (e <= 0) return e;
    if (ctrl_get(rt, key, JOB_RESOURCE, kobj_namespace(job), kobj_name(job), fresh_done, NULL) == 0) return -1;
    return 0;
}
