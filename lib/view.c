/* view.c - projecting objects to their bus views. See view.h for the field
 * lists; the tables below are the only place they are written down. */
#include "view.h"

#include <stdbool.h>
#include <string.h>

/* Deletes every member of obj whose key is not in keep (NULL-terminated).
 * A no-op when obj is not an object. */
static void keep_only(json_t *obj, const char *const *keep)
{
    if (!json_is_object(obj)) return;
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(obj, tmp, k, v) {
        bool wanted = false;
        for (const char *const *w = keep; *w && !wanted; w++) wanted = strcmp(*w, k) == 0;
        if (!wanted) json_object_del(obj, k);
    }
}

/* keep_only on every element of the array at obj[key] (dropped when it is
 * not an array). */
static void keep_only_each(json_t *obj, const char *key, const char *const *keep)
{
    json_t *arr = json_object_get(obj, key);
    if (!arr) return;
    if (!json_is_array(arr)) { json_object_del(obj, key); return; }
    size_t i;
    json_t *el;
    json_array_foreach(arr, i, el) keep_only(el, keep);
}

/* Annotations the controllers may read: the kubernetes.io and k8s.io
 * domains (and their subdomains), never kubectl's copy of the whole
 * manifest. */
static bool annotation_kept(const char *key)
{
    if (strcmp(key, "kubectl.kubernetes.io/last-applied-configuration") == 0) return false;
    const char *slash = strchr(key, '/');
    if (!slash) return false;
    size_t n = (size_t)(slash - key);
    static const char *const domains[] = { "kubernetes.io", "k8s.io", NULL };
    for (const char *const *d = domains; *d; d++) {
        size_t dl = strlen(*d);
        if (n == dl && memcmp(key, *d, dl) == 0) return true;
        if (n > dl && key[n - dl - 1] == '.' && memcmp(key + n - dl, *d, dl) == 0) return true;
    }
    return false;
}

static void project_annotations(json_t *meta)
{
    json_t *ann = json_object_get(meta, "annotations");
    if (!ann) return;
    if (!json_is_object(ann)) { json_object_del(meta, "annotations"); return; }
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(ann, tmp, k, v) {
        if (!annotation_kept(k)) json_object_del(ann, k);
    }
    if (json_object_size(ann) == 0) json_object_del(meta, "annotations");
}

static void project_pod_meta(json_t *meta)
{
    static const char *const keep[] = { "name", "generateName", "namespace", "uid", "resourceVersion",
                                        "generation", "creationTimestamp", "deletionTimestamp",
                                        "deletionGracePeriodSeconds", "labels", "annotations",
                                        "ownerReferences", "finalizers", NULL };
    keep_only(meta, keep);
    project_annotations(meta);
}

/* Only claim-backed volumes matter (StatefulSet storage identity). */
static void project_volumes(json_t *spec)
{
    json_t *vols = json_object_get(spec, "volumes");
    if (!vols) return;
    json_t *kept = json_array();
    size_t i;
    json_t *v;
    if (kept && json_is_array(vols)) {
        json_array_foreach(vols, i, v) {
            json_t *name = json_object_get(v, "name"), *pvc = json_object_get(v, "persistentVolumeClaim");
            if (!json_is_string(name) || !json_is_object(pvc)) continue;
            json_array_append_new(kept, json_pack("{s:O, s:O}", "name", name, "persistentVolumeClaim", pvc));
        }
    }
    if (kept && json_array_size(kept) > 0) json_object_set_new(spec, "volumes", kept);
    else { json_decref(kept); json_object_del(spec, "volumes"); }
}

static void project_pod_spec(json_t *spec)
{
    static const char *const keep[] = { "nodeName", "hostname", "subdomain", "restartPolicy", "affinity",
                                        "volumes", "containers", "initContainers", NULL };
    static const char *const affinity[] = { "nodeAffinity", NULL };
    static const char *const container[] = { "name", NULL };
    static const char *const init_container[] = { "name", "restartPolicy", NULL };
    keep_only(spec, keep);
    json_t *aff = json_object_get(spec, "affinity");
    keep_only(aff, affinity);
    if (aff && (!json_is_object(aff) || json_object_size(aff) == 0)) json_object_del(spec, "affinity");
    project_volumes(spec);
    keep_only_each(spec, "containers", container);
    keep_only_each(spec, "initContainers", init_container);
}

/* state / lastState of a container status: which state, and its times,
 * exit code and reason. */
static void project_state(json_t *cs, const char *key)
{
    static const char *const keep[] = { "terminated", "running", "waiting", NULL };
    static const char *const terminated[] = { "exitCode", "reason", "startedAt", "finishedAt", NULL };
    static const char *const running[] = { "startedAt", NULL };
    static const char *const waiting[] = { "reason", NULL };
    json_t *st = json_object_get(cs, key);
    if (!st) return;
    if (!json_is_object(st)) { json_object_del(cs, key); return; }
    keep_only(st, keep);
    keep_only(json_object_get(st, "terminated"), terminated);
    keep_only(json_object_get(st, "running"), running);
    keep_only(json_object_get(st, "waiting"), waiting);
}

static void project_container_statuses(json_t *status, const char *key)
{
    static const char *const keep[] = { "name", "ready", "started", "restartCount", "state", "lastState", NULL };
    keep_only_each(status, key, keep);
    json_t *arr = json_object_get(status, key);
    size_t i;
    json_t *cs;
    json_array_foreach(arr, i, cs) {
        project_state(cs, "state");
        project_state(cs, "lastState");
    }
}

static void project_pod_status(json_t *status)
{
    static const char *const keep[] = { "phase", "reason", "startTime", "conditions", "containerStatuses",
                                        "initContainerStatuses", NULL };
    static const char *const condition[] = { "type", "status", "lastTransitionTime", "reason", NULL };
    keep_only(status, keep);
    keep_only_each(status, "conditions", condition);
    project_container_statuses(status, "containerStatuses");
    project_container_statuses(status, "initContainerStatuses");
}

static void project_pod(json_t *pod)
{
    static const char *const keep[] = { "apiVersion", "kind", "metadata", "spec", "status", NULL };
    keep_only(pod, keep);
    static const char *const parts[] = { "metadata", "spec", "status", NULL };
    for (const char *const *p = parts; *p; p++) {   /* an ill-typed part says nothing */
        json_t *v = json_object_get(pod, *p);
        if (v && !json_is_object(v)) json_object_del(pod, *p);
    }
    project_pod_meta(json_object_get(pod, "metadata"));
    project_pod_spec(json_object_get(pod, "spec"));
    project_pod_status(json_object_get(pod, "status"));
}

uint32_t view_version(const char *resource)
{
    return resource && strcmp(resource, "pods") == 0 ? VIEW_POD_VERSION : 0;
}

uint32_t view_project(const char *resource, json_t *obj)
{
    uint32_t v = view_version(resource);
    if (v == VIEW_POD_VERSION && json_is_object(obj)) project_pod(obj);
    return json_is_object(obj) ? v : 0;
}
