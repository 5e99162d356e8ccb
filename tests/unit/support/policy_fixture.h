/* policy_fixture: the action the executor's policy check sees, built from
 * (controller, verb, resource, subresource) for tests of executor/policy.c
 * and of the RBAC manifests that must agree with it. Header only. */
#ifndef KUBUS_TEST_POLICY_FIXTURE_H
#define KUBUS_TEST_POLICY_FIXTURE_H

#include "msg.h"

/* The strings are borrowed: they must outlive the action. sub NULL: "". */
static inline msg_action_t policy_fx_action(const char *controller, int verb, const char *resource,
                                            const char *sub)
{
    msg_action_t a;
    kubus__v1__action__init(&a);
    a.controller = (char *)controller;
    a.verb = verb;
    a.resource = (char *)resource;
    a.subresource = (char *)(sub ? sub : "");
    return a;
}

#endif
