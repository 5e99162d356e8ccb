/* Unit tests for the GC's decisions (gc_decide.c): each path - background,
 * foreground with and without blocking dependents, orphan propagation,
 * multiple owners, dangling references, cross-namespace references - from
 * the graph and from live GET answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gc_decide.h"
#include "gc_fixture.h"

typedef struct {
    fx_sink_t sink;
    gc_graph_t *g;
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    if (!f) return -1;
    gc_sink_t s = fx_sink(&f->sink);
    f->g = gc_graph_new(&fx_kinds, &s);
    *state = f;
    return f->g ? 0 : -1;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    gc_graph_destroy(&f->g);
    free(f);
    return 0;
}

static char *ref_rs(char *b, size_t n, const char *name, const char *uid, const char *flags)
{
    return fx_ref(b, n, "apps/v1", "ReplicaSet", name, uid, flags);
}

static const gc_meta_t *meta_of(fx_t *f, const char *uid)
{
    const gc_node_t *n = gc_graph_find(f->g, uid);
    assert_non_null(n);
    return gc_node_meta(n);
}

/* ---- item work ------------------------------------------------------------ */

static void test_item_work(void **state)
{
    fx_t *f = *state;
    char r[512];
    ref_rs(r, sizeof r, "a", "rsa", "cb");
    assert_int_equal(gc_decide_item_work(NULL), GC_ITEM_GONE);
    assert_int_equal(fx_observe(f->g, "v1", "Pod", "ns", "p", "p", false, "", r), 0);
    assert_int_equal(gc_decide_item_work(gc_graph_find(f->g, "rsa")), GC_ITEM_VERIFY_VIRTUAL);
    assert_int_equal(gc_decide_item_work(gc_graph_find(f->g, "p")), GC_ITEM_CLASSIFY);
    gc_graph_confirm_absent(f->g, "rsa");
    assert_int_equal(gc_decide_item_work(gc_graph_find(f->g, "rsa")), GC_ITEM_SKIP);

    /* being deleted (graceful): a one-way trip */
    assert_int_equal(fx_observe(f->g, "v1", "Pod", "ns", "p", "p", true, "", r), 0);
    assert_int_equal(gc_decide_item_work(gc_graph_find(f->g, "p")), GC_ITEM_SKIP);
    /* no owners */
    assert_int_equal(fx_observe(f->g, "v1", "Pod", "ns", "q", "q", false, "", ""), 0);
    assert_int_equal(gc_decide_item_work(gc_graph_find(f->g, "q")), GC_ITEM_SKIP);
}

static void test_item_work_foreground_owner(void **state)
{
    fx_t *f = *state;
    char blk[512], nob[512];
    assert_int_equal(fx_observe(f->g, "apps/v1", "ReplicaSet", "ns", "a", "rsa", true,
                                "\"foregroundDeletion\"", ""), 0);
    const gc_node_t *o = gc_graph_find(f->g, "rsa");
    /* no dependents: drop the finalizer */
    assert_int_equal(gc_decide_item_work(o), GC_ITEM_FINISH_FOREGROUND);
    /* a non-blocking dependent does not hold it */
    assert_int_equal(fx_observe(f->g, "v1", "Pod", "ns", "p1", "p1", false, "",
                                ref_rs(nob, sizeof nob, "a", "rsa", "c")), 0);
    assert_int_equal(gc_decide_item_work(o), GC_ITEM_FINISH_FOREGROUND);
    /* a blocking one does */
    assert_int_equal(fx_observe(f->g, "v1", "Pod", "ns", "p2", "p2", false, "",
                                ref_rs(blk, sizeof blk, "a", "rsa", "cb")), 0);
    assert_int_equal(gc_decide_item_work(o), GC_ITEM_WAIT_DEPENDENTS);
    /* ... even while it is itself terminating */
    assert_int_equal(fx_observe(f->g, "v1", "Pod", "ns", "p2", "p2", true, "", blk), 0);
    assert_int_equal(gc_decide_item_work(o), GC_ITEM_WAIT_DEPENDENTS);
    gc_graph_observe_delete(f->g, "p2");
    assert_int_equal(gc_decide_item_work(o), GC_ITEM_FINISH_FOREGROUND);
}

/* ---- lookups from the graph ----------------------------------------------- */

static void test_lookup_from_graph(void **state)
{
    fx_t *f = *state;
    char r[512], n[512], u[512];
    gc_kind_t k;
    ref_rs(r, sizeof r, "a", "rsa", "cb");
    assert_int_equal(fx_observe(f->g, "v1", "Pod", "ns", "p", "p", false, "", r), 0);
    const gc_meta_t *p = meta_of(f, "p");

    /* virtual owner: ask the API server */
    assert_int_equal(gc_decide_lookup(f->g, &fx_kinds, p, &p->refs[0], &k), GC_LOOKUP_GET);
    assert_string_equal(k.resource, "replicasets");
    assert_string_equal(gc_owner_namespace(p, &k), "ns");
    /* observed owner: solid without asking */
    assert_int_equal(fx_observe(f->g, "apps/v1", "ReplicaSet", "ns", "a", "rsa", false, "", ""), 0);
    assert_int_equal(gc_decide_lookup(f->g, &fx_kinds, p, &p->refs[0], &k), GC_LOOKUP_SOLID);
    /* being deleted: ask (is it waiting for us?) */
    assert_int_equal(fx_observe(f->g, "apps/v1", "ReplicaSet", "ns", "a", "rsa", true, "\"x\"", ""), 0);
    assert_int_equal(gc_decide_lookup(f->g, &fx_kinds, p, &p->refs[0], &k), GC_LOOKUP_GET);
    /* deleted: the cache alone never says "gone" */
    gc_graph_observe_delete(f->g, "rsa");
    assert_int_equal(gc_decide_lookup(f->g, &fx_kinds, p, &p->refs[0], &k), GC_LOOKUP_GET);
    /* a live GET said so */
    gc_graph_confirm_absent(f->g, "rsa");
    assert_int_equal(gc_decide_lookup(f->g, &fx_kinds, p, &p->refs[0], &k), GC_LOOKUP_DANGLING);

    /* unknown kind: cannot be checked, so it keeps the dependent */
    fx_ref(u, sizeof u, "example.com/v1", "Widget", "w", "w1", "");
    assert_int_equal(fx_observe(f->g, "v1", "Pod", "ns", "q", "q", false, "", u), 0);
    const gc_meta_t *q = meta_of(f, "q");
    assert_int_equal(gc_decide_lookup(f->g, &fx_kinds, q, &q->refs[0], &k), GC_LOOKUP_UNCHECKABLE);

    /* cluster-scoped owner from a namespaced pod: GET without namespace */
    fx_ref(n, sizeof n, "v1", "Node", "n1", "node1", "");
    assert_int_equal(fx_observe(f->g, "v1", "Pod", "ns", "m", "m", false, "", n), 0);
    const gc_meta_t *m = meta_of(f, "m");
    assert_int_equal(gc_decide_lookup(f->g, &fx_kinds, m, &m->refs[0], &k), GC_LOOKUP_GET);
    assert_string_equal(gc_owner_namespace(m, &k), "");
}

static void test_lookup_invalid_and_cross_namespace(void **state)
{
    fx_t *f = *state;
    char r[512];
    gc_kind_t k;
    ref_rs(r, sizeof r, "a", "rsa", "");
    /* a cluster-scoped object naming a namespaced owner: never valid */
    assert_int_equal(fx_observe(f->g, "v1", "Node", "", "n1", "node1", false, "", r), 0);
    const gc_meta_t *node = meta_of(f, "node1");
    assert_int_equal(gc_decide_lookup(f->g, &fx_kinds, node, &node->refs[0], &k), GC_LOOKUP_INVALID);

    /* owner observed in ns1, dependent in ns2: the cache must not vouch for
     * it; a GET in ns2 will find nothing (or another uid) -> dangling */
    assert_int_equal(fx_observe(f->g, "apps/v1", "ReplicaSet", "ns1", "a", "rsa", false, "", ""), 0);
    assert_int_equal(fx_observe(f->g, "v1", "Pod", "ns2", "p", "p", false, "", r), 0);
    const gc_meta_t *p = meta_of(f, "p");
    assert_int_equal(gc_decide_lookup(f->g, &fx_kinds, p, &p->refs[0], &k), GC_LOOKUP_GET);
    assert_string_equal(gc_owner_namespace(p, &k), "ns2");
    gc_owner_state_t s;
    assert_int_equal(gc_decide_owner_from_get(&p->refs[0], 404, NULL, &s), 0);
    assert_int_equal(s, GC_OWNER_DANGLING);
}

/* ---- live answers --------------------------------------------------------- */

static json_t *obj(const char *uid, bool deleting, const char *finalizers)
{
    char *s = fx_obj("ns", "a", uid, "5", deleting, finalizers, "");
    json_t *o = json_loads(s, 0, NULL);
    free(s);
    assert_non_null(o);
    return o;
}

static void test_owner_from_get(void **state)
{
    (void)state;
    gc_ref_t ref = {.api_version = "apps/v1", .kind = "ReplicaSet", .name = "a", .uid = "rsa"};
    gc_owner_state_t s = GC_OWNER_SOLID;
    json_t *same = obj("rsa", false, "");
    json_t *other = obj("rs-new", false, "");
    json_t *fg = obj("rsa", true, "\"foregroundDeletion\"");
    json_t *deleting = obj("rsa", true, "\"example.com/x\"");
    json_t *junk = json_pack("[i]", 1);

    assert_int_equal(gc_decide_owner_from_get(&ref, 404, NULL, &s), 0);
    assert_int_equal(s, GC_OWNER_DANGLING);
    assert_int_equal(gc_decide_owner_from_get(&ref, 200, same, &s), 0);
    assert_int_equal(s, GC_OWNER_SOLID);
    assert_int_equal(gc_decide_owner_from_get(&ref, 200, other, &s), 0);
    assert_int_equal(s, GC_OWNER_DANGLING);   /* recreated under the same name */
    assert_int_equal(gc_decide_owner_from_get(&ref, 200, fg, &s), 0);
    assert_int_equal(s, GC_OWNER_WAITING);
    assert_int_equal(gc_decide_owner_from_get(&ref, 200, deleting, &s), 0);
    assert_int_equal(s, GC_OWNER_SOLID);      /* being deleted, not waiting for us */

    assert_int_equal(gc_decide_owner_from_get(&ref, 0, NULL, &s), -1);
    assert_int_equal(gc_decide_owner_from_get(&ref, 500, NULL, &s), -1);
    assert_int_equal(gc_decide_owner_from_get(&ref, 403, NULL, &s), -1);
    assert_int_equal(gc_decide_owner_from_get(&ref, 200, junk, &s), -1);
    assert_int_equal(gc_decide_owner_from_get(&ref, 200, NULL, &s), -1);

    assert_int_equal(gc_decide_absent_from_get("rsa", 404, NULL), 1);
    assert_int_equal(gc_decide_absent_from_get("rsa", 200, same), 0);
    assert_int_equal(gc_decide_absent_from_get("rsa", 200, other), 1);
    assert_int_equal(gc_decide_absent_from_get("rsa", 503, NULL), -1);
    assert_int_equal(gc_decide_absent_from_get("rsa", 200, junk), -1);
    json_decref(same);
    json_decref(other);
    json_decref(fg);
    json_decref(deleting);
    json_decref(junk);
}

/* ---- verdicts ------------------------------------------------------------- */

static gc_meta_t *item(const char *finalizers, int nrefs)
{
    char refs[2048] = "", r[512], name[8];
    for (int i = 0; i < nrefs; i++) {
        snprintf(name, sizeof name, "o%d", i);
        ref_rs(r, sizeof r, name, name, "cb");
        if (i) strcat(refs, ",");
        strcat(refs, r);
    }
    char *json = fx_obj("ns", "it", "it", "7", false, finalizers, refs);
    gc_meta_t *m = fx_meta("apps/v1", "ReplicaSet", json);
    free(json);
    return m;
}

static void test_verdict_background(void **state)
{
    (void)state;
    gc_meta_t *m = item("", 1);
    gc_owner_state_t s[] = {GC_OWNER_DANGLING};
    gc_verdict_t v = gc_decide_dependent(m, s, false, false);
    assert_int_equal(v.act, GC_ACT_DELETE);
    assert_int_equal(v.propagation, GC_PROP_BACKGROUND);
    /* with dependents of its own, still background: nobody waits */
    v = gc_decide_dependent(m, s, true, false);
    assert_int_equal(v.act, GC_ACT_DELETE);
    assert_int_equal(v.propagation, GC_PROP_BACKGROUND);
    gc_meta_destroy(&m);
}

static void test_verdict_honors_own_finalizers(void **state)
{
    (void)state;
    gc_owner_state_t s[] = {GC_OWNER_DANGLING};
    gc_meta_t *m = item("\"orphan\"", 1);
    assert_int_equal(gc_decide_dependent(m, s, true, false).propagation, GC_PROP_ORPHAN);
    gc_meta_destroy(&m);
    m = item("\"foregroundDeletion\"", 1);
    assert_int_equal(gc_decide_dependent(m, s, true, false).propagation, GC_PROP_FOREGROUND);
    gc_meta_destroy(&m);
}

static void test_verdict_multiple_owners(void **state)
{
    (void)state;
    gc_meta_t *m = item("", 3);
    gc_owner_state_t all_solid[] = {GC_OWNER_SOLID, GC_OWNER_SOLID, GC_OWNER_SOLID};
    gc_owner_state_t one_left[] = {GC_OWNER_DANGLING, GC_OWNER_SOLID, GC_OWNER_DANGLING};
    gc_owner_state_t none_left[] = {GC_OWNER_DANGLING, GC_OWNER_DANGLING, GC_OWNER_DANGLING};
    assert_int_equal(gc_decide_dependent(m, all_solid, false, false).act, GC_ACT_NONE);
    /* one owner remains: live on, without the dangling references */
    assert_int_equal(gc_decide_dependent(m, one_left, false, false).act, GC_ACT_DROP_REFS);
    assert_int_equal(gc_decide_dependent(m, none_left, false, false).act, GC_ACT_DELETE);
    gc_meta_destroy(&m);
}

static void test_verdict_foreground_owner(void **state)
{
    (void)state;
    gc_meta_t *m = item("", 2);
    gc_owner_state_t waiting[] = {GC_OWNER_WAITING, GC_OWNER_DANGLING};
    gc_owner_state_t waiting_solid[] = {GC_OWNER_WAITING, GC_OWNER_SOLID};
    /* a leaf: just delete it */
    gc_verdict_t v = gc_decide_dependent(m, waiting, false, false);
    assert_int_equal(v.act, GC_ACT_DELETE);
    assert_int_equal(v.propagation, GC_PROP_BACKGROUND);
    /* with dependents: the cascade goes on in the foreground */
    v = gc_decide_dependent(m, waiting, true, false);
    assert_int_equal(v.act, GC_ACT_DELETE);
    assert_int_equal(v.propagation, GC_PROP_FOREGROUND);
    /* a dependent of it is also deleting dependents: break a possible cycle */
    v = gc_decide_dependent(m, waiting, true, true);
    assert_int_equal(v.act, GC_ACT_UNBLOCK_AND_DELETE);
    assert_int_equal(v.propagation, GC_PROP_FOREGROUND);
    /* another owner remains: stop blocking the waiting one, keep living */
    assert_int_equal(gc_decide_dependent(m, waiting_solid, true, false).act, GC_ACT_DROP_REFS);
    gc_meta_destroy(&m);
}

static void test_verdict_no_refs(void **state)
{
    (void)state;
    gc_meta_t *m = item("", 0);
    assert_int_equal(gc_decide_dependent(m, NULL, false, false).act, GC_ACT_NONE);
    gc_meta_destroy(&m);
}

static void test_dependent_deleting_dependents(void **state)
{
    fx_t *f = *state;
    char r[512];
    ref_rs(r, sizeof r, "a", "rsa", "cb");
    assert_int_equal(fx_observe(f->g, "apps/v1", "ReplicaSet", "ns", "a", "rsa", false, "", ""), 0);
    assert_int_equal(fx_observe(f->g, "apps/v1", "ReplicaSet", "ns", "b", "rsb", false, "", r), 0);
    const gc_node_t *a = gc_graph_find(f->g, "rsa");
    assert_false(gc_any_dependent_deleting_dependents(a));
    assert_int_equal(fx_observe(f->g, "apps/v1", "ReplicaSet", "ns", "b", "rsb", true,
                                "\"foregroundDeletion\"", r), 0);
    assert_true(gc_any_dependent_deleting_dependents(a));
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(gc_prop_name(GC_PROP_FOREGROUND), "Foreground");
    assert_string_equal(gc_act_name(GC_ACT_DROP_REFS), "drop-refs");
    assert_string_equal(gc_owner_state_name(GC_OWNER_WAITING), "waiting");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_item_work),
        T(test_item_work_foreground_owner),
        T(test_lookup_from_graph),
        T(test_lookup_invalid_and_cross_namespace),
        T(test_owner_from_get),
        T(test_verdict_background),
        T(test_verdict_honors_own_finalizers),
        T(test_verdict_multiple_owners),
        T(test_verdict_foreground_owner),
        T(test_verdict_no_refs),
        T(test_dependent_deleting_dependents),
        T(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
