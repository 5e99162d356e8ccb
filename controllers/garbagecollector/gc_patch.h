/* gc_patch.h - the JSON patches (RFC 6902) the garbage collector sends.
 *
 * Owns: patch text. Every change is paired with a "test" op on the very
 * element it changes, so a patch computed from a stale view fails (422)
 * instead of removing the wrong reference or finalizer; the collector then
 * retries from fresh state. (A strategic-merge "$deleteFromPrimitiveList"
 * does not fit ownerReferences, a list of objects; a merge patch would
 * replace the whole list and lose a concurrent change.)
 * Removals go from the highest index down so earlier indices stay valid
 * while the ops apply one after another.
 *
 * All functions return a new JSON array (the patch; the caller owns the
 * reference), or NULL when there is nothing to change (or out of memory).
 */
#ifndef KUBUS_GC_PATCH_H
#define KUBUS_GC_PATCH_H

#include <jansson.h>
#include <stdbool.h>

#include "gc_meta.h"

/* Removes every reference i with drop[i] (n_refs entries). */
json_t *gc_patch_remove_refs(const gc_meta_t *m, const bool *drop);
/* Removes every reference to owner_uid. */
json_t *gc_patch_remove_owner(const gc_meta_t *m, const char *owner_uid);
/* Sets blockOwnerDeletion=false on every reference that has it true. */
json_t *gc_patch_unblock_refs(const gc_meta_t *m);
/* Removes every occurrence of finalizer name. */
json_t *gc_patch_remove_finalizer(const gc_meta_t *m, const char *name);

#endif
