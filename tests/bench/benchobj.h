/* benchobj.h - the object the benchmarks move around: a Pod of a chosen size.
 *
 * Owns: the JSON of bench pod i, compact and in the key order jansson writes
 * it back (so the informer's parse + re-serialise keeps its size), padded to
 * exactly the requested size with an annotation. The pod has a nodeSelector
 * that matches no node, so against a real cluster nothing ever runs it.
 */
#ifndef KUBUS_BENCH_BENCHOBJ_H
#define KUBUS_BENCH_BENCHOBJ_H

#include <stddef.h>
#include <stdint.h>

/* Name of pod i: "bench-%08llu". out must hold 32 bytes. */
void benchobj_name(char *out, size_t outlen, uint64_t i);
/* The pod's JSON in a malloc'd buffer, NUL-terminated, *len = strlen, which
 * is `size` unless the unpadded object is already bigger. NULL on ENOMEM. */
char *benchobj_pod(const char *ns, uint64_t i, uint64_t rv, size_t size, size_t *len);

#endif
