/* Unit tests for controllers/deployment/dep_scale.c, with upstream's tables
 * restated: TestNewRSNewReplicas, TestScale (proportional scaling),
 * reconcileNewReplicaSet, reconcileOldReplicaSets, cleanupUnhealthyReplicas,
 * scaleDownOldReplicaSetsForRollingUpdate; plus the bounds kubus adds for a
 * ReplicaSet controller that lags behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dep_scale.h"

/* Timestamps of upstream's TestScale: newer > old > older. */
enum { OLDER = 1000, OLD = 2000, NEW = 3000 };

static dep_rs_t rs(const char *name, int32_t replicas, int64_t created)
{
    dep_rs_t v;
    memset(&v, 0, sizeof v);
    v.name = name;
    v.uid = name;
    v.created = created;
    v.spec_replicas = v.replicas = replicas;
    v.status_replicas = v.ready = v.available = replicas;
    return v;
}

/* Upstream's test deployments default to maxSurge 0, maxUnavailable 0. */
static dep_spec_t deployment(int32_t replicas, int32_t surge, int32_t unavailable)
{
    dep_spec_t s;
    memset(&s, 0, sizeof s);
    s.replicas = replicas;
    s.strategy = DEP_ROLLING_UPDATE;
    s.max_surge_raw.value = surge;
    s.max_unavailable_raw.value = unavailable;
    assert_int_equal(dep_resolve_fenceposts(&s.max_surge_raw, &s.max_unavailable_raw, replicas,
                                            &s.max_surge, &s.max_unavailable),
                     0);
    if (replicas == 0)
        s.max_unavailable = 0;
    else if (s.max_unavailable > replicas)
        s.max_unavailable = replicas;
    s.has_history_limit = s.has_progress_deadline = true;
    s.history_limit = 10;
    s.progress_deadline = 600;
    return s;
}

/* The replica annotations the previous size of the deployment left. */
static void annotate(dep_rs_t *v, const dep_spec_t *old, int32_t desired_override)
{
    int32_t desired = desired_override >= 0 ? desired_override : old->replicas;
    v->has_desired = v->has_max = true;
    v->desired = desired;
    v->max = desired + old->max_surge;
}

/* ---- NewRSNewReplicas ------------------------------------------------------ */

static void test_new_rs_new_replicas(void **state)
{
    (void)state;
    /* upstream: the other ReplicaSet has 5; (deployment, new, surge) -> expected */
    struct { dep_strategy_t type; int32_t dep, newrs, surge, expect; } t[] = {
        {DEP_ROLLING_UPDATE, 1, 5, 1, 5}, /* cannot scale up */
        {DEP_ROLLING_UPDATE, 6, 2, 10, 6}, /* up to the deployment's size */
        {DEP_RECREATE, 3, 1, 1, 3},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        dep_spec_t s = deployment(t[i].dep, t[i].surge, 1);
        s.strategy = t[i].type;
        dep_rs_t other = rs("rs5", 5, OLD), newrs = rs("new", t[i].newrs, NEW);
        dep_rs_t *all[] = {&other};
        assert_int_equal(dep_new_rs_new_replicas(&s, all, 1, &newrs), t[i].expect);
    }
}

static void test_new_rs_counts_surplus_pods(void **state)
{
    (void)state;
    /* 10 replicas, surge 3: old was just cut to 8 but still runs 10 pods,
     * new has 3. Upstream would grow new to 5 at once (15 pods for a moment). */
    dep_spec_t s = deployment(10, 3, 2);
    dep_rs_t old = rs("old", 8, OLD), newrs = rs("new", 3, NEW);
    old.active_pods = 10;
    dep_rs_t *all[] = {&old, &newrs};
    assert_int_equal(dep_new_rs_new_replicas(&s, all, 2, &newrs), 3);
    old.active_pods = 8;
    assert_int_equal(dep_new_rs_new_replicas(&s, all, 2, &newrs), 5);
}

/* ---- proportional scaling (upstream TestScale) ----------------------------- */

typedef struct {
    const char *name;
    int32_t dep, dep_surge, old_dep, old_surge;
    int32_t newrs;             /* -1: no new ReplicaSet */
    int32_t old[3];            /* -1 terminated */
    int32_t expect_new;
    int32_t expect_old[3];
    int32_t desired_override_old0; /* -1: none (upstream's desiredReplicasAnnotations) */
    int32_t new_available;     /* -1: same as replicas */
} scale_case_t;

static const scale_case_t scale_cases[] = {
    {"normal scaling event: 10 -> 12", 12, 0, 10, 0, 10, {-1}, 12, {0}, -1, -1},
    {"normal scaling event: 10 -> 5", 5, 0, 10, 0, 10, {-1}, 5, {0}, -1, -1},
    {"proportional scaling: 5 -> 10", 10, 0, 5, 0, 2, {3, -1}, 4, {6}, -1, -1},
    {"proportional scaling: 5 -> 3", 3, 0, 5, 0, 2, {3, -1}, 1, {2}, -1, -1},
    {"proportional scaling: 9 -> 4", 4, 0, 9, 0, 8, {1, -1}, 4, {0}, -1, -1},
    {"proportional scaling: 7 -> 10", 10, 0, 7, 0, 2, {3, 2, -1}, 3, {4, 3}, -1, -1},
    {"proportional scaling: 13 -> 8", 8, 0, 13, 0, 2, {8, 3, -1}, 1, {5, 2}, -1, -1},
    {"leftover distribution: 3 -> 4", 4, 0, 3, 0, 1, {1, 1, -1}, 2, {1, 1}, -1, -1},
    {"leftover distribution: 3 -> 2", 2, 0, 3, 0, 1, {1, 1, -1}, 1, {1, 0}, -1, -1},
    {"proportional scaling (no new rs): 4 -> 5", 5, 0, 4, 0, -1, {2, 2, -1}, -1, {3, 2}, -1, -1},
    {"proportional scaling: 6 -> 0", 0, 0, 6, 0, 3, {2, 1, -1}, 0, {0, 0}, -1, -1},
    {"proportional scaling: 0 -> 6", 6, 0, 6, 0, 0, {0, 0, -1}, 6, {0, 0}, -1, -1},
    /* foo-v2's annotation says 3 (a failed earlier update) */
    {"failed rs update", 5, 0, 5, 0, 2, {1, 1, -1}, 2, {2, 1}, 3, -1},
    {"deployment with surge pods", 20, 2, 10, 2, 6, {6, -1}, 11, {11}, -1, -1},
    {"change both surge and size", 50, 6, 10, 3, 5, {8, -1}, 22, {34}, -1, -1},
    {"saturated but broken new replica set does not affect old pods", 2, 1, 2, 1, 2, {1, -1}, 2,
     {1}, -1, 0},
};

static void run_scale_case(const scale_case_t *c)
{
    dep_spec_t d = deployment(c->dep, c->dep_surge, c->dep == 2 && c->dep_surge == 1 ? 1 : 0);
    dep_spec_t od = deployment(c->old_dep, c->old_surge, c->dep == 2 && c->dep_surge == 1 ? 1 : 0);
    static const char *names[] = {"foo-v2", "foo-v1", "foo-v0"};
    static const int64_t times[] = {OLD, OLDER, OLDER - 1};
    dep_rs_t newrs = rs("foo-v3", c->newrs < 0 ? 0 : c->newrs, NEW);
    if (c->new_available >= 0)
        newrs.available = c->new_available;
    annotate(&newrs, &od, -1);
    dep_rs_t olds[3];
    dep_rs_t *oldp[3];
    size_t n = 0;
    for (; n < 3 && c->old[n] >= 0; n++) {
        olds[n] = rs(names[n], c->old[n], times[n]);
        annotate(&olds[n], &od, n == 0 ? c->desired_override_old0 : -1);
        oldp[n] = &olds[n];
    }
    dep_plan_scale(&d, 0, c->newrs < 0 ? NULL : &newrs, oldp, n);
    if (c->newrs >= 0 && newrs.replicas != c->expect_new)
        fail_msg("%s: new %d, want %d", c->name, newrs.replicas, c->expect_new);
    for (size_t i = 0; i < n; i++)
        if (olds[i].replicas != c->expect_old[i])
            fail_msg("%s: %s %d, want %d", c->name, olds[i].name, olds[i].replicas,
                     c->expect_old[i]);
}

static void test_scale_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof scale_cases / sizeof scale_cases[0]; i++)
        run_scale_case(&scale_cases[i]);
}

static void test_scale_change_size_and_template(void **state)
{
    (void)state;
    /* upstream "change both size and template": no new ReplicaSet yet */
    dep_spec_t d = deployment(14, 0, 0), od = deployment(10, 0, 0);
    dep_rs_t v2 = rs("foo-v2", 7, NEW), v1 = rs("foo-v1", 3, OLD);
    annotate(&v2, &od, -1);
    annotate(&v1, &od, -1);
    dep_rs_t *old[] = {&v2, &v1};
    dep_plan_scale(&d, 0, NULL, old, 2);
    assert_int_equal(v2.replicas, 10);
    assert_int_equal(v1.replicas, 4);
    assert_true(v2.touched && v1.touched);
}

static void test_scale_marks_annotation_updates(void **state)
{
    (void)state;
    /* scaling with nothing to add still brings every active ReplicaSet's
     * annotations up to date (upstream calls scaleReplicaSet on each) */
    dep_spec_t d = deployment(5, 0, 0), od = deployment(5, 0, 0);
    dep_rs_t v3 = rs("foo-v3", 3, NEW), v2 = rs("foo-v2", 2, OLD);
    annotate(&v3, &od, -1);
    annotate(&v2, &od, -1);
    v3.available = 0;
    dep_rs_t *old[] = {&v2};
    dep_plan_scale(&d, 0, &v3, old, 1);
    assert_int_equal(v3.replicas, 3);
    assert_int_equal(v2.replicas, 2);
    assert_true(v3.touched);
    assert_true(v2.touched);
}

static void test_fraction_without_annotation(void **state)
{
    (void)state;
    dep_spec_t d = deployment(10, 0, 0);
    dep_rs_t v = rs("x", 5, OLD);
    /* falls back to the deployment's status.replicas */
    assert_int_equal(dep_rs_fraction(&d, &v, 5), 5);
    /* and survives a zero there (upstream would divide by zero) */
    assert_int_equal(dep_rs_fraction(&d, &v, 0), 0);
    /* proportion: bounded by what is still allowed */
    v.has_max = true;
    v.max = 5;
    assert_int_equal(dep_rs_proportion(&d, &v, 5, 3, 0), 3);
    assert_int_equal(dep_rs_proportion(&d, &v, 5, 3, 3), 0);
    assert_int_equal(dep_rs_proportion(&d, &v, 5, 0, 0), 0);
    dep_spec_t down = deployment(2, 0, 0);
    assert_int_equal(dep_rs_proportion(&down, &v, 5, -1, 0), -1);
}

/* ---- FindActiveOrLatest, IsSaturated, isScalingEvent ------------------------ */

static void test_active_or_latest(void **state)
{
    (void)state;
    dep_rs_t a = rs("a", 0, OLDER), b = rs("b", 0, OLD), n = rs("n", 0, NEW);
    dep_rs_t *old[] = {&a, &b};
    /* none active: the new one, else the newest old one */
    assert_ptr_equal(dep_find_active_or_latest(&n, old, 2), &n);
    assert_ptr_equal(dep_find_active_or_latest(NULL, old, 2), &b);
    a.replicas = 3;
    assert_ptr_equal(dep_find_active_or_latest(&n, old, 2), &a);
    n.replicas = 1;
    assert_null(dep_find_active_or_latest(&n, old, 2));
    assert_null(dep_find_active_or_latest(NULL, NULL, 0));
}

static void test_saturated_and_scaling_event(void **state)
{
    (void)state;
    dep_spec_t d = deployment(3, 1, 0);
    dep_rs_t n = rs("n", 3, NEW);
    assert_false(dep_is_saturated(&d, &n)); /* no desired annotation */
    n.has_desired = true;
    n.desired = 3;
    assert_true(dep_is_saturated(&d, &n));
    n.available = 2;
    assert_false(dep_is_saturated(&d, &n));
    assert_false(dep_is_saturated(&d, NULL));

    dep_rs_t o = rs("o", 2, OLD);
    dep_rs_t *old[] = {&o};
    assert_false(dep_is_scaling_event(&d, &n, old, 1));
    o.has_desired = true;
    o.desired = 5;
    assert_true(dep_is_scaling_event(&d, &n, old, 1));
    o.replicas = 0; /* inactive ones do not count */
    assert_false(dep_is_scaling_event(&d, &n, old, 1));
}

/* ---- rolling update ---------------------------------------------------------- */

static void test_reconcile_new(void **state)
{
    (void)state;
    struct { int32_t dep, surge, old, newrs; bool scaled; int32_t expect; } t[] = {
        {10, 0, 10, 0, false, 0},  /* no room */
        {10, 2, 10, 0, true, 2},
        {10, 2, 5, 0, true, 7},
        {10, 2, 10, 2, false, 2},
        {10, 2, 2, 11, true, 10},  /* too big: down to the deployment's size */
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        dep_spec_t s = deployment(t[i].dep, t[i].surge, 0);
        dep_rs_t newrs = rs("foo-v2", t[i].newrs, NEW), old = rs("foo-v1", t[i].old, OLD);
        dep_rs_t *all[] = {&newrs, &old};
        assert_int_equal(dep_plan_rolling_new(&s, all, 2, &newrs), t[i].scaled);
        assert_int_equal(newrs.replicas, t[i].expect);
    }
}

static void test_reconcile_old(void **state)
{
    (void)state;
    struct { int32_t dep, unavail, old, newrs, old_ready, new_ready; bool scaled; int32_t expect; } t[] = {
        {10, 0, 10, 0, 10, 0, true, 9},
        {10, 2, 10, 0, 10, 0, true, 8},
        {10, 2, 10, 0, 8, 0, true, 8},  /* unhealthy old replicas go first */
        {10, 2, 10, 0, 9, 0, true, 8},  /* one unhealthy, one healthy */
        {10, 2, 8, 2, 8, 0, false, 8},  /* unavailable new pods do not let old ones go */
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        dep_spec_t s = deployment(t[i].dep, 0, t[i].unavail);
        dep_rs_t old = rs("foo-old", t[i].old, OLD), newrs = rs("foo-new", t[i].newrs, NEW);
        old.available = t[i].old_ready;
        newrs.available = t[i].new_ready;
        dep_rs_t *all[] = {&old, &newrs};
        dep_rs_t *olds[] = {&old};
        int32_t n = dep_plan_rolling_old(&s, all, 2, olds, 1, &newrs);
        if ((n > 0) != t[i].scaled || old.replicas != t[i].expect)
            fail_msg("case %zu: scaled %d to %d, want %d to %d", i, n, old.replicas,
                     t[i].scaled, t[i].expect);
    }
}

static void test_cleanup_unhealthy(void **state)
{
    (void)state;
    struct { int32_t old, ready, max_cleanup, expect; } t[] = {
        {10, 8, 1, 1}, {10, 8, 3, 2}, {10, 8, 0, 0}, {10, 10, 3, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        dep_rs_t old = rs("foo-v2", t[i].old, OLD);
        old.available = t[i].ready;
        dep_rs_t *olds[] = {&old};
        assert_int_equal(dep_cleanup_unhealthy(olds, 1, t[i].max_cleanup), t[i].expect);
        assert_int_equal(old.replicas, t[i].old - t[i].expect);
    }
}

static void test_scale_down_old_rolling(void **state)
{
    (void)state;
    struct { int32_t dep, unavail, ready, old, expect_down; } t[] = {
        {10, 0, 10, 10, 1}, {10, 2, 10, 10, 2}, {10, 2, 8, 10, 0},
        {10, 2, 10, 0, 0},  /* nothing left to scale (upstream: error) */
        {10, 2, 1, 10, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        dep_spec_t s = deployment(t[i].dep, 0, t[i].unavail);
        dep_rs_t old = rs("foo-v2", t[i].old, OLD);
        old.available = t[i].ready;
        dep_rs_t *olds[] = {&old};
        assert_int_equal(dep_scale_down_old_rolling(&s, olds, 1, NULL), t[i].expect_down);
        assert_int_equal(old.replicas, t[i].old - t[i].expect_down);
    }
}

static void test_scale_down_oldest_first(void **state)
{
    (void)state;
    dep_spec_t s = deployment(4, 0, 3);
    dep_rs_t newer = rs("b", 2, OLD), older = rs("a", 2, OLDER);
    dep_rs_t *olds[] = {&newer, &older};
    assert_int_equal(dep_scale_down_old_rolling(&s, olds, 2, NULL), 3);
    assert_int_equal(older.replicas, 0);
    assert_int_equal(newer.replicas, 1);
}

static void test_stale_available_not_spent_twice(void **state)
{
    (void)state;
    /* old was cut 10 -> 8 but its status still says 10 available; new has
     * 3 available: only 1 more may go (8 + 3 - 10), not 3 */
    dep_spec_t s = deployment(10, 3, 2);
    dep_rs_t old = rs("old", 8, OLD), newrs = rs("new", 3, NEW);
    old.available = 10;
    old.status_replicas = 10;
    dep_rs_t *all[] = {&old, &newrs};
    dep_rs_t *olds[] = {&old};
    assert_int_equal(dep_plan_rolling_old(&s, all, 2, olds, 1, &newrs), 3);
    assert_int_equal(old.replicas, 5);
    /* upstream's arithmetic with the stale 10 would have gone to 3 */
}

/* A whole rolling update of the tutorial's mydeploy (10 pods, 25%/25%):
 * alternate the controller's plans with an instant ReplicaSet controller
 * and kubelet, checking the bounds at every step. */
static void test_rollout_keeps_bounds(void **state)
{
    (void)state;
    dep_spec_t s = deployment(10, 0, 0);
    s.max_surge = 3;
    s.max_unavailable = 2;
    dep_rs_t old = rs("old", 10, OLD), newrs = rs("new", 0, NEW);
    for (int step = 0; step < 50 && !(newrs.replicas == 10 && old.replicas == 0); step++) {
        dep_rs_t *all[] = {&old, &newrs};
        dep_rs_t *olds[] = {&old};
        if (!dep_plan_rolling_new(&s, all, 2, &newrs))
            dep_plan_rolling_old(&s, all, 2, olds, 1, &newrs);
        /* the world catches up: pods created/deleted, new pods become ready */
        old.available = old.available < old.replicas ? old.available : old.replicas;
        newrs.available = newrs.replicas;
        assert_true(old.replicas + newrs.replicas <= 13);
        assert_true(old.available + newrs.available >= 8);
    }
    assert_int_equal(newrs.replicas, 10);
    assert_int_equal(old.replicas, 0);
}

static void test_recreate_down(void **state)
{
    (void)state;
    dep_rs_t a = rs("a", 3, OLDER), b = rs("b", 0, OLD);
    dep_rs_t *olds[] = {&a, &b};
    assert_true(dep_plan_recreate_down(olds, 2));
    assert_int_equal(a.replicas, 0);
    assert_false(b.touched);
    assert_false(dep_plan_recreate_down(olds, 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_rs_new_replicas),
        cmocka_unit_test(test_new_rs_counts_surplus_pods),
        cmocka_unit_test(test_scale_table),
        cmocka_unit_test(test_scale_change_size_and_template),
        cmocka_unit_test(test_scale_marks_annotation_updates),
        cmocka_unit_test(test_fraction_without_annotation),
        cmocka_unit_test(test_active_or_latest),
        cmocka_unit_test(test_saturated_and_scaling_event),
        cmocka_unit_test(test_reconcile_new),
        cmocka_unit_test(test_reconcile_old),
        cmocka_unit_test(test_cleanup_unhealthy),
        cmocka_unit_test(test_scale_down_old_rolling),
        cmocka_unit_test(test_scale_down_oldest_first),
        cmocka_unit_test(test_stale_available_not_spent_twice),
        cmocka_unit_test(test_rollout_keeps_bounds),
        cmocka_unit_test(test_recreate_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
