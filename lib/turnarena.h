/* turnarena.h - where the JSON trees a process parses for one turn live.
 *
 * Owns: jansson's allocator in a process that installs it (once, at
 * start: the controller runtime, the informer), and the chunks that the
 * trees parsed inside a window (turn_arena_open .. turn_arena_close) are
 * bump-allocated from. Such trees are short-lived by construction: a
 * controller's caches hand out borrowed, turn-long trees (ctrl/turntrees.h)
 * that a sync reads by the hundred and drops at its end; the informer's are
 * a list page's or a watch chunk's, built, projected, serialised and
 * dropped inside the window. One malloc and one free per JSON node buy
 * nothing there (about a third of a store read, measured).
 *
 * Invariant: memory is never reused while any node allocated in it lives.
 * Every allocation is counted in its generation and every free through
 * jansson is counted back; a generation whose count drops to 0 is reset
 * (the current one: its chunks are reused) or freed (a pinned one). At the
 * end of a turn (turn_arena_rotate) a current generation that still has
 * live nodes (a tree or subtree someone json_incref'd past the turn) is
 * pinned, not reset, and freed when its last node goes. So an arena tree
 * behaves as a malloc'd one in every respect but the cost. Outside a
 * window, allocations are plain malloc, and frees of pointers not in any
 * chunk go to free(). Under AddressSanitizer each freed node and every
 * reset chunk is poisoned, so a read of a dead tree is still reported.
 * What jansson allocates inside a window is an arena block, a string it
 * hands out too (json_dumps): only jansson's free function may free it,
 * never free(). A text that must outlive the window or go to free() is
 * made with turn_arena_dump, whose buffer is malloc'd in or out of one.
 *
 * Single-threaded (every process that installs it runs one loop; nothing
 * else calls jansson).
 * Cost: an allocation is a bump; a free is one lookup of its chunk (the
 * address rounded down to the 64 KiB chunk alignment) in a small hash set
 * of chunk addresses, whatever the number of chunks (it was a walk over
 * them: 1,000 ReplicaSets parsed in one turn made freeing their trees a
 * fifth of a restart, profiled). Memory: the chunks of the current
 * generation (at least one of 64 KiB) and of any pinned one, and the set.
 */
#ifndef KUBUS_TURNARENA_H
#define KUBUS_TURNARENA_H

#include <jansson.h>
#include <stddef.h>

/* Makes jansson allocate through the arena (idempotent). Objects made
 * before it stay malloc'd and are freed with free(), as before. */
void turn_arena_install(void);
/* Allocations from here to turn_arena_close come from the arena (no-op
 * unless installed; windows do not nest). */
void turn_arena_open(void);
void turn_arena_close(void);
/* End of a turn (closes its window), after its trees were dropped (a
 * controller's caches released, an informer's page freed): the generation
 * is reset, or pinned while something still holds a node of it. */
void turn_arena_rotate(void);

/* obj as compact JSON in a malloc'd, NUL-terminated buffer (the caller
 * free()s it; it outlives any window), *len its length. NULL on OOM or
 * when obj cannot be serialised. */
char *turn_arena_dump(const json_t *obj, size_t *len);

/* For tests and metrics: nodes alive in the current generation, and the
 * generations pinned now. */
size_t turn_arena_live(void);
size_t turn_arena_pinned(void);

#endif
