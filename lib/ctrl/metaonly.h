/* ctrl/metaonly.h - an object cut to {apiVersion, kind, metadata}: what a
 * metadata-only controller (cfg.metadata_only, the garbage collector) keeps
 * and hands its handlers, as upstream's metadata informers do.
 *
 * Owns: the two ways to get there. From a tree already parsed (sharing its
 * metadata subtree), and straight from the object's text: the text is
 * checked whole with the validating scanner (lib/jscan.c: what jansson with
 * JSON_REJECT_DUPLICATES would refuse is refused), but only the metadata,
 * apiVersion and kind become a tree. A 2.5 KiB ReplicaSet is mostly its pod
 * template and status, which a full parse would turn into a tree only for
 * it to be dropped.
 * Cost: from text, one validating scan of the bytes plus a jansson parse
 * of the metadata's; from a tree, O(1) (references, no copy).
 */
#ifndef KUBUS_CTRL_METAONLY_H
#define KUBUS_CTRL_METAONLY_H

#include <jansson.h>
#include <stddef.h>

/* {apiVersion, kind, metadata} of obj (a new reference sharing obj's
 * metadata subtree); the members obj lacks are left out. NULL when obj has
 * no metadata object or on OOM. */
json_t *metaonly_from_tree(json_t *obj);

/* The same from the object's text (len bytes, no NUL needed): NULL with a
 * reason in err when the text is not a JSON object jansson would accept
 * (JSON_REJECT_DUPLICATES), has no metadata object, or on OOM. An object
 * whose top-level keys are unusual (escaped or more than 16) is parsed
 * whole instead: the same verdict, the full cost. */
json_t *metaonly_from_text(const char *json, size_t len, char *err, size_t errlen);

#endif
