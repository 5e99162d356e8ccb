/* Unit tests for the GC's metadata parsing (gc_meta.c) and JSON patches
 * (gc_patch.c): what is accepted, what is refused, and the exact patch text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gc_fixture.h"
#include "gc_meta.h"
#include "gc_patch.h"

/* The patch's compact text (frees the patch); NULL stays NULL. */
static char *text(json_t *patch)
{
    if (!patch) return NULL;
    char *s = json_dumps(patch, JSON_COMPACT);
    json_decref(patch);
    return s;
}

static gc_meta_t *pod_with(const char *finalizers, const char *refs, bool deleting)
{
    char *json = fx_obj("default", "web-1", "pod-uid", "42", deleting, finalizers, refs);
    gc_meta_t *m = fx_meta("v1", "Pod", json);
    free(json);
    return m;
}

static void test_parse_full(void **state)
{
    (void)state;
    char r1[512], r2[512], refs[1100];
    fx_ref(r1, sizeof r1, "apps/v1", "ReplicaSet", "web", "rs-uid", "cb");
    fx_ref(r2, sizeof r2, "v1", "Node", "n1", "node-uid", "");
    snprintf(refs, sizeof refs, "%s,%s", r1, r2);
    gc_meta_t *m = pod_with("\"orphan\",\"foregroundDeletion\"", refs, true);
    assert_non_null(m);
    assert_string_equal(m->uid, "pod-uid");
    assert_string_equal(m->namespace_, "default");
    assert_string_equal(m->resource_version, "42");
    assert_string_equal(m->kind, "Pod");
    assert_true(m->being_deleted);
    assert_int_equal(m->n_refs, 2);
    assert_string_equal(m->refs[0].uid, "rs-uid");
    assert_true(m->refs[0].controller);
    assert_true(m->refs[0].block_owner_deletion);
    assert_false(m->refs[1].block_owner_deletion);
    assert_int_equal(m->refs[1].index, 1);
    assert_int_equal(gc_meta_finalizer_index(m, "foregroundDeletion"), 1);
    assert_true(gc_meta_orphaning(m));
    assert_true(gc_meta_deleting_dependents(m));
    assert_non_null(gc_meta_ref_by_uid(m, "node-uid"));
    assert_null(gc_meta_ref_by_uid(m, "nope"));

    gc_meta_t copy;
    assert_int_equal(gc_meta_copy(&copy, m), 0);
    assert_string_equal(copy.refs[1].name, "n1");
    assert_string_equal(copy.finalizers[0], "orphan");
    gc_meta_clear(&copy);
    gc_meta_destroy(&m);
    assert_null(m);
}

static void test_parse_minimal_and_type_from_json(void **state)
{
    (void)state;
    const char *json = "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\","
                       "\"metadata\":{\"name\":\"rs\",\"uid\":\"u\"}}";
    gc_meta_t m;
    char err[128];
    assert_int_equal(gc_meta_parse(json, strlen(json), NULL, NULL, &m, err, sizeof err), 0);
    assert_string_equal(m.kind, "ReplicaSet");
    assert_string_equal(m.namespace_, "");
    assert_string_equal(m.resource_version, "");
    assert_false(m.being_deleted);
    assert_int_equal(m.n_refs, 0);
    assert_false(gc_meta_deleting_dependents(&m));
    gc_meta_clear(&m);
}

static void expect_refused(const char *json, const char *why)
{
    gc_meta_t m;
    char err[256] = "";
    assert_int_equal(gc_meta_parse(json, strlen(json), "v1", "Pod", &m, err, sizeof err), -1);
    assert_non_null(strstr(err, why));
    assert_null(m.uid);
    assert_null(m.refs);
}

static void test_parse_refuses_malformed(void **state)
{
    (void)state;
    expect_refused("not json", "bad JSON");
    expect_refused("[1]", "not a JSON object");
    expect_refused("{}", "metadata");
    expect_refused("{\"metadata\":{\"name\":\"a\"}}", "uid missing");
    expect_refused("{\"metadata\":{\"name\":\"a\",\"uid\":\"\"}}", "uid is empty");
    expect_refused("{\"metadata\":{\"name\":\"a\",\"uid\":7}}", "uid is not a string");
    expect_refused("{\"metadata\":{\"name\":\"a\",\"uid\":\"u\",\"finalizers\":[1]}}", "finalizers[0]");
    expect_refused("{\"metadata\":{\"name\":\"a\",\"uid\":\"u\",\"ownerReferences\":{}}}", "not an array");
    expect_refused("{\"metadata\":{\"name\":\"a\",\"uid\":\"u\",\"ownerReferences\":"
                   "[{\"apiVersion\":\"v1\",\"kind\":\"X\",\"name\":\"x\"}]}}",
                   "ownerReferences[0]: uid missing");
    expect_refused("{\"metadata\":{\"name\":\"a\",\"uid\":\"u\",\"ownerReferences\":"
                   "[{\"apiVersion\":\"v1\",\"kind\":\"X\",\"name\":\"x\",\"uid\":\"o\","
                   "\"controller\":\"yes\"}]}}",
                   "controller is not a boolean");
    expect_refused("{\"metadata\":{\"name\":\"a\",\"uid\":\"u\",\"deletionTimestamp\":5}}",
                   "deletionTimestamp");
    expect_refused("{\"metadata\":{\"name\":\"a\",\"uid\":\"u\",\"uid\":\"v\"}}", "bad JSON");
    gc_meta_t m;
    assert_int_equal(gc_meta_parse(NULL, 0, "v1", "Pod", &m, NULL, 0), -1);
    assert_int_equal(gc_meta_from_json(NULL, "v1", "Pod", &m, NULL, 0), -1);
    assert_null(gc_meta_new_from_json(NULL, "v1", "Pod", NULL, 0));
    char longuid[300];
    memset(longuid, 'u', sizeof longuid - 1);
    longuid[sizeof longuid - 1] = '\0';
    char *json = fx_obj("ns", "a", longuid, "1", false, "", "");
    expect_refused(json, "uid longer");
    free(json);
}

static void test_from_json(void **state)
{
    (void)state;
    json_t *o = json_pack("{s:s,s:s,s:{s:s,s:s,s:s}}", "apiVersion", "apps/v1", "kind", "ReplicaSet",
                          "metadata", "name", "rs", "namespace", "ns", "uid", "u1");
    assert_non_null(o);
    char err[128];
    gc_meta_t *m = gc_meta_new_from_json(o, NULL, NULL, err, sizeof err);
    assert_non_null(m);
    assert_string_equal(m->api_version, "apps/v1");
    assert_string_equal(m->namespace_, "ns");
    gc_meta_destroy(&m);
    json_decref(o);
}

static void test_parse_refuses_too_many_refs(void **state)
{
    (void)state;
    size_t len = 64 + (GC_MAX_REFS + 1) * 80;
    char *refs = malloc(len);
    assert_non_null(refs);
    refs[0] = '\0';
    size_t used = 0;
    for (int i = 0; i <= GC_MAX_REFS; i++)
        used += (size_t)snprintf(refs + used, len - used,
                                 "%s{\"apiVersion\":\"v1\",\"kind\":\"K\",\"name\":\"n\",\"uid\":\"u%d\"}",
                                 i ? "," : "", i);
    char *json = fx_obj("ns", "a", "u", "1", false, "", refs);
    gc_meta_t m;
    char err[128];
    assert_int_equal(gc_meta_parse(json, strlen(json), "v1", "Pod", &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "ownerReferences"));
    free(json);
    free(refs);
}

static void test_same_refs(void **state)
{
    (void)state;
    char a[512], b[512], ab[1100], ba[1100], a2[512];
    fx_ref(a, sizeof a, "apps/v1", "ReplicaSet", "a", "ua", "cb");
    fx_ref(b, sizeof b, "v1", "Node", "n", "un", "");
    fx_ref(a2, sizeof a2, "apps/v1", "ReplicaSet", "a", "ua", "c");
    snprintf(ab, sizeof ab, "%s,%s", a, b);
    snprintf(ba, sizeof ba, "%s,%s", b, a);
    gc_meta_t *m1 = pod_with("", ab, false), *m2 = pod_with("\"x\"", ab, true);
    gc_meta_t *m3 = pod_with("", ba, false), *m4 = pod_with("", a2, false), *m5 = pod_with("", a, false);
    assert_true(gc_meta_same_refs(m1, m2));     /* other fields do not matter */
    assert_false(gc_meta_same_refs(m1, m3));    /* order does */
    assert_false(gc_meta_same_refs(m4, m5));    /* blockOwnerDeletion does */
    assert_false(gc_meta_same_refs(m1, m5));
    assert_false(gc_meta_same_refs(m1, NULL));
    gc_meta_destroy(&m1);
    gc_meta_destroy(&m2);
    gc_meta_destroy(&m3);
    gc_meta_destroy(&m4);
    gc_meta_destroy(&m5);
}

static void test_group_kind(void **state)
{
    (void)state;
    char g[32];
    assert_string_equal(gc_api_group("apps/v1", g, sizeof g), "apps");
    assert_string_equal(gc_api_group("v1", g, sizeof g), "");
    assert_true(gc_same_group_kind("apps/v1", "ReplicaSet", "apps/v1beta2", "ReplicaSet"));
    assert_false(gc_same_group_kind("apps/v1", "ReplicaSet", "extensions/v1beta1", "ReplicaSet"));
    assert_false(gc_same_group_kind("v1", "Pod", "v1", "Node"));
}

static void test_patch_remove_refs(void **state)
{
    (void)state;
    char r1[512], r2[512], r3[512], refs[1600];
    fx_ref(r1, sizeof r1, "apps/v1", "ReplicaSet", "a", "ua", "cb");
    fx_ref(r2, sizeof r2, "apps/v1", "ReplicaSet", "b", "ub", "");
    fx_ref(r3, sizeof r3, "apps/v1", "ReplicaSet", "c", "uc", "b");
    snprintf(refs, sizeof refs, "%s,%s,%s", r1, r2, r3);
    gc_meta_t *m = pod_with("", refs, false);
    assert_non_null(m);
    bool drop[3] = {true, false, true};
    char *p = text(gc_patch_remove_refs(m, drop));
    assert_string_equal(p,
        "[{\"op\":\"test\",\"path\":\"/metadata/ownerReferences/2/uid\",\"value\":\"uc\"},"
        "{\"op\":\"remove\",\"path\":\"/metadata/ownerReferences/2\"},"
        "{\"op\":\"test\",\"path\":\"/metadata/ownerReferences/0/uid\",\"value\":\"ua\"},"
        "{\"op\":\"remove\",\"path\":\"/metadata/ownerReferences/0\"}]");
    free(p);
    bool none[3] = {false, false, false};
    assert_null(gc_patch_remove_refs(m, none));

    p = text(gc_patch_remove_owner(m, "ub"));
    assert_string_equal(p,
        "[{\"op\":\"test\",\"path\":\"/metadata/ownerReferences/1/uid\",\"value\":\"ub\"},"
        "{\"op\":\"remove\",\"path\":\"/metadata/ownerReferences/1\"}]");
    free(p);
    assert_null(gc_patch_remove_owner(m, "nobody"));

    p = text(gc_patch_unblock_refs(m));
    assert_string_equal(p,
        "[{\"op\":\"test\",\"path\":\"/metadata/ownerReferences/0/uid\",\"value\":\"ua\"},"
        "{\"op\":\"replace\",\"path\":\"/metadata/ownerReferences/0/blockOwnerDeletion\",\"value\":false},"
        "{\"op\":\"test\",\"path\":\"/metadata/ownerReferences/2/uid\",\"value\":\"uc\"},"
        "{\"op\":\"replace\",\"path\":\"/metadata/ownerReferences/2/blockOwnerDeletion\",\"value\":false}]");
    free(p);
    gc_meta_destroy(&m);
}

static void test_patch_remove_finalizer(void **state)
{
    (void)state;
    gc_meta_t *m = pod_with("\"a\",\"orphan\",\"b\"", "", true);
    assert_non_null(m);
    char *p = text(gc_patch_remove_finalizer(m, "orphan"));
    assert_string_equal(p, "[{\"op\":\"test\",\"path\":\"/metadata/finalizers/1\",\"value\":\"orphan\"},"
                           "{\"op\":\"remove\",\"path\":\"/metadata/finalizers/1\"}]");
    free(p);
    assert_null(gc_patch_remove_finalizer(m, "foregroundDeletion"));
    assert_null(gc_patch_unblock_refs(m));
    gc_meta_destroy(&m);
}

/* ---- the text reader (gc_meta_text.c) against the tree reader ---------------- */

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool same_meta(const gc_meta_t *a, const gc_meta_t *b)
{
    if (!same_str(a->api_version, b->api_version) || !same_str(a->kind, b->kind) ||
        !same_str(a->namespace_, b->namespace_) || !same_str(a->name, b->name) || !same_str(a->uid, b->uid) ||
        !same_str(a->resource_version, b->resource_version) || a->being_deleted != b->being_deleted ||
        a->n_finalizers != b->n_finalizers || a->n_refs != b->n_refs)
        return false;
    for (size_t i = 0; i < a->n_finalizers; i++)
        if (!same_str(a->finalizers[i], b->finalizers[i])) return false;
    for (size_t i = 0; i < a->n_refs; i++)
        if (a->refs[i].index != b->refs[i].index || !same_str(a->refs[i].uid, b->refs[i].uid)) return false;
    return gc_meta_same_refs(a, b);
}

/* doc through both readers: both accept it with the same metadata, or both
 * refuse it. Returns whether it was accepted. */
static bool both_readers(const char *doc, const char *av, const char *kind)
{
    gc_meta_t text, tree;
    char err1[256] = "", err2[256] = "";
    int rc1 = gc_meta_parse(doc, strlen(doc), av, kind, &text, err1, sizeof err1);
    json_error_t jerr;
    json_t *root = json_loadb(doc, strlen(doc), JSON_REJECT_DUPLICATES, &jerr);
    int rc2 = root ? gc_meta_from_json(root, av, kind, &tree, err2, sizeof err2) : -1;
    json_decref(root);
    if (rc1 != rc2) fail_msg("%s: text reader %d (%s), tree reader %d (%s)", doc, rc1, err1, rc2, err2);
    if (rc1 == 0) {
        if (!same_meta(&text, &tree)) fail_msg("%s: the readers disagree", doc);
        gc_meta_clear(&text);
        gc_meta_clear(&tree);
    } else {
        assert_true(err1[0] != '\0');
        assert_null(text.uid);
    }
    return rc1 == 0;
}

static void test_text_reader_agrees_with_tree(void **state)
{
    (void)state;
    static const char *const accepted[] = {
        /* a pod view as the store holds it: every field the GC reads, and others around them */
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-1\",\"generateName\":\"web-\","
        "\"namespace\":\"prod\",\"uid\":\"0b6c5e8e-2f6e-4a4e-9f5b-3a1c2d3e4f50\",\"resourceVersion\":\"981\","
        "\"creationTimestamp\":\"2026-12-03T10:00:00Z\",\"deletionTimestamp\":\"2026-12-03T11:00:00Z\","
        "\"labels\":{\"app\":\"web\",\"where\":\"z\\u00fcrich\"},\"annotations\":{\"a\":\"x\\\"y\\\\z\"},"
        "\"finalizers\":[\"orphan\",\"example.com/hold\"],\"ownerReferences\":[{\"apiVersion\":\"apps/v1\","
        "\"kind\":\"ReplicaSet\",\"name\":\"web\",\"uid\":\"rs-1\",\"controller\":true,\"blockOwnerDeletion\":true},"
        "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":\"n\",\"uid\":\"node-1\",\"controller\":null}]},"
        "\"spec\":{\"nodeName\":\"n\",\"containers\":[{\"name\":\"c\"}]},\"status\":{\"phase\":\"Pending\"}}",
        /* metadata after the rest, white space, nulls for the optional members */
        " { \"status\" : {\"x\":[1,2.5e3,true,null]} , \"metadata\" : { \"uid\" : \"u\" , \"name\" : \"a\" ,"
        " \"namespace\" : null , \"resourceVersion\" : null , \"deletionTimestamp\" : null ,"
        " \"finalizers\" : null , \"ownerReferences\" : null } } ",
        /* escapes in what the GC keeps */
        "{\"metadata\":{\"name\":\"caf\\u00e9\",\"uid\":\"u\\/1\",\"finalizers\":[\"a\\tb\",\"\\ud83d\\ude00\"],"
        "\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"K\\\"\",\"name\":\"n\",\"uid\":\"o\","
        "\"blockOwnerDeletion\":false}]}}",
        "{\"metadata\":{\"name\":\"a\",\"uid\":\"u\",\"finalizers\":[],\"ownerReferences\":[]}}",
    };
    for (size_t i = 0; i < sizeof accepted / sizeof *accepted; i++)
        assert_true(both_readers(accepted[i], "v1", "Pod"));
    assert_true(both_readers("{\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"r\",\"uid\":\"u\"},"
                             "\"apiVersion\":\"apps/v1\"}", NULL, NULL));

    static const char *const refused[] = {
        "", "not json", "[1]", "{}", "{\"metadata\":5}", "{\"metadata\":{\"name\":\"a\"}}",
        "{\"metadata\":{\"name\":\"a\",\"uid\":\"u\"}} x",                          /* text after it */
        "{\"metadata\":{\"name\":\"a\",\"uid\":\"u\"}",                              /* truncated */
        "{\"metadata\":{\"name\":\"a\",\"uid\":\"u\"},\"metadata\":{}}",             /* a key twice */
        "{\"spec\":{\"a\":1,\"a\":2},\"metadata\":{\"name\":\"a\",\"uid\":\"u\"}}",  /* twice, deeper */
        "{\"metadata\":{\"name\":\"a\",\"uid\":\"u\\u0000\"}}",                      /* NUL */
        "{\"metadata\":{\"name\":\"a\",\"uid\":null}}",
        "{\"metadata\":{\"name\":\"\",\"uid\":\"u\"}}",
        "{\"metadata\":{\"name\":\"a\",\"uid\":\"u\",\"namespace\":3}}",
        "{\"metadata\":{\"name\":\"a\",\"uid\":\"u\",\"deletionTimestamp\":{}}}",
        "{\"metadata\":{\"name\":\"a\",\"uid\":\"u\",\"finalizers\":\"orphan\"}}",
        "{\"metadata\":{\"name\":\"a\",\"uid\":\"u\",\"finalizers\":[null]}}",
        "{\"metadata\":{\"name\":\"a\",\"uid\":\"u\",\"ownerReferences\":[5]}}",
        "{\"metadata\":{\"name\":\"a\",\"uid\":\"u\",\"ownerReferences\":[{\"apiVersion\":\"v1\","
        "\"kind\":\"K\",\"name\":\"n\",\"uid\":\"\"}]}}",
        "{\"metadata\":{\"name\":\"a\",\"uid\":\"u\",\"ownerReferences\":[{\"apiVersion\":\"v1\","
        "\"kind\":\"K\",\"name\":\"n\",\"uid\":\"o\",\"blockOwnerDeletion\":1}]}}",
        "{\"metadata\":{\"name\":\"a\",\"uid\":\"u\",\"ownerReferences\":[{\"kind\":\"K\",\"name\":\"n\",\"uid\":\"o\"}]}}",
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
        assert_false(both_readers(refused[i], "v1", "Pod"));
    assert_false(both_readers("{\"metadata\":{\"name\":\"r\",\"uid\":\"u\"}}", NULL, NULL));   /* no type */
    assert_false(both_readers("{\"metadata\":{\"name\":\"a\",\"uid\":\"u\",\"ownerReferences\":[{\"apiVersion\":"
                              "\"v1\",\"kind\":\"K\",\"name\":\"n\",\"uid\":\"o\",\"x\":1,\"x\":2}]}}",
                              "v1", "Pod"));   /* a key twice in a walked reference */
    assert_false(both_readers("{\"metadata\":{\"name\":\"a\",\"uid\":\"u\"},\"kind\":\"A\",\"kind\":\"B\"}", "v1",
                              "Pod"));   /* twice at the top, after metadata */

    /* metadata wider than the keys the reader keeps: the whole-text check
     * still finds a key given twice among them, and passes one without */
    for (int dup = 0; dup < 2; dup++) {
        char wide[4096] = "{\"metadata\":{\"name\":\"a\",\"uid\":\"u\"";
        for (int i = 0; i < 100; i++)
            snprintf(wide + strlen(wide), sizeof wide - strlen(wide), ",\"k%d\":%d", dup && i == 99 ? 60 : i, i);
        strcat(wide, "}}");
        assert_int_equal(both_readers(wide, "v1", "Pod"), !dup);
    }

    /* a string just over the limit, and one just under it */
    char doc[GC_MAX_STR + 128];
    for (int over = 0; over < 2; over++) {
        char name[GC_MAX_STR + 2];
        memset(name, 'n', GC_MAX_STR + over);
        name[GC_MAX_STR + over] = '\0';
        snprintf(doc, sizeof doc, "{\"metadata\":{\"name\":\"%s\",\"uid\":\"u\"}}", name);
        assert_int_equal(both_readers(doc, "v1", "Pod"), !over);
    }
}

/* Every prefix of a valid document is refused, never read past its end. */
static void test_text_reader_refuses_every_truncation(void **state)
{
    (void)state;
    const char *doc = "{\"metadata\":{\"name\":\"a\",\"uid\":\"u\",\"finalizers\":[\"f\"],"
                      "\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"K\",\"name\":\"n\",\"uid\":\"o\"}]}}";
    size_t len = strlen(doc);
    for (size_t n = 1; n < len; n++) {
        char *cut = malloc(n);   /* exactly n bytes, no terminator: ASan sees a read past it */
        assert_non_null(cut);
        memcpy(cut, doc, n);
        gc_meta_t m;
        char err[128];
        assert_int_equal(gc_meta_parse(cut, n, "v1", "Pod", &m, err, sizeof err), -1);
        free(cut);
    }
    gc_meta_t m;
    char err[128];
    assert_int_equal(gc_meta_parse(doc, len, "v1", "Pod", &m, err, sizeof err), 0);
    assert_string_equal(m.refs[0].uid, "o");
    gc_meta_clear(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_full),
        cmocka_unit_test(test_parse_minimal_and_type_from_json),
        cmocka_unit_test(test_parse_refuses_malformed),
        cmocka_unit_test(test_parse_refuses_too_many_refs),
        cmocka_unit_test(test_same_refs),
        cmocka_unit_test(test_group_kind),
        cmocka_unit_test(test_from_json),
        cmocka_unit_test(test_patch_remove_refs),
        cmocka_unit_test(test_patch_remove_finalizer),
        cmocka_unit_test(test_text_reader_agrees_with_tree),
        cmocka_unit_test(test_text_reader_refuses_every_truncation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
