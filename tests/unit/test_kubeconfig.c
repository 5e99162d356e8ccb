/* Unit tests for lib/kubeconfig.c: good files load into the right fields,
 * broken ones are refused with "file:line: what was expected". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "tmpdir_fixture.h"

#include "kubeconfig.h"

/* "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n" in base64. */
#define PEM_B64 "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUIKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="
#define PEM_TEXT "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

static char tmpdir[256];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "we");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup_dir(void **state)
{
    (void)state;
    if (tmpdir_make(tmpdir, sizeof tmpdir, "kc") < 0) return -1;
    char p[512];
    snprintf(p, sizeof p, "%s/ca.crt", tmpdir);
    write_file(p, PEM_TEXT);
    snprintf(p, sizeof p, "%s/token", tmpdir);
    write_file(p, "  file-token-123\n");
    return 0;
}

static int teardown_dir(void **state)
{
    (void)state;
    return tmpdir_remove(tmpdir);
}

static int parse(const char *yaml, kubeconfig_t *kc, char *err, size_t errlen)
{
    char name[512];
    snprintf(name, sizeof name, "%s/test.yaml", tmpdir);
    return kubeconfig_parse(yaml, strlen(yaml), name, kc, err, errlen);
}

#define HEAD(server_extra, user_body)                                                             \
    "apiVersion: v1\nkind: Config\ncurrent-context: c1\n"                                        \
    "contexts:\n- name: c1\n  context:\n    cluster: k\n    user: u\n"                          \
    "clusters:\n- name: k\n  cluster:\n    server: https://127.0.0.1:6443/\n" server_extra       \
    "users:\n- name: u\n  user:\n" user_body

static void test_token_and_ca_data(void **state)
{
    (void)state;
    kubeconfig_t kc;
    char err[512];
    int rc = parse(HEAD("    certificate-authority-data: " PEM_B64 "\n", "    token: abc.def\n"), &kc, err, sizeof err);
    assert_int_equal(rc, 0);
    assert_string_equal(kc.server, "https://127.0.0.1:6443");
    assert_string_equal(kc.token, "abc.def");
    assert_int_equal(kc.ca_data_len, strlen(PEM_TEXT));
    assert_memory_equal(kc.ca_data, PEM_TEXT, kc.ca_data_len);
    assert_false(kc.insecure);
    assert_null(kc.cert_data);
    kubeconfig_free(&kc);
    assert_null(kc.server);
}

static void test_client_cert_data(void **state)
{
    (void)state;
    kubeconfig_t kc;
    char err[512];
    int rc = parse(HEAD("", "    client-certificate-data: " PEM_B64 "\n    client-key-data: " PEM_B64 "\n"), &kc, err,
                   sizeof err);
    assert_int_equal(rc, 0);
    assert_int_equal(kc.cert_data_len, strlen(PEM_TEXT));
    assert_int_equal(kc.key_data_len, strlen(PEM_TEXT));
    assert_null(kc.token);
    kubeconfig_free(&kc);
}

static void test_ca_file_relative_and_token_file(void **state)
{
    (void)state;
    kubeconfig_t kc;
    char err[512];
    int rc = parse(HEAD("    certificate-authority: ca.crt\n", "    tokenFile: token\n"), &kc, err, sizeof err);
    assert_int_equal(rc, 0);
    char want[512];
    snprintf(want, sizeof want, "%s/ca.crt", tmpdir);
    assert_string_equal(kc.ca_file, want);
    assert_string_equal(kc.token, "file-token-123");
    snprintf(want, sizeof want, "%s/token", tmpdir);
    write_file(want, "rotated\n");
    assert_int_equal(kubeconfig_reload_token(&kc, err, sizeof err), 0);
    assert_string_equal(kc.token, "rotated");
    write_file(want, "  file-token-123\n");
    kubeconfig_free(&kc);
}

static void test_insecure(void **state)
{
    (void)state;
    kubeconfig_t kc;
    char err[512];
    assert_int_equal(parse(HEAD("    insecure-skip-tls-verify: true\n", "    token: t\n"), &kc, err, sizeof err), 0);
    assert_true(kc.insecure);
    kubeconfig_free(&kc);
}

static void expect_refused(const char *yaml, const char *line_tag, const char *what);

/* client-go refuses a CA together with insecure-skip-tls-verify; so do we. */
static void test_insecure_with_ca_refused(void **state)
{
    (void)state;
    expect_refused(HEAD("    insecure-skip-tls-verify: true\n    certificate-authority-data: " PEM_B64 "\n", ""),
                   "13:", "specifying a root certificates file with the insecure flag is not allowed");
    expect_refused(HEAD("    certificate-authority: ca.crt\n    insecure-skip-tls-verify: true\n", ""), "14:",
                   "certificate-authority and insecure-skip-tls-verify");
    kubeconfig_t kc;
    char err[512];
    /* false with a CA is the usual case */
    assert_int_equal(parse(HEAD("    insecure-skip-tls-verify: false\n    certificate-authority: ca.crt\n", "    token: t\n"), &kc, err,
                           sizeof err), 0);
    kubeconfig_free(&kc);
}

/* A token reaches an HTTP header: CR/LF would inject headers. */
static void test_token_control_chars_refused(void **state)
{
    (void)state;
    expect_refused(HEAD("", "    token: \"abc\\r\\nImpersonate-User: admin\"\n"), "16:", "control character");
    expect_refused(HEAD("", "    token: \"abc\\ndef\"\n"), "16:", "control character");
    expect_refused(HEAD("", "    token: \"abc\\tdef\"\n"), "16:", "control character");
}

static void test_token_over_http(void **state)
{
    (void)state;
    kubeconfig_t kc;
    char err[512];
    assert_int_equal(parse(HEAD("", "    token: t\n"), &kc, err, sizeof err), 0);
    assert_false(kubeconfig_token_in_clear(&kc));   /* https */
    free(kc.server);
    kc.server = strdup("http://127.0.0.1:8080");
    assert_true(kubeconfig_token_in_clear(&kc));
    free(kc.token);
    kc.token = NULL;
    assert_false(kubeconfig_token_in_clear(&kc));   /* anonymous: nothing to leak */
    kubeconfig_free(&kc);
}

static void test_kubeconfig_env_list(void **state)
{
    (void)state;
    char a[512], b[512], list[1200], err[512];
    snprintf(a, sizeof a, "%s/missing.yaml", tmpdir);
    snprintf(b, sizeof b, "%s/b.yaml", tmpdir);
    write_file(b, HEAD("", "    token: from-b\n"));
    snprintf(list, sizeof list, "%s:%s", a, b);
    setenv("KUBECONFIG", list, 1);
    kubeconfig_t kc;
    assert_int_equal(kubeconfig_load(NULL, NULL, &kc, err, sizeof err), 0);
    assert_string_equal(kc.token, "from-b");
    assert_string_equal(kc.source, b);
    kubeconfig_free(&kc);
    /* --master overrides the server. */
    assert_int_equal(kubeconfig_load(NULL, "http://10.0.0.1:8080/", &kc, err, sizeof err), 0);
    assert_string_equal(kc.server, "http://10.0.0.1:8080");
    kubeconfig_free(&kc);
    unsetenv("KUBECONFIG");
}

static void test_in_cluster(void **state)
{
    (void)state;
    char sa[512], p[600], err[512];
    snprintf(sa, sizeof sa, "%s/sa", tmpdir);
    mkdir(sa, 0700);
    snprintf(p, sizeof p, "%s/token", sa);
    write_file(p, "sa-token\n");
    snprintf(p, sizeof p, "%s/ca.crt", sa);
    write_file(p, PEM_TEXT);
    kubeconfig_t kc;
    unsetenv("KUBERNETES_SERVICE_HOST");
    assert_int_equal(kubeconfig_in_cluster_dir(sa, &kc, err, sizeof err), -1);
    setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    assert_int_equal(kubeconfig_in_cluster_dir(sa, &kc, err, sizeof err), 0);
    assert_string_equal(kc.server, "https://[fd00::1]:443");
    assert_string_equal(kc.token, "sa-token");
    assert_string_equal(kc.source, "in-cluster");
    kubeconfig_free(&kc);
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
}

/* Each broken file must fail, name the file and line, and say what is wrong. */
static void expect_refused(const char *yaml, const char *line_tag, const char *what)
{
    kubeconfig_t kc;
    char err[512] = "";
    assert_int_equal(parse(yaml, &kc, err, sizeof err), -1);
    assert_null(kc.server);
    char want[600];
    snprintf(want, sizeof want, "%s/test.yaml:%s", tmpdir, line_tag);
    if (strncmp(err, want, strlen(want)) != 0 || !strstr(err, what)) {
        print_error("got error '%s', wanted prefix '%s' and '%s'\n", err, want, what);
        fail();
    }
}

static void test_not_yaml(void **state)
{
    (void)state;
    expect_refused("apiVersion: v1\nclusters: [\n  - {name: x\n", "", "not valid YAML");
    expect_refused("just a string\n", "1:", "expected a mapping for the kubeconfig");
    expect_refused("", "1:", "empty document");
}

static void test_no_current_context(void **state)
{
    (void)state;
    expect_refused("apiVersion: v1\nkind: Config\nclusters: []\n", "1:", "no 'current-context'");
}

static void test_context_missing(void **state)
{
    (void)state;
    expect_refused("current-context: nope\ncontexts:\n- name: c1\n  context: {cluster: k}\n", "1:",
                   "context 'nope' not found");
}

static void test_cluster_without_server(void **state)
{
    (void)state;
    expect_refused("current-context: c1\ncontexts:\n- name: c1\n  context:\n    cluster: k\n"
                   "clusters:\n- name: k\n  cluster:\n    insecure-skip-tls-verify: true\n",
                   "9:", "cluster has no 'server'");
}

static void test_bad_base64(void **state)
{
    (void)state;
    expect_refused(HEAD("    certificate-authority-data: not*base64!\n", "    token: t\n"), "13:", "not valid base64");
    expect_refused(HEAD("    certificate-authority-data: aGVsbG8=\n", "    token: t\n"), "13:", "does not decode to PEM");
    expect_refused(HEAD("", "    client-key-data: QUJD=Q==\n    client-certificate-data: " PEM_B64 "\n"), "16:",
                   "not valid base64");
}

static void test_wrong_types(void **state)
{
    (void)state;
    expect_refused("current-context: c1\ncontexts:\n  c1: {cluster: k}\n", "3:", "expected a list for contexts");
    expect_refused(HEAD("    insecure-skip-tls-verify: \"yes\"\n", "    token: t\n"), "13:", "expected true or false");
    expect_refused(HEAD("", "    token: [a, b]\n"), "16:", "expected a string for token");
    expect_refused("current-context: [c1]\n", "1:", "expected a string for 'current-context'");
}

static void test_other_refusals(void **state)
{
    (void)state;
    expect_refused(HEAD("    certificate-authority: /nonexistent/ca.crt\n", ""), "13:", "No such file");
    expect_refused(HEAD("", "    exec:\n      command: aws\n"), "17:", "not supported");
    expect_refused(HEAD("", "    client-certificate-data: " PEM_B64 "\n"), "16:", "needs both");
    expect_refused("current-context: c1\ncurrent-context: c2\n", "2:", "duplicate key");
    expect_refused("current-context: c1\ncontexts:\n- name: c1\n  context:\n    cluster: k\n"
                   "clusters:\n- name: k\n  cluster:\n    server: ftp://x\n",
                   "9:", "expected an http:// or https:// URL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_and_ca_data),
        cmocka_unit_test(test_client_cert_data),
        cmocka_unit_test(test_ca_file_relative_and_token_file),
        cmocka_unit_test(test_insecure),
        cmocka_unit_test(test_insecure_with_ca_refused),
        cmocka_unit_test(test_token_control_chars_refused),
        cmocka_unit_test(test_token_over_http),
        cmocka_unit_test(test_kubeconfig_env_list),
        cmocka_unit_test(test_in_cluster),
        cmocka_unit_test(test_not_yaml),
        cmocka_unit_test(test_no_current_context),
        cmocka_unit_test(test_context_missing),
        cmocka_unit_test(test_cluster_without_server),
        cmocka_unit_test(test_bad_base64),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_other_refusals),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
