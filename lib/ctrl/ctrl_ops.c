/* ctrl_ops.c - the ctrl_* action helpers controllers call (actions.h),
 * on top of the runtime's actions_t. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctrl/actions.h"
#include "ctrl/kobj.h"
#include "ctrl/runtime.h"
#include "log.h"

uint64_t ctrl_action(ctrl_runtime_t *rt, ctrl_action_spec_t *spec)
{
    actions_t *a = rt ? ctrl_actions(rt) : NULL;
    if (!a) {
        if (spec) { json_decref(spec->body); spec->body = NULL; }
        return 0;
    }
    return actions_issue(a, spec);
}

uint64_t ctrl_create(ctrl_runtime_t *rt, const char *owner_key, const char *resource, json_t **obj,
                     ctrl_result_fn cb, void *ud)
{
    json_t *o = obj ? *obj : NULL;
    if (obj) *obj = NULL;
    const char *name = kobj_name(o);
    if (!*name) {
        LOGW("ctrl_create: object without metadata.name refused", "resource", resource ? resource : "");
        json_decref(o);
        return 0;
    }
    /* copy: the spec's strings must outlive the body's release */
    char ns[254], nm[254];
    snprintf(ns, sizeof ns, "%s", kobj_namespace(o));
    snprintf(nm, sizeof nm, "%s", name);
    ctrl_action_spec_t sp = { .verb = KUBUS__V1__VERB__CREATE, .resource = resource, .ns = ns, .name = nm,
                              .body = o, .owner_key = owner_key, .cb = cb, .ud = ud };
    return ctrl_action(rt, &sp);
}

uint64_t ctrl_delete(ctrl_runtime_t *rt, const char *owner_key, const char *resource, const char *ns,
                     const char *name, const char *uid, ctrl_result_fn cb, void *ud)
{
    ctrl_action_spec_t sp = { .verb = KUBUS__V1__VERB__DELETE, .resource = resource, .ns = ns, .name = name,
                              .precondition_uid = uid, .owner_key = owner_key, .cb = cb, .ud = ud };
    return ctrl_action(rt, &sp);
}

uint64_t ctrl_patch(ctrl_runtime_t *rt, const char *owner_key, const char *resource, const char *ns,
                    const char *name, int patch_type, json_t **patch, ctrl_result_fn cb, void *ud)
{
    json_t *p = patch ? *patch : NULL;
    if (patch) *patch = NULL;
    ctrl_action_spec_t sp = { .verb = KUBUS__V1__VERB__PATCH, .resource = resource, .ns = ns, .name = name,
                              .body = p, .patch_type = patch_type, .owner_key = owner_key, .cb = cb, .ud = ud };
    return ctrl_action(rt, &sp);
}

static uint64_t update_verb(ctrl_runtime_t *rt, int verb, const char *owner_key, const char *resource,
                            json_t **obj, ctrl_result_fn cb, void *ud)
{
    json_t *o = obj ? *obj : NULL;
    if (obj) *obj = NULL;
    char ns[254], nm[254], rv[128];
    snprintf(ns, sizeof ns, "%s", kobj_namespace(o));
    snprintf(nm, sizeof nm, "%s", kobj_name(o));
    snprintf(rv, sizeof rv, "%s", kobj_resource_version(o));
    ctrl_action_spec_t sp = { .verb = verb, .resource = resource, .ns = ns, .name = nm, .body = o,
                              .precondition_rv = rv, .owner_key = owner_key, .cb = cb, .ud = ud,
                              .subresource = verb == KUBUS__V1__VERB__UPDATE_STATUS ? "status" : NULL };
    return ctrl_action(rt, &sp);
}

uint64_t ctrl_update(ctrl_runtime_t *rt, const char *owner_key, const char *resource, json_t **obj,
                     ctrl_result_fn cb, void *ud)
{
    return update_verb(rt, KUBUS__V1__VERB__UPDATE, owner_key, resource, obj, cb, ud);
}

uint64_t ctrl_update_status(ctrl_runtime_t *rt, const char *owner_key, const char *resource, json_t **obj,
                            ctrl_result_fn cb, void *ud)
{
    return update_verb(rt, KUBUS__V1__VERB__UPDATE_STATUS, owner_key, resource, obj, cb, ud);
}

uint64_t ctrl_get(ctrl_runtime_t *rt, const char *owner_key, const char *resource, const char *ns,
                  const char *name, ctrl_result_fn cb, void *ud)
{
    ctrl_action_spec_t sp = { .verb = KUBUS__V1__VERB__GET, .resource = resource, .ns = ns, .name = name,
                              .owner_key = owner_key, .cb = cb, .ud = ud };
    return ctrl_action(rt, &sp);
}

bool ctrl_result_has_cause(const ctrl_result_t *res, const char *cause)
{
    for (size_t i = 0; res && cause && i < res->n_causes; i++)
        if (res->causes[i] && strcmp(res->causes[i], cause) == 0) return true;
    return false;
}

bool ctrl_result_namespace_terminating(const ctrl_result_t *res)
{
    if (!res || res->ok) return false;
    if (ctrl_result_has_cause(res, "NamespaceTerminating")) return true;
    /* an executor that does not pass causes on: the admission plugin's words */
    return res->status == 403 && res->message && strstr(res->message, "because it is being terminated");
}

static json_t *involved_ref(const json_t *obj)
{
    json_t *ref = json_object();
    if (!ref) return NULL;
    const char *fields[][2] = {
        { "kind", kobj_str(obj, "kind") }, { "apiVersion", kobj_str(obj, "apiVersion") },
        { "namespace", kobj_namespace(obj) }, { "name", kobj_name(obj) }, { "uid", kobj_uid(obj) },
        { "resourceVersion", kobj_resource_version(obj) },
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (fields[i][1] && *fields[i][1]) json_object_set_new(ref, fields[i][0], json_string(fields[i][1]));
    return ref;
}

int ctrl_event(ctrl_runtime_t *rt, const json_t *involved, const char *type, const char *reason,
               const char *fmt, ...)
{
    actions_t *a = rt ? ctrl_actions(rt) : NULL;
    if (!a || !involved || !type || !reason || !fmt || !*kobj_name(involved) || !kobj_str(involved, "kind"))
        return -1;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *body = json_pack("{s:o?, s:s, s:s, s:s, s:{s:s}}", "involvedObject", involved_ref(involved),
                             "type", type, "reason", reason, "message", msg, "source", "component",
                             ctrl_component(rt));
    if (!body) return -1;
    return actions_send_event(a, kobj_namespace(involved), &body);
}
