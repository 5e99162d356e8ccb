/* kapi.c - the resource table and REST path building. See kapi.h.
 *
 * Owns: which resources kubus knows and how their URLs look. Names and
 * namespaces come from outside (bus messages), so path building refuses any
 * segment that could change the path's meaning ('/', '?', '%', "..", ...)
 * instead of escaping it: no valid Kubernetes name needs escaping.
 */
#include "kapi.h"

#include <stdio.h>
#include <string.h>

static const kapi_resource_t k_pods = { "pods", "v1", "Pod", true };
static const kapi_resource_t k_nodes = { "nodes", "v1", "Node", false };
static const kapi_resource_t k_namespaces = { "namespaces", "v1", "Namespace", false };
static const kapi_resource_t k_pvcs = { "persistentvolumeclaims", "v1", "PersistentVolumeClaim", true };
static const kapi_resource_t k_services = { "services", "v1", "Service", true };
static const kapi_resource_t k_events = { "events", "v1", "Event", true };
static const kapi_resource_t k_replicasets = { "replicasets", "apps/v1", "ReplicaSet", true };
static const kapi_resource_t k_deployments = { "deployments", "apps/v1", "Deployment", true };
static const kapi_resource_t k_statefulsets = { "statefulsets", "apps/v1", "StatefulSet", true };
static const kapi_resource_t k_daemonsets = { "daemonsets", "apps/v1", "DaemonSet", true };
static const kapi_resource_t k_revisions = { "controllerrevisions", "apps/v1", "ControllerRevision", true };
static const kapi_resource_t k_jobs = { "jobs", "batch/v1", "Job", true };
static const kapi_resource_t k_cronjobs = { "cronjobs", "batch/v1", "CronJob", true };
static const kapi_resource_t k_leases = { "leases", "coordination.k8s.io/v1", "Lease", true };

static const kapi_resource_t *const k_all[] = {
    &k_pods, &k_nodes, &k_namespaces, &k_pvcs, &k_services, &k_events, &k_replicasets,
    &k_deployments, &k_statefulsets, &k_daemonsets, &k_revisions, &k_jobs, &k_cronjobs,
    &k_leases, NULL,
};

const kapi_resource_t *const *kapi_resources(void) { return k_all; }

const kapi_resource_t *kapi_resource(const char *resource)
{
    if (!resource) return NULL;
    for (size_t i = 0; k_all[i]; i++)
        if (strcmp(k_all[i]->resource, resource) == 0) return k_all[i];
    return NULL;
}

const kapi_resource_t *kapi_resource_by_kind(const char *api_version, const char *kind)
{
    if (!api_version || !kind) return NULL;
    for (size_t i = 0; k_all[i]; i++)
        if (strcmp(k_all[i]->group_version, api_version) == 0 && strcmp(k_all[i]->kind, kind) == 0)
            return k_all[i];
    return NULL;
}

/* A name or namespace usable as one path segment without escaping. Covers
 * DNS-1123 names and the looser names of events ("pod.17a9..."); refuses
 * anything else rather than guessing an encoding. */
static bool valid_segment(const char *s)
{
    if (!s || !*s || strlen(s) > 253) return false;
    if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0) return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                  c == '.' || c == '_' || c == ':';
        if (!ok) return false;
    }
    return true;
}

static bool valid_subresource(const char *s)
{
    for (const char *p = s; *p; p++)
        if (!(*p >= 'a' && *p <= 'z')) return false;
    return *s != '\0';
}

/* Appends s to out at *len; false if it would not fit. */
static bool put(char *out, size_t outlen, size_t *len, const char *a, const char *b)
{
    int n = snprintf(out + *len, outlen - *len, "%s%s", a, b);
    if (n < 0 || (size_t)n >= outlen - *len) return false;
    *len += (size_t)n;
    return true;
}

int kapi_path(char *out, size_t outlen, const char *resource, const char *ns, const char *name,
              const char *subresource, const char *query)
{
    const kapi_resource_t *r = kapi_resource(resource);
    if (!r || !out || outlen == 0) return -1;
    out[0] = '\0';
    bool has_ns = ns && *ns, has_name = name && *name, has_sub = subresource && *subresource;
    if (has_ns && (!r->namespaced || !valid_segment(ns))) return -1;
    if (has_name && !valid_segment(name)) return -1;
    if (has_sub && (!has_name || !valid_subresource(subresource))) return -1;
    if (query && *query && strpbrk(query, "#\r\n ")) return -1;
    size_t len = 0;
    bool core = strchr(r->group_version, '/') == NULL;
    bool ok = put(out, outlen, &len, core ? "/api/" : "/apis/", r->group_version);
    if (ok && has_ns) ok = put(out, outlen, &len, "/namespaces/", ns);
    if (ok) ok = put(out, outlen, &len, "/", r->resource);
    if (ok && has_name) ok = put(out, outlen, &len, "/", name);
    if (ok && has_sub) ok = put(out, outlen, &len, "/", subresource);
    if (ok && query && *query) ok = put(out, outlen, &len, "?", query);
    if (!ok) { out[0] = '\0'; return -1; }
    return (int)len;
}
