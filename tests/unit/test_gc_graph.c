/* Unit tests for the GC's ownership graph (gc_graph.c): nodes and edges under
 * add/update/delete with owner changes, virtual nodes, and what the graph
 * asks the collector to look at. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gc_fixture.h"
#include "gc_graph.h"

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
    assert_null(f->g);
    free(f);
    return 0;
}

static const char *rs_ref(char *buf, size_t len, const char *name, const char *uid, const char *flags)
{
    return fx_ref(buf, len, "apps/v1", "ReplicaSet", name, uid, flags);
}

static int pod(fx_t *f, const char *ns, const char *name, const char *uid, const char *refs)
{
    return fx_observe(f->g, "v1", "Pod", ns, name, uid, false, "", refs);
}

static int rs(fx_t *f, const char *ns, const char *name, const char *uid, bool deleting,
              const char *fin, const char *refs)
{
    return fx_observe(f->g, "apps/v1", "ReplicaSet", ns, name, uid, deleting, fin, refs);
}

static void test_virtual_owner_created_and_verified(void **state)
{
    fx_t *f = *state;
    char r[512];
    assert_int_equal(pod(f, "ns", "p1", "p1", rs_ref(r, sizeof r, "web", "rs1", "cb")), 0);
    const gc_node_t *o = gc_graph_find(f->g, "rs1");
    assert_non_null(o);
    assert_false(gc_node_observed(o));
    assert_null(gc_node_meta(o));
    assert_string_equal(gc_node_namespace(o), "ns");
    assert_string_equal(gc_node_name(o), "web");
    assert_int_equal(gc_node_dependent_count(o), 1);
    assert_int_equal(gc_node_blocking_count(o), 1);
    assert_true(fx_has(&f->sink, 'D', "rs1"));   /* verify the virtual owner */
    assert_false(fx_has(&f->sink, 'D', "p1"));
    assert_int_equal(gc_graph_count(f->g), 2);

    /* The owner shows up: same node, now observed, nothing new to do. */
    fx_clear(&f->sink);
    assert_int_equal(rs(f, "ns", "web", "rs1", false, "", ""), 0);
    o = gc_graph_find(f->g, "rs1");
    assert_true(gc_node_observed(o));
    assert_int_equal(gc_node_dependent_count(o), 1);
    assert_string_equal(f->sink.buf, "");

    /* A second pod of the same owner: no new virtual node, nothing to do. */
    assert_int_equal(pod(f, "ns", "p2", "p2", rs_ref(r, sizeof r, "web", "rs1", "cb")), 0);
    assert_int_equal(gc_node_dependent_count(o), 2);
    assert_string_equal(f->sink.buf, "");
}

static void test_cluster_scoped_virtual_owner(void **state)
{
    fx_t *f = *state;
    char r[512];
    fx_ref(r, sizeof r, "v1", "Node", "n1", "node1", "");
    assert_int_equal(pod(f, "ns", "mirror", "m1", r), 0);
    const gc_node_t *o = gc_graph_find(f->g, "node1");
    assert_non_null(o);
    assert_string_equal(gc_node_namespace(o), "");
    assert_int_equal(gc_node_blocking_count(o), 0);
}

static void test_owner_changes_move_edges(void **state)
{
    fx_t *f = *state;
    char a[512], b[512], both[1100];
    rs_ref(a, sizeof a, "a", "rsa", "cb");
    rs_ref(b, sizeof b, "b", "rsb", "");
    assert_int_equal(pod(f, "ns", "p", "p", a), 0);
    assert_non_null(gc_graph_find(f->g, "rsa"));

    /* adopt a second owner */
    snprintf(both, sizeof both, "%s,%s", a, b);
    assert_int_equal(pod(f, "ns", "p", "p", both), 0);
    assert_int_equal(gc_node_owner_count(gc_graph_find(f->g, "p")), 2);
    assert_non_null(gc_graph_find(f->g, "rsb"));

    /* drop the first: its virtual node has nobody left and goes */
    assert_int_equal(pod(f, "ns", "p", "p", b), 0);
    assert_null(gc_graph_find(f->g, "rsa"));
    assert_int_equal(gc_node_dependent_count(gc_graph_find(f->g, "rsb")), 1);

    /* no owners at all */
    assert_int_equal(pod(f, "ns", "p", "p", ""), 0);
    assert_null(gc_graph_find(f->g, "rsb"));
    assert_int_equal(gc_graph_count(f->g), 1);
}

static void test_observed_owner_survives_losing_dependents(void **state)
{
    fx_t *f = *state;
    char a[512];
    assert_int_equal(rs(f, "ns", "a", "rsa", false, "", ""), 0);
    assert_int_equal(pod(f, "ns", "p", "p", rs_ref(a, sizeof a, "a", "rsa", "cb")), 0);
    assert_int_equal(pod(f, "ns", "p", "p", ""), 0);
    const gc_node_t *o = gc_graph_find(f->g, "rsa");
    assert_non_null(o);
    assert_true(gc_node_observed(o));
    assert_int_equal(gc_node_dependent_count(o), 0);
}

static void test_delete_owner_enqueues_dependents(void **state)
{
    fx_t *f = *state;
    char a[512];
    rs_ref(a, sizeof a, "a", "rsa", "cb");
    assert_int_equal(rs(f, "ns", "a", "rsa", false, "", ""), 0);
    assert_int_equal(pod(f, "ns", "p1", "p1", a), 0);
    assert_int_equal(pod(f, "ns", "p2", "p2", a), 0);
    fx_clear(&f->sink);

    gc_graph_observe_delete(f->g, "rsa");
    assert_true(fx_has(&f->sink, 'D', "p1"));
    assert_true(fx_has(&f->sink, 'D', "p2"));
    /* still named by its pods: a virtual node, not yet known absent */
    const gc_node_t *o = gc_graph_find(f->g, "rsa");
    assert_non_null(o);
    assert_false(gc_node_observed(o));
    assert_false(gc_node_confirmed_absent(o));

    /* a live GET said 404 */
    fx_clear(&f->sink);
    assert_true(gc_graph_confirm_absent(f->g, "rsa"));
    assert_true(gc_node_confirmed_absent(o));
    assert_true(fx_has(&f->sink, 'D', "p1"));
    assert_false(gc_graph_confirm_absent(f->g, "p1"));   /* observed: refused */
    assert_false(gc_graph_confirm_absent(f->g, "none"));

    /* pods go; the virtual owner goes with the last one */
    gc_graph_observe_delete(f->g, "p1");
    assert_non_null(gc_graph_find(f->g, "rsa"));
    gc_graph_observe_delete(f->g, "p2");
    assert_null(gc_graph_find(f->g, "rsa"));
    assert_int_equal(gc_graph_count(f->g), 0);
    gc_graph_observe_delete(f->g, "p2");   /* twice: harmless */
}

static void test_delete_leaf_without_dependents(void **state)
{
    fx_t *f = *state;
    assert_int_equal(rs(f, "ns", "a", "rsa", false, "", ""), 0);
    gc_graph_observe_delete(f->g, "rsa");
    assert_null(gc_graph_find(f->g, "rsa"));
    assert_string_equal(f->sink.buf, "");
}

static void test_foreground_transition(void **state)
{
    fx_t *f = *state;
    char blk[512], nob[512];
    assert_int_equal(rs(f, "ns", "a", "rsa", false, "", ""), 0);
    assert_int_equal(pod(f, "ns", "p1", "p1", rs_ref(blk, sizeof blk, "a", "rsa", "cb")), 0);
    assert_int_equal(pod(f, "ns", "p2", "p2", rs_ref(nob, sizeof nob, "a", "rsa", "")), 0);
    const gc_node_t *o = gc_graph_find(f->g, "rsa");
    assert_int_equal(gc_node_blocking_count(o), 1);
    fx_clear(&f->sink);

    assert_int_equal(rs(f, "ns", "a", "rsa", true, "\"foregroundDeletion\"", ""), 0);
    assert_true(gc_node_deleting_dependents(o));
    assert_true(gc_node_being_deleted(o));
    assert_true(fx_has(&f->sink, 'D', "p1"));
    assert_true(fx_has(&f->sink, 'D', "p2"));
    assert_true(fx_has(&f->sink, 'D', "rsa"));

    /* the same state again is no transition */
    fx_clear(&f->sink);
    assert_int_equal(rs(f, "ns", "a", "rsa", true, "\"foregroundDeletion\"", ""), 0);
    assert_string_equal(f->sink.buf, "");

    /* a blocking dependent goes: the waiting owner is looked at again */
    gc_graph_observe_delete(f->g, "p1");
    assert_true(fx_has(&f->sink, 'D', "rsa"));
    assert_int_equal(gc_node_blocking_count(o), 0);

    /* a dependent appearing meanwhile joins the cascade */
    fx_clear(&f->sink);
    assert_int_equal(pod(f, "ns", "p3", "p3", rs_ref(blk, sizeof blk, "a", "rsa", "cb")), 0);
    assert_true(fx_has(&f->sink, 'D', "p3"));
}

static void test_unblocking_wakes_waiting_owner(void **state)
{
    fx_t *f = *state;
    char blk[512], nob[512], other[512];
    rs_ref(blk, sizeof blk, "a", "rsa", "cb");
    rs_ref(nob, sizeof nob, "a", "rsa", "c");
    assert_int_equal(rs(f, "ns", "a", "rsa", true, "\"foregroundDeletion\"", ""), 0);
    assert_int_equal(pod(f, "ns", "p1", "p1", blk), 0);
    assert_int_equal(pod(f, "ns", "p2", "p2", blk), 0);
    const gc_node_t *o = gc_graph_find(f->g, "rsa");
    assert_int_equal(gc_node_blocking_count(o), 2);

    fx_clear(&f->sink);
    assert_int_equal(pod(f, "ns", "p1", "p1", nob), 0);    /* block true -> false */
    assert_true(fx_has(&f->sink, 'D', "rsa"));
    assert_int_equal(gc_node_blocking_count(o), 1);

    fx_clear(&f->sink);
    rs_ref(other, sizeof other, "b", "rsb", "");
    assert_int_equal(pod(f, "ns", "p2", "p2", other), 0);  /* blocking ref removed */
    assert_true(fx_has(&f->sink, 'D', "rsa"));
    assert_int_equal(gc_node_blocking_count(o), 0);
    assert_int_equal(gc_node_dependent_count(o), 1);
}

static void test_orphan_transition(void **state)
{
    fx_t *f = *state;
    char a[512];
    assert_int_equal(rs(f, "ns", "a", "rsa", false, "", ""), 0);
    assert_int_equal(pod(f, "ns", "p1", "p1", rs_ref(a, sizeof a, "a", "rsa", "cb")), 0);
    fx_clear(&f->sink);
    /* orphan wins over foreground when both are present */
    assert_int_equal(rs(f, "ns", "a", "rsa", true, "\"orphan\",\"foregroundDeletion\"", ""), 0);
    assert_true(fx_has(&f->sink, 'O', "rsa"));
    assert_false(fx_has(&f->sink, 'D', "p1"));
    assert_true(gc_node_orphaning(gc_graph_find(f->g, "rsa")));

    /* a dependent showing up while the owner orphans re-runs the orphaning */
    fx_clear(&f->sink);
    assert_int_equal(pod(f, "ns", "p2", "p2", a), 0);
    assert_true(fx_has(&f->sink, 'O', "rsa"));
}

static void test_orphan_seen_in_first_observation(void **state)
{
    fx_t *f = *state;
    assert_int_equal(rs(f, "ns", "a", "rsa", true, "\"orphan\"", ""), 0);
    assert_true(fx_has(&f->sink, 'O', "rsa"));
}

static void test_cross_namespace_reference_is_checked(void **state)
{
    fx_t *f = *state;
    char a[512];
    rs_ref(a, sizeof a, "a", "rsa", "cb");
    assert_int_equal(rs(f, "ns1", "a", "rsa", false, "", ""), 0);
    fx_clear(&f->sink);
    /* a pod in ns2 names the ns1 owner's uid: suspicious, verify the pod */
    assert_int_equal(pod(f, "ns2", "p", "p", a), 0);
    assert_true(fx_has(&f->sink, 'D', "p"));
    /* the same in ns1 is fine */
    fx_clear(&f->sink);
    assert_int_equal(pod(f, "ns1", "q", "q", a), 0);
    assert_string_equal(f->sink.buf, "");
}

static void test_bad_child_then_good_parent(void **state)
{
    fx_t *f = *state;
    char a[512];
    /* the pod comes first and names the owner under a wrong name */
    assert_int_equal(pod(f, "ns", "p", "p", rs_ref(a, sizeof a, "wrong", "rsa", "cb")), 0);
    fx_clear(&f->sink);
    assert_int_equal(rs(f, "ns", "right", "rsa", false, "", ""), 0);
    assert_true(fx_has(&f->sink, 'D', "p"));
    assert_string_equal(gc_node_name(gc_graph_find(f->g, "rsa")), "right");
}

static void test_name_mismatch_with_known_owner(void **state)
{
    fx_t *f = *state;
    char a[512];
    assert_int_equal(rs(f, "ns", "right", "rsa", false, "", ""), 0);
    fx_clear(&f->sink);
    assert_int_equal(pod(f, "ns", "p", "p", rs_ref(a, sizeof a, "wrong", "rsa", "")), 0);
    assert_true(fx_has(&f->sink, 'D', "p"));
}

static void test_duplicate_references(void **state)
{
    fx_t *f = *state;
    char a[512], b[512], both[1100];
    rs_ref(a, sizeof a, "a", "rsa", "");
    rs_ref(b, sizeof b, "a", "rsa", "b");
    snprintf(both, sizeof both, "%s,%s", a, b);
    assert_int_equal(pod(f, "ns", "p", "p", both), 0);
    const gc_node_t *o = gc_graph_find(f->g, "rsa");
    assert_int_equal(gc_node_dependent_count(o), 1);
    assert_int_equal(gc_node_blocking_count(o), 1);
    assert_int_equal(gc_node_owner_count(gc_graph_find(f->g, "p")), 1);
}

static void test_self_reference(void **state)
{
    fx_t *f = *state;
    char a[512];
    assert_int_equal(rs(f, "ns", "a", "rsa", false, "", rs_ref(a, sizeof a, "a", "rsa", "b")), 0);
    const gc_node_t *o = gc_graph_find(f->g, "rsa");
    assert_int_equal(gc_node_dependent_count(o), 1);
    gc_graph_observe_delete(f->g, "rsa");
    assert_null(gc_graph_find(f->g, "rsa"));
}

static void test_chain_and_reobserve_after_delete(void **state)
{
    fx_t *f = *state;
    char d[512], r[512];
    fx_ref(d, sizeof d, "apps/v1", "Deployment", "dep", "d1", "cb");
    assert_int_equal(rs(f, "ns", "a", "rsa", false, "", d), 0);
    assert_int_equal(pod(f, "ns", "p", "p", rs_ref(r, sizeof r, "a", "rsa", "cb")), 0);
    assert_int_equal(gc_graph_count(f->g), 3);   /* d1 virtual, rsa, p */
    gc_graph_observe_delete(f->g, "rsa");        /* rsa virtual, d1 freed */
    assert_null(gc_graph_find(f->g, "d1"));
    assert_non_null(gc_graph_find(f->g, "rsa"));
    /* a late event for rsa (informer re-list) makes it observed again */
    assert_int_equal(rs(f, "ns", "a", "rsa", false, "", d), 0);
    assert_true(gc_node_observed(gc_graph_find(f->g, "rsa")));
    assert_int_equal(gc_node_owner_count(gc_graph_find(f->g, "rsa")), 1);
}

static bool count_nodes(const gc_node_t *n, void *arg)
{
    (void)n;
    (*(int *)arg)++;
    return true;
}

static void test_many_dependents(void **state)
{
    fx_t *f = *state;
    char a[512], name[32];
    rs_ref(a, sizeof a, "a", "rsa", "cb");
    assert_int_equal(rs(f, "ns", "a", "rsa", false, "", ""), 0);
    for (int i = 0; i < 2000; i++) {
        snprintf(name, sizeof name, "p%d", i);
        assert_int_equal(pod(f, "ns", name, name, a), 0);
    }
    assert_int_equal(gc_node_dependent_count(gc_graph_find(f->g, "rsa")), 2000);
    int n = 0;
    gc_graph_each(f->g, count_nodes, &n);
    assert_int_equal(n, 2001);
    for (int i = 0; i < 2000; i += 2) {
        snprintf(name, sizeof name, "p%d", i);
        gc_graph_observe_delete(f->g, name);
    }
    assert_int_equal(gc_node_dependent_count(gc_graph_find(f->g, "rsa")), 1000);
    assert_int_equal(gc_node_blocking_count(gc_graph_find(f->g, "rsa")), 1000);
}

static void test_observe_rejects_null(void **state)
{
    fx_t *f = *state;
    gc_meta_t *m = NULL;
    assert_int_equal(gc_graph_observe(f->g, &m), -1);
    assert_int_equal(gc_graph_observe(f->g, NULL), -1);
    gc_graph_observe_delete(f->g, NULL);
    assert_null(gc_graph_find(f->g, NULL));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_virtual_owner_created_and_verified),
        T(test_cluster_scoped_virtual_owner),
        T(test_owner_changes_move_edges),
        T(test_observed_owner_survives_losing_dependents),
        T(test_delete_owner_enqueues_dependents),
        T(test_delete_leaf_without_dependents),
        T(test_foreground_transition),
        T(test_unblocking_wakes_waiting_owner),
        T(test_orphan_transition),
        T(test_orphan_seen_in_first_observation),
        T(test_cross_namespace_reference_is_checked),
        T(test_bad_child_then_good_parent),
        T(test_name_mismatch_with_known_owner),
        T(test_duplicate_references),
        T(test_self_reference),
        T(test_chain_and_reobserve_after_delete),
        T(test_many_dependents),
        T(test_observe_rejects_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
