/* jarena.h - where the informer's short-lived JSON trees are allocated.
 *
 * Owns: one bump allocator that jansson allocates from between
 * jarena_begin() and jarena_end(): a list page's or a watch chunk's trees,
 * built, projected, serialised and dropped inside that window. Freeing is a
 * no-op; jarena_end gives the chunks back at once (they are large, so
 * glibc maps them: the memory returns to the system instead of fragmenting
 * the heap). Profiled before: malloc and free for jansson's nodes were 40 %
 * of the informer's CPU during a 10,000-pod list.
 *
 * Invariant (the caller's): no json_t or jansson-allocated string made inside
 * the window outlives it, and no tree made outside it is freed inside it (it
 * would leak, never corrupt). Serialise with jarena_dump (our malloc), never
 * json_dumps, inside the window. Single-threaded: jansson's allocator is
 * process-wide.
 * Cost: an allocation is a pointer bump (16-byte aligned); memory is the
 * window's peak (a 500-pod page: about 5 MiB), held only during it.
 */
#ifndef KUBUS_INFORMER_JARENA_H
#define KUBUS_INFORMER_JARENA_H

#include <jansson.h>
#include <stddef.h>

void jarena_begin(void);
void jarena_end(void);
/* obj as compact JSON in a malloc'd, NUL-terminated buffer (free() it);
 * *len its length. NULL on OOM or when obj cannot be serialised. */
char *jarena_dump(const json_t *obj, size_t *len);

#endif
