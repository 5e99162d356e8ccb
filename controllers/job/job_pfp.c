/* job_pfp.c - a Job's podFailurePolicy: checks and matching. See job_pfp.h. */
#include "job_pfp.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ctrl/kobj.h"

static const struct {
    const char *name;
    job_pfp_action_t action;
} ACTIONS[] = {
    { "FailJob", JOB_PFP_FAIL_JOB },
    { "Ignore", JOB_PFP_IGNORE },
    { "Count", JOB_PFP_COUNT },
    { "FailIndex", JOB_PFP_FAIL_INDEX },
};

static bool str_is(const json_t *obj, const char *field, const char *want)
{
    const char *v = json_string_value(json_object_get(obj, field));
    return v && strcmp(v, want) == 0;
}

/* JOB_PFP_NO_MATCH for an action upstream's switch does not know. */
static job_pfp_action_t action_of(const json_t *rule)
{
    for (size_t i = 0; i < sizeof ACTIONS / sizeof ACTIONS[0]; i++)
        if (str_is(rule, "action", ACTIONS[i].name)) return ACTIONS[i].action;
    return JOB_PFP_NO_MATCH;
}

static json_t *rules_of(const json_t *job) { return kobj_get(job, "spec.podFailurePolicy.rules"); }

/* A field that is set (present and not null). */
static json_t *set_field(const json_t *obj, const char *field)
{
    json_t *v = json_object_get(obj, field);
    return v && !json_is_null(v) ? v : NULL;
}

bool job_pfp_present(const json_t *job)
{
    json_t *p = kobj_get(job, "spec.podFailurePolicy");
    return p && !json_is_null(p);
}

/* ---- checks ----------------------------------------------------------------- */

static int check_exit_codes(const json_t *req, size_t i, char *err, size_t errlen)
{
    json_t *vals = json_object_get(req, "values"), *v;
    json_t *name = set_field(req, "containerName");
    bool in = str_is(req, "operator", "In");
    size_t k;
    if (!json_is_object(req) || (!in && !str_is(req, "operator", "NotIn"))) {
        snprintf(err, errlen, "podFailurePolicy rule %zu: onExitCodes.operator must be In or NotIn", i);
        return -1;
    }
    if (!json_is_array(vals) || json_array_size(vals) == 0 || json_array_size(vals) > JOB_PFP_MAX_VALUES ||
        (name && !json_is_string(name))) {
        snprintf(err, errlen, "podFailurePolicy rule %zu: onExitCodes needs 1 to %d values", i, JOB_PFP_MAX_VALUES);
        return -1;
    }
    json_array_foreach(vals, k, v) {
        json_int_t c = json_integer_value(v);
        if (!json_is_integer(v) || c < INT32_MIN || c > INT32_MAX || (in && c == 0)) {
            snprintf(err, errlen, "podFailurePolicy rule %zu: bad exit code in onExitCodes.values", i);
            return -1;
        }
    }
    return 0;
}

static int check_conditions(const json_t *pats, size_t i, char *err, size_t errlen)
{
    size_t k;
    json_t *p;
    if (!json_is_array(pats) || json_array_size(pats) == 0 || json_array_size(pats) > JOB_PFP_MAX_PATTERNS) {
        snprintf(err, errlen, "podFailurePolicy rule %zu: onPodConditions needs 1 to %d patterns", i, JOB_PFP_MAX_PATTERNS);
        return -1;
    }
    json_array_foreach(pats, k, p) {
        json_t *st = set_field(p, "status");
        bool status_ok = !st || str_is(p, "status", "True") || str_is(p, "status", "False") ||
                         str_is(p, "status", "Unknown");
        if (!json_is_string(json_object_get(p, "type")) || !status_ok) {
            snprintf(err, errlen, "podFailurePolicy rule %zu: onPodConditions needs a type and a status "
                     "True, False or Unknown", i);
            return -1;
        }
    }
    return 0;
}

/* per_index: the Job has backoffLimitPerIndex, which FailIndex needs. */
static int check_rule(const json_t *rule, size_t i, bool per_index, char *err, size_t errlen)
{
    json_t *ex = set_field(rule, "onExitCodes"), *pc = set_field(rule, "onPodConditions");
    if (action_of(rule) == JOB_PFP_NO_MATCH) {
        snprintf(err, errlen, "podFailurePolicy rule %zu: unknown action", i);
        return -1;
    }
    if (action_of(rule) == JOB_PFP_FAIL_INDEX && !per_index) {
        snprintf(err, errlen, "podFailurePolicy rule %zu: FailIndex requires the backoffLimitPerIndex to be set", i);
        return -1;
    }
    if (!ex == !pc) {
        snprintf(err, errlen, "podFailurePolicy rule %zu: needs exactly one of onExitCodes and onPodConditions", i);
        return -1;
    }
    return ex ? check_exit_codes(ex, i, err, errlen) : check_conditions(pc, i, err, errlen);
}

int job_pfp_check(const json_t *job, char *err, size_t errlen)
{
    if (!job_pfp_present(job)) return 0;
    json_t *rules = rules_of(job), *r;
    size_t i;
    if (!json_is_array(rules) || json_array_size(rules) > JOB_PFP_MAX_RULES) {
        snprintf(err, errlen, "podFailurePolicy needs a list of at most %d rules", JOB_PFP_MAX_RULES);
        return -1;
    }
    bool per_index = set_field(json_object_get(job, "spec"), "backoffLimitPerIndex") != NULL;
    json_array_foreach(rules, i, r)
        if (check_rule(r, i, per_index, err, errlen) < 0) return -1;
    return 0;
}

/* ---- matching ------------------------------------------------------------------ */

static bool code_matches(const json_t *req, json_int_t code)
{
    json_t *vals = json_object_get(req, "values"), *v;
    size_t k;
    bool listed = false;
    json_array_foreach(vals, k, v) listed = listed || json_integer_value(v) == code;
    if (str_is(req, "operator", "In")) return listed;
    if (str_is(req, "operator", "NotIn")) return !listed;
    return false;
}

/* upstream getMatchingContainerFromList: the first terminated container
 * (of the named one, if any) with a non-zero exit code that matches. */
static const json_t *matching_container(const json_t *statuses, const json_t *req)
{
    const char *want = json_string_value(json_object_get(req, "containerName"));
    size_t i;
    json_t *st;
    json_array_foreach(statuses, i, st) {
        json_t *term = kobj_get(st, "state.terminated");
        if (!json_is_object(term)) continue;   /* still terminating: no exit code yet */
        if (want && !str_is(st, "name", want)) continue;
        json_int_t code = json_integer_value(json_object_get(term, "exitCode"));
        if (code != 0 && code_matches(req, code)) return st;
    }
    return NULL;
}

static const json_t *match_exit_codes(const json_t *pod, const json_t *req)
{
    const json_t *st = matching_container(kobj_get(pod, "status.containerStatuses"), req);
    return st ? st : matching_container(kobj_get(pod, "status.initContainerStatuses"), req);
}

/* upstream matchOnPodConditions: the pod's conditions in order, each
 * against every pattern. */
static const json_t *match_conditions(const json_t *pod, const json_t *pats)
{
    json_t *conds = kobj_get(pod, "status.conditions"), *c, *p;
    size_t i, k;
    json_array_foreach(conds, i, c) {
        json_array_foreach(pats, k, p) {
            const char *type = json_string_value(json_object_get(p, "type"));
            const char *status = json_string_value(set_field(p, "status"));
            if (type && str_is(c, "type", type) && str_is(c, "status", status ? status : "True")) return c;
        }
    }
    return NULL;
}

/* upstream's FailJob messages. */
static void fail_message(job_pfp_match_t *out, const json_t *pod, const json_t *rule, size_t i, const json_t *by_exit,
                         const json_t *by_cond)
{
    const char *action = json_string_value(json_object_get(rule, "action"));
    if (by_exit)
        snprintf(out->message, sizeof out->message,
                 "Container %s for pod %s/%s failed with exit code %lld matching %s rule at index %zu",
                 kobj_str(by_exit, "name") ? kobj_str(by_exit, "name") : "", kobj_namespace(pod), kobj_name(pod),
                 (long long)kobj_int(by_exit, "state.terminated.exitCode", 0), action, i);
    else
        snprintf(out->message, sizeof out->message, "Pod %s/%s has condition %s matching %s rule at index %zu",
                 kobj_namespace(pod), kobj_name(pod), kobj_str(by_cond, "type") ? kobj_str(by_cond, "type") : "",
                 action, i);
}

void job_pfp_match(const json_t *job, const json_t *pod, job_pfp_match_t *out)
{
    memset(out, 0, sizeof *out);
    out->count_failed = true;
    json_t *rules = rules_of(job), *rule;
    size_t i;
    json_array_foreach(rules, i, rule) {
        json_t *ex = set_field(rule, "onExitCodes"), *pc = set_field(rule, "onPodConditions");
        const json_t *by_exit = ex ? match_exit_codes(pod, ex) : NULL;
        const json_t *by_cond = !ex && pc ? match_conditions(pod, pc) : NULL;
        job_pfp_action_t a = action_of(rule);
        if ((!by_exit && !by_cond) || a == JOB_PFP_NO_MATCH) continue;
        out->action = a;
        out->count_failed = a != JOB_PFP_IGNORE;
        if (a == JOB_PFP_FAIL_JOB) fail_message(out, pod, rule, i, by_exit, by_cond);
        return;
    }
}
