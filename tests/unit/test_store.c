/* Unit tests for lib/store.c: the writer/reader protocol (nothing visible
 * before commit, a reader's transaction is a snapshot, renew sees the
 * commit), the indexes kept in step through put/replace/delete, the
 * per-resource seq, epochs (a reader of another epoch is refused, a new
 * writer removes old stores), and refusals of bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "tmpdir_fixture.h"

static const char *const RES[] = { "pods", NULL };

typedef struct {
    char dir[64];
} fx_t;

static int setup(void **state)
{
    fx_t *fx = calloc(1, sizeof *fx);
    if (!fx || tmpdir_make(fx->dir, sizeof fx->dir, "store") < 0) return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    int rc = tmpdir_remove(fx->dir);
    free(fx);
    return rc;
}

static store_rec_t rec(const char *key, const char *uid, const char *owner, const char *rv, const char *json)
{
    return (store_rec_t){ key, strlen(key), uid, strlen(uid), owner, strlen(owner), rv, strlen(rv), json,
                          strlen(json) };
}

static void put(store_t *w, const char *key, const char *uid, const char *owner, uint64_t seq)
{
    char json[128], err[256];
    snprintf(json, sizeof json, "{\"metadata\":{\"name\":\"%s\"}}", key);
    store_rec_t r = rec(key, uid, owner, "1", json);
    assert_int_equal(store_put(w, "pods", &r, seq, err, sizeof err), 0);
}

typedef struct {
    char keys[16][64];
    int n;
} seen_t;

static bool collect(const store_rec_t *r, void *ud)
{
    seen_t *s = ud;
    if (s->n < 16) snprintf(s->keys[s->n++], 64, "%.*s", (int)r->key_len, r->key);
    return true;
}

static void test_commit_and_snapshot(void **state)
{
    fx_t *fx = *state;
    char err[256];
    store_t *w = store_create(fx->dir, 7, RES, err, sizeof err);
    assert_non_null(w);
    store_t *r = store_open(fx->dir, 7, RES, err, sizeof err);
    assert_non_null(r);
    put(w, "ns1/a", "u-a", "rs-1", 1);
    assert_int_equal(store_read_begin(r, err, sizeof err), 0);
    store_rec_t got;
    assert_int_equal(store_get(r, "pods", "ns1/a", &got, err, sizeof err), 0);   /* not committed */
    assert_int_equal(store_seq(r, "pods"), 0);
    store_read_end(r);
    assert_int_equal(store_commit(w, err, sizeof err), 0);
    assert_int_equal(store_read_begin(r, err, sizeof err), 0);
    assert_int_equal(store_get(r, "pods", "ns1/a", &got, err, sizeof err), 1);
    assert_int_equal(got.uid_len, 3);
    assert_memory_equal(got.uid, "u-a", 3);
    assert_memory_equal(got.owner, "rs-1", 4);
    assert_true(got.json_len > 0 && got.json[0] == '{');
    assert_int_equal(store_seq(r, "pods"), 1);
    /* the open transaction is a snapshot: a later commit is not seen... */
    put(w, "ns1/b", "u-b", "", 2);
    assert_int_equal(store_commit(w, err, sizeof err), 0);
    assert_int_equal(store_get(r, "pods", "ns1/b", &got, err, sizeof err), 0);
    assert_int_equal(store_seq(r, "pods"), 1);
    store_read_end(r);
    /* ... until the transaction is renewed */
    assert_int_equal(store_read_begin(r, err, sizeof err), 0);
    assert_int_equal(store_get(r, "pods", "ns1/b", &got, err, sizeof err), 1);
    assert_int_equal(store_seq(r, "pods"), 2);
    assert_int_equal(store_count(r, "pods"), 2);
    store_read_end(r);
    store_close(&r);
    store_close(&w);
    assert_null(w);
}

static void test_indexes(void **state)
{
    fx_t *fx = *state;
    char err[256], key[64];
    store_t *w = store_create(fx->dir, 9, RES, err, sizeof err);
    store_t *r = store_open(fx->dir, 9, RES, err, sizeof err);
    assert_non_null(r);
    put(w, "ns1/a", "u-a", "rs-1", 1);
    put(w, "ns1/b", "u-b", "rs-1", 2);
    put(w, "ns1/c", "u-c", "", 3);
    put(w, "ns2/d", "u-d", "rs-1", 4);   /* another namespace, same owner uid */
    put(w, "ns2/e", "u-e", "", 5);
    assert_int_equal(store_commit(w, err, sizeof err), 0);
    assert_int_equal(store_read_begin(r, err, sizeof err), 0);
    seen_t s = { 0 };
    assert_int_equal(store_scan_owned(r, "pods", "rs-1", "ns1", collect, &s, err, sizeof err), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.keys[0], "ns1/a");
    assert_string_equal(s.keys[1], "ns1/b");
    s.n = 0;
    assert_int_equal(store_scan_owned(r, "pods", "rs-1", NULL, collect, &s, err, sizeof err), 0);
    assert_int_equal(s.n, 3);
    s.n = 0;
    assert_int_equal(store_scan_owned(r, "pods", "", "ns1", collect, &s, err, sizeof err), 0);   /* orphans */
    assert_int_equal(s.n, 1);
    assert_string_equal(s.keys[0], "ns1/c");
    s.n = 0;
    assert_int_equal(store_scan(r, "pods", "ns2", collect, &s, err, sizeof err), 0);
    assert_int_equal(s.n, 2);
    s.n = 0;
    assert_int_equal(store_scan(r, "pods", NULL, collect, &s, err, sizeof err), 0);
    assert_int_equal(s.n, 5);
    assert_int_equal(store_key_of_uid(r, "pods", "u-d", key, sizeof key), 1);
    assert_string_equal(key, "ns2/d");
    store_read_end(r);

    /* replace: a released pod leaves its owner's index and joins the
     * orphans; a new uid under the same name replaces the old uid */
    put(w, "ns1/a", "u-a2", "", 6);
    char err2[256];
    assert_int_equal(store_del(w, "pods", "ns1/b", 7, err2, sizeof err2), 0);
    assert_int_equal(store_del(w, "pods", "ns1/zz", 8, err2, sizeof err2), 0);   /* absent: fine */
    assert_int_equal(store_commit(w, err, sizeof err), 0);
    assert_int_equal(store_read_begin(r, err, sizeof err), 0);
    s.n = 0;
    assert_int_equal(store_scan_owned(r, "pods", "rs-1", "ns1", collect, &s, err, sizeof err), 0);
    assert_int_equal(s.n, 0);
    s.n = 0;
    assert_int_equal(store_scan_owned(r, "pods", "", "ns1", collect, &s, err, sizeof err), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(store_key_of_uid(r, "pods", "u-a", key, sizeof key), 0);
    assert_int_equal(store_key_of_uid(r, "pods", "u-a2", key, sizeof key), 1);
    assert_int_equal(store_key_of_uid(r, "pods", "u-b", key, sizeof key), 0);
    assert_int_equal(store_seq(r, "pods"), 8);
    assert_int_equal(store_count(r, "pods"), 4);
    store_read_end(r);
    store_close(&r);
    store_close(&w);
}

static void test_epochs(void **state)
{
    fx_t *fx = *state;
    char err[256], path[128];
    store_t *w = store_create(fx->dir, 1, RES, err, sizeof err);
    assert_non_null(w);
    assert_null(store_open(fx->dir, 2, RES, err, sizeof err));   /* no such store */
    assert_true(strlen(err) > 0);
    store_close(&w);
    /* a new informer life removes the old store */
    w = store_create(fx->dir, 2, RES, err, sizeof err);
    assert_non_null(w);
    assert_int_equal(store_path(path, sizeof path, fx->dir, 1), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), -1);
    assert_null(store_open(fx->dir, 1, RES, err, sizeof err));
    store_t *r = store_open(fx->dir, 2, RES, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(store_epoch(r), 2);
    store_close(&r);
    store_close(&w);
}

static void test_refusals(void **state)
{
    fx_t *fx = *state;
    char err[256];
    store_t *w = store_create(fx->dir, 3, RES, err, sizeof err);
    assert_non_null(w);
    char longuid[200];
    memset(longuid, 'x', sizeof longuid - 1);
    longuid[sizeof longuid - 1] = '\0';
    store_rec_t r = rec("ns/a", longuid, "", "1", "{}");
    assert_int_equal(store_put(w, "pods", &r, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "uid"));
    r = rec("ns/a", "u", "", "1", "");
    assert_int_equal(store_put(w, "pods", &r, 1, err, sizeof err), -1);
    r = rec("ns/a", "u", "", "1", "{}");
    assert_int_equal(store_put(w, "nodes", &r, 1, err, sizeof err), -1);   /* not a stored resource */
    assert_non_null(strstr(err, "nodes"));
    /* a reader without a transaction reads nothing */
    store_t *rd = store_open(fx->dir, 3, RES, err, sizeof err);
    store_rec_t got;
    assert_int_equal(store_get(rd, "pods", "ns/a", &got, err, sizeof err), -1);
    /* a reader cannot write */
    assert_int_equal(store_put(rd, "pods", &r, 1, err, sizeof err), -1);
    store_close(&rd);
    store_close(&w);
    assert_null(store_create("", 1, RES, err, sizeof err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_commit_and_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_indexes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_epochs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
