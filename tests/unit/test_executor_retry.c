/* Unit tests for executor/retry.c: which outcomes are retried, and when. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "kubus.pb-c.h"
#include "retry.h"

static retry_decision_t classify(int verb, int patch_type, long status, int curl_code, const char *reason)
{
    retry_outcome_t o = { .verb = verb, .patch_type = patch_type, .http_status = status,
                          .curl_code = curl_code, .reason = reason };
    return retry_classify(&o);
}

#define CREATE KUBUS__V1__VERB__CREATE
#define UPDATE KUBUS__V1__VERB__UPDATE
#define PATCH KUBUS__V1__VERB__PATCH
#define DELETE KUBUS__V1__VERB__DELETE
#define GET KUBUS__V1__VERB__GET
#define EVENT KUBUS__V1__VERB__EVENT
#define MERGE KUBUS__V1__PATCH_TYPE__MERGE
#define JSONP KUBUS__V1__PATCH_TYPE__JSON_PATCH

static void test_server_errors_retry(void **state)
{
    (void)state;
    const long retryable[] = { 429, 500, 502, 503, 504 };
    const int verbs[] = { CREATE, UPDATE, KUBUS__V1__VERB__UPDATE_STATUS, PATCH, DELETE, GET, EVENT };
    for (size_t i = 0; i < sizeof retryable / sizeof retryable[0]; i++)
        for (size_t v = 0; v < sizeof verbs / sizeof verbs[0]; v++)
            assert_int_equal(classify(verbs[v], MERGE, retryable[i], 0, NULL), RETRY_AGAIN);
    /* Everything else is the answer. */
    const long final[] = { 200, 201, 400, 401, 403, 404, 409, 410, 412, 422, 501 };
    for (size_t i = 0; i < sizeof final / sizeof final[0]; i++)
        for (size_t v = 0; v < sizeof verbs / sizeof verbs[0]; v++)
            assert_int_equal(classify(verbs[v], MERGE, final[i], 0, "Conflict"), RETRY_DONE);
}

static void test_create_is_never_resent_blindly(void **state)
{
    (void)state;
    /* The request may have reached the server: look the object up first. */
    assert_int_equal(classify(CREATE, 0, 0, CURLE_OPERATION_TIMEDOUT, NULL), RETRY_VERIFY_CREATE);
    assert_int_equal(classify(CREATE, 0, 0, CURLE_RECV_ERROR, NULL), RETRY_VERIFY_CREATE);
    assert_int_equal(classify(CREATE, 0, 0, CURLE_SEND_ERROR, NULL), RETRY_VERIFY_CREATE);
    /* It certainly did not: send it again. */
    assert_int_equal(classify(CREATE, 0, 0, CURLE_COULDNT_CONNECT, NULL), RETRY_AGAIN);
    /* AlreadyExists: compare owners; other 409s are the answer. */
    assert_int_equal(classify(CREATE, 0, 409, 0, "AlreadyExists"), RETRY_CHECK_EXISTING);
    assert_int_equal(classify(CREATE, 0, 409, 0, "Conflict"), RETRY_DONE);
    assert_int_equal(classify(CREATE, 0, 409, 0, NULL), RETRY_DONE);
    assert_int_equal(classify(UPDATE, 0, 409, 0, "AlreadyExists"), RETRY_DONE);
    /* The executor's own follow-up GET is retried like any GET. */
    retry_outcome_t o = { .verb = CREATE, .is_lookup = true, .http_status = 0,
                          .curl_code = CURLE_OPERATION_TIMEDOUT };
    assert_int_equal(retry_classify(&o), RETRY_AGAIN);
    o.http_status = 409;
    o.reason = "AlreadyExists";
    assert_int_equal(retry_classify(&o), RETRY_DONE);
}

static void test_json_patch_is_not_idempotent(void **state)
{
    (void)state;
    assert_int_equal(classify(PATCH, JSONP, 0, CURLE_OPERATION_TIMEDOUT, NULL), RETRY_DONE);
    assert_int_equal(classify(PATCH, JSONP, 500, 0, NULL), RETRY_DONE);
    assert_int_equal(classify(PATCH, JSONP, 504, 0, NULL), RETRY_DONE);
    assert_int_equal(classify(PATCH, JSONP, 429, 0, NULL), RETRY_AGAIN);
    assert_int_equal(classify(PATCH, JSONP, 0, CURLE_COULDNT_CONNECT, NULL), RETRY_AGAIN);
    /* Merge and strategic patches set values: applying twice is harmless. */
    assert_int_equal(classify(PATCH, MERGE, 0, CURLE_OPERATION_TIMEDOUT, NULL), RETRY_AGAIN);
    assert_int_equal(classify(PATCH, KUBUS__V1__PATCH_TYPE__STRATEGIC, 504, 0, NULL), RETRY_AGAIN);
    /* Deletes carry a uid precondition, updates a resourceVersion. */
    assert_int_equal(classify(DELETE, 0, 0, CURLE_OPERATION_TIMEDOUT, NULL), RETRY_AGAIN);
    assert_int_equal(classify(UPDATE, 0, 0, CURLE_RECV_ERROR, NULL), RETRY_AGAIN);
}

static void test_backoff(void **state)
{
    (void)state;
    assert_int_equal(retry_delay_ms(2, -1), 200);
    assert_int_equal(retry_delay_ms(3, -1), 400);
    assert_int_equal(retry_delay_ms(4, -1), 800);
    assert_int_equal(retry_delay_ms(6, -1), 3200);
    assert_int_equal(retry_delay_ms(8, -1), 10000);
    assert_int_equal(retry_delay_ms(1000, -1), 10000);
    /* Retry-After wins, capped. */
    assert_int_equal(retry_delay_ms(2, 3000), 3000);
    assert_int_equal(retry_delay_ms(2, 0), 0);
    assert_int_equal(retry_delay_ms(2, 3600000), RETRY_AFTER_CAP_MS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server_errors_retry),
        cmocka_unit_test(test_create_is_never_resent_blindly),
        cmocka_unit_test(test_json_patch_is_not_idempotent),
        cmocka_unit_test(test_backoff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
