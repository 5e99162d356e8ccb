/* kobj.h - reading Kubernetes objects held as jansson trees.
 *
 * Owns: the facts about object shape every controller needs (metadata
 * getters, ownerReferences, RFC3339 times, pod state, IntOrString) so that no
 * controller walks raw JSON paths itself.
 *
 * Every getter tolerates any input (NULL, wrong types, missing fields) and
 * answers a safe default: "" for strings, 0 for numbers, false/NULL for the
 * rest. Returned pointers are borrowed from the object: valid while it is.
 * Costs are O(fields looked at); ownerReferences and conditions are scanned
 * linearly (they are short).
 */
#ifndef KUBUS_CTRL_KOBJ_H
#define KUBUS_CTRL_KOBJ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- metadata ---------------------------------------------------------- */
const char *kobj_namespace(const json_t *obj);
const char *kobj_name(const json_t *obj);
const char *kobj_generate_name(const json_t *obj);
const char *kobj_uid(const json_t *obj);
const char *kobj_resource_version(const json_t *obj);
int64_t kobj_generation(const json_t *obj);
/* metadata.labels / metadata.annotations objects, or NULL. */
json_t *kobj_labels(const json_t *obj);
json_t *kobj_annotations(const json_t *obj);
/* One label / annotation value; NULL if absent or not a string. */
const char *kobj_label(const json_t *obj, const char *key);
const char *kobj_annotation(const json_t *obj, const char *key);
/* metadata.deletionTimestamp is set (the object is being deleted). */
bool kobj_being_deleted(const json_t *obj);
/* metadata.creationTimestamp in unix seconds; 0 if absent or unparsable. */
int64_t kobj_creation_time(const json_t *obj);
/* Writes "ns/name" (or "name" for cluster scope). Length, or -1 if it does
 * not fit or the object has no name. */
int kobj_key(const json_t *obj, char *out, size_t outlen);
/* Splits "ns/name" into its parts (ns "" for "name"). 0, or -1 if a part
 * does not fit or the key is malformed ("", "a/", "/b", "a/b/c"). */
int kobj_split_key(const char *key, char *ns, size_t nslen, char *name, size_t namelen);

/* ---- ownerReferences --------------------------------------------------- */
typedef struct {
    const char *api_version, *kind, *name, *uid;   /* borrowed; never NULL */
    bool controller, block_owner_deletion;
} kobj_ownerref_t;

/* Number of entries in metadata.ownerReferences (0 if absent/not an array). */
size_t kobj_ownerref_count(const json_t *obj);
/* Decodes entry i. 0, or -1 if out of range or the entry lacks
 * apiVersion/kind/name/uid (such entries are skipped by everything below). */
int kobj_ownerref_at(const json_t *obj, size_t i, kobj_ownerref_t *out);
/* The ownerReference with controller: true. 0 and fills out, or -1 if none.
 * (The API server allows at most one.) */
int kobj_controller_ref(const json_t *obj, kobj_ownerref_t *out);
/* uid of the controller ref, or NULL. */
const char *kobj_controller_uid(const json_t *obj);
/* A new ownerReference object {apiVersion, kind, name, uid, controller: true,
 * blockOwnerDeletion: true} for owner (caller owns the result; NULL on OOM). */
json_t *kobj_new_controller_ref(const char *api_version, const char *kind, const json_t *owner);

/* ---- time -------------------------------------------------------------- */
/* Parses RFC3339 ("2024-01-02T03:04:05Z", with optional fraction and
 * "+hh:mm"/"-hh:mm" offset) into unix seconds (fractions truncated).
 * 0, or -1 for anything malformed. */
int kobj_time_parse(const char *s, int64_t *out);
/* Same with microsecond precision (unix microseconds). */
int kobj_time_parse_us(const char *s, int64_t *out);
/* Formats unix seconds as "YYYY-MM-DDThh:mm:ssZ" (the API's metav1.Time).
 * Length, or -1 if outlen < 21. */
int kobj_time_format(int64_t unix_sec, char *out, size_t outlen);

/* ---- pods -------------------------------------------------------------- */
/* status.phase ("Pending", "Running", "Succeeded", "Failed", "Unknown"), or "". */
const char *kpod_phase(const json_t *pod);
/* Upstream IsPodActive: not Succeeded, not Failed, no deletionTimestamp. */
bool kpod_is_active(const json_t *pod);
/* The Ready condition is "True". */
bool kpod_is_ready(const json_t *pod);
/* lastTransitionTime of the Ready condition, when ready; 0 otherwise. */
int64_t kpod_ready_since(const json_t *pod);
/* Upstream IsPodAvailable: ready, and either min_ready_seconds == 0 or the
 * Ready condition's lastTransitionTime + min_ready_seconds <= now. A ready
 * pod without a parseable lastTransitionTime counts as available only when
 * min_ready_seconds == 0. */
bool kpod_is_available(const json_t *pod, int32_t min_ready_seconds, int64_t now_sec);
/* Largest restartCount among status.containerStatuses (upstream ranks by
 * the max, not the sum). */
int32_t kpod_max_restarts(const json_t *pod);
/* spec.nodeName or "" (unscheduled). */
const char *kpod_node_name(const json_t *pod);
#define KPOD_DELETION_COST_ANNOTATION "controller.kubernetes.io/pod-deletion-cost"
/* The pod-deletion-cost annotation as int32. 0 and *out = 0 when absent;
 * -1 (and *out = 0) when present but not a decimal int32. */
int kpod_deletion_cost(const json_t *pod, int32_t *out);

/* ---- IntOrString ------------------------------------------------------- */
typedef struct {
    bool is_percent;
    int32_t value;          /* the int, or the percentage number */
} kobj_intstr_t;
/* Accepts a JSON integer (int32) or a string "N%". Like upstream, a string
 * without '%' is refused ("invalid type: string is not a percentage") and
 * so is "abc%" ("invalid value \"abc%\""); NULL/absent: "missing". 0 or -1
 * with the reason in err. */
int kobj_intstr_parse(const json_t *v, kobj_intstr_t *out, char *err, size_t errlen);
/* Upstream GetScaledValueFromIntOrPercent: ints as is, percents of total,
 * rounded up or down. 0, or -1 (overflow / negative total). */
int kobj_intstr_scaled(const kobj_intstr_t *v, int32_t total, bool round_up, int32_t *out);

/* ---- small helpers ----------------------------------------------------- */
/* Integer at a dotted path ("spec.replicas"); def when absent or not an
 * integer. */
int64_t kobj_int(const json_t *obj, const char *path, int64_t def);
/* String at a dotted path, or NULL. */
const char *kobj_str(const json_t *obj, const char *path);
/* Object/array/any node at a dotted path, or NULL (borrowed). */
json_t *kobj_get(const json_t *obj, const char *path);

#endif
