/* sts_pod.c - the pods and claims of a StatefulSet. See sts_pod.h. */
#include "sts_pod.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/kobj.h"

int32_t sts_name_ordinal(const char *name, char *parent, size_t parentlen)
{
    if (parent && parentlen) parent[0] = '\0';
    if (!name) return -1;
    const char *dash = strrchr(name, '-');
    if (!dash || !dash[1]) return -1;
    int64_t v = 0;
    for (const char *p = dash + 1; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        v = v * 10 + (*p - '0');
        if (v > INT32_MAX) return -1;   /* upstream: ParseInt(.., 32) fails */
    }
    if (parent && parentlen) {
        size_t n = (size_t)(dash - name);
        if (n >= parentlen) return -1;
        memcpy(parent, name, n);
        parent[n] = '\0';
    }
    return (int32_t)v;
}

int32_t sts_member_ordinal(const json_t *pod, const char *set_name)
{
    char parent[256];
    int32_t ord = sts_name_ordinal(kobj_name(pod), parent, sizeof parent);
    return ord >= 0 && strcmp(parent, set_name) == 0 ? ord : -1;
}

bool sts_pod_created(const json_t *pod) { return pod && *kpod_phase(pod); }
bool sts_pod_terminating(const json_t *pod) { return pod && kobj_being_deleted(pod); }
bool sts_pod_pending(const json_t *pod) { return pod && strcmp(kpod_phase(pod), "Pending") == 0; }

bool sts_pod_finished(const json_t *pod)
{
    const char *ph = pod ? kpod_phase(pod) : "";
    return strcmp(ph, "Failed") == 0 || strcmp(ph, "Succeeded") == 0;
}

bool sts_pod_running_ready(const json_t *pod)
{
    return pod && strcmp(kpod_phase(pod), "Running") == 0 && kpod_is_ready(pod);
}

bool sts_pod_available(const json_t *pod, int32_t min_ready, int64_t now)
{
    return pod && kpod_is_available(pod, min_ready, now);
}

bool sts_pod_unavailable(const json_t *pod, int32_t min_ready, int64_t now)
{
    return !sts_pod_running_ready(pod) || sts_pod_terminating(pod) || !sts_pod_available(pod, min_ready, now);
}

int64_t sts_pod_available_at(const json_t *pod, int32_t min_ready, int64_t now)
{
    if (min_ready <= 0 || !sts_pod_running_ready(pod)) return 0;
    int64_t since = kpod_ready_since(pod);
    if (since <= 0 || since + min_ready <= now) return 0;
    return since + min_ready;
}

const char *sts_pod_revision(const json_t *pod)
{
    const char *r = kobj_label(pod, STS_LABEL_REVISION);
    return r ? r : "";
}

bool sts_pod_identity_ok(const json_t *pod)
{
    const char *n = kobj_label(pod, STS_LABEL_POD_NAME);
    return n && strcmp(n, kobj_name(pod)) == 0;
}

int sts_claim_name(char *out, size_t outlen, const char *tmpl_name, const char *set_name, int32_t ordinal)
{
    int n = snprintf(out, outlen, "%s-%s-%d", tmpl_name, set_name, ordinal);
    return n < 0 || (size_t)n >= outlen ? -1 : n;
}

/* A copy of obj's object member key, or a new empty object. */
static json_t *object_copy(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_object(v) ? json_deep_copy(v) : json_object();
}

static int set_identity(json_t *meta, const char *name, int32_t ordinal, const char *rev)
{
    json_t *labels = json_object_get(meta, "labels");
    char idx[16];
    snprintf(idx, sizeof idx, "%d", ordinal);
    if (json_object_set_new(labels, STS_LABEL_POD_NAME, json_string(name)) < 0 ||
        json_object_set_new(labels, STS_LABEL_POD_INDEX, json_string(idx)) < 0 ||
        json_object_set_new(labels, STS_LABEL_REVISION, json_string(rev)) < 0)
        return -1;
    return 0;
}

/* The claim volumes first (template order), then the template's other
 * volumes (upstream updateStorage replaces same-named ones). */
static json_t *claim_volumes(const json_t *sts, const json_t *pod_spec, int32_t ordinal)
{
    json_t *vols = json_array();
    const json_t *tmpls = kobj_get(sts, "spec.volumeClaimTemplates");
    size_t i;
    json_t *t;
    json_array_foreach(tmpls, i, t) {
        const char *tn = kobj_name(t);
        char cn[512];
        if (!*tn || sts_claim_name(cn, sizeof cn, tn, kobj_name(sts), ordinal) < 0) continue;
        json_array_append_new(vols, json_pack("{s:s, s:{s:s}}", "name", tn, "persistentVolumeClaim", "claimName", cn));
    }
    json_t *v;
    json_array_foreach(json_object_get(pod_spec, "volumes"), i, v) {
        const char *vn = json_string_value(json_object_get(v, "name"));
        bool replaced = false;
        size_t j;
        json_t *c;
        json_array_foreach(vols, j, c) {
            if (vn && strcmp(vn, json_string_value(json_object_get(c, "name"))) == 0) replaced = true;
        }
        if (!replaced) json_array_append_new(vols, json_deep_copy(v));
    }
    return vols;
}

json_t *sts_pod_new(const json_t *sts, const json_t *template, const char *service_name, int32_t ordinal,
                    const char *rev_name)
{
    const json_t *tspec = json_object_get(template, "spec");
    const json_t *tmeta = json_object_get(template, "metadata");
    if (!json_is_object(tspec)) return NULL;
    char name[320];
    snprintf(name, sizeof name, "%s-%d", kobj_name(sts), ordinal);
    json_t *pod = json_object(), *meta = json_object(), *spec = json_deep_copy(tspec);
    json_t *ref = kobj_new_controller_ref("apps/v1", "StatefulSet", sts);
    if (!pod || !meta || !spec || !ref) goto oom;
    json_object_set_new(pod, "apiVersion", json_string("v1"));
    json_object_set_new(pod, "kind", json_string("Pod"));
    json_object_set_new(meta, "name", json_string(name));
    json_object_set_new(meta, "namespace", json_string(kobj_namespace(sts)));
    json_object_set_new(meta, "labels", object_copy(tmeta, "labels"));
    json_t *ann = json_object_get(tmeta, "annotations");
    if (json_is_object(ann) && json_object_size(ann)) json_object_set_new(meta, "annotations", json_deep_copy(ann));
    json_t *fin = json_object_get(tmeta, "finalizers");
    if (json_is_array(fin) && json_array_size(fin)) json_object_set_new(meta, "finalizers", json_deep_copy(fin));
    json_object_set_new(meta, "ownerReferences", json_pack("[o]", ref));
    ref = NULL;
    if (set_identity(meta, name, ordinal, rev_name) < 0) goto oom;
    json_object_set_new(spec, "hostname", json_string(name));
    if (service_name && *service_name) json_object_set_new(spec, "subdomain", json_string(service_name));
    json_t *vols = claim_volumes(sts, tspec, ordinal);
    if (!vols) goto oom;
    if (json_array_size(vols)) json_object_set_new(spec, "volumes", vols);
    else json_decref(vols);
    json_object_set_new(pod, "metadata", meta);
    json_object_set_new(pod, "spec", spec);
    return pod;
oom:
    json_decref(pod);
    json_decref(meta);
    json_decref(spec);
    json_decref(ref);
    return NULL;
}

json_t *sts_claim_new(const json_t *sts, const json_t *claim_tmpl, int32_t ordinal)
{
    const char *tn = kobj_name(claim_tmpl);
    char cn[512];
    if (!*tn || sts_claim_name(cn, sizeof cn, tn, kobj_name(sts), ordinal) < 0) return NULL;
    json_t *claim = json_deep_copy(claim_tmpl);
    if (!claim) return NULL;
    json_object_del(claim, "status");
    json_t *meta = json_object_get(claim, "metadata");
    if (!json_is_object(meta)) {
        meta = json_object();
        json_object_set_new(claim, "metadata", meta);
    }
    json_object_set_new(claim, "apiVersion", json_string("v1"));
    json_object_set_new(claim, "kind", json_string("PersistentVolumeClaim"));
    json_object_set_new(meta, "name", json_string(cn));
    json_object_set_new(meta, "namespace", json_string(kobj_namespace(sts)));
    json_object_del(meta, "creationTimestamp");
    json_t *labels = json_object_get(meta, "labels");
    if (!json_is_object(labels)) {
        labels = json_object();
        json_object_set_new(meta, "labels", labels);
    }
    const json_t *ml = kobj_get(sts, "spec.selector.matchLabels");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)ml, k, v) json_object_set(labels, k, v);
    return claim;
}
