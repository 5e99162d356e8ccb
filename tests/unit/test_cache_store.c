/* Unit tests for the store-backed cache (lib/ctrl/cache_store.c through
 * cache.h): lookups by key and uid, existence by uid without a parse
 * (cache_has_uid, following the writer's commits), the namespace / owned /
 * claimable
 * lists answered from the store's indexes, one pointer per object until
 * the release, a released cache seeing the writer's later commits, an
 * unattached cache looking empty, and a stored cache refusing applies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctrl/cache.h"
#include "ctrl/kobj.h"
#include "store.h"
#include "turnarena.h"
#include "tmpdir_fixture.h"

static const char *const RES[] = { "pods", NULL };

typedef struct {
    char dir[64];
    store_t *w, *r;
    cache_t *c;
} fx_t;

static void put(store_t *w, const char *ns, const char *name, const char *uid, const char *owner, const char *rv,
                uint64_t seq)
{
    char key[128], json[512], err[256];
    snprintf(key, sizeof key, "%s/%s", ns, name);
    snprintf(json, sizeof json,
             "{\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\",\"uid\":\"%s\",\"resourceVersion\":\"%s\"%s%s%s}}",
             ns, name, uid, rv, *owner ? ",\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"rs\",\"controller\":true,\"uid\":\"" : "", owner,
             *owner ? "\"}]" : "");
    store_rec_t r = { key, strlen(key), uid, strlen(uid), owner, strlen(owner), rv, strlen(rv), json, strlen(json) };
    assert_int_equal(store_put(w, "pods", &r, seq, err, sizeof err), 0);
}

static int setup(void **state)
{
    fx_t *fx = calloc(1, sizeof *fx);
    char err[256];
    if (!fx) return -1;
    if (tmpdir_make(fx->dir, sizeof fx->dir, "cstore") < 0) return -1;
    fx->w = store_create(fx->dir, 7, RES, err, sizeof err);
    if (!fx->w) return -1;
    put(fx->w, "a", "p1", "u1", "rs1", "10", 1);
    put(fx->w, "a", "p2", "u2", "rs1", "11", 2);
    put(fx->w, "a", "orphan", "u3", "", "12", 3);
    put(fx->w, "b", "p4", "u4", "rs2", "13", 4);
    put(fx->w, "b", "orphan", "u5", "", "14", 5);
    if (store_commit(fx->w, err, sizeof err) < 0) return -1;
    fx->r = store_open(fx->dir, 7, RES, err, sizeof err);
    fx->c = cache_new_stored("pods");
    if (!fx->r || !fx->c) return -1;
    cache_attach_store(fx->c, fx->r);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    cache_destroy(&fx->c);
    store_close(&fx->r);
    store_close(&fx->w);
    int rc = tmpdir_remove(fx->dir);
    free(fx);
    return rc;
}

static bool has_name(const cache_list_t *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(kobj_name(l->items[i]), name) == 0) return true;
    return false;
}

static void test_lookups(void **state)
{
    fx_t *fx = *state;
    assert_true(cache_is_stored(fx->c));
    assert_int_equal(cache_size(fx->c), 5);
    const json_t *p1 = cache_get(fx->c, "a/p1");
    assert_non_null(p1);
    assert_string_equal(kobj_uid(p1), "u1");
    assert_string_equal(kobj_controller_uid(p1), "rs1");
    assert_ptr_equal(cache_get_ns(fx->c, "a", "p1"), p1);   /* one pointer per object until the release */
    assert_ptr_equal(cache_get_by_uid(fx->c, "u1"), p1);
    assert_string_equal(kobj_name(cache_get_by_uid(fx->c, "u4")), "p4");
    assert_null(cache_get(fx->c, "a/none"));
    assert_null(cache_get_by_uid(fx->c, "nope"));
    cache_release_parsed(fx->c);
    assert_false(store_reading(fx->r));   /* the release ends the read transaction */
}

static void test_lists(void **state)
{
    fx_t *fx = *state;
    cache_list_t l;
    assert_int_equal(cache_list_namespace(fx->c, "a", &l), 0);
    assert_int_equal(l.n, 3);
    cache_list_free(&l);
    assert_int_equal(cache_list_controlled_by(fx->c, "rs1", &l), 0);
    assert_int_equal(l.n, 2);
    assert_true(has_name(&l, "p1") && has_name(&l, "p2"));
    cache_list_free(&l);
    /* claimable in b by rs1: none of its own there, only b's orphan */
    assert_int_equal(cache_list_claimable(fx->c, "b", "rs1", &l), 0);
    assert_int_equal(l.n, 1);
    assert_true(has_name(&l, "orphan"));
    assert_string_equal(kobj_namespace(l.items[0]), "b");
    cache_list_free(&l);
    assert_int_equal(cache_list_claimable(fx->c, "a", "rs1", &l), 0);
    assert_int_equal(l.n, 3);
    cache_list_free(&l);
    assert_int_equal(cache_list_all(fx->c, &l), 0);
    assert_int_equal(l.n, 5);
    cache_list_free(&l);
    cache_release_parsed(fx->c);
}

static void test_release_sees_commits(void **state)
{
    fx_t *fx = *state;
    char err[256];
    assert_non_null(cache_get(fx->c, "a/p1"));
    put(fx->w, "a", "p9", "u9", "rs1", "20", 6);
    assert_int_equal(store_commit(fx->w, err, sizeof err), 0);
    assert_null(cache_get(fx->c, "a/p9"));      /* the open transaction is a snapshot */
    cache_release_parsed(fx->c);
    const json_t *p9 = cache_get(fx->c, "a/p9");
    assert_non_null(p9);
    assert_string_equal(kobj_resource_version(p9), "20");
    assert_int_equal(store_seq(fx->r, "pods"), 6);
    assert_int_equal(store_del(fx->w, "pods", "a/p9", 7, err, sizeof err), 0);
    assert_int_equal(store_commit(fx->w, err, sizeof err), 0);
    /* a renewed transaction (as the runtime does for a newer event) drops
     * the memo: the object is gone, the tree handed out stays readable */
    store_read_end(fx->r);
    assert_null(cache_get(fx->c, "a/p9"));
    assert_string_equal(kobj_name(p9), "p9");
    cache_release_parsed(fx->c);
}

/* cache_has_uid reads the uid index only: with the arena installed, a
 * parse would leave live nodes (as cache_get_by_uid's does). */
static void test_has_uid(void **state)
{
    fx_t *fx = *state;
    char err[256];
    turn_arena_install();
    assert_true(cache_has_uid(fx->c, "u1"));
    assert_true(cache_has_uid(fx->c, "u5"));
    assert_false(cache_has_uid(fx->c, "nope"));
    assert_false(cache_has_uid(fx->c, "a/p1"));   /* a key is not a uid */
    assert_false(cache_has_uid(fx->c, NULL));
    assert_int_equal(turn_arena_live(), 0);
    assert_non_null(cache_get_by_uid(fx->c, "u1"));
    assert_true(turn_arena_live() > 0);   /* the probe sees a parse */
    cache_release_parsed(fx->c);
    assert_int_equal(turn_arena_live(), 0);
    assert_int_equal(store_del(fx->w, "pods", "a/p1", 6, err, sizeof err), 0);
    put(fx->w, "a", "p9", "u9", "", "20", 7);
    assert_int_equal(store_commit(fx->w, err, sizeof err), 0);
    assert_false(cache_has_uid(fx->c, "u1"));
    assert_true(cache_has_uid(fx->c, "u9"));
    cache_release_parsed(fx->c);
    cache_t *bare = cache_new_stored("pods");   /* no store attached: nothing is there */
    assert_non_null(bare);
    assert_false(cache_has_uid(bare, "u1"));
    cache_destroy(&bare);
    turn_arena_rotate();
}

static bool count_key(const char *key, void *ud)
{
    size_t *n = ud;
    assert_non_null(strchr(key, '/'));   /* "ns/name", as kobj_key */
    ++*n;
    return true;
}

/* The store's keys, no parse (an arena window per parse would leave live
 * nodes), following the writer's commits. */
static void test_foreach_key(void **state)
{
    fx_t *fx = *state;
    char err[256];
    turn_arena_install();
    size_t n = 0;
    cache_foreach_key(fx->c, count_key, &n);
    assert_int_equal(n, 5);
    assert_int_equal(turn_arena_live(), 0);
    cache_release_parsed(fx->c);
    assert_int_equal(store_del(fx->w, "pods", "a/p1", 6, err, sizeof err), 0);
    assert_int_equal(store_commit(fx->w, err, sizeof err), 0);
    n = 0;
    cache_foreach_key(fx->c, count_key, &n);
    assert_int_equal(n, 4);
    cache_release_parsed(fx->c);
    turn_arena_rotate();
}

static void test_unattached_and_refusals(void **state)
{
    fx_t *fx = *state;
    cache_t *c = cache_new_stored("pods");
    assert_non_null(c);
    assert_int_equal(cache_size(c), 0);
    assert_null(cache_get(c, "a/p1"));
    cache_list_t l;
    assert_int_equal(cache_list_namespace(c, "a", &l), 0);
    assert_int_equal(l.n, 0);
    json_t *obj = json_pack("{s:{s:s,s:s}}", "metadata", "namespace", "a", "name", "x");
    assert_int_equal(cache_apply(fx->c, &obj, false, NULL, NULL), -1);   /* the store is the informer's */
    assert_null(obj);
    cache_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lookups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release_sees_commits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unattached_and_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_has_uid, setup, teardown),   /* last: installs the arena */
        cmocka_unit_test_setup_teardown(test_foreach_key, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
