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
 * Two walkers read the same rule tables (view.c): view_project cuts a
 * jansson tree in place (watch events, already parsed), view_project_text
 * writes the view of JSON text without building a tree (list pages: the
 * informer's initial list of 10,000 pods never becomes 10,000 trees). Both
 * give the same view (a unit test compares them); the text walker copies
 * kept values as written, escapes included.
 *
 * Cost: view_project: one walk over the tree, deleting in place, no copy.
 * view_project_text: one pass over the text (jscan.h), the view appended
 * to a buffer; dropped parts are checked for syntax only, kept ones also
 * for duplicate keys.
 */
#ifndef KUBUS_VIEW_H
#define KUBUS_VIEW_H

#include <jansson.h>
#include <stdint.h>

#include "jscan.h"
#include "sbuf.h"

#define VIEW_POD_VERSION 1u

/* The view version objects of this resource travel in (0: whole object). */
uint32_t view_version(const char *resource);

/* Cuts obj down to the view of its resource, in place (a no-op for
 * resources without a view). obj must be a JSON object. Returns the view
 * version applied. */
uint32_t view_project(const char *resource, json_t *obj);

/* Where the text walker found the metadata the informer keys objects by:
 * the raw JSON value as written (len 0: absent). Spans point into the
 * walked text. */
typedef struct { const char *p; size_t len; } view_span_t;
enum { VIEW_CAP_NAME, VIEW_CAP_NAMESPACE, VIEW_CAP_UID, VIEW_CAP_RV, VIEW_CAP_OWNERS, VIEW_CAP_N };
typedef struct { view_span_t cap[VIEW_CAP_N]; } view_meta_t;

/* The JSON string at span decoded into out (NUL-terminated); NULL when the
 * span is absent, not a string, or does not fit. */
const char *view_span_string(const view_span_t *span, char *out, size_t cap);

/* Writes the view of the object at the scanner's cursor to out and moves
 * the cursor past it. kind/api_version (JSON-safe literals, may be NULL)
 * are added when the object has none, as list items do not.
 * 1: written; 0: the value was skipped and refused (*why: not an object,
 * no view for the resource, out of memory), the scan can go on; -1: the
 * text is not valid JSON (s->error says why), the scan cannot go on. */
int view_project_text(const char *resource, jscan_t *s, const char *kind, const char *api_version, sbuf_t *out,
                      view_meta_t *meta, const char **why);

#endif
