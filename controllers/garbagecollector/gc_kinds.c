/* gc_kinds.c - the resources the garbage collector watches. */
#include "gc_kinds.h"

#include <stddef.h>
#include <string.h>

/* The workload kinds kubus runs and the objects they own. Events and the
 * cluster-scoped kinds are left out: kubus controllers never make them owners
 * or dependents. */
const char *const gc_watched_resources[] = {
    "pods", "replicasets", "deployments", "statefulsets", "daemonsets",
    "controllerrevisions", "jobs", "cronjobs", "persistentvolumeclaims", NULL,
};

bool gc_resource_watched(const char *resource)
{
    if (!resource) return false;
    for (size_t i = 0; gc_watched_resources[i]; i++)
        if (strcmp(gc_watched_resources[i], resource) == 0) return true;
    return false;
}

bool gc_kinds_lookup(const gc_kinds_t *kinds, const char *api_version, const char *kind,
                     gc_kind_t *out)
{
    if (!kinds || !kinds->lookup || !api_version || !kind || !out) return false;
    memset(out, 0, sizeof *out);
    return kinds->lookup(kinds->arg, api_version, kind, out) && out->resource;
}
