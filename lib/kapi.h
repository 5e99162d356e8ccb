/* kapi.h - facts about Kubernetes resources and their REST paths.
 *
 * Owns: the table of resources kubus watches and writes (plural name ->
 * group/version, kind, namespaced) and URL path building. Pure functions, no I/O.
 */
#ifndef KUBUS_KAPI_H
#define KUBUS_KAPI_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *resource;      /* "pods" */
    const char *group_version; /* "v1", "apps/v1", "batch/v1" */
    const char *kind;          /* "Pod" */
    bool namespaced;
} kapi_resource_t;

/* NULL for a resource kubus does not know. */
const kapi_resource_t *kapi_resource(const char *resource);
/* By apiVersion + kind (as in ownerReferences): "apps/v1","ReplicaSet". */
const kapi_resource_t *kapi_resource_by_kind(const char *api_version, const char *kind);
/* Every known resource, NULL-terminated. */
const kapi_resource_t *const *kapi_resources(void);

/* Builds "/api/v1/namespaces/NS/pods/NAME/SUB" or "/apis/apps/v1/..."
 * (collection when name is NULL/empty; all namespaces when ns is NULL/empty
 * for a collection). query (without '?') is appended if non-empty; values
 * must already be escaped. Returns length, or -1 if it would not fit or the
 * resource is unknown. */
int kapi_path(char *out, size_t outlen, const char *resource, const char *ns, const char *name,
              const char *subresource, const char *query);

#endif
