/* Unit tests for ctrl/metaonly.c: the text path gives what a full parse
 * cut with metaonly_from_tree gives, and refuses what jansson refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ctrl/metaonly.h"

/* The reference: jansson parses everything, then the tree is cut. */
static json_t *reference(const char *text, size_t len)
{
    json_error_t jerr;
    json_t *obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *out = json_is_object(obj) ? metaonly_from_tree(obj) : NULL;
    json_decref(obj);
    return out;
}

/* Same verdict and, when accepted, the same tree. */
static void same_as_reference(const char *text, size_t len)
{
    char err[160] = "";
    json_t *want = reference(text, len);
    json_t *got = metaonly_from_text(text, len, err, sizeof err);
    if (!want != !got || (want && !json_equal(want, got)))
        fail_msg("verdicts differ for %.*s: reference %s, text path %s (%s)", (int)len, text,
                 want ? "accepts" : "refuses", got ? "accepts" : "refuses", err);
    if (!got) assert_true(err[0] != '\0');   /* a refusal says why */
    json_decref(want);
    json_decref(got);
}

#define RS "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"rs-1\"," \
           "\"namespace\":\"ns\",\"uid\":\"u-1\",\"resourceVersion\":\"7\",\"labels\":{\"app\":\"a\"}," \
           "\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"d\"," \
           "\"uid\":\"u-0\",\"controller\":true}],\"finalizers\":[\"f\"]},\"spec\":{\"replicas\":3," \
           "\"template\":{\"metadata\":{\"labels\":{\"app\":\"a\"}},\"spec\":{\"containers\":[{\"name\":" \
           "\"c\",\"image\":\"i\",\"args\":[\"\\u00e9\",1.5e3,-2,true,false,null]}]}}},\"status\":" \
           "{\"replicas\":3}}"

/* 16 distinct keys: one more sends the text path to the whole parse */
#define WIDE "{\"a1\":1,\"a2\":2,\"a3\":3,\"a4\":4,\"a5\":5,\"a6\":6,\"a7\":7,\"a8\":8,\"a9\":9," \
             "\"b1\":1,\"b2\":2,\"b3\":3,\"b4\":4,\"b5\":5,\"b6\":6,\"b7\":7,"

static void test_accepted_like_jansson(void **state)
{
    (void)state;
    static const char *const docs[] = {
        RS,
        " \n" RS " \t",
        "{\"metadata\":{}}",
        "{\"metadata\":{\"name\":\"x\"},\"kind\":5}",                 /* kind of another type: kept as is */
        "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\"},\"status\":{\"a\":[[[{}]]]}}",
        "{\"met\\u0061data\":{\"name\":\"x\"}}",                     /* escaped key: the whole parse */
        (WIDE "\"b8\":8,\"metadata\":{\"uid\":\"u\"}}"),   /* 18 keys: the whole parse */
    };
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
        same_as_reference(docs[i], strlen(docs[i]));
        char err[160];
        json_t *got = metaonly_from_text(docs[i], strlen(docs[i]), err, sizeof err);
        assert_non_null(got);   /* each of these is accepted */
        assert_null(json_object_get(got, "spec"));
        assert_null(json_object_get(got, "status"));
        json_decref(got);
    }
}

static void test_refused_like_jansson(void **state)
{
    (void)state;
    static const char *const docs[] = {
        "", "[]", "\"metadata\"", "{}", "{\"kind\":\"Pod\"}",
        "{\"metadata\":[]}", "{\"metadata\":\"x\"}", "{\"metadata\":null}",
        "{\"metadata\":{},\"metadata\":{}}",                                  /* duplicate, top */
        "{\"metadata\":{\"a\":1,\"a\":2}}",                                   /* duplicate, in metadata */
        "{\"metadata\":{},\"spec\":{\"a\":1,\"a\":2}}",                       /* duplicate, in spec */
        "{\"metadata\":{}} x",                                                /* text after */
        "{\"metadata\":{},\"spec\":tru}",
        "{\"metadata\":{},\"spec\":\"\\u0000\"}",                             /* NUL */
        "{\"metadata\":{},\"spec\":\"\xff\"}",                                /* bad UTF-8 */
        "{\"metadata\":{},\"spec\":99999999999999999999}",                    /* out of int64 */
        "{\"metadata\":{},\"spec\":1e999}",
        "{\"met\\u0061data\":{},\"metadata\":{}}",                            /* the same key, escaped */
        (WIDE "\"a1\":8,\"metadata\":{}}"),   /* wide, a1 twice */
    };
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
        same_as_reference(docs[i], strlen(docs[i]));
        char err[160];
        assert_null(metaonly_from_text(docs[i], strlen(docs[i]), err, sizeof err));
    }
}

/* Every proper prefix of an object is refused, and never read past. */
static void test_every_truncation_refused(void **state)
{
    (void)state;
    size_t n = strlen(RS);
    for (size_t len = 0; len < n; len++) {
        char *copy = malloc(len ? len : 1);   /* exactly len bytes: ASan sees a read past them */
        assert_non_null(copy);
        memcpy(copy, RS, len);
        char err[160];
        json_t *got = metaonly_from_text(copy, len, err, sizeof err);
        if (got) fail_msg("prefix of %zu bytes accepted", len);
        free(copy);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted_like_jansson),
        cmocka_unit_test(test_refused_like_jansson),
        cmocka_unit_test(test_every_truncation_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
