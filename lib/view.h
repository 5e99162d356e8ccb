/* view.h - the compact views of objects that travel on the bus.
 *
 * Owns: the one list of fields each controller may read from objects it
 * only indexes or counts. The informer projects an object to its view once
 * per change, before it caches and publishes it; every subscriber then
 * parses, indexes and keeps the small view instead of the whole object.
 *
 * A view is the object with fields removed, never renamed: the same JSON
 * paths, so every reader (lib/ctrl/kobj.h) works on a view unchanged, and
 * a field that a controller needs must be added here, in one place.
 *
 * Pods (view version 1) keep:
 *   apiVersion, kind;
 *   metadata: name, generateName, namespace, uid, resourceVersion,
 *     generation, creationTimestamp, deletionTimestamp,
 *     deletionGracePeriodSeconds, labels, ownerReferences, finalizers, and
 *     the annotations of the kubernetes.io / k8s.io domains (the controllers'
 *     own: pod-deletion-cost, job-completion-index, ...) except kubectl's
 *     last-applied-configuration;
 *   spec: nodeName, hostname, subdomain, restartPolicy,
 *     affinity.nodeAffinity, volumes that are persistentVolumeClaims
 *     ({name, persistentVolumeClaim}), containers[].name,
 *     initContainers[].{name, restartPolicy};
 *   status: phase, reason, startTime, conditions[].{type, status,
 *     lastTransitionTime, reason}, containerStatuses[] and
 *     initContainerStatuses[] .{name, ready, started, restartCount, state,
 *     lastState} with state.{terminated.{exitCode, reason, startedAt,
 *     finishedAt}, running.startedAt, waiting.reason}.
 * Everything else (the other annotations, container specs, env, images,
 * tolerations, IPs, messages) is dropped: a 2.3 KiB pod becomes ~0.55 KiB.
 * Writes never need the dropped fields: controllers patch pods, never PUT
 * them.
 *
 * Other resources have no view (version 0): they travel whole, without
 * metadata.managedFields.
 *
 * Cost: one walk over the parsed object, deleting in place; no copy.
 */
#ifndef KUBUS_VIEW_H
#define KUBUS_VIEW_H

#include <jansson.h>
#include <stdint.h>

#define VIEW_POD_VERSION 1u

/* The view version objects of this resource travel in (0: whole object). */
uint32_t view_version(const char *resource);

/* Cuts obj down to the view of its resource, in place (a no-op for
 * resources without a view). obj must be a JSON object. Returns the view
 * version applied. */
uint32_t view_project(const char *resource, json_t *obj);

#endif
