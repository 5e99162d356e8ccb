/* dep_template.h - pod templates: sameness and the pod-template-hash.
 *
 * Owns: deciding whether a ReplicaSet runs the Deployment's pod template
 * (upstream EqualIgnoreHash) and naming the template (upstream ComputeHash
 * rendered with rand.SafeEncodeString).
 *
 * Both templates compared come from the API server, so both carry the same
 * defaulted fields; what can differ is serialisation noise. The canonical
 * form therefore: drops the pod-template-hash label, drops JSON nulls and
 * empty arrays (a nil and an empty slice/map are the same to upstream's
 * semantic equality and to Go's encoder), and drops metadata.labels,
 * metadata.annotations and metadata when they end up empty. Empty objects
 * elsewhere are kept: `emptyDir: {}` means something.
 *
 * The hash is upstream's ComputeHash (lib/ctrl/hashname.h) of the
 * canonical JSON with sorted keys and the Deployment's status.collisionCount.
 * It is stable across restarts and versions of kubus; it does not equal
 * upstream's (which hashes the Go struct dump), and nothing requires it to:
 * ReplicaSets are matched by template, the hash only names them.
 */
#ifndef KUBUS_DEP_TEMPLATE_H
#define KUBUS_DEP_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctrl/hashname.h"

/* Longest hash: 10 decimal digits of a uint32. */
#define DEP_HASH_MAX CTRL_HASH_MAX

/* A canonical copy of a PodTemplateSpec (new reference), or NULL on OOM or
 * when tmpl is not an object. */
json_t *dep_template_canonical(const json_t *tmpl);

/* EqualIgnoreHash: true when both are objects with equal canonical forms. */
bool dep_template_equal(const json_t *a, const json_t *b);

/* Writes the pod-template-hash of tmpl into out (>= DEP_HASH_MAX bytes).
 * collision NULL: the Deployment has no collisionCount. 0, or -1 (OOM, not
 * an object). */
int dep_template_hash(const json_t *tmpl, const int32_t *collision, char *out, size_t outlen);

#endif
