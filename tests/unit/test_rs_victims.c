/* Unit tests for the ReplicaSet scale-down order (rs_core.c), rule by rule
 * as upstream's ActivePodsWithRanks.Less states them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ctrl/kobj.h"
#include "rs_core.h"

#define NOW_US (1700000000LL * 1000000LL)

typedef struct {
    const char *name, *node, *phase;
    bool ready;
    int64_t ready_ago_s;     /* ready since now - this */
    int restarts;
    int64_t created_ago_s;
    const char *cost;        /* pod-deletion-cost annotation or NULL */
} spec_t;

static json_t *mk(const spec_t *s)
{
    char rt[32], ct[32];
    kobj_time_format(NOW_US / 1000000 - s->ready_ago_s, rt, sizeof rt);
    kobj_time_format(NOW_US / 1000000 - s->created_ago_s, ct, sizeof ct);
    json_t *p = json_pack("{s:{s:s, s:s, s:s}, s:{s:s}, s:{s:s, s:[{s:s, s:s, s:s}], s:[{s:i}]}}",
                          "metadata", "name", s->name, "uid", s->name, "creationTimestamp", ct,
                          "spec", "nodeName", s->node ? s->node : "",
                          "status", "phase", s->phase, "conditions", "type", "Ready", "status",
                          s->ready ? "True" : "False", "lastTransitionTime", rt,
                          "containerStatuses", "restartCount", s->restarts);
    if (s->cost)
        json_object_set_new(json_object_get(p, "metadata"), "annotations",
                            json_pack("{s:s}", KPOD_DELETION_COST_ANNOTATION, s->cost));
    return p;
}

/* a must be deleted before b */
static void first(const spec_t *a, const spec_t *b)
{
    json_t *pa = mk(a), *pb = mk(b);
    assert_int_equal(rs_victim_cmp(pa, 0, pb, 0, NOW_US), -1);
    assert_int_equal(rs_victim_cmp(pb, 0, pa, 0, NOW_US), 1);
    json_decref(pa);
    json_decref(pb);
}

static const spec_t base = { "base", "n1", "Running", true, 3600, 0, 7200, NULL };

static void test_rules(void **state)
{
    (void)state;
    spec_t a = base, b = base;
    a.name = "a"; b.name = "b";
    /* 1. unscheduled first */
    a.node = ""; first(&a, &b); a.node = "n1";
    /* 2. Pending < Unknown < Running */
    a.phase = "Pending"; b.phase = "Unknown"; first(&a, &b);
    a.phase = "Unknown"; b.phase = "Running"; first(&a, &b);
    a.phase = b.phase = "Running";
    /* 3. not ready first */
    a.ready = false; first(&a, &b); a.ready = true;
    /* 4. lower deletion cost first (invalid counts as 0) */
    a.cost = "-5"; first(&a, &b);
    a.cost = "bogus"; b.cost = "1"; first(&a, &b);
    a.cost = b.cost = NULL;
    /* 6. ready for less time first, in log2 buckets */
    a.ready_ago_s = 60; b.ready_ago_s = 3600; first(&a, &b);
    a.ready_ago_s = b.ready_ago_s = 3600;
    /* 7. more restarts first */
    a.restarts = 5; first(&a, &b); a.restarts = 0;
    /* 8. newer first */
    a.created_ago_s = 100; b.created_ago_s = 100000; first(&a, &b);
    /* equal times in the same bucket: by uid */
    a.created_ago_s = 100000; b.created_ago_s = 100001;
    first(&a, &b);                  /* "a" < "b" in the same log bucket */
}

static void test_rank_same_node(void **state)
{
    (void)state;
    spec_t a = base, b = base;
    a.name = "a"; b.name = "b";
    json_t *pa = mk(&a), *pb = mk(&b);
    /* rank is applied after cost, before times: more co-located pods go first */
    assert_int_equal(rs_victim_cmp(pa, 1, pb, 3, NOW_US), 1);
    assert_int_equal(rs_victim_cmp(pa, 3, pb, 1, NOW_US), -1);
    json_decref(pa);
    json_decref(pb);
}

static void test_sort(void **state)
{
    (void)state;
    spec_t s[] = {
        { "old-ready", "n1", "Running", true, 86400, 0, 86400, NULL },
        { "pending", "n2", "Pending", false, 0, 0, 10, NULL },
        { "unscheduled", NULL, "Pending", false, 0, 0, 10, NULL },
        { "crowded", "n3", "Running", true, 86400, 0, 86400, NULL },
        { "notready", "n1", "Running", false, 0, 0, 50, NULL },
    };
    const size_t n = sizeof s / sizeof s[0];
    json_t *pods[8];
    const json_t *order[8], *related[8];
    for (size_t i = 0; i < n; i++) order[i] = related[i] = pods[i] = mk(&s[i]);
    /* two more pods of the same ReplicaSet on n3: "crowded" outranks "old-ready" */
    spec_t extra = { "x1", "n3", "Running", true, 10, 0, 10, NULL };
    json_t *x1 = mk(&extra);
    extra.name = "x2";
    json_t *x2 = mk(&extra);
    related[n] = x1;
    related[n + 1] = x2;
    assert_int_equal(rs_sort_victims(order, n, related, n + 2, NOW_US), 0);
    const char *want[] = { "unscheduled", "pending", "notready", "crowded", "old-ready" };
    for (size_t i = 0; i < n; i++) assert_string_equal(kobj_name(order[i]), want[i]);
    for (size_t i = 0; i < n; i++) json_decref(pods[i]);
    json_decref(x1);
    json_decref(x2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_rank_same_node),
        cmocka_unit_test(test_sort),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
