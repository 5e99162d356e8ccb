/* gc_meta.h - the garbage collector's view of one object: its identity,
 * deletion state, finalizers and ownerReferences, parsed from the object's
 * JSON and validated.
 *
 * Owns: every string in a gc_meta_t (freed by gc_meta_clear/gc_meta_destroy),
 * and the rules for what metadata the GC accepts. An object whose metadata is
 * malformed (missing uid/name, an ownerReference without apiVersion, kind,
 * name or uid, non-string finalizers, oversized lists) is refused as a whole:
 * the API server never stores such an object, so it means corrupt input, and
 * acting on half of it could delete the wrong thing.
 * Cost: O(size of metadata); the object body beyond metadata is not kept.
 */
#ifndef KUBUS_GC_META_H
#define KUBUS_GC_META_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define GC_FINALIZER_FOREGROUND "foregroundDeletion"
#define GC_FINALIZER_ORPHAN "orphan"

/* Limits on what we accept (far above anything real). */
#define GC_MAX_REFS 1024
#define GC_MAX_FINALIZERS 1024
#define GC_MAX_STR 1024
#define GC_MAX_UID 128   /* real uids are 36; keeps work keys short */

/* One metadata.ownerReferences entry. */
typedef struct {
    char *api_version;           /* "apps/v1" */
    char *kind;                  /* "ReplicaSet" */
    char *name;
    char *uid;
    bool controller;
    bool block_owner_deletion;
    int index;                   /* position in the list: JSON patch paths use it */
} gc_ref_t;

typedef struct {
    char *api_version;           /* from the resource the object came from */
    char *kind;
    char *namespace_;            /* "" for cluster-scoped objects */
    char *name;
    char *uid;
    char *resource_version;      /* "" if the object had none */
    bool being_deleted;          /* metadata.deletionTimestamp is set */
    char **finalizers;
    size_t n_finalizers;
    gc_ref_t *refs;
    size_t n_refs;
} gc_meta_t;

/* Parses json (len bytes) into out (which it first zeroes), straight from
 * the text (gc_meta_text.c: no tree, the same rules as gc_meta_from_json). api_version and
 * kind name the object's type (list items carry no TypeMeta); NULL means take
 * them from the JSON ("apiVersion"/"kind"), which must then be present.
 * Returns 0, or -1 with a reason in err (out left empty). */
int gc_meta_parse(const char *json, size_t len, const char *api_version, const char *kind,
                  gc_meta_t *out, char *err, size_t errlen);
/* The same from an already parsed object (borrowed, not modified). */
int gc_meta_from_json(const json_t *obj, const char *api_version, const char *kind, gc_meta_t *out,
                      char *err, size_t errlen);
/* The limits on a parsed m that the JSON reading itself does not check
 * (uid lengths): 0, or -1 with a reason in err. Both parsers end with it. */
int gc_meta_check_limits(const gc_meta_t *m, char *err, size_t errlen);
/* Frees the strings and zeroes m. Safe on a zeroed or cleared gc_meta_t. */
void gc_meta_clear(gc_meta_t *m);
/* Deep copy; 0 or -1 (out of memory, dst left empty). */
int gc_meta_copy(gc_meta_t *dst, const gc_meta_t *src);
/* Heap-allocated form, for handing ownership around (czmq style). */
gc_meta_t *gc_meta_new_parsed(const char *json, size_t len, const char *api_version,
                              const char *kind, char *err, size_t errlen);
gc_meta_t *gc_meta_new_from_json(const json_t *obj, const char *api_version, const char *kind,
                                 char *err, size_t errlen);
void gc_meta_destroy(gc_meta_t **m);

/* Index of finalizer name in m->finalizers, or -1. */
int gc_meta_finalizer_index(const gc_meta_t *m, const char *name);
bool gc_meta_has_finalizer(const gc_meta_t *m, const char *name);
/* Being deleted in the foreground: deletionTimestamp + foregroundDeletion. */
bool gc_meta_deleting_dependents(const gc_meta_t *m);
/* Being deleted with its dependents orphaned: deletionTimestamp + orphan. */
bool gc_meta_orphaning(const gc_meta_t *m);
/* The first ref with this owner uid, or NULL. */
const gc_ref_t *gc_meta_ref_by_uid(const gc_meta_t *m, const char *uid);

/* The same ownerReferences, entry by entry (order, coordinates, controller,
 * blockOwnerDeletion): what upstream compares before retrying a conflicted
 * delete without the resourceVersion precondition. */
bool gc_meta_same_refs(const gc_meta_t *a, const gc_meta_t *b);

/* "apps" for "apps/v1", "" for "v1": the group, which is what identifies a
 * kind across versions. Writes into out; returns out. */
const char *gc_api_group(const char *api_version, char *out, size_t outlen);
/* Same group and kind (versions may differ: apps/v1beta2 vs apps/v1). */
bool gc_same_group_kind(const char *av1, const char *k1, const char *av2, const char *k2);

#endif
