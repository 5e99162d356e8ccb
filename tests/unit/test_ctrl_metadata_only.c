/* Unit tests for the runtime's metadata-only mode (ctrl_config_t
 * .metadata_only): caches and handlers see {apiVersion, kind, metadata}
 * only, and deletes and updates still work on it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ctrl/kobj.h"
#include "ctrl_fixture.h"

typedef struct {
    int calls;
    cache_change_t last;
    json_t *seen;   /* copy of the last new (or final) object */
} seen_t;

static void on_pod(ctrl_runtime_t *rt, const char *resource, cache_change_t ch, const json_t *old_obj,
                   const json_t *new_obj, void *ud)
{
    (void)rt; (void)resource;
    seen_t *s = ud;
    s->calls++;
    s->last = ch;
    json_decref(s->seen);
    s->seen = json_deep_copy(new_obj ? new_obj : old_obj);
}

static int no_sync(ctrl_runtime_t *rt, const char *key, void *ud) { (void)rt; (void)key; (void)ud; return 0; }

static json_t *pod(const char *rv)
{
    return json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:{s:s}}, s:{s:s, s:[{s:s}]}, s:{s:s}}",
                     "apiVersion", "v1", "kind", "Pod",
                     "metadata", "name", "p", "namespace", "ns", "uid", "u1", "resourceVersion", rv,
                     "labels", "app", "x",
                     "spec", "nodeName", "n1", "containers", "name", "c",
                     "status", "phase", "Running");
}

static void test_metadata_only(void **state)
{
    (void)state;
    static const char *const res[] = { "pods", NULL };
    ctrl_config_t cfg = { .controller = "t", .resources = res, .primary = "pods", .sync = no_sync,
                          .metadata_only = true };
    fx_sent_t log = { 0 };
    ctrl_runtime_t *rt = fx_runtime_new(&cfg, &log);
    seen_t seen = { 0 };
    assert_int_equal(ctrl_on(rt, "pods", on_pod, &seen), 0);
    fx_runtime_ready(rt, &log, 1000);

    fx_apply(rt, "pods", pod("1"));
    assert_int_equal(seen.calls, 1);
    assert_int_equal(seen.last, CACHE_ADDED);
    assert_string_equal(kobj_str(seen.seen, "kind"), "Pod");
    assert_string_equal(kobj_str(seen.seen, "apiVersion"), "v1");
    assert_string_equal(kobj_label(seen.seen, "app"), "x");
    assert_null(kobj_get(seen.seen, "spec"));
    assert_null(kobj_get(seen.seen, "status"));
    const json_t *cached = cache_get(ctrl_cache(rt, "pods"), "ns/p");
    assert_non_null(cached);
    assert_int_equal(json_object_size(cached), 3);

    fx_apply(rt, "pods", pod("2"));
    assert_int_equal(seen.last, CACHE_MODIFIED);
    assert_string_equal(kobj_resource_version(seen.seen), "2");

    json_t *gone = pod("3");
    assert_int_equal(ctrl_test_apply(rt, "pods", &gone, true), 0);
    assert_int_equal(seen.last, CACHE_DELETED);
    assert_null(cache_get(ctrl_cache(rt, "pods"), "ns/p"));

    /* An object without metadata is dropped, never cached. */
    json_t *bad = json_pack("{s:s}", "kind", "Pod");
    ctrl_test_apply(rt, "pods", &bad, false);
    assert_int_equal(seen.calls, 3);
    assert_int_equal(cache_size(ctrl_cache(rt, "pods")), 0);

    json_decref(seen.seen);
    fx_runtime_destroy(&rt, &log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metadata_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
