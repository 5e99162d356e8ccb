/* ctrl_fixture: the captured-action log, its look-ups, the executor's
 * answers and the test runtime shared by the controller unit tests (see
 * ctrl_fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ctrl/kobj.h"
#include "ctrl_fixture.h"
#include "msg.h"

static void record(fx_action_t *s, const msg_action_t *a)
{
    memset(s, 0, sizeof *s);
    s->id = a->id;
    s->verb = a->verb;
    s->propagation = a->propagation;
    snprintf(s->resource, sizeof s->resource, "%s", a->resource);
    snprintf(s->name, sizeof s->name, "%s", a->name);
    snprintf(s->uid_pre, sizeof s->uid_pre, "%s", a->precondition_uid);
    snprintf(s->rv_pre, sizeof s->rv_pre, "%s", a->precondition_resource_version);
    s->body = a->body.len ? json_loadb((const char *)a->body.data, a->body.len, 0, NULL) : NULL;
}

int fx_capture(const uint8_t *buf, size_t len, void *ud)
{
    fx_sent_t *log = ud;
    char err[128];
    msg_envelope_t *env = msg_decode(buf, len, err, sizeof err);
    if (!env) fail_msg("undecodable envelope: %s", err);
    if (env->body_case == KUBUS__V1__ENVELOPE__BODY_ACTION) {
        /* a full log would make every count after it wrong: say so */
        if (log->n >= FX_MAX_SENT) fail_msg("more than %d actions captured", FX_MAX_SENT);
        record(&log->a[log->n++], env->action);
    }
    msg_free(env);
    return 0;
}

void fx_reset(fx_sent_t *log)
{
    for (int i = 0; i < log->n; i++) json_decref(log->a[i].body);
    log->n = 0;
}

static bool matches(const fx_action_t *s, int verb, const char *resource)
{
    return s->verb == verb && (!resource || strcmp(s->resource, resource) == 0);
}

int fx_count(const fx_sent_t *log, int verb, const char *resource)
{
    int n = 0;
    for (int i = 0; i < log->n; i++) n += matches(&log->a[i], verb, resource);
    return n;
}

const fx_action_t *fx_nth(const fx_sent_t *log, int verb, const char *resource, int i)
{
    for (int k = 0, seen = 0; k < log->n; k++)
        if (matches(&log->a[k], verb, resource) && seen++ == i) return &log->a[k];
    fail_msg("no action #%d of verb %d on %s (have: %s)", i, verb, resource ? resource : "*", fx_actions_text(log));
    return NULL;
}

const fx_action_t *fx_find(const fx_sent_t *log, int verb, const char *resource)
{
    return fx_nth(log, verb, resource, 0);
}

const fx_action_t *fx_named(const fx_sent_t *log, int verb, const char *name)
{
    for (int k = 0; k < log->n; k++)
        if (log->a[k].verb == verb && strcmp(log->a[k].name, name) == 0) return &log->a[k];
    return NULL;
}

const fx_action_t *fx_last(const fx_sent_t *log, int verb)
{
    for (int k = log->n - 1; k >= 0; k--)
        if (log->a[k].verb == verb) return &log->a[k];
    return NULL;
}

const char *fx_actions_text(const fx_sent_t *log)
{
    static char buf[2048];
    buf[0] = '\0';
    for (int i = 0; i < log->n; i++) {
        const fx_action_t *s = &log->a[i];
        if (s->verb == KUBUS__V1__VERB__EVENT) continue;
        size_t l = strlen(buf);
        snprintf(buf + l, sizeof buf - l, "%s%d:%s/%s", l ? " " : "", s->verb, s->resource, s->name);
    }
    return buf;
}

/* The event's reason and message, or NULL when s is no event. */
static const char *event_field(const fx_action_t *s, const char *field)
{
    if (s->verb != KUBUS__V1__VERB__EVENT || !s->body) return NULL;
    return kobj_str(s->body, field);
}

int fx_event(const fx_sent_t *log, const char *reason, const char **message)
{
    int n = 0;
    for (int i = 0; i < log->n; i++) {
        const char *r = event_field(&log->a[i], "reason");
        if (!r || strcmp(r, reason) != 0) continue;
        n++;
        if (message) *message = event_field(&log->a[i], "message");
    }
    return n;
}

bool fx_has_event(const fx_sent_t *log, const char *reason, const char *message)
{
    for (int i = 0; i < log->n; i++) {
        const char *r = event_field(&log->a[i], "reason"), *m = event_field(&log->a[i], "message");
        if (r && m && strcmp(r, reason) == 0 && strcmp(m, message) == 0) return true;
    }
    return false;
}

void fx_answer_with(ctrl_runtime_t *rt, const fx_action_t *s, uint32_t status, const char *reason,
                    const json_t *object)
{
    msg_result_t r;
    kubus__v1__action_result__init(&r);
    r.id = s->id;
    r.status = status;
    r.verb = s->verb;
    if (reason) r.reason = (char *)reason;
    char *text = object ? json_dumps(object, JSON_COMPACT) : NULL;
    if (object) assert_non_null(text);
    if (text) {
        r.object.data = (uint8_t *)text;
        r.object.len = strlen(text);
    }
    actions_on_result(ctrl_actions(rt), &r);
    free(text);
}

void fx_answer_status(ctrl_runtime_t *rt, const fx_action_t *s, uint32_t status, const char *reason,
                      const char *message, const char *cause)
{
    msg_result_t r;
    kubus__v1__action_result__init(&r);
    r.id = s->id;
    r.status = status;
    r.verb = s->verb;
    r.reason = (char *)(reason ? reason : "");
    r.message = (char *)(message ? message : "");
    char *causes[1] = { (char *)cause };
    if (cause) {
        r.causes = causes;
        r.n_causes = 1;
    }
    actions_on_result(ctrl_actions(rt), &r);
}

void fx_answer(ctrl_runtime_t *rt, const fx_action_t *s, uint32_t status)
{
    fx_answer_with(rt, s, status, NULL, NULL);
}

void fx_answer_pending(ctrl_runtime_t *rt, fx_sent_t *log, uint32_t status)
{
    for (int i = 0; i < log->n; i++) {
        fx_action_t *s = &log->a[i];
        if (s->answered || s->verb == KUBUS__V1__VERB__EVENT) continue;
        s->answered = true;
        fx_answer(rt, s, s->verb == KUBUS__V1__VERB__CREATE && status == 200 ? 201 : status);
    }
}

void fx_answer_verb(ctrl_runtime_t *rt, const fx_sent_t *log, int verb, uint32_t status)
{
    for (int i = 0; i < log->n; i++)
        if (log->a[i].verb == verb) fx_answer(rt, &log->a[i], status);
}

json_t *fx_created(const fx_action_t *s, const char *uid, const char *rv)
{
    assert_non_null(s->body);
    json_t *o = json_deep_copy(s->body);
    assert_non_null(o);
    json_t *meta = json_object_get(o, "metadata");
    assert_non_null(meta);
    json_object_set_new(meta, "uid", json_string(uid));
    json_object_set_new(meta, "resourceVersion", json_string(rv));
    return o;
}

void fx_apply(ctrl_runtime_t *rt, const char *resource, json_t *obj)
{
    assert_non_null(obj);
    assert_int_equal(ctrl_test_apply(rt, resource, &obj, false), 0);
}

ctrl_runtime_t *fx_runtime_new(const ctrl_config_t *cfg, fx_sent_t *log)
{
    log->n = 0;
    ctrl_runtime_t *rt = ctrl_runtime_new_test(cfg, fx_capture, log);
    assert_non_null(rt);
    return rt;
}

void fx_runtime_ready(ctrl_runtime_t *rt, fx_sent_t *log, uint64_t now_ms)
{
    ctrl_test_set_unix_ms(rt, now_ms);
    ctrl_test_mark_ready(rt);
    fx_reset(log);
}

void fx_runtime_destroy(ctrl_runtime_t **rt, fx_sent_t *log)
{
    ctrl_runtime_destroy(rt);
    fx_reset(log);
}
