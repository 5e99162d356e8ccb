/* hashname.h - the hash suffixes of generated names, rendered as upstream.
 *
 * Owns: the two ways upstream turns content into a name suffix, shared by
 * the Deployment (pod-template-hash), DaemonSet and StatefulSet
 * (ControllerRevision names and hash labels):
 *   - ComputeHash (controller_utils.go): FNV-1a 32 over the content,
 *     followed, when there is a collision count, by that count as 8 bytes
 *     (uint32 little endian, then zeros);
 *   - HashControllerRevision (controller/history): FNV-1 32 over the
 *     content, followed by the decimal collision count when there is one;
 * both printed in decimal and put through rand.SafeEncodeString (every byte
 * b becomes CTRL_NAME_ALPHABET[b % 27]). What "the content" is (which
 * canonical JSON) stays with each controller. The values name objects in
 * clusters: they must never change (pinned by tests/unit/test_ctrl_hashname.c).
 */
#ifndef KUBUS_CTRL_HASHNAME_H
#define KUBUS_CTRL_HASHNAME_H

#include <stddef.h>
#include <stdint.h>

/* Room for a suffix: 10 decimal digits of a uint32 and the NUL. */
#define CTRL_HASH_MAX 11

/* rand.SafeEncodeString: every byte b of in becomes alphabet[b % 27]; cut
 * to outlen - 1 bytes. */
void ctrl_safe_encode(const char *in, char *out, size_t outlen);

/* ComputeHash of text (collision NULL: none) into out (>= CTRL_HASH_MAX
 * bytes). 0, or -1 when out is too small. */
int ctrl_compute_hash(const char *text, const int32_t *collision, char *out, size_t outlen);

/* HashControllerRevision of text with the collision count (NULL: none)
 * into out (>= CTRL_HASH_MAX bytes). 0, or -1 when out is too small. */
int ctrl_revision_hash(const char *text, const int32_t *collision, char *out, size_t outlen);

#endif
