/* Unit tests for lib/ctrl/cache.c: upsert/delete with change callbacks,
 * indexes by uid, namespace and controller owner, and snapshot rebuilds -
 * for full and for compact caches - plus what only compact caches do
 * (bytes kept, trees handed out until released) and claimable lists, and
 * cache_has_uid answering from the uid index without a parse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ctrl/cache.h"
#include "ctrl/kobj.h"
#include "turnarena.h"

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

/* The state of the parametrised tests: a compact cache or a full one. */
static cache_t *new_cache(void **state)
{
    bool compact = state && *state && *(const bool *)*state;
    return compact ? cache_new_compact("pods") : cache_new("pods");
}

static void test_apply_and_indexes(void **state)
{
    cache_t *c = new_cache(state);
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
    cache_t *c = new_cache(state);
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

/* A compact cache keeps the bytes it was given, hands out one parsed tree
 * per object per turn, and forgets the trees on release. */
static void test_compact_bytes_and_turns(void **state)
{
    (void)state;
    cache_t *c = cache_new_compact("pods");
    rec_t r = { 0 };
    /* Given bytes with other spacing than jansson's: those are kept. */
    const char *text = "{ \"metadata\" : { \"namespace\":\"a\", \"name\":\"p\", \"uid\":\"u\", "
                       "\"resourceVersion\":\"1\" }, \"spec\": {\"nodeName\": \"n1\"} }";
    json_t *o = json_loads(text, 0, NULL);
    assert_int_equal(cache_apply_json(c, &o, text, strlen(text), false, on_change, &r), 0);
    const json_t *a = cache_get(c, "a/p"), *b = cache_get_by_uid(c, "u");
    assert_ptr_equal(a, b);                        /* one tree per object per turn */
    assert_string_equal(kpod_node_name(a), "n1");
    cache_release_parsed(c);
    const json_t *after = cache_get(c, "a/p");
    assert_non_null(after);
    assert_string_equal(kpod_node_name(after), "n1");
    /* An update: the callback sees the old state from the bytes. */
    put(c, obj("a", "p", "u", "2", NULL), false, &r);
    assert_string_equal(r.last_old_rv, "1");
    assert_string_equal(r.last_new_rv, "2");
    cache_release_parsed(c);
    assert_string_equal(kobj_resource_version(cache_get(c, "a/p")), "2");
    assert_string_equal(kpod_node_name(cache_get(c, "a/p")), "");   /* the update had no spec */
    /* Many objects in one turn (a snapshot): all there, listable. */
    char name[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "q%d", i);
        put(c, obj("b", name, name, "1", "rs1"), false, &r);
    }
    cache_list_t l;
    assert_int_equal(cache_list_controlled_by(c, "rs1", &l), 0);
    assert_int_equal(l.n, 1000);
    for (size_t i = 0; i < l.n; i++) assert_string_equal(kobj_namespace(l.items[i]), "b");
    cache_list_free(&l);
    cache_release_parsed(c);
    put(c, obj("b", "q7", "q7", "9", NULL), true, &r);
    assert_string_equal(r.last_old_rv, "9");
    assert_int_equal(cache_size(c), 1000);
    cache_destroy(&c);
}

/* Claimable: what this owner controls in its namespace, and the orphans
 * there; never another controller's objects nor another namespace's. */
static void test_claimable(void **state)
{
    cache_t *c = new_cache(state);
    rec_t r = { 0 };
    put(c, obj("a", "mine", "u1", "1", "rs1"), false, &r);
    put(c, obj("a", "orphan", "u2", "1", NULL), false, &r);
    put(c, obj("a", "theirs", "u3", "1", "rs2"), false, &r);
    put(c, obj("b", "mine-elsewhere", "u4", "1", "rs1"), false, &r);
    put(c, obj("b", "orphan-elsewhere", "u5", "1", NULL), false, &r);
    cache_list_t l;
    assert_int_equal(cache_list_claimable(c, "a", "rs1", &l), 0);
    assert_int_equal(l.n, 2);
    for (size_t i = 0; i < l.n; i++) {
        const char *n = kobj_name(l.items[i]);
        assert_true(strcmp(n, "mine") == 0 || strcmp(n, "orphan") == 0);
    }
    cache_list_free(&l);
    /* Released by rs1 (ownerRef dropped): it becomes an orphan. */
    put(c, obj("a", "mine", "u1", "2", NULL), false, &r);
    assert_int_equal(cache_list_claimable(c, "a", "rs2", &l), 0);
    assert_int_equal(l.n, 3);
    cache_list_free(&l);
    assert_int_equal(cache_list_claimable(c, "c", "rs1", &l), 0);
    assert_int_equal(l.n, 0);
    cache_list_free(&l);
    cache_destroy(&c);
}

/* Existence by uid follows applies and deletes, and parses nothing: a
 * compact cache's parse would show as live arena nodes (a window per
 * parse), as cache_get_by_uid's does. Runs last: it installs the arena. */
static void test_has_uid(void **state)
{
    cache_t *c = new_cache(state);
    rec_t r = { 0 };
    turn_arena_install();
    put(c, obj("a", "p1", "u1", "1", "rs1"), false, &r);
    put(c, obj("b", "p2", "u2", "1", NULL), false, &r);
    cache_release_parsed(c);
    turn_arena_rotate();
    assert_true(cache_has_uid(c, "u1"));
    assert_true(cache_has_uid(c, "u2"));
    assert_false(cache_has_uid(c, "u3"));
    assert_false(cache_has_uid(c, "p1"));   /* a name is not a uid */
    assert_false(cache_has_uid(c, NULL));
    assert_false(cache_has_uid(NULL, "u1"));
    assert_int_equal(turn_arena_live(), 0);
    assert_non_null(cache_get_by_uid(c, "u1"));
    bool compact = *(const bool *)*state;
    assert_true(compact ? turn_arena_live() > 0 : turn_arena_live() == 0);   /* the probe sees a parse */
    put(c, obj("a", "p1", "u1", "2", "rs1"), true, &r);
    put(c, obj("b", "p2", "u9", "2", NULL), false, &r);   /* the name now holds another object */
    assert_false(cache_has_uid(c, "u1"));
    assert_false(cache_has_uid(c, "u2"));
    assert_true(cache_has_uid(c, "u9"));
    cache_destroy(&c);
    turn_arena_rotate();
    assert_int_equal(turn_arena_pinned(), 0);
}

/* Collects the keys seen, each followed by '|'; false after stop_after. */
typedef struct { char seen[256]; size_t n, stop_after; } keys_t;

static bool note_key(const char *key, void *ud)
{
    keys_t *k = ud;
    strncat(k->seen, key, sizeof k->seen - strlen(k->seen) - 2);
    strcat(k->seen, "|");
    return ++k->n != k->stop_after;
}

/* Every key, as kobj_key spells it, and no parse (as test_has_uid). */
static void test_foreach_key(void **state)
{
    cache_t *c = new_cache(state);
    rec_t r = { 0 };
    turn_arena_install();
    put(c, obj("a", "p1", "u1", "1", "rs1"), false, &r);
    put(c, obj("b", "p2", "u2", "1", NULL), false, &r);
    put(c, obj("b", "p3", "u3", "1", NULL), false, &r);
    put(c, obj("b", "p3", "u3", "2", NULL), true, &r);   /* deleted: not listed */
    cache_release_parsed(c);
    turn_arena_rotate();
    keys_t k = { .stop_after = 0 };
    cache_foreach_key(c, note_key, &k);
    assert_int_equal(k.n, 2);
    assert_non_null(strstr(k.seen, "a/p1|"));
    assert_non_null(strstr(k.seen, "b/p2|"));
    assert_int_equal(turn_arena_live(), 0);
    keys_t one = { .stop_after = 1 };   /* false stops the walk */
    cache_foreach_key(c, note_key, &one);
    assert_int_equal(one.n, 1);
    cache_foreach_key(NULL, note_key, &one);
    cache_foreach_key(c, NULL, NULL);
    assert_int_equal(one.n, 1);
    cache_destroy(&c);
}

int main(void)
{
    static const bool full = false, compact = true;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(test_apply_and_indexes, (void *)&full),
        cmocka_unit_test_prestate(test_apply_and_indexes, (void *)&compact),
        cmocka_unit_test_prestate(test_rebuild, (void *)&full),
        cmocka_unit_test_prestate(test_rebuild, (void *)&compact),
        cmocka_unit_test(test_compact_bytes_and_turns),
        cmocka_unit_test_prestate(test_claimable, (void *)&full),
        cmocka_unit_test_prestate(test_claimable, (void *)&compact),
        cmocka_unit_test_prestate(test_has_uid, (void *)&full),
        cmocka_unit_test_prestate(test_has_uid, (void *)&compact),
        cmocka_unit_test_prestate(test_foreach_key, (void *)&full),
        cmocka_unit_test_prestate(test_foreach_key, (void *)&compact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
