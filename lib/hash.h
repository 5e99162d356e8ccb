/* hash.h - FNV, the one non-cryptographic hash kubus uses.
 *
 * Owns: the FNV-1 and FNV-1a functions (32 and 64 bit) behind the hash
 * tables (lib/strmap.c, informer/objcache.c, executor/evagg.c), the shard
 * function of DEVELOPERS.md (fnv1a32 of the namespace) and the template
 * hashes that name ReplicaSets and ControllerRevisions (lib/ctrl/hashname.h).
 * The values are part of kubus's contract (shards, object names): they
 * must never change.
 *
 * The *_update forms continue a hash over more bytes: start from the
 * offset basis (FNV32_OFFSET, FNV64_OFFSET) and feed the pieces in order.
 */
#ifndef KUBUS_HASH_H
#define KUBUS_HASH_H

#include <stddef.h>
#include <stdint.h>

#define FNV32_OFFSET 2166136261u
#define FNV32_PRIME 16777619u
#define FNV64_OFFSET 14695981039346656037ull
#define FNV64_PRIME 1099511628211ull

/* FNV-1a (xor, then multiply) over len bytes, continuing from h. */
uint32_t fnv1a32_update(uint32_t h, const void *data, size_t len);
/* FNV-1a 64 over len bytes, continuing from h. */
uint64_t fnv1a64_update(uint64_t h, const void *data, size_t len);
/* FNV-1 (multiply, then xor) over len bytes, continuing from h. */
uint32_t fnv1_32_update(uint32_t h, const void *data, size_t len);

/* FNV-1a 32 / 64 of a NUL-terminated string. */
uint32_t fnv1a32_str(const char *s);
uint64_t fnv1a64_str(const char *s);

#endif
