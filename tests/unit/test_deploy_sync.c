/* Unit tests for the Deployment sync on the runtime's test mode (no bus):
 * creating the new ReplicaSet (name, labels, selector, owner, annotations,
 * size), waiting for our own writes to be observed, one rolling step per
 * sync with resourceVersion preconditions, revision/rollback annotations,
 * collisions, history clean-up with uid preconditions, paused and Recreate
 * Deployments, and invalid input refused with one Warning per generation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "ctrl/kobj.h"
#include "ctrl/runtime.h"
#include "ctrl_fixture.h"
#include "dep_ctrl.h"
#include "dep_template.h"

#define NS "ns"

/* The actions the controller sent since the last fx_reset. */
static fx_sent_t sent;

/* The API server's side of our last status write: the Deployment as we
 * wrote it, at a new resourceVersion. No-op when there was none. */
static void echo_status(ctrl_runtime_t *rt, const char *rv)
{
    const fx_action_t *st = fx_last(&sent, KUBUS__V1__VERB__UPDATE_STATUS);
    if (!st)
        return;
    json_t *d = json_deep_copy(st->body);
    json_object_set_new(json_object_get(d, "metadata"), "resourceVersion", json_string(rv));
    assert_int_equal(ctrl_test_apply(rt, "deployments", &d, false), 0);
}

typedef struct {
    ctrl_runtime_t *rt;
    dep_ctrl_t *dc;
} fx_t;

static int setup(void **state)
{
    static fx_t fx;
    static const char *const res[] = {"deployments", "replicasets", "pods", NULL};
    fx.dc = dep_ctrl_new();
    assert_non_null(fx.dc);
    ctrl_config_t cfg = {.controller = "deployment", .resources = res, .primary = "deployments",
                         .sync = dep_sync, .ud = fx.dc, .concurrent_syncs = 5};
    fx.rt = fx_runtime_new(&cfg, &sent);
    assert_int_equal(dep_ctrl_attach(fx.dc, fx.rt), 0);
    fx_runtime_ready(fx.rt, &sent, 1700000000000ull);
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    fx_runtime_destroy(&fx->rt, &sent);
    dep_ctrl_destroy(&fx->dc);
    return 0;
}

static void remove_obj(ctrl_runtime_t *rt, const char *resource, json_t *obj)
{
    assert_int_equal(ctrl_test_apply(rt, resource, &obj, true), 0);
}

#define TMPL(image)                                                                         \
    "{\"metadata\":{\"labels\":{\"run\":\"nginx\"}},\"spec\":{\"containers\":[{\"name\":"   \
    "\"nginx\",\"image\":\"" image "\"}]}}"

/* A Deployment as the API server has it. extra_spec: more spec fields
 * ("" or ",\"paused\":true"); status: a status object text. */
static json_t *deployment(const char *rv, int gen, int replicas, const char *tmpl,
                          const char *extra_spec, const char *status)
{
    char buf[4096];
    snprintf(buf, sizeof buf,
             "{\"metadata\":{\"name\":\"mydeploy\",\"namespace\":\"" NS "\",\"uid\":\"d-uid\","
             "\"generation\":%d,\"resourceVersion\":\"%s\",\"annotations\":{\"a\":\"b\","
             "\"kubectl.kubernetes.io/last-applied-configuration\":\"{}\"}},"
             "\"spec\":{\"replicas\":%d,\"selector\":{\"matchLabels\":{\"run\":\"nginx\"}},"
             "\"strategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxSurge\":\"25%%\","
             "\"maxUnavailable\":\"25%%\"}},\"revisionHistoryLimit\":10,"
             "\"progressDeadlineSeconds\":600,\"template\":%s%s},\"status\":%s}",
             gen, rv, replicas, tmpl, extra_spec, status ? status : "{}");
    json_error_t e;
    json_t *d = json_loads(buf, 0, &e);
    if (!d)
        fail_msg("bad deployment json: %s", e.text);
    return d;
}

/* The ReplicaSet a captured CREATE body describes, as observed: uid, rv,
 * creation time and a status. */
static json_t *observed_rs(const json_t *body, const char *uid, const char *rv, int64_t created,
                           int replicas, int available)
{
    json_t *rs = json_deep_copy(body);
    json_t *meta = json_object_get(rs, "metadata");
    char ts[32];
    kobj_time_format(created, ts, sizeof ts);
    json_object_set_new(meta, "uid", json_string(uid));
    json_object_set_new(meta, "resourceVersion", json_string(rv));
    json_object_set_new(meta, "creationTimestamp", json_string(ts));
    json_object_set_new(meta, "generation", json_integer(1));
    json_object_set_new(json_object_get(rs, "spec"), "replicas", json_integer(replicas));
    json_object_set_new(rs, "status",
                        json_pack("{s:i, s:i, s:i, s:i}", "replicas", replicas, "readyReplicas",
                                  available, "availableReplicas", available, "observedGeneration",
                                  1));
    return rs;
}

static const char *ann(const json_t *obj, const char *key)
{
    const char *v = kobj_annotation(obj, key);
    return v ? v : "(none)";
}

static void expected_name(const char *tmpl, char *out, size_t len)
{
    json_t *t = json_loads(tmpl, 0, NULL);
    char hash[DEP_HASH_MAX];
    assert_int_equal(dep_template_hash(t, NULL, hash, sizeof hash), 0);
    snprintf(out, len, "mydeploy-%s", hash);
    json_decref(t);
}

/* ---- creation -------------------------------------------------------------- */

static void test_creates_new_replicaset(void **state)
{
    fx_t *fx = *state;
    char name[64];
    expected_name(TMPL("nginx"), name, sizeof name);
    fx_apply(fx->rt, "deployments", deployment("1", 1, 10, TMPL("nginx"), "", NULL));
    assert_true(ctrl_test_step(fx->rt) >= 1);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, "replicasets"), 1);
    const fx_action_t *c = fx_nth(&sent, KUBUS__V1__VERB__CREATE, "replicasets", 0);
    assert_string_equal(c->name, name);
    const json_t *b = c->body;
    const char *hash = kobj_label(b, "pod-template-hash");
    assert_non_null(hash);
    assert_string_equal(kobj_str(b, "spec.selector.matchLabels.pod-template-hash"), hash);
    assert_string_equal(kobj_str(b, "spec.template.metadata.labels.pod-template-hash"), hash);
    assert_string_equal(kobj_label(b, "run"), "nginx");
    assert_int_equal(kobj_int(b, "spec.replicas", -1), 10);
    kobj_ownerref_t ref;
    assert_int_equal(kobj_controller_ref(b, &ref), 0);
    assert_string_equal(ref.kind, "Deployment");
    assert_string_equal(ref.api_version, "apps/v1");
    assert_string_equal(ref.uid, "d-uid");
    assert_true(ref.block_owner_deletion);
    assert_string_equal(ann(b, "deployment.kubernetes.io/revision"), "1");
    assert_string_equal(ann(b, "deployment.kubernetes.io/desired-replicas"), "10");
    assert_string_equal(ann(b, "deployment.kubernetes.io/max-replicas"), "13");
    assert_string_equal(ann(b, "a"), "b");
    assert_string_equal(ann(b, "kubectl.kubernetes.io/last-applied-configuration"), "(none)");
    /* the Deployment: revision 1, Progressing NewReplicaSetCreated */
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__UPDATE_STATUS, "deployments"), 1);
    const fx_action_t *st = fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, "deployments", 0);
    assert_string_equal(st->rv_pre, "1");
    assert_string_equal(ann(st->body, "deployment.kubernetes.io/revision"), "1");
    assert_int_equal(kobj_int(st->body, "status.observedGeneration", 0), 1);
    json_t *conds = kobj_get(st->body, "status.conditions");
    bool created = false;
    size_t i;
    json_t *cnd;
    json_array_foreach(conds, i, cnd) {
        const char *r = json_string_value(json_object_get(cnd, "reason"));
        created |= r && strcmp(r, "NewReplicaSetCreated") == 0;
    }
    assert_true(created);
    /* results come back; until the ReplicaSet is seen nothing more happens */
    fx_answer_pending(fx->rt, &sent, 200);
    fx_reset(&sent);
    fx_apply(fx->rt, "deployments", deployment("2", 1, 10, TMPL("nginx"), "", "{\"observedGeneration\":1}"));
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
}

/* Brings the fixture to: mydeploy at nginx, 10 replicas, one ReplicaSet of
 * 10 available pods with revision 1. Returns the ReplicaSet (owned). */
static json_t *settled(fx_t *fx)
{
    fx_apply(fx->rt, "deployments", deployment("1", 1, 10, TMPL("nginx"), "", NULL));
    ctrl_test_step(fx->rt);
    json_t *rs = observed_rs(fx_nth(&sent, KUBUS__V1__VERB__CREATE, "replicasets", 0)->body, "rs1-uid", "100",
                             1699999000, 10, 10);
    fx_answer_pending(fx->rt, &sent, 200);
    fx_reset(&sent);
    fx_apply(fx->rt, "replicasets", json_deep_copy(rs));
    fx_apply(fx->rt, "deployments",
          deployment("2", 1, 10, TMPL("nginx"), "",
                     "{\"observedGeneration\":1,\"replicas\":10,\"updatedReplicas\":10,"
                     "\"readyReplicas\":10,\"availableReplicas\":10}"));
    ctrl_test_step(fx->rt);
    fx_answer_pending(fx->rt, &sent, 200);
    echo_status(fx->rt, "2e");
    fx_reset(&sent);
    return rs;
}

static void test_rolling_update_steps(void **state)
{
    fx_t *fx = *state;
    json_t *rs1 = settled(fx);
    /* set image: a new ReplicaSet of 3 (maxSurge), and nothing else yet */
    fx_apply(fx->rt, "deployments",
          deployment("3", 2, 10, TMPL("nginx:1.9.1"), "",
                     "{\"observedGeneration\":1,\"replicas\":10,\"updatedReplicas\":10,"
                     "\"readyReplicas\":10,\"availableReplicas\":10}"));
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, "replicasets"), 1);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__UPDATE, "replicasets"), 0);
    const fx_action_t *c = fx_nth(&sent, KUBUS__V1__VERB__CREATE, "replicasets", 0);
    assert_int_equal(kobj_int(c->body, "spec.replicas", -1), 3);
    assert_string_equal(ann(c->body, "deployment.kubernetes.io/revision"), "2");
    json_t *rs2 = observed_rs(c->body, "rs2-uid", "200", 1699999500, 3, 0);
    fx_answer_pending(fx->rt, &sent, 200);
    fx_reset(&sent);
    /* observed (and our status write too): old goes 10 -> 8 (8 must stay
     * available), with its resourceVersion */
    fx_apply(fx->rt, "replicasets", json_deep_copy(rs2));
    fx_apply(fx->rt, "deployments",
          deployment("3a", 2, 10, TMPL("nginx:1.9.1"), "",
                     "{\"observedGeneration\":2,\"replicas\":10,\"updatedReplicas\":0,"
                     "\"readyReplicas\":10,\"availableReplicas\":10}"));
    ctrl_test_step(fx->rt);
    const fx_action_t *u = fx_named(&sent, KUBUS__V1__VERB__UPDATE, kobj_name(rs1));
    assert_non_null(u);
    assert_int_equal(kobj_int(u->body, "spec.replicas", -1), 8);
    assert_string_equal(u->rv_pre, "100");
    assert_null(fx_named(&sent, KUBUS__V1__VERB__UPDATE, kobj_name(rs2)));
    fx_answer_pending(fx->rt, &sent, 200);
    fx_reset(&sent);
    /* the update is not observed yet: a sync now must not act again */
    fx_apply(fx->rt, "deployments",
          deployment("4", 2, 10, TMPL("nginx:1.9.1"), "",
                     "{\"observedGeneration\":2,\"replicas\":10,\"updatedReplicas\":0,"
                     "\"readyReplicas\":10,\"availableReplicas\":10}"));
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__UPDATE, "replicasets"), 0);
    /* observed (old at 8, its 2 surplus pods gone): the new one may grow to 5 */
    json_object_set_new(json_object_get(rs1, "spec"), "replicas", json_integer(8));
    json_object_set_new(json_object_get(rs1, "status"), "availableReplicas", json_integer(8));
    json_object_set_new(json_object_get(rs1, "status"), "replicas", json_integer(8));
    json_object_set_new(json_object_get(rs1, "metadata"), "resourceVersion", json_string("101"));
    fx_apply(fx->rt, "replicasets", json_deep_copy(rs1));
    ctrl_test_step(fx->rt);
    u = fx_named(&sent, KUBUS__V1__VERB__UPDATE, kobj_name(rs2));
    assert_non_null(u);
    assert_int_equal(kobj_int(u->body, "spec.replicas", -1), 5);
    assert_null(fx_named(&sent, KUBUS__V1__VERB__UPDATE, kobj_name(rs1)));
    json_decref(rs1);
    json_decref(rs2);
}

static void test_conflict_retries(void **state)
{
    fx_t *fx = *state;
    json_t *rs1 = settled(fx);
    fx_apply(fx->rt, "deployments", deployment("3", 2, 10, TMPL("nginx:1.9.1"), "", "{}"));
    ctrl_test_step(fx->rt);
    json_t *rs2 = observed_rs(fx_nth(&sent, KUBUS__V1__VERB__CREATE, "replicasets", 0)->body, "rs2-uid",
                              "200", 1699999500, 3, 0);
    fx_answer_pending(fx->rt, &sent, 200);
    fx_reset(&sent);
    fx_apply(fx->rt, "replicasets", json_deep_copy(rs2));
    fx_apply(fx->rt, "deployments", deployment("3a", 2, 10, TMPL("nginx:1.9.1"), "", "{\"observedGeneration\":2}"));
    ctrl_test_step(fx->rt);
    const fx_action_t *u = fx_named(&sent, KUBUS__V1__VERB__UPDATE, kobj_name(rs1));
    assert_non_null(u);
    /* 409: forgotten, and the Deployment comes back (after its back-off);
     * the status write of the same sync succeeded and is observed */
    fx_answer_with(fx->rt, u, 409, "Conflict", NULL);
    for (int k = 0; k < sent.n; k++)
        if (&sent.a[k] != u && sent.a[k].verb != KUBUS__V1__VERB__EVENT)
            fx_answer_with(fx->rt, &sent.a[k], 200, NULL, NULL);
    fx_reset(&sent);
    fx_apply(fx->rt, "deployments", deployment("3b", 2, 10, TMPL("nginx:1.9.1"), "", "{\"observedGeneration\":2}"));
    for (int i = 0; i < 50 && fx_count(&sent, KUBUS__V1__VERB__UPDATE, "replicasets") == 0; i++) {
        ctrl_test_step(fx->rt);
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    assert_non_null(fx_named(&sent, KUBUS__V1__VERB__UPDATE, kobj_name(rs1)));
    json_decref(rs1);
    json_decref(rs2);
}

/* rev 1 (nginx, at 0), rev rev2 (nginx:1.9.1, active); the template goes
 * back to nginx: the old ReplicaSet becomes the new one at revision want. */
static void rollback_case(fx_t *fx, const char *rev2, const char *want)
{
    json_t *tmpl1 = json_loads(TMPL("nginx"), 0, NULL), *tmpl2 = json_loads(TMPL("nginx:1.9.1"), 0, NULL);
    json_t *rs1 = json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s}, s:[{s:s, s:s, s:s, s:s, s:b}]},"
                            " s:{s:i, s:{s:{s:s, s:s}}, s:O}, s:{}}",
                            "metadata", "name", "mydeploy-old", "namespace", NS, "uid", "rs1-uid",
                            "resourceVersion", "100", "creationTimestamp", "2023-11-14T22:00:00Z",
                            "labels", "run", "nginx", "pod-template-hash", "old",
                            "annotations", "deployment.kubernetes.io/revision", "1",
                            "deployment.kubernetes.io/desired-replicas", "10",
                            "deployment.kubernetes.io/max-replicas", "13",
                            "ownerReferences", "apiVersion", "apps/v1", "kind", "Deployment", "name",
                            "mydeploy", "uid", "d-uid", "controller", 1,
                            "spec", "replicas", 0, "selector", "matchLabels", "run", "nginx",
                            "pod-template-hash", "old", "template", tmpl1, "status");
    json_t *rs2 = json_deep_copy(rs1);
    json_object_set_new(json_object_get(rs2, "metadata"), "name", json_string("mydeploy-new"));
    json_object_set_new(json_object_get(rs2, "metadata"), "uid", json_string("rs2-uid"));
    json_object_set_new(json_object_get(rs2, "metadata"), "creationTimestamp",
                        json_string("2023-11-14T22:10:00Z"));
    json_object_set_new(kobj_annotations(rs2), "deployment.kubernetes.io/revision", json_string(rev2));
    json_object_set_new(json_object_get(rs2, "spec"), "replicas", json_integer(10));
    json_object_set(json_object_get(rs2, "spec"), "template", tmpl2);
    json_object_set_new(rs2, "status", json_pack("{s:i, s:i, s:i}", "replicas", 10,
                                                 "readyReplicas", 10, "availableReplicas", 10));
    fx_apply(fx->rt, "replicasets", rs1);
    fx_apply(fx->rt, "replicasets", rs2);
    fx_apply(fx->rt, "deployments", deployment("5", 3, 10, TMPL("nginx"), "", "{}"));
    ctrl_test_step(fx->rt);
    /* the old ReplicaSet is the new one again: revision 3, history "1", and it grows by the surge */
    const fx_action_t *u = fx_named(&sent, KUBUS__V1__VERB__UPDATE, "mydeploy-old");
    assert_non_null(u);
    assert_string_equal(ann(u->body, "deployment.kubernetes.io/revision"), want);
    assert_string_equal(ann(u->body, "deployment.kubernetes.io/revision-history"), "1");
    assert_int_equal(kobj_int(u->body, "spec.replicas", -1), 3);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
    const fx_action_t *st = fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, "deployments", 0);
    assert_string_equal(ann(st->body, "deployment.kubernetes.io/revision"), want);
    json_decref(tmpl1);
    json_decref(tmpl2);
}

static void test_rollback_takes_new_revision(void **state) { rollback_case(*state, "2", "3"); }

/* A revision annotation (anyone who may edit the ReplicaSet sets it) at the
 * int64 limit: the next one stays there, no signed overflow. */
static void test_rollback_at_max_revision(void **state)
{
    rollback_case(*state, "9223372036854775807", "9223372036854775807");
}

static void test_collision_bumps_count(void **state)
{
    fx_t *fx = *state;
    char name[64];
    expected_name(TMPL("nginx"), name, sizeof name);
    /* someone else's ReplicaSet already has our name */
    json_t *other = json_pack("{s:{s:s, s:s, s:s, s:s, s:{s:s}, s:[{s:s, s:s, s:s, s:s, s:b}]},"
                              " s:{s:i, s:{s:{s:s}}, s:{}}}",
                              "metadata", "name", name, "namespace", NS, "uid", "x-uid",
                              "resourceVersion", "1", "labels", "run", "nginx", "ownerReferences",
                              "apiVersion", "apps/v1", "kind", "Deployment", "name", "other",
                              "uid", "other-uid", "controller", 1, "spec", "replicas", 1,
                              "selector", "matchLabels", "run", "nginx", "template");
    fx_apply(fx->rt, "replicasets", other);
    fx_apply(fx->rt, "deployments", deployment("1", 1, 10, TMPL("nginx"), "", NULL));
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
    const fx_action_t *st = fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, "deployments", 0);
    assert_int_equal(kobj_int(st->body, "status.collisionCount", 0), 1);
    fx_answer_pending(fx->rt, &sent, 200);
    fx_reset(&sent);
    /* with the count, another name */
    fx_apply(fx->rt, "deployments", deployment("2", 1, 10, TMPL("nginx"), "", "{\"collisionCount\":1}"));
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, "replicasets"), 1);
    assert_string_not_equal(fx_nth(&sent, KUBUS__V1__VERB__CREATE, "replicasets", 0)->name, name);
}

static void test_history_cleanup(void **state)
{
    fx_t *fx = *state;
    json_t *rs = settled(fx);
    /* three old ReplicaSets at 0, limit 1: the two lowest revisions go */
    for (int i = 1; i <= 3; i++) {
        char nm[32], uid[32], rev[8], ts[32], img[32];
        snprintf(nm, sizeof nm, "mydeploy-h%d", i);
        snprintf(uid, sizeof uid, "h%d-uid", i);
        snprintf(rev, sizeof rev, "%d", i + 10);
        snprintf(img, sizeof img, "nginx:%d", i);
        kobj_time_format(1699990000 + i, ts, sizeof ts);
        json_t *old = json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:{s:s}, s:{s:s}, s:[{s:s, s:s, s:s, s:s, s:b}]},"
                                " s:{s:i, s:{s:{s:s}}, s:{s:{s:{s:s}}, s:{s:[{s:s, s:s}]}}}, s:{}}",
                                "metadata", "name", nm, "namespace", NS, "uid", uid, "resourceVersion", "7",
                                "creationTimestamp", ts, "labels", "run", "nginx", "annotations",
                                "deployment.kubernetes.io/revision", rev, "ownerReferences",
                                "apiVersion", "apps/v1", "kind", "Deployment", "name", "mydeploy",
                                "uid", "d-uid", "controller", 1, "spec", "replicas", 0, "selector",
                                "matchLabels", "run", "nginx", "template", "metadata", "labels", "run",
                                "nginx", "spec", "containers", "name", "nginx", "image", img, "status");
        fx_apply(fx->rt, "replicasets", old);
    }
    fx_apply(fx->rt, "deployments",
          deployment("9", 1, 10, TMPL("nginx"), ",\"revisionHistoryLimit\":1",
                     "{\"observedGeneration\":1,\"replicas\":10,\"updatedReplicas\":10,"
                     "\"readyReplicas\":10,\"availableReplicas\":10}"));
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__DELETE, "replicasets"), 2);
    assert_string_equal(fx_nth(&sent, KUBUS__V1__VERB__DELETE, "replicasets", 0)->name, "mydeploy-h1");
    assert_string_equal(fx_nth(&sent, KUBUS__V1__VERB__DELETE, "replicasets", 0)->uid_pre, "h1-uid");
    assert_string_equal(fx_nth(&sent, KUBUS__V1__VERB__DELETE, "replicasets", 1)->name, "mydeploy-h2");
    json_decref(rs);
}

static void test_paused_scales_but_does_not_roll(void **state)
{
    fx_t *fx = *state;
    json_t *rs = settled(fx);
    fx_apply(fx->rt, "deployments",
          deployment("3", 2, 12, TMPL("nginx:1.9.1"), ",\"paused\":true",
                     "{\"observedGeneration\":1,\"replicas\":10,\"updatedReplicas\":10,"
                     "\"readyReplicas\":10,\"availableReplicas\":10}"));
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
    const fx_action_t *u = fx_named(&sent, KUBUS__V1__VERB__UPDATE, kobj_name(rs));
    assert_non_null(u);
    assert_int_equal(kobj_int(u->body, "spec.replicas", -1), 12);
    assert_string_equal(ann(u->body, "deployment.kubernetes.io/desired-replicas"), "12");
    const fx_action_t *st = fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, "deployments", 0);
    json_t *conds = kobj_get(st->body, "status.conditions");
    bool paused = false;
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c) {
        const char *r = json_string_value(json_object_get(c, "reason"));
        paused |= r && strcmp(r, "DeploymentPaused") == 0;
    }
    assert_true(paused);
    json_decref(rs);
}

static void test_recreate_waits_for_old_pods(void **state)
{
    fx_t *fx = *state;
    json_t *rs = settled(fx);
    fx_apply(fx->rt, "deployments",
          deployment("3", 2, 10, TMPL("nginx:1.9.1"), ",\"strategy\":{\"type\":\"Recreate\"}",
                     "{\"observedGeneration\":1,\"replicas\":10,\"updatedReplicas\":10,"
                     "\"readyReplicas\":10,\"availableReplicas\":10}"));
    ctrl_test_step(fx->rt);
    /* old to zero first, no new ReplicaSet yet */
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
    const fx_action_t *u = fx_named(&sent, KUBUS__V1__VERB__UPDATE, kobj_name(rs));
    assert_non_null(u);
    assert_int_equal(kobj_int(u->body, "spec.replicas", -1), 0);
    fx_answer_pending(fx->rt, &sent, 200);
    fx_reset(&sent);
    /* scaled to 0 but a pod still runs: wait */
    json_object_set_new(json_object_get(rs, "spec"), "replicas", json_integer(0));
    json_object_set_new(rs, "status", json_object());
    json_object_set_new(json_object_get(rs, "metadata"), "resourceVersion", json_string("101"));
    fx_apply(fx->rt, "replicasets", json_deep_copy(rs));
    fx_apply(fx->rt, "deployments",
          deployment("3a", 2, 10, TMPL("nginx:1.9.1"), ",\"strategy\":{\"type\":\"Recreate\"}",
                     "{\"observedGeneration\":2}"));
    json_t *pod = json_pack("{s:{s:s, s:s, s:s, s:s, s:[{s:s, s:s, s:s, s:s, s:b}]}, s:{s:s}}",
                            "metadata", "name", "p1", "namespace", NS, "uid", "p1-uid",
                            "resourceVersion", "5", "ownerReferences", "apiVersion", "apps/v1",
                            "kind", "ReplicaSet", "name", kobj_name(rs), "uid", "rs1-uid",
                            "controller", 1, "status", "phase", "Running");
    fx_apply(fx->rt, "pods", json_deep_copy(pod));
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
    fx_answer_pending(fx->rt, &sent, 200);
    echo_status(fx->rt, "3b");
    fx_reset(&sent);
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
    assert_int_equal(sent.n, 0); /* nothing new to say while waiting */
    /* gone: the new ReplicaSet comes at full size */
    remove_obj(fx->rt, "pods", pod);
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, "replicasets"), 1);
    assert_int_equal(kobj_int(fx_nth(&sent, KUBUS__V1__VERB__CREATE, "replicasets", 0)->body, "spec.replicas", -1), 10);
    json_decref(rs);
}

static void test_adopts_orphan_after_live_get(void **state)
{
    fx_t *fx = *state;
    json_t *orphan = json_pack("{s:{s:s, s:s, s:s, s:s, s:{s:s}}, s:{s:i, s:{s:{s:s}}, s:{}}}",
                               "metadata", "name", "stray", "namespace", NS, "uid", "stray-uid",
                               "resourceVersion", "1", "labels", "run", "nginx", "spec",
                               "replicas", 2, "selector", "matchLabels", "run", "nginx",
                               "template");
    fx_apply(fx->rt, "replicasets", orphan);
    json_t *d = deployment("1", 1, 10, TMPL("nginx"), "", NULL);
    fx_apply(fx->rt, "deployments", json_deep_copy(d));
    ctrl_test_step(fx->rt);
    /* nothing but a live read of the Deployment first */
    assert_int_equal(sent.n, 1);
    const fx_action_t *g = fx_nth(&sent, KUBUS__V1__VERB__GET, "deployments", 0);
    assert_string_equal(g->name, "mydeploy");
    fx_answer_with(fx->rt, g, 200, NULL, d);
    const fx_action_t *p = fx_nth(&sent, KUBUS__V1__VERB__PATCH, "replicasets", 0);
    assert_string_equal(p->name, "stray");
    assert_string_equal(kobj_str(p->body, "metadata.uid"), "stray-uid");
    kobj_ownerref_t ref;
    assert_int_equal(kobj_controller_ref(p->body, &ref), 0);
    assert_string_equal(ref.uid, "d-uid");
    assert_string_equal(ref.kind, "Deployment");
    json_decref(d);
}

static void test_no_adoption_when_deployment_is_going(void **state)
{
    fx_t *fx = *state;
    json_t *orphan = json_pack("{s:{s:s, s:s, s:s, s:s, s:{s:s}}, s:{s:i, s:{s:{s:s}}, s:{}}}",
                               "metadata", "name", "stray", "namespace", NS, "uid", "stray-uid",
                               "resourceVersion", "1", "labels", "run", "nginx", "spec",
                               "replicas", 2, "selector", "matchLabels", "run", "nginx",
                               "template");
    fx_apply(fx->rt, "replicasets", orphan);
    json_t *d = deployment("1", 1, 10, TMPL("nginx"), "", NULL);
    fx_apply(fx->rt, "deployments", json_deep_copy(d));
    ctrl_test_step(fx->rt);
    const fx_action_t *g = fx_nth(&sent, KUBUS__V1__VERB__GET, "deployments", 0);
    json_object_set_new(json_object_get(d, "metadata"), "deletionTimestamp",
                        json_string("2023-11-14T22:13:20Z"));
    fx_answer_with(fx->rt, g, 200, NULL, d);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__PATCH, NULL), 0);
    json_decref(d);
}

static void test_releases_mismatching(void **state)
{
    fx_t *fx = *state;
    json_t *rs = settled(fx);
    /* its labels were edited: no longer ours */
    json_object_set_new(kobj_labels(rs), "run", json_string("other"));
    json_object_set_new(json_object_get(rs, "metadata"), "resourceVersion", json_string("150"));
    fx_apply(fx->rt, "replicasets", json_deep_copy(rs));
    ctrl_test_step(fx->rt);
    const fx_action_t *p = fx_nth(&sent, KUBUS__V1__VERB__PATCH, "replicasets", 0);
    assert_string_equal(p->name, kobj_name(rs));
    assert_string_equal(kobj_str(p->body, "metadata.uid"), "rs1-uid");
    json_t *ref = json_array_get(kobj_get(p->body, "metadata.ownerReferences"), 0);
    assert_string_equal(json_string_value(json_object_get(ref, "$patch")), "delete");
    assert_string_equal(json_string_value(json_object_get(ref, "uid")), "d-uid");
    json_decref(rs);
}

/* ---- refusing bad input --------------------------------------------------------- */

static void expect_refused(fx_t *fx, const char *strategy_or_spec, const char *reason)
{
    fx_apply(fx->rt, "deployments", deployment("1", 4, 3, TMPL("nginx"), strategy_or_spec, NULL));
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__UPDATE, NULL), 0);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__EVENT, NULL), 1);
    const fx_action_t *e = fx_nth(&sent, KUBUS__V1__VERB__EVENT, NULL, 0);
    assert_string_equal(json_string_value(json_object_get(e->body, "reason")), reason);
    assert_string_equal(json_string_value(json_object_get(e->body, "type")), "Warning");
    const fx_action_t *st = fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, "deployments", 0);
    assert_int_equal(kobj_int(st->body, "status.observedGeneration", 0), 4);
    fx_answer_pending(fx->rt, &sent, 200);
    fx_reset(&sent);
    /* the same generation again: no second Warning */
    fx_apply(fx->rt, "deployments", deployment("2", 4, 3, TMPL("nginx"), strategy_or_spec,
                                            "{\"observedGeneration\":4}"));
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__EVENT, NULL), 0);
    assert_int_equal(sent.n, 0);
}

static void test_invalid_intstr(void **state)
{
    expect_refused(*state, ",\"strategy\":{\"rollingUpdate\":{\"maxSurge\":\"abc%\"}}", "InvalidSpec");
}

static void test_negative_history_limit(void **state)
{
    expect_refused(*state, ",\"revisionHistoryLimit\":-1", "InvalidSpec");
}

static void test_empty_selector(void **state)
{
    expect_refused(*state, ",\"selector\":{}", "SelectingAll");
}

static void test_bad_selector(void **state)
{
    expect_refused(*state, ",\"selector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Nope\"}]}",
                   "InvalidSelector");
}

/* Objects of the wrong shape anywhere must neither crash nor wedge the
 * controller: every one is refused or read with defaults. */
static void test_garbage_is_survived(void **state)
{
    fx_t *fx = *state;
    static const char *const deployments[] = {
        "{\"metadata\":{\"name\":\"g1\",\"namespace\":\"ns\",\"uid\":\"g1\"}}",
        "{\"metadata\":{\"name\":\"g2\",\"namespace\":\"ns\",\"uid\":\"g2\",\"annotations\":[]},"
        "\"spec\":{\"selector\":{\"matchLabels\":{\"a\":\"b\"}},\"template\":7}}",
        "{\"metadata\":{\"name\":\"g3\",\"namespace\":\"ns\",\"uid\":\"g3\",\"annotations\":{\"x\":1}},"
        "\"spec\":{\"replicas\":3,\"selector\":{\"matchLabels\":{\"a\":\"b\"}},\"template\":"
        "{\"metadata\":{\"labels\":\"nope\"}}},\"status\":{\"conditions\":{},\"collisionCount\":\"x\"}}",
        "{\"metadata\":{\"name\":\"g4\",\"namespace\":\"ns\",\"uid\":\"g4\"},\"spec\":{\"replicas\":2,"
        "\"selector\":{\"matchLabels\":{\"a\":\"b\"}},\"template\":{\"metadata\":{\"labels\":{\"a\":\"b\"}}}},"
        "\"status\":{\"conditions\":[1,{\"type\":\"Progressing\",\"lastUpdateTime\":\"garbage\"}]}}",
        "{\"metadata\":{\"name\":\"g5\",\"namespace\":\"ns\",\"uid\":\"g5\"},\"spec\":{\"replicas\":2,"
        "\"selector\":{\"matchLabels\":{\"a\":\"b\"}},\"strategy\":{\"rollingUpdate\":{\"maxSurge\":\"99999999999%\"}},"
        "\"template\":{\"metadata\":{\"labels\":{\"a\":\"b\"}}}}}",
    };
    static const char *const replicasets[] = {
        "{\"metadata\":{\"name\":\"r1\",\"namespace\":\"ns\",\"uid\":\"r1\",\"labels\":{\"a\":\"b\"},"
        "\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"g4\","
        "\"uid\":\"g4\",\"controller\":true}],\"annotations\":{\"deployment.kubernetes.io/revision\":\"x\","
        "\"deployment.kubernetes.io/max-replicas\":\"-5\"}},\"spec\":{\"replicas\":\"many\",\"template\":[]},"
        "\"status\":{\"availableReplicas\":-3,\"conditions\":\"x\"}}",
        "{\"metadata\":{\"name\":\"r2\",\"namespace\":\"ns\",\"uid\":\"r2\",\"labels\":{\"a\":\"b\"},"
        "\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"g4\","
        "\"uid\":\"g4\",\"controller\":true}],\"annotations\":{\"deployment.kubernetes.io/revision\":\"99999999999999999999\"}},"
        "\"spec\":{\"replicas\":5},\"status\":{\"replicas\":9999999999}}",
        "{\"metadata\":{\"name\":\"r3\",\"namespace\":\"ns\",\"uid\":\"r3\",\"labels\":{\"a\":\"b\"}},\"spec\":{}}",
    };
    for (size_t i = 0; i < sizeof replicasets / sizeof replicasets[0]; i++)
        fx_apply(fx->rt, "replicasets", json_loads(replicasets[i], 0, NULL));
    for (size_t i = 0; i < sizeof deployments / sizeof deployments[0]; i++)
        fx_apply(fx->rt, "deployments", json_loads(deployments[i], 0, NULL));
    for (int round = 0; round < 3; round++) {
        ctrl_test_step(fx->rt);
        for (int k = 0; k < sent.n; k++)
            if (sent.a[k].verb == KUBUS__V1__VERB__GET)
                fx_answer_with(fx->rt, &sent.a[k], 404, "NotFound", NULL);
        fx_answer_pending(fx->rt, &sent, 200);
        fx_reset(&sent);
    }
    /* and a sane Deployment is still served */
    fx_apply(fx->rt, "deployments", deployment("1", 1, 10, TMPL("nginx"), "", NULL));
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, "replicasets"), 1);
}

static void test_deleted_deployment_forgotten(void **state)
{
    fx_t *fx = *state;
    json_t *d = deployment("1", 1, 10, TMPL("nginx"), "", NULL);
    fx_apply(fx->rt, "deployments", json_deep_copy(d));
    ctrl_test_step(fx->rt);
    fx_answer_pending(fx->rt, &sent, 200);
    fx_reset(&sent);
    remove_obj(fx->rt, "deployments", d);
    ctrl_test_step(fx->rt);
    assert_int_equal(sent.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_creates_new_replicaset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rolling_update_steps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_conflict_retries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_takes_new_revision, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_at_max_revision, setup, teardown),
        cmocka_unit_test_setup_teardown(test_collision_bumps_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_cleanup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paused_scales_but_does_not_roll, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recreate_waits_for_old_pods, setup, teardown),
        cmocka_unit_test_setup_teardown(test_adopts_orphan_after_live_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_adoption_when_deployment_is_going, setup, teardown),
        cmocka_unit_test_setup_teardown(test_releases_mismatching, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_intstr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_negative_history_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_selector, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_selector, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_is_survived, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleted_deployment_forgotten, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
