/* dep_write.c - turning a finished sync plan into actions, and their results.
 *
 * Owns: the writes of a sync, in upstream's order: the new ReplicaSet's
 * create, ReplicaSet updates (size and replica annotations in one UPDATE
 * carrying the resourceVersion they were computed from), history deletes
 * (uid precondition), then the Deployment's status and revision annotation
 * (one UPDATE_STATUS, only when something changed). Every update is
 * recorded in the pending table until its effect is observed.
 *
 * Results: events are recorded when a write succeeded, as upstream does
 * ("Scaled up replica set X from N to M"); a failed write (409 Conflict
 * included) forgets its pending entry and re-queues the Deployment with
 * back-off; a create refused with AlreadyExists is remembered as a hash
 * collision for the next sync.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/kobj.h"
#include "dep_ctrl_priv.h"
#include "dep_revision.h"
#include "dep_status.h"
#include "log.h"

void dep_act_free(void *p)
{
    dep_act_t *a = p;
    if (a)
        json_decref(a->involved);
    free(a);
}

json_t *dep_annotations_of(json_t *obj)
{
    json_t *meta = json_object_get(obj, "metadata");
    if (!json_is_object(meta)) {
        meta = json_object();
        if (!meta || json_object_set_new(obj, "metadata", meta) != 0)
            return NULL;
    }
    json_t *ann = json_object_get(meta, "annotations");
    if (!json_is_object(ann)) {
        ann = json_object();
        if (!ann || json_object_set_new(meta, "annotations", ann) != 0)
            return NULL;
    }
    return ann;
}

json_t *dep_copy_of(dep_sync_t *s, size_t i)
{
    if (i >= s->n)
        return NULL;
    if (!s->copies[i])
        s->copies[i] = json_deep_copy(s->views[i].obj);
    return s->copies[i];
}

/* Objects from a list carry no apiVersion/kind; bodies must. */
static void set_type(json_t *obj, const char *api_version, const char *kind)
{
    json_object_set_new(obj, "apiVersion", json_string(api_version));
    json_object_set_new(obj, "kind", json_string(kind));
}

/* ---- results ------------------------------------------------------------------ */

static void rs_updated(dep_ctrl_t *c, const dep_act_t *a)
{
    if (a->from == a->to || !a->involved)
        return;
    ctrl_event(c->rt, a->involved, "Normal", "ScalingReplicaSet", "Scaled %s replica set %s from %d to %d",
               a->to > a->from ? "up" : "down", a->rs_name, a->from, a->to);
}

static void rs_create_failed(dep_ctrl_t *c, const dep_act_t *a, const ctrl_result_t *res)
{
    dep_state_t *st = ctrl_ostates_get(c->states, a->key);   /* NULL: the Deployment is gone */
    if (res->reason && strcmp(res->reason, "AlreadyExists") == 0) {
        if (st)
            st->collision = true;
        return;
    }
    /* upstream stays quiet when the namespace is going away: every create
     * would fail the same way until it is gone */
    if (res->status == 403 && res->message && strstr(res->message, "being terminated"))
        return;
    char msg[512];
    snprintf(msg, sizeof msg, "Failed to create new replica set \"%s\": %s", a->rs_name,
             res->message && *res->message ? res->message : "no answer");
    if (st)
        snprintf(st->create_error, sizeof st->create_error, "%s", msg);
    if (a->involved)
        ctrl_event(c->rt, a->involved, "Warning", DEP_REASON_RS_CREATE_ERROR, "%s", msg);
}

static void on_result(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    dep_ctrl_t *c = ud;
    char id[32];
    snprintf(id, sizeof id, "%llu", (unsigned long long)res->id);
    dep_act_t *a = strmap_take(c->acts, id);
    if (!a)
        return;
    if (!res->ok) {
        ctrl_pending_drop(c->pending, a->uid);
        LOGV(1, "deployment write failed", "deployment", a->key, "verb", msg_verb_name(res->verb),
             "name", res->name ? res->name : "", "reason", res->reason ? res->reason : "");
        if (a->kind == DEP_ACT_RS_CREATE)
            rs_create_failed(c, a, res);
        ctrl_enqueue_rate_limited(rt, a->key);
    } else {
        /* an update that changed nothing keeps its version: nothing to wait for */
        if (a->uid[0] && res->object && strcmp(kobj_resource_version(res->object), a->from_rv) == 0)
            ctrl_pending_drop(c->pending, a->uid);
        if (a->kind == DEP_ACT_RS_UPDATE || a->kind == DEP_ACT_RS_CREATE)
            rs_updated(c, a);
    }
    dep_act_free(a);
}

/* ---- issuing ----------------------------------------------------------------- */

static dep_act_t *act_new(dep_sync_t *s, dep_act_kind_t kind, const char *rs_name)
{
    dep_act_t *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->kind = kind;
    snprintf(a->key, sizeof a->key, "%s", s->key);
    snprintf(a->rs_name, sizeof a->rs_name, "%s", rs_name ? rs_name : "");
    a->involved = dep_involved(s->d);
    return a;
}

/* Keeps a for the result of action id (0: not issued, a is freed). */
static int track(dep_sync_t *s, dep_act_t *a, uint64_t id)
{
    if (id == 0) {
        dep_act_free(a);
        return -1;
    }
    char key[32];
    snprintf(key, sizeof key, "%llu", (unsigned long long)id);
    if (strmap_put(s->c->acts, key, a) != 0) {
        dep_act_free(a);
        return -1;
    }
    if (a->uid[0])
        ctrl_pending_add(s->c->pending, a->uid, a->from_rv, now_mono_ms());
    return 0;
}

static int issue_create(dep_sync_t *s)
{
    dep_act_t *a = act_new(s, DEP_ACT_RS_CREATE, s->planned.name);
    if (!a)
        return -1;
    a->from = 0;
    a->to = s->planned.replicas;
    json_t *body = s->create_body;
    s->create_body = NULL;
    LOGV(1, "creating new replica set", "deployment", s->key, "replicaset", a->rs_name);
    return track(s, a, ctrl_create(s->rt, s->key, "replicasets", &body, on_result, s->c));
}

static bool rs_needs_update(dep_sync_t *s, size_t i, int32_t desired, int32_t max_replicas)
{
    const dep_rs_t *v = &s->views[i];
    if (s->copies[i])
        return true;
    if (!v->touched)
        return false;
    return v->replicas != v->spec_replicas ||
           dep_replicas_annotations_need_update(kobj_annotations(v->obj), desired, max_replicas);
}

static int issue_rs_update(dep_sync_t *s, size_t i, int32_t desired, int32_t max_replicas)
{
    dep_rs_t *v = &s->views[i];
    json_t *body = dep_copy_of(s, i);
    s->copies[i] = NULL;
    if (!body)
        return -1;
    if (v->touched) {
        json_t *spec = json_object_get(body, "spec");
        json_t *ann = dep_annotations_of(body);
        if (!json_is_object(spec) || !ann) {
            json_decref(body);
            return -1;
        }
        json_object_set_new(spec, "replicas", json_integer(v->replicas));
        dep_set_replicas_annotations(ann, desired, max_replicas);
    }
    set_type(body, "apps/v1", "ReplicaSet");
    dep_act_t *a = act_new(s, DEP_ACT_RS_UPDATE, v->name);
    if (!a) {
        json_decref(body);
        return -1;
    }
    a->from = v->spec_replicas;
    a->to = v->replicas;
    snprintf(a->uid, sizeof a->uid, "%s", v->uid);
    snprintf(a->from_rv, sizeof a->from_rv, "%s", kobj_resource_version(v->obj));
    LOGV(2, "updating replica set", "deployment", s->key, "replicaset", v->name);
    return track(s, a, ctrl_update(s->rt, s->key, "replicasets", &body, on_result, s->c));
}

static int issue_delete(dep_sync_t *s, const dep_rs_t *v)
{
    dep_act_t *a = act_new(s, DEP_ACT_RS_DELETE, v->name);
    if (!a)
        return -1;
    LOGV(2, "deleting old replica set beyond the history limit", "deployment", s->key,
         "replicaset", v->name);
    return track(s, a, ctrl_delete(s->rt, s->key, "replicasets", kobj_namespace(s->d), v->name,
                                   v->uid, on_result, s->c));
}

static bool same_or_both_empty(const json_t *a, const json_t *b)
{
    bool ea = !a || (json_is_object(a) && json_object_size(a) == 0);
    bool eb = !b || (json_is_object(b) && json_object_size(b) == 0);
    return (ea && eb) || json_equal(a, b);
}

static int issue_status(dep_sync_t *s)
{
    if (same_or_both_empty(json_object_get(s->d, "status"), json_object_get(s->wd, "status")) &&
        same_or_both_empty(kobj_annotations(s->d), kobj_annotations(s->wd)))
        return 0;
    json_t *body = json_deep_copy(s->wd);
    if (!body)
        return -1;
    set_type(body, "apps/v1", "Deployment");
    dep_act_t *a = act_new(s, DEP_ACT_STATUS, NULL);
    if (!a) {
        json_decref(body);
        return -1;
    }
    snprintf(a->uid, sizeof a->uid, "%s", kobj_uid(s->d));
    snprintf(a->from_rv, sizeof a->from_rv, "%s", kobj_resource_version(s->d));
    return track(s, a, ctrl_update_status(s->rt, s->key, "deployments", &body, on_result, s->c));
}

static void requeue(dep_sync_t *s)
{
    if (s->requeue_ms == 0)
        ctrl_enqueue_rate_limited(s->rt, s->key);
    else if (s->requeue_ms > 0)
        ctrl_enqueue_after(s->rt, s->key, (uint64_t)s->requeue_ms);
}

int dep_write(dep_sync_t *s)
{
    int rc = 0;
    int32_t desired = s->spec.replicas;
    int32_t max_replicas = s->spec.replicas + s->spec.max_surge;
    if (s->create_body && issue_create(s) != 0)
        rc = -1;
    for (size_t i = 0; i < s->n; i++)
        if (rs_needs_update(s, i, desired, max_replicas) &&
            issue_rs_update(s, i, desired, max_replicas) != 0)
            rc = -1;
    for (size_t i = 0; i < s->n_deletes; i++)
        if (issue_delete(s, s->deletes[i]) != 0)
            rc = -1;
    if (issue_status(s) != 0)
        rc = -1;
    requeue(s);
    return rc;
}
