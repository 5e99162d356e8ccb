/* request.c - action checks and HTTP request building. See request.h. */
#include "request.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errfmt.h"
#include "kapi.h"

#define CT_JSON "application/json"

static bool has_body(int verb)
{
    return verb == KUBUS__V1__VERB__CREATE || verb == KUBUS__V1__VERB__UPDATE ||
           verb == KUBUS__V1__VERB__UPDATE_STATUS || verb == KUBUS__V1__VERB__PATCH;
}

static const char *patch_content_type(int patch_type)
{
    switch (patch_type) {
    case KUBUS__V1__PATCH_TYPE__MERGE: return "application/merge-patch+json";
    case KUBUS__V1__PATCH_TYPE__JSON_PATCH: return "application/json-patch+json";
    case KUBUS__V1__PATCH_TYPE__STRATEGIC: return "application/strategic-merge-patch+json";
    default: return NULL;
    }
}

static const char *subresource_of(const msg_action_t *a)
{
    if (a->verb == KUBUS__V1__VERB__UPDATE_STATUS) return "status";
    return a->subresource && *a->subresource ? a->subresource : NULL;
}

static char *controller_uid(const json_t *obj)
{
    json_t *refs = json_object_get(json_object_get(obj, "metadata"), "ownerReferences");
    size_t i;
    json_t *ref;
    json_array_foreach(refs, i, ref) {
        if (!json_is_true(json_object_get(ref, "controller"))) continue;
        const char *uid = json_string_value(json_object_get(ref, "uid"));
        return uid && *uid ? strdup(uid) : NULL;
    }
    return NULL;
}

/* The body's metadata.name, when it sets one, must be the action's target. */
static int check_body_name(const msg_action_t *a, const json_t *body, char *err, size_t errlen)
{
    json_t *name = json_object_get(json_object_get(body, "metadata"), "name");
    if (a->verb == KUBUS__V1__VERB__CREATE && !json_is_string(name))
        return errfmt(err, errlen, "CREATE body must set metadata.name to the chosen name");
    if (name && (!json_is_string(name) || strcmp(json_string_value(name), a->name) != 0))
        return errfmt(err, errlen, "body metadata.name differs from the action's name \"%s\"", a->name);
    return 0;
}

static int check_body(const msg_action_t *a, char **owner_uid, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *body = json_loadb((const char *)a->body.data, a->body.len, 0, &jerr);
    if (!body) return errfmt(err, errlen, "body is not JSON: %s", jerr.text);
    bool want_array = a->verb == KUBUS__V1__VERB__PATCH && a->patch_type == KUBUS__V1__PATCH_TYPE__JSON_PATCH;
    int rc = 0;
    if (want_array ? !json_is_array(body) : !json_is_object(body))
        rc = errfmt(err, errlen, "body must be a JSON %s", want_array ? "array" : "object");
    else if (a->verb != KUBUS__V1__VERB__PATCH)
        rc = check_body_name(a, body, err, errlen);
    if (rc == 0 && owner_uid && a->verb == KUBUS__V1__VERB__CREATE) *owner_uid = controller_uid(body);
    json_decref(body);
    return rc;
}

static int check_target(const msg_action_t *a, const kapi_resource_t *r, char *err, size_t errlen)
{
    bool has_ns = a->namespace_ && *a->namespace_;
    if (r->namespaced && !has_ns) return errfmt(err, errlen, "resource %s needs a namespace", r->resource);
    if (!r->namespaced && has_ns) return errfmt(err, errlen, "resource %s is cluster-scoped", r->resource);
    char path[REQUEST_PATH_MAX];
    const char *name = a->verb == KUBUS__V1__VERB__CREATE ? NULL : a->name;
    if (kapi_path(path, sizeof path, a->resource, a->namespace_, name, subresource_of(a), NULL) < 0 ||
        (a->name && *a->name && kapi_path(path, sizeof path, a->resource, a->namespace_, a->name, NULL, NULL) < 0))
        return errfmt(err, errlen, "bad namespace, name or subresource for %s", r->resource);
    return 0;
}

int request_check(const msg_action_t *a, char **owner_uid, char *err, size_t errlen)
{
    if (owner_uid) *owner_uid = NULL;
    const kapi_resource_t *r = kapi_resource(a->resource);
    if (!r) return errfmt(err, errlen, "unknown resource \"%s\"", a->resource ? a->resource : "");
    if (a->api_group_version && *a->api_group_version && strcmp(a->api_group_version, r->group_version) != 0)
        return errfmt(err, errlen, "unsupported group/version for this resource: %s", a->api_group_version);
    if (a->verb == KUBUS__V1__VERB__EVENT) return 0; /* the spec is checked by evagg */
    if (a->verb == KUBUS__V1__VERB__CREATE && (!a->name || !*a->name))
        return errfmt(err, errlen, "CREATE needs the client-chosen name");
    if (check_target(a, r, err, errlen) < 0) return -1;
    return has_body(a->verb) ? check_body(a, owner_uid, err, errlen) : 0;
}

static char *delete_options(const msg_action_t *a)
{
    static const char *const policies[] = { NULL, "Background", "Foreground", "Orphan" };
    json_t *o = json_pack("{s:s, s:s}", "kind", "DeleteOptions", "apiVersion", "v1");
    if (!o) return NULL;
    json_t *pre = json_object();
    if (pre && a->precondition_uid && *a->precondition_uid)
        json_object_set_new(pre, "uid", json_string(a->precondition_uid));
    if (pre && a->precondition_resource_version && *a->precondition_resource_version)
        json_object_set_new(pre, "resourceVersion", json_string(a->precondition_resource_version));
    if (pre && json_object_size(pre)) json_object_set(o, "preconditions", pre);
    json_decref(pre);
    if (a->propagation > 0 && a->propagation <= KUBUS__V1__PROPAGATION__ORPHAN)
        json_object_set_new(o, "propagationPolicy", json_string(policies[a->propagation]));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static void set_borrowed_body(request_t *out, const msg_action_t *a, const char *content_type)
{
    out->body = (const char *)a->body.data;
    out->body_len = a->body.len;
    out->content_type = content_type;
}

int request_build(const msg_action_t *a, request_t *out)
{
    memset(out, 0, sizeof *out);
    bool create = a->verb == KUBUS__V1__VERB__CREATE;
    if (kapi_path(out->path, sizeof out->path, a->resource, a->namespace_, create ? NULL : a->name,
                  subresource_of(a), NULL) < 0)
        return -1;
    switch (a->verb) {
    case KUBUS__V1__VERB__CREATE: out->method = "POST"; set_borrowed_body(out, a, CT_JSON); break;
    case KUBUS__V1__VERB__UPDATE:
    case KUBUS__V1__VERB__UPDATE_STATUS: out->method = "PUT"; set_borrowed_body(out, a, CT_JSON); break;
    case KUBUS__V1__VERB__PATCH:
        out->method = "PATCH";
        set_borrowed_body(out, a, patch_content_type(a->patch_type));
        break;
    case KUBUS__V1__VERB__DELETE:
        out->method = "DELETE";
        out->owned_body = delete_options(a);
        if (!out->owned_body) return -1;
        out->body = out->owned_body;
        out->body_len = strlen(out->owned_body);
        out->content_type = CT_JSON;
        break;
    case KUBUS__V1__VERB__GET: out->method = "GET"; break;
    default: return -1;
    }
    return out->content_type || !out->body ? 0 : -1;
}

int request_build_lookup(const msg_action_t *a, request_t *out)
{
    memset(out, 0, sizeof *out);
    out->method = "GET";
    return kapi_path(out->path, sizeof out->path, a->resource, a->namespace_, a->name, NULL, NULL) < 0 ? -1 : 0;
}

int request_build_event(const evagg_plan_t *p, request_t *out)
{
    memset(out, 0, sizeof *out);
    if (kapi_path(out->path, sizeof out->path, "events", p->namespace_, p->patch ? p->name : NULL, NULL, NULL) < 0)
        return -1;
    out->method = p->patch ? "PATCH" : "POST";
    out->body = p->body;
    out->body_len = strlen(p->body);
    out->content_type = p->patch ? "application/strategic-merge-patch+json" : CT_JSON;
    return 0;
}

void request_clear(request_t *r)
{
    free(r->owned_body);
    memset(r, 0, sizeof *r);
}

bool request_owned_by(const void *obj, size_t len, const char *uid)
{
    if (!obj || !uid || !*uid) return false;
    json_t *o = json_loadb(obj, len, 0, NULL);
    char *have = o ? controller_uid(o) : NULL;
    bool same = have && strcmp(have, uid) == 0;
    free(have);
    json_decref(o);
    return same;
}
