/* Unit tests for the garbage collector as a controller (gc_ctl.c, gc_job.c,
 * gc_attempt.c, gc_orphan.c), driven through the runtime's socket-free test
 * mode: events go in with ctrl_test_apply, the actions the GC sends are
 * decoded and answered like the executor would. Each GC path end to end:
 * background, orphan, foreground (blocked, then finished), multiple owners
 * with a dangling one, cross-namespace and recreated owners, stale deletes,
 * malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "ctrl/runtime.h"
#include "gc_ctl.h"
#include "gc_fixture.h"
#include "msg.h"


#define MAX_SENT 256

typedef struct {
    gc_ctl_t *gc;
    ctrl_runtime_t *rt;
    msg_envelope_t *sent[MAX_SENT];
    bool answered[MAX_SENT];
    int n_sent;
} h_t;

static int capture(const uint8_t *buf, size_t len, void *ud)
{
    h_t *h = ud;
    char err[128];
    msg_envelope_t *env = msg_decode(buf, len, err, sizeof err);
    assert_non_null(env);
    if (env->body_case != KUBUS__V1__ENVELOPE__BODY_ACTION || h->n_sent >= MAX_SENT) {
        msg_free(env);
        return 0;
    }
    h->sent[h->n_sent++] = env;
    return 0;
}

static int setup(void **state)
{
    h_t *h = calloc(1, sizeof *h);
    if (!h) return -1;
    h->gc = gc_ctl_new();
    ctrl_config_t cfg;
    gc_ctl_config(h->gc, &cfg, 20);
    h->rt = ctrl_runtime_new_test(&cfg, capture, h);
    if (!h->rt || gc_ctl_attach(h->gc, h->rt) != 0) return -1;
    *state = h;
    return 0;
}

static int teardown(void **state)
{
    h_t *h = *state;
    ctrl_runtime_destroy(&h->rt);
    gc_ctl_destroy(&h->gc);
    for (int i = 0; i < h->n_sent; i++) msg_free(h->sent[i]);
    free(h);
    return 0;
}

/* ---- feeding events ------------------------------------------------------- */

static void apply(h_t *h, const char *resource, const char *av, const char *kind, const char *ns,
                  const char *name, const char *uid, const char *rv, bool deleting,
                  const char *finalizers, const char *refs, bool deleted)
{
    char *s = fx_obj(ns, name, uid, rv, deleting, finalizers, refs);
    json_t *o = json_loads(s, 0, NULL);
    free(s);
    assert_non_null(o);
    json_object_set_new(o, "apiVersion", json_string(av));
    json_object_set_new(o, "kind", json_string(kind));
    assert_int_equal(ctrl_test_apply(h->rt, resource, &o, deleted), 0);
}

static void pod(h_t *h, const char *ns, const char *name, const char *rv, bool deleting,
                const char *refs, bool deleted)
{
    apply(h, "pods", "v1", "Pod", ns, name, name, rv, deleting, "", refs, deleted);
}

static void rs(h_t *h, const char *ns, const char *name, const char *rv, bool deleting,
               const char *fin, bool deleted)
{
    apply(h, "replicasets", "apps/v1", "ReplicaSet", ns, name, name, rv, deleting, fin, "", deleted);
}

static char *rsref(char *b, size_t n, const char *name, const char *flags)
{
    return fx_ref(b, n, "apps/v1", "ReplicaSet", name, name, flags);
}

/* ---- actions out, results in ---------------------------------------------- */

static const msg_action_t *act(h_t *h, int i)
{
    assert_true(i < h->n_sent);
    return h->sent[i]->action;
}

/* The index of the first unanswered action with this verb and name, or -1. */
static int find(h_t *h, int verb, const char *name)
{
    for (int i = 0; i < h->n_sent; i++)
        if (!h->answered[i] && (int)act(h, i)->verb == verb && strcmp(act(h, i)->name, name) == 0) return i;
    return -1;
}

static int expect(h_t *h, int verb, const char *name)
{
    int i = find(h, verb, name);
    if (i < 0) fail_msg("no unanswered %s of %s", msg_verb_name(verb), name);
    return i;
}

static int unanswered(h_t *h)
{
    int n = 0;
    for (int i = 0; i < h->n_sent; i++) n += !h->answered[i];
    return n;
}

static void answer(h_t *h, int i, unsigned status, const char *object_json)
{
    Kubus__V1__ActionResult r;
    kubus__v1__action_result__init(&r);
    r.id = act(h, i)->id;
    r.controller = "garbagecollector";
    r.status = status;
    r.verb = act(h, i)->verb;
    if (object_json) {
        r.object.data = (uint8_t *)object_json;
        r.object.len = strlen(object_json);
    }
    h->answered[i] = true;
    actions_on_result(ctrl_actions(h->rt), &r);
}

static void answer_obj(h_t *h, int i, const char *ns, const char *name, const char *uid, bool deleting,
                       const char *fin)
{
    char *s = fx_obj(ns, name, uid, "99", deleting, fin, "");
    answer(h, i, 200, s);
    free(s);
}

static char *body(const msg_action_t *a)
{
    char *s = malloc(a->body.len + 1);
    assert_non_null(s);
    memcpy(s, a->body.data, a->body.len);
    s[a->body.len] = '\0';
    return s;
}

static void assert_body(const msg_action_t *a, const char *want)
{
    char *s = body(a);
    assert_string_equal(s, want);
    free(s);
}

static void ready(h_t *h)
{
    ctrl_test_mark_ready(h->rt);
    ctrl_test_step(h->rt);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- paths ------------------------------------------------------------------ */

static void test_background_cascade(void **state)
{
    h_t *h = *state;
    char r[512];
    rsref(r, sizeof r, "rs1", "cb");
    pod(h, "ns", "p1", "10", false, r, false);     /* pods first: rs1 virtual */
    rs(h, "ns", "rs1", "5", false, "", false);
    pod(h, "ns", "p2", "11", false, r, false);
    ready(h);
    assert_int_equal(h->n_sent, 0);                /* everything has its owner */

    rs(h, "ns", "rs1", "5", false, "", true);      /* kubectl delete rs (background) */
    ctrl_test_step(h->rt);
    /* the cache alone never says "gone": each pod asks the API server */
    int g1 = expect(h, KUBUS__V1__VERB__GET, "rs1");
    assert_string_equal(act(h, g1)->resource, "replicasets");
    assert_string_equal(act(h, g1)->namespace_, "ns");
    answer(h, g1, 404, NULL);
    int d1 = find(h, KUBUS__V1__VERB__DELETE, "p1");
    int d2 = find(h, KUBUS__V1__VERB__DELETE, "p2");
    assert_true(d1 >= 0 || d2 >= 0);
    /* the second pod's GET (if one was sent) also says 404 */
    int g2 = find(h, KUBUS__V1__VERB__GET, "rs1");
    if (g2 >= 0) answer(h, g2, 404, NULL);
    ctrl_test_step(h->rt);
    d1 = expect(h, KUBUS__V1__VERB__DELETE, "p1");
    d2 = expect(h, KUBUS__V1__VERB__DELETE, "p2");
    const msg_action_t *a = act(h, d1);
    assert_string_equal(a->resource, "pods");
    assert_string_equal(a->precondition_uid, "p1");
    assert_string_equal(a->precondition_resource_version, "10");
    assert_int_equal(a->propagation, KUBUS__V1__PROPAGATION__BACKGROUND);
    answer(h, d1, 200, NULL);
    answer(h, d2, 404, NULL);   /* already gone counts as done */
    assert_int_equal(gc_ctl_jobs(h->gc), 0);
    assert_int_equal(unanswered(h), 0);
    gc_stats_t st;
    gc_ctl_stats(h->gc, &st);
    assert_int_equal(st.retries, 0);
    assert_int_equal(st.deletes, 2);
}

static void test_no_second_request_for_a_version_already_acted_on(void **state)
{
    h_t *h = *state;
    char x[512];
    fx_ref(x, sizeof x, "apps/v1", "ReplicaSet", "ghost", "ghost-uid", "c");
    pod(h, "ns", "p", "3", false, x, false);
    ready(h);
    answer(h, expect(h, KUBUS__V1__VERB__GET, "ghost"), 404, NULL);
    ctrl_test_step(h->rt);
    answer(h, expect(h, KUBUS__V1__VERB__DELETE, "p"), 200, NULL);
    /* looked at again before the informer shows the deletion: nothing sent */
    assert_int_equal(gc_ctl_sync(h->rt, "D/p", h->gc), 0);
    assert_int_equal(unanswered(h), 0);
    /* a newer version (say the DELETE was lost and the pod changed): looked at anew */
    pod(h, "ns", "p", "4", false, x, false);
    ctrl_test_step(h->rt);
    assert_int_equal(gc_ctl_sync(h->rt, "D/p", h->gc), 0);
    expect(h, KUBUS__V1__VERB__DELETE, "p");
}

static void test_orphan(void **state)
{
    h_t *h = *state;
    char r[512];
    rsref(r, sizeof r, "rs1", "cb");
    rs(h, "ns", "rs1", "5", false, "", false);
    pod(h, "ns", "p1", "10", false, r, false);
    pod(h, "ns", "p2", "11", false, r, false);
    ready(h);
    /* kubectl delete --cascade=orphan */
    rs(h, "ns", "rs1", "6", true, "\"orphan\"", false);
    ctrl_test_step(h->rt);
    int p1 = expect(h, KUBUS__V1__VERB__PATCH, "p1");
    int p2 = expect(h, KUBUS__V1__VERB__PATCH, "p2");
    assert_int_equal(act(h, p1)->patch_type, KUBUS__V1__PATCH_TYPE__JSON_PATCH);
    assert_body(act(h, p1), "[{\"op\":\"test\",\"path\":\"/metadata/ownerReferences/0/uid\",\"value\":\"rs1\"},"
                            "{\"op\":\"remove\",\"path\":\"/metadata/ownerReferences/0\"}]");
    assert_int_equal(find(h, KUBUS__V1__VERB__PATCH, "rs1"), -1);   /* not before the dependents */
    answer(h, p1, 200, NULL);
    answer(h, p2, 200, NULL);
    int f = expect(h, KUBUS__V1__VERB__PATCH, "rs1");
    assert_string_equal(act(h, f)->resource, "replicasets");
    assert_body(act(h, f), "[{\"op\":\"test\",\"path\":\"/metadata/finalizers/0\",\"value\":\"orphan\"},"
                           "{\"op\":\"remove\",\"path\":\"/metadata/finalizers/0\"}]");
    answer(h, f, 200, NULL);
    assert_int_equal(gc_ctl_jobs(h->gc), 0);

    /* the informer shows the orphaned pods, then the owner going: nothing is deleted */
    pod(h, "ns", "p1", "12", false, "", false);
    pod(h, "ns", "p2", "13", false, "", false);
    rs(h, "ns", "rs1", "6", true, "", true);
    ctrl_test_step(h->rt);
    assert_int_equal(unanswered(h), 0);
}

static void test_orphan_race_with_owner_delete_event(void **state)
{
    h_t *h = *state;
    char r[512];
    rsref(r, sizeof r, "rs1", "cb");
    rs(h, "ns", "rs1", "5", false, "", false);
    pod(h, "ns", "p1", "10", false, r, false);
    ready(h);
    rs(h, "ns", "rs1", "6", true, "\"orphan\"", false);
    ctrl_test_step(h->rt);
    answer(h, expect(h, KUBUS__V1__VERB__PATCH, "p1"), 200, NULL);
    answer(h, expect(h, KUBUS__V1__VERB__PATCH, "rs1"), 200, NULL);
    /* the owner's delete arrives before the pod's update (another stream) */
    rs(h, "ns", "rs1", "6", true, "", true);
    ctrl_test_step(h->rt);
    answer(h, expect(h, KUBUS__V1__VERB__GET, "rs1"), 404, NULL);
    ctrl_test_step(h->rt);
    /* the stale view would delete the pod: the resourceVersion precondition
     * makes the API server refuse (our patch changed it) */
    int d = expect(h, KUBUS__V1__VERB__DELETE, "p1");
    assert_string_equal(act(h, d)->precondition_resource_version, "10");
    answer(h, d, 409, NULL);
    /* upstream's check: did its owners change since the decision? yes */
    int g = expect(h, KUBUS__V1__VERB__GET, "p1");
    assert_string_equal(act(h, g)->resource, "pods");
    char *now = fx_obj("ns", "p1", "p1", "12", false, "", "");
    answer(h, g, 200, now);
    free(now);
    assert_int_equal(find(h, KUBUS__V1__VERB__DELETE, "p1"), -1);
    gc_stats_t st;
    gc_ctl_stats(h->gc, &st);
    assert_int_equal(st.retries, 1);
    /* the update arrives; the retry finds a pod without owners */
    pod(h, "ns", "p1", "12", false, "", false);
    sleep_ms(80);
    ctrl_test_step(h->rt);
    assert_int_equal(unanswered(h), 0);
}

static void test_conflict_with_same_owners_deletes_by_uid(void **state)
{
    h_t *h = *state;
    char x[512];
    fx_ref(x, sizeof x, "apps/v1", "ReplicaSet", "ghost", "ghost-uid", "c");
    pod(h, "ns", "p", "3", false, x, false);
    ready(h);
    answer(h, expect(h, KUBUS__V1__VERB__GET, "ghost"), 404, NULL);
    ctrl_test_step(h->rt);
    answer(h, expect(h, KUBUS__V1__VERB__DELETE, "p"), 409, NULL);   /* status changed meanwhile */
    char *live = fx_obj("ns", "p", "p", "4", false, "", x);
    answer(h, expect(h, KUBUS__V1__VERB__GET, "p"), 200, live);
    free(live);
    /* same owners: the decision stands, delete by uid alone */
    int d = expect(h, KUBUS__V1__VERB__DELETE, "p");
    assert_string_equal(act(h, d)->precondition_uid, "p");
    assert_string_equal(act(h, d)->precondition_resource_version, "");
    assert_int_equal(act(h, d)->propagation, KUBUS__V1__PROPAGATION__BACKGROUND);
    answer(h, d, 200, NULL);
    assert_int_equal(gc_ctl_jobs(h->gc), 0);
    gc_stats_t st;
    gc_ctl_stats(h->gc, &st);
    assert_int_equal(st.retries, 0);
}

static void test_foreground(void **state)
{
    h_t *h = *state;
    char blk[512], nob[512];
    rsref(blk, sizeof blk, "rs1", "cb");
    rsref(nob, sizeof nob, "rs1", "");
    rs(h, "ns", "rs1", "5", false, "", false);
    pod(h, "ns", "p1", "10", false, blk, false);
    pod(h, "ns", "p2", "11", false, nob, false);
    ready(h);
    /* kubectl delete --cascade=foreground */
    rs(h, "ns", "rs1", "6", true, "\"foregroundDeletion\"", false);
    ctrl_test_step(h->rt);
    ctrl_test_step(h->rt);
    /* both pods look at their owner: it waits for them */
    int g;
    while ((g = find(h, KUBUS__V1__VERB__GET, "rs1")) >= 0)
        answer_obj(h, g, "ns", "rs1", "rs1", true, "\"foregroundDeletion\"");
    int d1 = expect(h, KUBUS__V1__VERB__DELETE, "p1");
    int d2 = expect(h, KUBUS__V1__VERB__DELETE, "p2");
    assert_int_equal(act(h, d1)->propagation, KUBUS__V1__PROPAGATION__BACKGROUND);  /* leaves */
    /* the owner keeps its finalizer while a blocking dependent exists */
    assert_int_equal(find(h, KUBUS__V1__VERB__PATCH, "rs1"), -1);
    answer(h, d1, 200, NULL);
    answer(h, d2, 200, NULL);
    pod(h, "ns", "p1", "12", true, blk, false);     /* terminating: still blocks */
    ctrl_test_step(h->rt);
    assert_int_equal(find(h, KUBUS__V1__VERB__PATCH, "rs1"), -1);
    pod(h, "ns", "p2", "13", true, nob, true);      /* a non-blocking one goes: still waits */
    ctrl_test_step(h->rt);
    assert_int_equal(find(h, KUBUS__V1__VERB__PATCH, "rs1"), -1);
    pod(h, "ns", "p1", "12", true, blk, true);      /* the last blocking one goes */
    ctrl_test_step(h->rt);
    int f = expect(h, KUBUS__V1__VERB__PATCH, "rs1");
    assert_body(act(h, f), "[{\"op\":\"test\",\"path\":\"/metadata/finalizers/0\",\"value\":\"foregroundDeletion\"},"
                           "{\"op\":\"remove\",\"path\":\"/metadata/finalizers/0\"}]");
    answer(h, f, 200, NULL);
    assert_int_equal(gc_ctl_jobs(h->gc), 0);
}

static void test_foreground_cascades_through_owners_with_dependents(void **state)
{
    h_t *h = *state;
    char d[512], r[512];
    fx_ref(d, sizeof d, "apps/v1", "Deployment", "dep", "dep", "cb");
    rsref(r, sizeof r, "rs1", "cb");
    apply(h, "deployments", "apps/v1", "Deployment", "ns", "dep", "dep", "1", false, "", "", false);
    apply(h, "replicasets", "apps/v1", "ReplicaSet", "ns", "rs1", "rs1", "2", false, "", d, false);
    pod(h, "ns", "p1", "3", false, r, false);
    ready(h);
    apply(h, "deployments", "apps/v1", "Deployment", "ns", "dep", "dep", "4", true,
          "\"foregroundDeletion\"", "", false);
    ctrl_test_step(h->rt);
    int g = expect(h, KUBUS__V1__VERB__GET, "dep");
    assert_string_equal(act(h, g)->resource, "deployments");
    answer_obj(h, g, "ns", "dep", "dep", true, "\"foregroundDeletion\"");
    /* the ReplicaSet has a dependent: it goes in the foreground too */
    int del = expect(h, KUBUS__V1__VERB__DELETE, "rs1");
    assert_int_equal(act(h, del)->propagation, KUBUS__V1__PROPAGATION__FOREGROUND);
    answer(h, del, 200, NULL);
}

static void test_multiple_owners_dangling_ref_removed(void **state)
{
    h_t *h = *state;
    char a[512], x[512], refs[1100];
    rsref(a, sizeof a, "rsa", "");
    fx_ref(x, sizeof x, "apps/v1", "ReplicaSet", "gone", "rsx", "");
    snprintf(refs, sizeof refs, "%s,%s", a, x);
    rs(h, "ns", "rsa", "1", false, "", false);
    pod(h, "ns", "p", "7", false, refs, false);
    ready(h);
    /* the unknown owner is checked */
    int g = expect(h, KUBUS__V1__VERB__GET, "gone");
    answer(h, g, 404, NULL);
    ctrl_test_step(h->rt);
    /* the pod keeps living, without the dangling reference */
    assert_int_equal(find(h, KUBUS__V1__VERB__DELETE, "p"), -1);
    int p = expect(h, KUBUS__V1__VERB__PATCH, "p");
    assert_body(act(h, p), "[{\"op\":\"test\",\"path\":\"/metadata/ownerReferences/1/uid\",\"value\":\"rsx\"},"
                           "{\"op\":\"remove\",\"path\":\"/metadata/ownerReferences/1\"}]");
    answer(h, p, 200, NULL);
    assert_int_equal(gc_ctl_jobs(h->gc), 0);
}

static void test_bare_pod_with_missing_owner_deleted(void **state)
{
    h_t *h = *state;
    char x[512];
    fx_ref(x, sizeof x, "apps/v1", "ReplicaSet", "ghost", "ghost-uid", "c");
    pod(h, "ns", "bare", "3", false, x, false);
    ready(h);
    int g = expect(h, KUBUS__V1__VERB__GET, "ghost");
    answer(h, g, 404, NULL);
    ctrl_test_step(h->rt);
    int d = expect(h, KUBUS__V1__VERB__DELETE, "bare");
    assert_string_equal(act(h, d)->precondition_uid, "bare");
    answer(h, d, 200, NULL);
}

static void test_recreated_owner_is_not_the_owner(void **state)
{
    h_t *h = *state;
    char x[512];
    fx_ref(x, sizeof x, "apps/v1", "ReplicaSet", "web", "old-uid", "c");
    pod(h, "ns", "p", "3", false, x, false);
    ready(h);
    /* "web" exists, but it is another object (another uid) */
    answer_obj(h, expect(h, KUBUS__V1__VERB__GET, "web"), "ns", "web", "new-uid", false, "");
    ctrl_test_step(h->rt);
    answer(h, expect(h, KUBUS__V1__VERB__DELETE, "p"), 200, NULL);
}

static void test_cross_namespace_owner_is_absent(void **state)
{
    h_t *h = *state;
    char r[512];
    rsref(r, sizeof r, "rs1", "");
    rs(h, "ns1", "rs1", "1", false, "", false);
    pod(h, "ns2", "p", "3", false, r, false);
    ready(h);
    /* looked up where the pod lives, not where the graph saw the uid */
    int g = expect(h, KUBUS__V1__VERB__GET, "rs1");
    assert_string_equal(act(h, g)->namespace_, "ns2");
    answer(h, g, 404, NULL);
    answer(h, expect(h, KUBUS__V1__VERB__DELETE, "p"), 200, NULL);
    /* the ns1 owner is untouched and still observed */
    assert_true(gc_node_observed(gc_graph_find(gc_ctl_graph(h->gc), "rs1")));
}

static void test_virtual_owner_present_but_unobserved_is_retried(void **state)
{
    h_t *h = *state;
    char r[512];
    rsref(r, sizeof r, "rs1", "cb");
    pod(h, "ns", "p", "3", false, r, false);
    ready(h);
    answer_obj(h, expect(h, KUBUS__V1__VERB__GET, "rs1"), "ns", "rs1", "rs1", false, "");
    gc_stats_t st;
    gc_ctl_stats(h->gc, &st);
    assert_int_equal(st.retries, 1);
    assert_int_equal(find(h, KUBUS__V1__VERB__DELETE, "p"), -1);
    /* it shows up: the retry has nothing to do */
    rs(h, "ns", "rs1", "1", false, "", false);
    sleep_ms(80);
    ctrl_test_step(h->rt);
    assert_int_equal(unanswered(h), 0);
}

static void test_owner_lookup_failure_retries(void **state)
{
    h_t *h = *state;
    char x[512];
    fx_ref(x, sizeof x, "apps/v1", "ReplicaSet", "ghost", "ghost-uid", "c");
    pod(h, "ns", "p", "3", false, x, false);
    ready(h);
    answer(h, expect(h, KUBUS__V1__VERB__GET, "ghost"), 503, NULL);
    assert_int_equal(find(h, KUBUS__V1__VERB__DELETE, "p"), -1);
    sleep_ms(80);
    ctrl_test_step(h->rt);
    answer(h, expect(h, KUBUS__V1__VERB__GET, "ghost"), 404, NULL);
    ctrl_test_step(h->rt);
    answer(h, expect(h, KUBUS__V1__VERB__DELETE, "p"), 200, NULL);
}

static void test_unknown_owner_kind_keeps_dependent(void **state)
{
    h_t *h = *state;
    char w[512];
    fx_ref(w, sizeof w, "example.com/v1", "Widget", "w", "w1", "c");
    pod(h, "ns", "p", "3", false, w, false);
    ready(h);
    assert_int_equal(h->n_sent, 0);
}

static void test_name_reused_by_another_object(void **state)
{
    h_t *h = *state;
    char r[512];
    rsref(r, sizeof r, "rs1", "cb");
    rs(h, "ns", "rs1", "1", false, "", false);
    pod(h, "ns", "p", "3", false, r, false);
    ready(h);
    /* the cache sees "ns/rs1" replaced by a new object (re-list): the old
     * uid is gone, and the pod's owner must be checked */
    apply(h, "replicasets", "apps/v1", "ReplicaSet", "ns", "rs1", "rs1-new", "9", false, "", "", false);
    ctrl_test_step(h->rt);
    answer_obj(h, expect(h, KUBUS__V1__VERB__GET, "rs1"), "ns", "rs1", "rs1-new", false, "");
    ctrl_test_step(h->rt);
    answer(h, expect(h, KUBUS__V1__VERB__DELETE, "p"), 200, NULL);
}

static void test_malformed_object_refused(void **state)
{
    h_t *h = *state;
    json_t *o = json_pack("{s:{s:s,s:s,s:s,s:[{s:s}]}}", "metadata", "name", "p", "namespace", "ns",
                          "uid", "u", "ownerReferences", "uid", "x");
    assert_int_equal(ctrl_test_apply(h->rt, "pods", &o, false), 0);
    gc_stats_t st;
    gc_ctl_stats(h->gc, &st);
    assert_int_equal(st.objects_refused, 1);
    assert_null(gc_graph_find(gc_ctl_graph(h->gc), "u"));
    ready(h);
    assert_int_equal(h->n_sent, 0);
}

static void test_foreign_keys_ignored(void **state)
{
    h_t *h = *state;
    assert_int_equal(gc_ctl_sync(h->rt, "ns/name", h->gc), 0);
    assert_int_equal(gc_ctl_sync(h->rt, "D/", h->gc), 0);
    assert_int_equal(gc_ctl_sync(h->rt, "D/unknown", h->gc), 0);
    assert_int_equal(gc_ctl_sync(h->rt, "O/unknown", h->gc), 0);
    assert_int_equal(h->n_sent, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_background_cascade),
        T(test_no_second_request_for_a_version_already_acted_on),
        T(test_orphan),
        T(test_orphan_race_with_owner_delete_event),
        T(test_conflict_with_same_owners_deletes_by_uid),
        T(test_foreground),
        T(test_foreground_cascades_through_owners_with_dependents),
        T(test_multiple_owners_dangling_ref_removed),
        T(test_bare_pod_with_missing_owner_deleted),
        T(test_recreated_owner_is_not_the_owner),
        T(test_cross_namespace_owner_is_absent),
        T(test_virtual_owner_present_but_unobserved_is_retried),
        T(test_owner_lookup_failure_retries),
        T(test_unknown_owner_kind_keeps_dependent),
        T(test_name_reused_by_another_object),
        T(test_malformed_object_refused),
        T(test_foreign_keys_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
