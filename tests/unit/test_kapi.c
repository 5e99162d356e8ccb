/* Unit tests for lib/kapi.c (resource table, path building) and lib/khttp.c
 * (Status bodies, Retry-After, bounded buffers). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "kapi.h"
#include "khttp.h"

static void test_table(void **state)
{
    (void)state;
    const char *names[] = { "pods", "nodes", "namespaces", "persistentvolumeclaims", "services", "events",
                            "replicasets", "deployments", "statefulsets", "daemonsets", "controllerrevisions",
                            "jobs", "cronjobs", "leases", NULL };
    size_t n = 0;
    for (const kapi_resource_t *const *r = kapi_resources(); *r; r++) n++;
    assert_int_equal(n, 14);
    for (int i = 0; names[i]; i++) assert_non_null(kapi_resource(names[i]));
    assert_null(kapi_resource("secrets"));
    assert_null(kapi_resource(NULL));
    assert_string_equal(kapi_resource("leases")->group_version, "coordination.k8s.io/v1");
    assert_false(kapi_resource("nodes")->namespaced);
    assert_true(kapi_resource("events")->namespaced);
    const kapi_resource_t *rs = kapi_resource_by_kind("apps/v1", "ReplicaSet");
    assert_non_null(rs);
    assert_string_equal(rs->resource, "replicasets");
    assert_null(kapi_resource_by_kind("extensions/v1beta1", "ReplicaSet"));
    assert_string_equal(kapi_resource_by_kind("batch/v1", "CronJob")->resource, "cronjobs");
}

static void test_paths(void **state)
{
    (void)state;
    char p[256];
    assert_int_equal(kapi_path(p, sizeof p, "pods", NULL, NULL, NULL, NULL), (int)strlen("/api/v1/pods"));
    assert_string_equal(p, "/api/v1/pods");
    kapi_path(p, sizeof p, "pods", "default", "web-1", "status", NULL);
    assert_string_equal(p, "/api/v1/namespaces/default/pods/web-1/status");
    kapi_path(p, sizeof p, "replicasets", "ns", NULL, NULL, "limit=500&continue=abc");
    assert_string_equal(p, "/apis/apps/v1/namespaces/ns/replicasets?limit=500&continue=abc");
    kapi_path(p, sizeof p, "nodes", "", "n1", NULL, NULL);
    assert_string_equal(p, "/api/v1/nodes/n1");
    kapi_path(p, sizeof p, "leases", "kube-system", "kubus-shard-0-of-1", NULL, NULL);
    assert_string_equal(p, "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kubus-shard-0-of-1");
    kapi_path(p, sizeof p, "events", "default", "web.17a9f0c2d", NULL, NULL);
    assert_string_equal(p, "/api/v1/namespaces/default/events/web.17a9f0c2d");
    kapi_path(p, sizeof p, "deployments", "d", "x", "scale", NULL);
    assert_string_equal(p, "/apis/apps/v1/namespaces/d/deployments/x/scale");
}

static void test_path_refusals(void **state)
{
    (void)state;
    char p[64];
    assert_int_equal(kapi_path(p, sizeof p, "secrets", NULL, NULL, NULL, NULL), -1);
    assert_int_equal(kapi_path(p, sizeof p, "pods", "ns", "../../nodes", NULL, NULL), -1);
    assert_int_equal(kapi_path(p, sizeof p, "pods", "..", "x", NULL, NULL), -1);
    assert_int_equal(kapi_path(p, sizeof p, "pods", "ns", "a%2fb", NULL, NULL), -1);
    assert_int_equal(kapi_path(p, sizeof p, "pods", "ns", "a?b", NULL, NULL), -1);
    assert_int_equal(kapi_path(p, sizeof p, "nodes", "ns", "n1", NULL, NULL), -1);  /* cluster-scoped */
    assert_int_equal(kapi_path(p, sizeof p, "pods", "ns", NULL, "status", NULL), -1); /* sub without name */
    assert_int_equal(kapi_path(p, sizeof p, "pods", "ns", "x", "st/atus", NULL), -1);
    assert_int_equal(kapi_path(p, sizeof p, "pods", NULL, NULL, NULL, "a=b c"), -1);
    char tiny[10];
    assert_int_equal(kapi_path(tiny, sizeof tiny, "pods", NULL, NULL, NULL, NULL), -1);
    assert_string_equal(tiny, "");
}

static void test_status(void **state)
{
    (void)state;
    khttp_status_t st;
    const char *gone = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                       "\"message\":\"too old resource version: 1 (2345)\",\"reason\":\"Expired\",\"code\":410}";
    assert_int_equal(khttp_parse_status(gone, strlen(gone), &st), 0);
    assert_int_equal(st.code, 410);
    assert_string_equal(st.reason, "Expired");
    assert_string_equal(st.status, "Failure");
    assert_string_equal(st.message, "too old resource version: 1 (2345)");
    assert_int_equal(st.n_causes, 0);
    /* the NamespaceLifecycle admission plugin's refusal: the cause types */
    const char *nsterm = "{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"Forbidden\",\"code\":403,"
                         "\"message\":\"pods \\\"x\\\" is forbidden: unable to create new content in namespace ns because "
                         "it is being terminated\",\"details\":{\"name\":\"x\",\"kind\":\"pods\",\"causes\":["
                         "{\"reason\":\"NamespaceTerminating\",\"message\":\"namespace ns is being terminated\","
                         "\"field\":\"metadata.namespace\"},{\"message\":\"no reason\"},{\"reason\":7}]}}";
    assert_int_equal(khttp_parse_status(nsterm, strlen(nsterm), &st), 0);
    assert_int_equal(st.n_causes, 1);
    assert_string_equal(st.causes[0], "NamespaceTerminating");
    const char *many = "{\"kind\":\"Status\",\"details\":{\"causes\":[{\"reason\":\"a\"},{\"reason\":\"b\"},"
                       "{\"reason\":\"c\"},{\"reason\":\"d\"},{\"reason\":\"e\"}]}}";
    assert_int_equal(khttp_parse_status(many, strlen(many), &st), 0);
    assert_int_equal(st.n_causes, KHTTP_STATUS_CAUSES);
    assert_string_equal(st.causes[3], "d");
    const char *notstatus = "{\"kind\":\"Pod\",\"code\":1}";
    assert_int_equal(khttp_parse_status(notstatus, strlen(notstatus), &st), -1);
    const char *html = "<html><body>502 Bad Gateway</body></html>";
    assert_int_equal(khttp_parse_status(html, strlen(html), &st), -1);
    const char *badcode = "{\"kind\":\"Status\",\"code\":\"410\"}";
    assert_int_equal(khttp_parse_status(badcode, strlen(badcode), &st), -1);
    assert_int_equal(khttp_parse_status(NULL, 0, &st), -1);
}

static void test_retry_after(void **state)
{
    (void)state;
    long s = -1;
    assert_int_equal(khttp_parse_retry_after("3", 0, &s), 0);
    assert_int_equal(s, 3);
    assert_int_equal(khttp_parse_retry_after(" 120\r\n", 0, &s), 0);
    assert_int_equal(s, 120);
    assert_int_equal(khttp_parse_retry_after("99999999999", 0, &s), 0);
    assert_int_equal(s, 86400);
    /* 784111777 = Sun, 06 Nov 1994 08:49:37 GMT (RFC 7231's example). */
    assert_int_equal(khttp_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 - 10, &s), 0);
    assert_int_equal(s, 10);
    assert_int_equal(khttp_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 + 10, &s), 0);
    assert_int_equal(s, 0);
    assert_int_equal(khttp_parse_retry_after("soon", 0, &s), -1);
    assert_int_equal(khttp_parse_retry_after("-1", 0, &s), -1);
    assert_int_equal(khttp_parse_retry_after("5s", 0, &s), -1);
    assert_int_equal(khttp_parse_retry_after(NULL, 0, &s), -1);
}

static void test_buf(void **state)
{
    (void)state;
    khttp_buf_t b;
    khttp_buf_init(&b, 10);
    assert_int_equal(khttp_buf_write("hello", 1, 5, &b), 5);
    assert_string_equal(b.data, "hello");
    assert_int_equal(khttp_buf_write("world", 1, 5, &b), 5);
    assert_int_equal(khttp_buf_write("!", 1, 1, &b), 0); /* over the cap: transfer fails */
    assert_true(b.overflow);
    khttp_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_false(b.overflow);
    khttp_buf_free(&b);
    assert_null(b.data);
}

static void test_easy_new(void **state)
{
    (void)state;
    assert_int_equal(khttp_global_init(), 0);
    kubeconfig_t kc = { 0 };
    kc.server = "https://127.0.0.1:6443";
    kc.token = "t0k";
    struct curl_slist *h = NULL;
    char err[128];
    CURL *c = khttp_easy_new(&kc, &h, err, sizeof err);
    assert_non_null(c);
    int n = 0, auth = 0;
    for (struct curl_slist *l = h; l; l = l->next, n++)
        if (strcmp(l->data, "Authorization: Bearer t0k") == 0) auth = 1;
    assert_int_equal(n, 2);
    assert_true(auth);
    char url[128];
    assert_true(khttp_url(url, sizeof url, &kc, "/api/v1/pods") > 0);
    assert_string_equal(url, "https://127.0.0.1:6443/api/v1/pods");
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    curl_global_cleanup();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),   cmocka_unit_test(test_paths), cmocka_unit_test(test_path_refusals),
        cmocka_unit_test(test_status),  cmocka_unit_test(test_retry_after), cmocka_unit_test(test_buf),
        cmocka_unit_test(test_easy_new),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
