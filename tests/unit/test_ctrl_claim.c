/* Unit tests for lib/ctrl/claim.c on the runtime's test mode: the adopt
 * and release patches, resolving controller references (kind, group,
 * uid), routing owned objects' changes to owner keys, and adoption after a
 * live GET (confirmed, refused, failed; each orphan re-checked), and the
 * owner options: a finalizer carried by both patches, a batch period
 * for routing, owners that never adopt orphans. The
 * ReplicaSet, Deployment, DaemonSet and StatefulSet controllers build on
 * these; their own tests cover what they decide. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ctrl/claim.h"
#include "ctrl/kobj.h"
#include "ctrl/runtime.h"
#include "ctrl_fixture.h"

static fx_sent_t sent;

/* Keys synced by the last step(), in the order they ran. */
static char keys[16][64];
static int n_keys;
static char synced[1024];

static int record_sync(ctrl_runtime_t *rt, const char *key, void *ud)
{
    (void)rt;
    (void)ud;
    if (n_keys < 16) snprintf(keys[n_keys++], sizeof keys[0], "%s", key);
    return 0;
}

static int by_text(const void *a, const void *b) { return strcmp(a, b); }

/* Runs the queued syncs; the keys they were for, sorted, space-separated. */
static const char *step(ctrl_runtime_t *rt)
{
    n_keys = 0;
    ctrl_test_step(rt);
    qsort(keys, (size_t)n_keys, sizeof keys[0], by_text);
    synced[0] = '\0';
    for (int i = 0; i < n_keys; i++) {
        if (i) strcat(synced, " ");
        strcat(synced, keys[i]);
    }
    return synced;
}

static const ctrl_owner_t owners = { .resource = "replicasets", .api_version = "apps/v1", .kind = "ReplicaSet" };

static void on_pod(ctrl_runtime_t *rt, const char *resource, cache_change_t change, const json_t *old_obj,
                   const json_t *new_obj, void *ud)
{
    (void)resource;
    ctrl_route_owned(rt, ud, change, old_obj, new_obj);
}

static ctrl_runtime_t *runtime(const ctrl_owner_t *o)
{
    static const char *const res[] = { "replicasets", "pods", NULL };
    ctrl_config_t cfg = { .controller = "claimtest", .resources = res, .primary = "replicasets",
                          .sync = record_sync, .concurrent_syncs = 5 };
    ctrl_runtime_t *rt = fx_runtime_new(&cfg, &sent);
    assert_int_equal(ctrl_on(rt, "pods", on_pod, (void *)o), 0);
    fx_runtime_ready(rt, &sent, 1700000000000ull);
    return rt;
}

/* A ReplicaSet "name" (uid "<name>-uid") selecting app=<app> ("" none). */
static json_t *owner(const char *name, const char *app, bool deleting)
{
    char uid[64];
    snprintf(uid, sizeof uid, "%s-uid", name);
    json_t *o = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:{s:{s:{}}}}", "apiVersion", "apps/v1", "kind",
                          "ReplicaSet", "metadata", "name", name, "namespace", "ns", "uid", uid, "resourceVersion",
                          "1", "spec", "selector", "matchLabels");
    if (*app) json_object_set_new(kobj_get(o, "spec.selector.matchLabels"), "app", json_string(app));
    if (deleting)
        json_object_set_new(json_object_get(o, "metadata"), "deletionTimestamp", json_string("2024-01-01T00:00:00Z"));
    return o;
}

/* A pod "name" (uid "<name>-uid") labelled app=<app>, controlled by the
 * ReplicaSet ctl of kind/apiVersion (NULL: an orphan). */
static json_t *pod_of(const char *name, const char *app, const char *ctl, const char *kind, const char *apiv,
                      const char *rv)
{
    char uid[64], cuid[64];
    snprintf(uid, sizeof uid, "%s-uid", name);
    json_t *p = json_pack("{s:{s:s, s:s, s:s, s:s, s:{s:s}}, s:{s:s}}", "metadata", "name", name, "namespace", "ns",
                          "uid", uid, "resourceVersion", rv, "labels", "app", app, "status", "phase", "Running");
    if (ctl) {
        snprintf(cuid, sizeof cuid, "%s-uid", ctl);
        json_object_set_new(json_object_get(p, "metadata"), "ownerReferences",
                            json_pack("[{s:s, s:s, s:s, s:s, s:b}]", "apiVersion", apiv, "kind", kind, "name", ctl,
                                      "uid", cuid, "controller", 1));
    }
    return p;
}

static json_t *pod(const char *name, const char *app, const char *ctl)
{
    return pod_of(name, app, ctl, "ReplicaSet", "apps/v1", "1");
}

/* ---- patches ----------------------------------------------------------------------- */

static void test_patches(void **state)
{
    (void)state;
    json_t *rs = owner("web", "web", false), *p = pod("p", "web", NULL);
    json_t *patch = ctrl_adopt_patch(&owners, rs, p);
    char *txt = json_dumps(patch, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(txt, "{\"metadata\":{\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"blockOwnerDeletion\":true,"
                             "\"controller\":true,\"kind\":\"ReplicaSet\",\"name\":\"web\",\"uid\":\"web-uid\"}],"
                             "\"uid\":\"p-uid\"}}");
    free(txt);
    json_decref(patch);
    patch = ctrl_release_patch(rs, p);
    txt = json_dumps(patch, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(txt, "{\"metadata\":{\"ownerReferences\":[{\"$patch\":\"delete\",\"uid\":\"web-uid\"}],"
                             "\"uid\":\"p-uid\"}}");
    free(txt);
    json_decref(patch);
    json_decref(rs);
    json_decref(p);
}

static void test_patches_with_finalizer(void **state)
{
    (void)state;
    static const ctrl_owner_t jobs = { .resource = "replicasets", .api_version = "batch/v1", .kind = "Job",
                                       .finalizer = "batch.kubernetes.io/job-tracking" };
    json_t *job = owner("pi", "pi", false), *p = pod("p", "pi", NULL);
    json_t *patch = ctrl_adopt_patch(&jobs, job, p);
    assert_string_equal(kobj_controller_uid(patch), "pi-uid");
    assert_string_equal(json_string_value(json_array_get(kobj_get(patch, "metadata.finalizers"), 0)),
                        "batch.kubernetes.io/job-tracking");
    assert_int_equal(json_array_size(kobj_get(patch, "metadata.finalizers")), 1);
    json_decref(patch);
    patch = ctrl_release_patch_as(&jobs, job, p);
    char *txt = json_dumps(patch, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(txt, "{\"metadata\":{\"$deleteFromPrimitiveList/finalizers\":[\"batch.kubernetes.io/job-tracking\"],"
                             "\"ownerReferences\":[{\"$patch\":\"delete\",\"uid\":\"pi-uid\"}],\"uid\":\"p-uid\"}}");
    free(txt);
    json_decref(patch);
    /* without a finalizer: the plain release */
    patch = ctrl_release_patch_as(&owners, job, p);
    assert_null(kobj_get(patch, "metadata.$deleteFromPrimitiveList/finalizers"));
    json_decref(patch);
    patch = ctrl_adopt_patch(&owners, job, p);
    assert_null(kobj_get(patch, "metadata.finalizers"));
    json_decref(patch);
    json_decref(job);
    json_decref(p);
}

static void test_issue_patches(void **state)
{
    (void)state;
    ctrl_runtime_t *rt = runtime(&owners);
    json_t *rs = owner("web", "web", false), *p = pod("p", "web", NULL);
    assert_true(ctrl_adopt(rt, "ns/web", &owners, rs, "pods", p, ctrl_claim_done, NULL) != 0);
    assert_true(ctrl_release(rt, "ns/web", rs, "pods", p, ctrl_claim_done, NULL) != 0);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__PATCH, "pods"), 2);
    const fx_action_t *a = fx_nth(&sent, KUBUS__V1__VERB__PATCH, "pods", 0);
    assert_string_equal(a->name, "p");
    assert_string_equal(kobj_controller_uid(a->body), "web-uid");
    const fx_action_t *r = fx_nth(&sent, KUBUS__V1__VERB__PATCH, "pods", 1);
    assert_string_equal(kobj_str(json_array_get(kobj_get(r->body, "metadata.ownerReferences"), 0), "$patch"),
                        "delete");
    /* gone, replaced, refused: nothing to do; anything else: back-off */
    fx_answer(rt, a, 409);
    assert_int_equal(workqueue_num_requeues(ctrl_queue(rt), "ns/web"), 0);
    fx_answer(rt, r, 500);
    assert_int_equal(workqueue_num_requeues(ctrl_queue(rt), "ns/web"), 1);
    json_decref(rs);
    json_decref(p);
    fx_runtime_destroy(&rt, &sent);
}

/* ---- resolving and routing ------------------------------------------------------------ */

static void test_resolve(void **state)
{
    (void)state;
    ctrl_runtime_t *rt = runtime(&owners);
    fx_apply(rt, "replicasets", owner("web", "web", false));
    json_t *p = pod("p", "web", "web");
    assert_non_null(ctrl_owner_of(rt, &owners, p));
    assert_string_equal(kobj_name(ctrl_owner_of(rt, &owners, p)), "web");
    json_decref(p);
    p = pod_of("p", "web", "web", "ReplicaSet", "apps/v1beta2", "1");   /* another version of the group */
    assert_non_null(ctrl_owner_of(rt, &owners, p));
    json_decref(p);
    p = pod_of("p", "web", "web", "ReplicaSet", "extensions/v1beta1", "1");   /* another group */
    assert_null(ctrl_owner_of(rt, &owners, p));
    json_decref(p);
    p = pod_of("p", "web", "web", "Deployment", "apps/v1", "1");   /* another kind */
    assert_null(ctrl_owner_of(rt, &owners, p));
    json_decref(p);
    p = pod("p", "web", "db");   /* not cached */
    assert_null(ctrl_owner_of(rt, &owners, p));
    json_decref(p);
    p = pod("p", "web", NULL);   /* an orphan */
    assert_null(ctrl_owner_of(rt, &owners, p));
    assert_null(ctrl_owner_of(rt, &owners, NULL));
    json_decref(p);
    /* the same name with another uid: a replacement, not the owner */
    json_t *q = pod("q", "web", "web");
    json_object_set_new(json_array_get(kobj_get(q, "metadata.ownerReferences"), 0), "uid", json_string("old-uid"));
    assert_null(ctrl_owner_of(rt, &owners, q));
    json_decref(q);
    /* the core group: "v1" is not "apps/v1" */
    static const ctrl_owner_t core = { .resource = "replicasets", .api_version = "v1", .kind = "ReplicaSet" };
    p = pod("p", "web", "web");
    assert_null(ctrl_owner_of(rt, &core, p));
    json_decref(p);
    p = pod_of("p", "web", "web", "ReplicaSet", "v1", "1");
    assert_non_null(ctrl_owner_of(rt, &core, p));
    json_decref(p);
    fx_runtime_destroy(&rt, &sent);
}

static void test_route_owned(void **state)
{
    (void)state;
    ctrl_runtime_t *rt = runtime(&owners);
    fx_apply(rt, "replicasets", owner("a", "web", false));
    fx_apply(rt, "replicasets", owner("b", "web", false));
    fx_apply(rt, "replicasets", owner("c", "db", false));
    fx_apply(rt, "replicasets", owner("all", "", false));   /* an empty selector selects nothing */
    step(rt);
    /* a controlled pod wakes its controller only */
    fx_apply(rt, "pods", pod("p1", "web", "c"));
    assert_string_equal(step(rt), "ns/c");
    /* an orphan wakes every ReplicaSet selecting it */
    fx_apply(rt, "pods", pod("p2", "web", NULL));
    assert_string_equal(step(rt), "ns/a ns/b");
    /* the controller changes: the old one and the new one */
    fx_apply(rt, "pods", pod_of("p1", "web", "a", "ReplicaSet", "apps/v1", "2"));
    assert_string_equal(step(rt), "ns/a ns/c");
    /* an orphan relabelled: who selected it before and who does now */
    fx_apply(rt, "pods", pod_of("p2", "db", NULL, NULL, NULL, "2"));
    assert_string_equal(step(rt), "ns/a ns/b ns/c");
    /* nothing relevant changed: only who selects it now */
    json_t *p = pod_of("p2", "db", NULL, NULL, NULL, "3");
    json_object_set_new(json_object_get(p, "status"), "phase", json_string("Succeeded"));
    fx_apply(rt, "pods", p);
    assert_string_equal(step(rt), "ns/c");
    /* deleted: its owners still hear of it */
    json_t *gone = pod("p1", "web", "a");
    ctrl_test_apply(rt, "pods", &gone, true);
    assert_string_equal(step(rt), "ns/a");
    fx_runtime_destroy(&rt, &sent);
}

/* A selects function: only owners named "a" select anything. */
static bool only_a(const ctrl_owner_t *o, const json_t *rs, const json_t *obj)
{
    (void)o;
    return strcmp(kobj_name(rs), "a") == 0 && ctrl_spec_selects(rs, obj);
}

static void test_route_custom_selects(void **state)
{
    (void)state;
    static const ctrl_owner_t picky = { .resource = "replicasets", .api_version = "apps/v1", .kind = "ReplicaSet",
                                        .selects = only_a };
    ctrl_runtime_t *rt = runtime(&picky);
    fx_apply(rt, "replicasets", owner("a", "web", false));
    fx_apply(rt, "replicasets", owner("b", "web", false));
    step(rt);
    fx_apply(rt, "pods", pod("p", "web", NULL));
    assert_string_equal(step(rt), "ns/a");
    fx_runtime_destroy(&rt, &sent);
}

static void test_route_batched(void **state)
{
    (void)state;
    static const ctrl_owner_t batched = { .resource = "replicasets", .api_version = "apps/v1", .kind = "ReplicaSet",
                                          .enqueue_after_ms = 1000 };
    ctrl_runtime_t *rt = runtime(&batched);
    ctrl_test_set_mono_ms(rt, 5000);
    fx_apply(rt, "replicasets", owner("a", "web", false));
    fx_apply(rt, "replicasets", owner("b", "db", false));
    step(rt);
    fx_apply(rt, "pods", pod("p1", "web", "b"));   /* controlled: b, a second later */
    fx_apply(rt, "pods", pod("p2", "web", NULL));  /* orphan: a, a second later */
    assert_string_equal(step(rt), "");
    ctrl_test_set_mono_ms(rt, 5999);
    assert_string_equal(step(rt), "");
    ctrl_test_set_mono_ms(rt, 6000);
    assert_string_equal(step(rt), "ns/a ns/b");
    fx_runtime_destroy(&rt, &sent);
}

static void test_route_no_orphans(void **state)
{
    (void)state;
    static const ctrl_owner_t never = { .resource = "replicasets", .api_version = "apps/v1", .kind = "ReplicaSet",
                                        .no_orphans = true };
    ctrl_runtime_t *rt = runtime(&never);
    fx_apply(rt, "replicasets", owner("a", "web", false));
    step(rt);
    fx_apply(rt, "pods", pod("p1", "web", NULL));   /* an orphan: nobody */
    assert_string_equal(step(rt), "");
    fx_apply(rt, "pods", pod_of("p1", "web", "a", "ReplicaSet", "apps/v1", "2"));   /* now controlled */
    assert_string_equal(step(rt), "ns/a");
    fx_apply(rt, "pods", pod_of("p1", "web", NULL, NULL, NULL, "3"));   /* released: the old controller */
    assert_string_equal(step(rt), "ns/a");
    fx_runtime_destroy(&rt, &sent);
}

/* ---- adoption after a live GET ----------------------------------------------------------- */

static json_t *uids(const char *a, const char *b, const char *c)
{
    json_t *u = json_array();
    const char *v[] = { a, b, c };
    for (int i = 0; i < 3; i++)
        if (v[i]) json_array_append_new(u, json_string(v[i]));
    return u;
}

static int adopted_calls;

static void count_adopt(ctrl_runtime_t *rt, const char *key, const json_t *o, const char *resource,
                        const json_t *obj, void *ud)
{
    (void)rt;
    (void)key;
    (void)o;
    (void)resource;
    (void)ud;
    assert_string_equal(kobj_name(obj), "p1");
    adopted_calls++;
}

static bool not_p2(const json_t *o, const json_t *obj, void *ud)
{
    (void)o;
    (void)ud;
    return strcmp(kobj_name(obj), "p2") != 0;
}

static void test_adopt_after_get(void **state)
{
    (void)state;
    ctrl_runtime_t *rt = runtime(&owners);
    ctrl_adopter_t *a = ctrl_adopter_new(&(ctrl_adopter_config_t){ .owner = &owners });
    assert_non_null(a);
    json_t *rs = owner("web", "web", false);
    fx_apply(rt, "replicasets", json_deep_copy(rs));
    fx_apply(rt, "pods", pod("p1", "web", NULL));   /* still an orphan: adopted */
    fx_apply(rt, "pods", pod("p2", "web", "other"));   /* taken meanwhile */
    fx_apply(rt, "pods", pod("p3", "db", NULL));   /* relabelled meanwhile */
    step(rt);
    fx_reset(&sent);
    json_t *u = uids("p1-uid", "p2-uid", "p3-uid");
    json_array_append_new(u, json_string("gone-uid"));   /* deleted meanwhile */
    assert_int_equal(ctrl_adopter_start(a, rt, "ns/web", rs, "pods", &u), 0);
    assert_null(u);
    /* nothing but the live read first */
    assert_int_equal(sent.n, 1);
    const fx_action_t *get = fx_find(&sent, KUBUS__V1__VERB__GET, "replicasets");
    assert_string_equal(get->name, "web");
    fx_answer_with(rt, get, 200, NULL, rs);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__PATCH, "pods"), 1);
    const fx_action_t *p = fx_find(&sent, KUBUS__V1__VERB__PATCH, "pods");
    assert_string_equal(p->name, "p1");
    assert_string_equal(kobj_str(p->body, "metadata.uid"), "p1-uid");
    assert_string_equal(kobj_controller_uid(p->body), "web-uid");
    /* no resync asked: nothing queued */
    assert_string_equal(step(rt), "");
    ctrl_adopter_destroy(&a);
    assert_null(a);
    json_decref(rs);
    fx_runtime_destroy(&rt, &sent);
}

static void test_adopt_refused(void **state)
{
    (void)state;
    ctrl_runtime_t *rt = runtime(&owners);
    ctrl_adopter_t *a = ctrl_adopter_new(&(ctrl_adopter_config_t){ .owner = &owners });
    json_t *rs = owner("web", "web", false);
    fx_apply(rt, "replicasets", json_deep_copy(rs));
    fx_apply(rt, "pods", pod("p1", "web", NULL));
    step(rt);
    /* the live object is being deleted */
    fx_reset(&sent);
    json_t *u = uids("p1-uid", NULL, NULL);
    ctrl_adopter_start(a, rt, "ns/web", rs, "pods", &u);
    json_t *live = owner("web", "web", true);
    fx_answer_with(rt, fx_find(&sent, KUBUS__V1__VERB__GET, "replicasets"), 200, NULL, live);
    json_decref(live);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__PATCH, NULL), 0);
    /* the live object is another one of the same name */
    fx_reset(&sent);
    u = uids("p1-uid", NULL, NULL);
    ctrl_adopter_start(a, rt, "ns/web", rs, "pods", &u);
    live = owner("web", "web", false);
    json_object_set_new(json_object_get(live, "metadata"), "uid", json_string("new-uid"));
    fx_answer_with(rt, fx_find(&sent, KUBUS__V1__VERB__GET, "replicasets"), 200, NULL, live);
    json_decref(live);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__PATCH, NULL), 0);
    /* 404: gone, nothing more to do */
    fx_reset(&sent);
    u = uids("p1-uid", NULL, NULL);
    ctrl_adopter_start(a, rt, "ns/web", rs, "pods", &u);
    fx_answer(rt, fx_find(&sent, KUBUS__V1__VERB__GET, "replicasets"), 404);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__PATCH, NULL), 0);
    assert_int_equal(workqueue_num_requeues(ctrl_queue(rt), "ns/web"), 0);
    /* the read failed: try again later, with back-off */
    fx_reset(&sent);
    u = uids("p1-uid", NULL, NULL);
    ctrl_adopter_start(a, rt, "ns/web", rs, "pods", &u);
    fx_answer(rt, fx_find(&sent, KUBUS__V1__VERB__GET, "replicasets"), 500);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__PATCH, NULL), 0);
    assert_int_equal(workqueue_num_requeues(ctrl_queue(rt), "ns/web"), 1);
    ctrl_adopter_destroy(&a);
    json_decref(rs);
    fx_runtime_destroy(&rt, &sent);
}

static void test_adopt_hooks(void **state)
{
    (void)state;
    ctrl_runtime_t *rt = runtime(&owners);
    /* still: an extra test; adopt: instead of the patch; resync: queue the owner */
    ctrl_adopter_t *a = ctrl_adopter_new(&(ctrl_adopter_config_t){ .owner = &owners, .still = not_p2,
                                                                   .adopt = count_adopt, .resync = true });
    json_t *rs = owner("web", "web", false);
    fx_apply(rt, "replicasets", json_deep_copy(rs));
    fx_apply(rt, "pods", pod("p1", "web", NULL));
    fx_apply(rt, "pods", pod("p2", "web", NULL));
    step(rt);
    fx_reset(&sent);
    json_t *u = uids("p1-uid", "p2-uid", NULL);
    ctrl_adopter_start(a, rt, "ns/web", rs, "pods", &u);
    adopted_calls = 0;
    fx_answer_with(rt, fx_find(&sent, KUBUS__V1__VERB__GET, "replicasets"), 200, NULL, rs);
    assert_int_equal(adopted_calls, 1);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__PATCH, NULL), 0);
    assert_string_equal(step(rt), "ns/web");
    /* a new start for the same key replaces the one under way */
    fx_reset(&sent);
    u = uids("p2-uid", NULL, NULL);
    ctrl_adopter_start(a, rt, "ns/web", rs, "pods", &u);
    u = uids("p1-uid", NULL, NULL);
    ctrl_adopter_start(a, rt, "ns/web", rs, "pods", &u);
    adopted_calls = 0;
    fx_answer_with(rt, fx_nth(&sent, KUBUS__V1__VERB__GET, "replicasets", 0), 200, NULL, rs);
    fx_answer_with(rt, fx_nth(&sent, KUBUS__V1__VERB__GET, "replicasets", 1), 200, NULL, rs);
    assert_int_equal(adopted_calls, 1);
    ctrl_adopter_destroy(&a);
    json_decref(rs);
    fx_runtime_destroy(&rt, &sent);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_patches),
        cmocka_unit_test(test_patches_with_finalizer),
        cmocka_unit_test(test_issue_patches),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_route_owned),
        cmocka_unit_test(test_route_custom_selects),
        cmocka_unit_test(test_route_batched),
        cmocka_unit_test(test_route_no_orphans),
        cmocka_unit_test(test_adopt_after_get),
        cmocka_unit_test(test_adopt_refused),
        cmocka_unit_test(test_adopt_hooks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
