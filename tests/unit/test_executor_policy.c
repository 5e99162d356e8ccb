/* Unit tests for executor/policy.c: each controller may do what its
 * upstream role grants and nothing else; controller names that could
 * carry a header or a log line are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy.h"
#include "policy_fixture.h"

static void allowed(const char *c, int verb, const char *res, const char *sub)
{
    msg_action_t a = policy_fx_action(c, verb, res, sub);
    char err[256] = "";
    if (policy_check(&a, err, sizeof err) != 0)
        fail_msg("%s %s %s/%s should be allowed: %s", c, msg_verb_name(verb), res, sub ? sub : "", err);
}

static void refused(const char *c, int verb, const char *res, const char *sub, const char *msg)
{
    msg_action_t a = policy_fx_action(c, verb, res, sub);
    char err[256] = "";
    if (policy_check(&a, err, sizeof err) != -1)
        fail_msg("%s %s %s/%s should be refused", c, msg_verb_name(verb), res, sub ? sub : "");
    if (msg && !strstr(err, msg)) fail_msg("message \"%s\" lacks \"%s\"", err, msg);
}

enum { C = KUBUS__V1__VERB__CREATE, U = KUBUS__V1__VERB__UPDATE, S = KUBUS__V1__VERB__UPDATE_STATUS,
       P = KUBUS__V1__VERB__PATCH, D = KUBUS__V1__VERB__DELETE, G = KUBUS__V1__VERB__GET,
       E = KUBUS__V1__VERB__EVENT };

/* What kubus's controllers really send (their call sites), all allowed. */
static void test_what_kubus_sends(void **state)
{
    (void)state;
    allowed("replicaset", C, "pods", NULL); allowed("replicaset", D, "pods", NULL);
    allowed("replicaset", P, "pods", NULL); allowed("replicaset", S, "replicasets", NULL);
    allowed("replicaset", G, "replicasets", NULL); allowed("replicaset", E, "events", NULL);
    allowed("deployment", C, "replicasets", NULL); allowed("deployment", U, "replicasets", NULL);
    allowed("deployment", P, "replicasets", NULL); allowed("deployment", D, "replicasets", NULL);
    allowed("deployment", S, "deployments", NULL); allowed("deployment", G, "deployments", NULL);
    allowed("statefulset", C, "pods", NULL); allowed("statefulset", U, "pods", NULL);
    allowed("statefulset", C, "persistentvolumeclaims", NULL);
    allowed("statefulset", U, "persistentvolumeclaims", NULL);
    allowed("statefulset", P, "persistentvolumeclaims", NULL); /* kubus's one grant beyond the role */
    allowed("statefulset", C, "controllerrevisions", NULL); allowed("statefulset", D, "controllerrevisions", NULL);
    allowed("statefulset", S, "statefulsets", NULL); allowed("statefulset", G, "statefulsets", NULL);
    allowed("daemonset", C, "pods", NULL); allowed("daemonset", D, "pods", NULL);
    allowed("daemonset", U, "controllerrevisions", NULL); allowed("daemonset", S, "daemonsets", NULL);
    allowed("job", C, "pods", NULL); allowed("job", P, "pods", NULL); allowed("job", S, "jobs", NULL);
    allowed("job", G, "jobs", NULL);
    allowed("cronjob", C, "jobs", NULL); allowed("cronjob", D, "jobs", NULL); allowed("cronjob", G, "jobs", NULL);
    allowed("cronjob", S, "cronjobs", NULL); allowed("cronjob", D, "pods", NULL);
    allowed("ttl-after-finished", G, "jobs", NULL); allowed("ttl-after-finished", D, "jobs", NULL);
    allowed("garbagecollector", P, "configmaps", NULL); allowed("garbagecollector", D, "namespaces", NULL);
    allowed("garbagecollector", G, "leases", NULL); allowed("garbagecollector", P, "pods", "status");
}

/* What the roles do not grant. */
static void test_outside_the_roles(void **state)
{
    (void)state;
    refused("replicaset", D, "namespaces", NULL, "may not delete namespaces");
    refused("replicaset", C, "replicasets", NULL, "role system:controller:replicaset-controller");
    refused("replicaset", U, "pods", NULL, NULL);
    refused("replicaset", S, "deployments", NULL, "may not update deployments/status");
    refused("deployment", P, "deployments", NULL, NULL);
    refused("deployment", C, "pods", NULL, NULL);
    refused("deployment", S, "replicasets", NULL, NULL);
    refused("statefulset", U, "statefulsets", NULL, NULL);
    refused("daemonset", U, "daemonsets", NULL, NULL);
    refused("daemonset", U, "pods", NULL, NULL);
    refused("job", C, "jobs", NULL, NULL);
    refused("job", P, "nodes", NULL, NULL);
    refused("cronjob", C, "pods", NULL, NULL);
    refused("ttl-after-finished", P, "jobs", NULL, NULL);
    refused("ttl-after-finished", D, "pods", NULL, NULL);
    refused("garbagecollector", C, "pods", NULL, "may not create pods");
    refused("replicaset", U, "pods", "binding", NULL);
    refused("daemonset", C, "pods", "eviction", NULL);
    refused("e2e", G, "replicasets", NULL, "not one kubus runs");
    refused("", E, "events", NULL, NULL);
    refused(NULL, G, "pods", NULL, NULL);
    refused("replicaset", 99, "pods", NULL, "verb");
}

static void test_roles_named(void **state)
{
    (void)state;
    assert_string_equal(policy_role("daemonset"), "daemon-set-controller");
    assert_string_equal(policy_role("garbagecollector"), "generic-garbage-collector");
    assert_null(policy_role("kube-system"));
}

static void test_names(void **state)
{
    (void)state;
    char err[128];
    assert_int_equal(policy_name_check("ttl-after-finished", err, sizeof err), 0);
    assert_int_equal(policy_name_check("job2", err, sizeof err), 0);
    assert_int_equal(policy_name_check("replicaset\r\nImpersonate-User: admin", err, sizeof err), -1);
    assert_non_null(strstr(err, "[a-z0-9-]"));
    assert_int_equal(policy_name_check("replicaset\n", err, sizeof err), -1);
    assert_int_equal(policy_name_check("Replicaset", err, sizeof err), -1);
    assert_int_equal(policy_name_check("rs.0", err, sizeof err), -1);
    assert_int_equal(policy_name_check("", err, sizeof err), -1);
    assert_int_equal(policy_name_check(NULL, err, sizeof err), -1);
    char longname[POLICY_NAME_MAX + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(policy_name_check(longname, err, sizeof err), -1);
    longname[POLICY_NAME_MAX] = '\0';
    assert_int_equal(policy_name_check(longname, err, sizeof err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_what_kubus_sends),
        cmocka_unit_test(test_outside_the_roles),
        cmocka_unit_test(test_roles_named),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
