/* sts_revision.h - ControllerRevisions of a StatefulSet.
 *
 * Owns: what a revision holds and how it is named, as upstream's
 * stateful_set_utils.go and controller/history do it:
 *   - data = {"spec":{"template":{<the pod template>,"$patch":"replace"}}};
 *   - hash = HashControllerRevision (lib/ctrl/hashname.h) of that data
 *     serialised like Go's encoding/json (sorted keys, compact, <>&
 *     escaped) with the collisionCount;
 *   - name = "<set name, cut to 223>-<hash>", label controller.kubernetes.io/hash,
 *     template labels, the set's annotations, controller ownerReference;
 *   - ordering by .revision (then creation time, then name), sameness
 *     (equal data), the template a revision restores.
 */
#ifndef KUBUS_STS_REVISION_H
#define KUBUS_STS_REVISION_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define STS_REVISION_HASH_LABEL "controller.kubernetes.io/hash"
#define STS_HASH_MAX 16

/* The revision data of the set's current template (new reference). */
json_t *sts_revision_data(const json_t *sts);
/* Writes the hash of data with collision count into out. 0 or -1. */
int sts_revision_hash(const json_t *data, int32_t collision, char *out, size_t outlen);
/* "<prefix cut to 223>-<hash>"; length or -1. */
int sts_revision_name(char *out, size_t outlen, const char *set_name, const char *hash);
/* The ControllerRevision object to create (new reference). */
json_t *sts_revision_new(const json_t *sts, const json_t *data, const char *name, const char *hash, int64_t revision);
/* The pod template a revision restores (borrowed; NULL if malformed). The
 * "$patch" directive inside it must be ignored by callers: sts_pod_new
 * only reads metadata and spec. */
const json_t *sts_revision_template(const json_t *rev);
/* Sorts revisions in place by revision number, creation time, name. */
void sts_revisions_sort(const json_t **revs, size_t n);
/* The 8-bit-clean Go-style serialisation used for hashing (caller frees). */
char *sts_go_json(const json_t *v);

#endif
