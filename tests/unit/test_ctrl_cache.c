/* Unit tests for lib/ctrl/cache.c: upsert/delete with change callbacks,
 * indexes by uid, namespace and controller owner, and snapshot rebuilds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ctrl/cache.h"
#include "ctrl/kobj.h"

typedef struct {
    int added, modified, deleted;
    char last_old_rv[16], last_new_rv[16];
} rec_t;

static void on_change(cache_change_t ch, const json_t *o, const json_t *n, void *ud)
{
    rec_t *r = ud;
    if (ch == CACHE_ADDED) r->added++;
    if (ch == CACHE_MODIFIED) r->modified++;
    if (ch == CACHE_DELETED) r->deleted++;
    snprintf(r->last_old_rv, sizeof r->last_old_rv, "%s", kobj_resource_version(o));
    snprintf(r->last_new_rv, sizeof r->last_new_rv, "%s", kobj_resource_version(n));
}

static json_t *obj(const char *ns, const char *name, const char *uid, const char *rv, const char *owner)
{
    json_t *o = json_pack("{s:{s:s, s:s, s:s, s:s}}", "metadata", "namespace", ns, "name", name, "uid", uid,
                          "resourceVersion", rv);
    if (owner)
        json_object_set_new(json_object_get(o, "metadata"), "ownerReferences",
                            json_pack("[{s:s, s:s, s:s, s:s, s:b}]", "apiVersion", "apps/v1", "kind", "ReplicaSet",
                                      "name", "rs", "uid", owner, "controller", 1));
    return o;
}

static void put(cache_t *c, json_t *o, bool del, rec_t *r)
{
    assert_int_equal(cache_apply(c, &o, del, on_change, r), 0);
    assert_null(o);
}

static void test_apply_and_indexes(void **state)
{
    (void)state;
    cache_t *c = cache_new("pods");
    rec_t r = { 0 };
    put(c, obj("a", "p1", "u1", "1", "rs1"), false, &r);
    put(c, obj("a", "p2", "u2", "1", "rs1"), false, &r);
    put(c, obj("b", "p3", "u3", "1", NULL), false, &r);
    assert_int_equal(r.added, 3);
    assert_int_equal(cache_size(c), 3);
    assert_non_null(cache_get(c, "a/p1"));
    assert_non_null(cache_get_ns(c, "b", "p3"));
    assert_string_equal(kobj_name(cache_get_by_uid(c, "u2")), "p2");
    cache_list_t l;
    assert_int_equal(cache_list_namespace(c, "a", &l), 0);
    assert_int_equal(l.n, 2);
    cache_list_free(&l);
    assert_int_equal(cache_list_controlled_by(c, "rs1", &l), 0);
    assert_int_equal(l.n, 2);
    cache_list_free(&l);
    /* same uid + resourceVersion: no change */
    put(c, obj("a", "p1", "u1", "1", "rs1"), false, &r);
    assert_int_equal(r.modified, 0);
    /* update that drops the owner moves the object out of the owner index */
    put(c, obj("a", "p1", "u1", "2", NULL), false, &r);
    assert_int_equal(r.modified, 1);
    assert_string_equal(r.last_old_rv, "1");
    assert_string_equal(r.last_new_rv, "2");
    assert_int_equal(cache_list_controlled_by(c, "rs1", &l), 0);
    assert_int_equal(l.n, 1);
    cache_list_free(&l);
    put(c, obj("a", "p2", "u2", "5", "rs1"), true, &r);
    assert_int_equal(r.deleted, 1);
    assert_string_equal(r.last_old_rv, "5");          /* the final state is reported */
    assert_null(cache_get_by_uid(c, "u2"));
    assert_int_equal(cache_list_controlled_by(c, "rs1", &l), 0);
    assert_int_equal(l.n, 0);
    cache_list_free(&l);
    /* refused input */
    json_t *bad = json_pack("{s:{}}", "metadata");
    assert_int_equal(cache_apply(c, &bad, false, NULL, NULL), -1);
    assert_null(bad);
    assert_int_equal(cache_apply(c, NULL, false, NULL, NULL), -1);
    cache_destroy(&c);
    assert_null(c);
}

static void test_rebuild(void **state)
{
    (void)state;
    cache_t *c = cache_new("pods");
    rec_t r = { 0 };
    put(c, obj("a", "keep", "u1", "1", NULL), false, &r);
    put(c, obj("a", "gone", "u2", "1", NULL), false, &r);
    put(c, obj("a", "changed", "u3", "1", NULL), false, &r);
    memset(&r, 0, sizeof r);
    cache_rebuild_begin(c);
    put(c, obj("a", "keep", "u1", "1", NULL), false, &r);
    put(c, obj("a", "changed", "u3", "2", NULL), false, &r);
    put(c, obj("a", "new", "u4", "1", NULL), false, &r);
    cache_rebuild_end(c, on_change, &r);
    assert_int_equal(r.added, 1);
    assert_int_equal(r.modified, 1);
    assert_int_equal(r.deleted, 1);
    assert_null(cache_get(c, "a/gone"));
    assert_int_equal(cache_size(c), 3);
    cache_clear(c);
    assert_int_equal(cache_size(c), 0);
    assert_null(cache_get_by_uid(c, "u1"));
    cache_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apply_and_indexes),
        cmocka_unit_test(test_rebuild),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
