/* ds_write.c - the pod creates (slow-start batches issued from results),
 * pod deletes, their events, and status writes. See ds_priv.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/kobj.h"
#include "ds_core.h"
#include "ds_history.h"
#include "ds_node.h"
#include "ds_priv.h"
#include "log.h"
#include "strmap.h"

static const char *result_text(const ctrl_result_t *r, char *buf, size_t len)
{
    if (r->message && *r->message) return r->message;
    snprintf(buf, len, "status %u %s", r->status, r->reason ? r->reason : "");
    return buf;
}

/* ---- creating (slow start) and deleting -------------------------------------------------- */

static void create_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud);

static void issue_batch(ds_ctrl_t *c, ctrl_runtime_t *rt, ds_state_t *s, const char *key)
{
    const json_t *ds = ds_current(rt, s, key);
    ds_spec_t spec;
    char err[256];
    if (!ds || kobj_being_deleted(ds) || ds_spec_read(ds, &spec, err, sizeof err) != DS_SPEC_OK) {
        s->plan_active = false;
        return;
    }
    int n = ds_slowstart_next(&s->plan);
    for (int i = 0; i < n; i++) {
        const char *node = json_string_value(json_array_get(s->plan_nodes, (size_t)(s->plan.issued - n + i)));
        char prefix[300], name[320];
        snprintf(prefix, sizeof prefix, "%s-", kobj_name(ds));
        json_t *pod = node && ctrl_name_generate(prefix, name, sizeof name) > 0
                          ? ds_pod_new(ds, &spec, s->plan_hash, node, name) : NULL;
        if (!pod || ctrl_create(rt, key, DS_POD_RESOURCE, &pod, create_done, c) == 0) {
            json_decref(pod);
            ds_slowstart_result(&s->plan, false);
        }
    }
    ds_spec_free(&spec);
    if (ds_slowstart_done(&s->plan)) s->plan_active = false;
}

static void create_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    ds_ctrl_t *c = ud;
    ds_state_t *s = ctrl_ostates_get(c->states, res->owner_key);
    if (!s || !s->plan_active) return;
    const json_t *ds = ds_current(rt, s, res->owner_key);
    char buf[160];
    if (res->ok) {
        if (ds) ctrl_event(rt, ds, "Normal", "SuccessfulCreate", "Created pod: %s", res->name);
        ds_slowstart_result(&s->plan, true);
    } else if (ctrl_result_namespace_terminating(res)) {
        ds_slowstart_result(&s->plan, false);   /* every create would fail alike: quietly */
    } else {
        const char *why = result_text(res, buf, sizeof buf);
        if (ds) ctrl_event(rt, ds, "Warning", "FailedCreate", "Error creating: %s", why);
        if (log_limit_allow(&c->fail_log))
            LOGW("pod create failed", "daemonset", res->owner_key, "pod", res->name, "reason", why);
        ds_slowstart_result(&s->plan, false);
    }
    if (s->plan.in_flight > 0) return;
    if (s->plan.failed > 0) {
        s->plan_active = false;
        ctrl_enqueue_rate_limited(rt, res->owner_key);
    } else if (s->plan.issued < s->plan.total) {
        issue_batch(c, rt, s, res->owner_key);
    } else {
        s->plan_active = false;
    }
}

static void delete_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    ds_ctrl_t *c = ud;
    ds_state_t *s = ctrl_ostates_get(c->states, res->owner_key);
    const json_t *ds = s ? ds_current(rt, s, res->owner_key) : NULL;
    char buf[160];
    if (res->status == 404 || res->status == 409) return;   /* already gone (or replaced) */
    if (res->ok) {
        if (ds) ctrl_event(rt, ds, "Normal", "SuccessfulDelete", "Deleted pod: %s", res->name);
        return;
    }
    const char *why = result_text(res, buf, sizeof buf);
    if (ds) ctrl_event(rt, ds, "Warning", "FailedDelete", "Error deleting: %s", why);
    if (log_limit_allow(&c->fail_log))
        LOGW("pod delete failed", "daemonset", res->owner_key, "pod", res->name, "reason", why);
    ctrl_enqueue_rate_limited(rt, res->owner_key);
}

/* upstream syncNodes: deletes and creates, each capped at the burst. */
void ds_sync_nodes(ds_ctrl_t *c, ctrl_runtime_t *rt, ds_state_t *s, view_t *v, const json_t **del, size_t n_del,
                       const char **create, size_t n_create)
{
    if (n_del > DS_BURST_REPLICAS) n_del = DS_BURST_REPLICAS;
    if (n_create > DS_BURST_REPLICAS) n_create = DS_BURST_REPLICAS;
    for (size_t i = 0; i < n_del; i++) {
        if (ctrl_delete(rt, v->key, DS_POD_RESOURCE, kobj_namespace(del[i]), kobj_name(del[i]), kobj_uid(del[i]),
                        delete_done, c) != 0)
            v->issued++;
    }
    if (n_create == 0) return;
    json_t *nodes = json_array();
    char *hash = strdup(v->hash);
    for (size_t i = 0; nodes && i < n_create; i++) json_array_append_new(nodes, json_string(create[i]));
    if (!nodes || !hash) {
        json_decref(nodes);
        free(hash);
        return;
    }
    json_decref(s->plan_nodes);
    free(s->plan_hash);
    s->plan_nodes = nodes;
    s->plan_hash = hash;
    ds_slowstart_init(&s->plan, (int)n_create);
    s->plan_active = true;
    v->issued += (int)n_create;
    LOGFV(2, "%s: creating %zu daemon pods", v->key, n_create);
    issue_batch(c, rt, s, v->key);
}

/* ---- status ------------------------------------------------------------------------------------ */

void ds_status_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    (void)ud;
    if (res->ok || res->status == 404) return;
    LOGFV(1, "%s: status update failed (%u %s): will retry", res->owner_key, res->status, res->reason);
    ctrl_enqueue_rate_limited(rt, res->owner_key);
}

void ds_update_status(ds_ctrl_t *c, ctrl_runtime_t *rt, view_t *v, bool observe)
{
    ds_node_pods_t *nodes = malloc((v->nodes.n + 1) * sizeof *nodes);
    if (!nodes) return;
    for (size_t i = 0; i < v->nodes.n; i++) {
        podvec_t *pv = ds_pods_on(v, kobj_name(v->nodes.items[i]));
        nodes[i] = (ds_node_pods_t){ kobj_name(v->nodes.items[i]), pv ? pv->v : NULL, pv ? pv->n : 0, v->run[i] };
    }
    ds_counts_t cnt;
    ds_status_count(&v->spec, nodes, v->nodes.n, v->hash, ctrl_now_unix(rt), &cnt);
    free(nodes);
    /* come back when ready pods should have become available */
    if (v->spec.min_ready_seconds > 0 && cnt.ready != cnt.available)
        ctrl_enqueue_after(rt, v->key, (uint64_t)v->spec.min_ready_seconds * 1000u);
    if (ds_status_unchanged(v->ds, &cnt)) return;
    json_t *st = ds_status_build(v->ds, &cnt, observe);
    json_t *copy = st ? json_deep_copy(v->ds) : NULL;
    if (!copy) {
        json_decref(st);
        return;
    }
    json_object_set_new(copy, "status", st);
    ctrl_update_status(rt, v->key, DS_RESOURCE, &copy, ds_status_done, c);
}

