/* ring.h - the informer's replay ring: the batches it published last.
 *
 * Owns: the frames of the last flushed EventBatches (batch.h), exactly as
 * they went to the PUB, in publish order across all resources, bounded by a
 * byte budget; and, per resource, the last seq it can no longer replay.
 * A subscriber that lost some messages asks for "everything of resource r
 * after seq s" (ReplayRequest): the ring covers it when no event of r after
 * s was evicted (or never made it into a batch, replay_ring_forget).
 *
 * Why one budget for all resources rather than one per resource: losses hit
 * the stream as a whole (a broker restart, a full pipe), so what a replay
 * needs is the most recent window of the whole stream; per-resource rings
 * of the same depth would cost 11 x the memory for the default resources.
 *
 * Cost: push O(1) amortised (evictions included); lookups scan the ring,
 * O(batches held), done only when a subscriber asks. Memory: the frames'
 * bytes (<= budget + one batch) plus 40 bytes per batch.
 * Invariant: items are in push order; bytes == the sum of held frame sizes.
 */
#ifndef KUBUS_INFORMER_RING_H
#define KUBUS_INFORMER_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"

typedef struct replay_ring replay_ring_t;

/* max_bytes: the budget; nres: resources are 0..nres-1. NULL on OOM. */
replay_ring_t *replay_ring_new(size_t max_bytes, int nres);
void replay_ring_destroy(replay_ring_t **r);

/* Takes the frame of a batch of resource res holding seqs first..last (the
 * caller's frame is zeroed), then evicts the oldest batches while over
 * budget; the newest always stays. 0, or -1 when out of memory: the frame
 * is freed and the resource forgotten up to last. */
int replay_ring_push(replay_ring_t *r, int res, uint64_t first, uint64_t last, batch_frame_t *f);
/* Events of res up to seq will never be replayed (they were not batched). */
void replay_ring_forget(replay_ring_t *r, int res, uint64_t seq);
/* True when every event of res after seq that was pushed is still held. */
bool replay_ring_covers(const replay_ring_t *r, int res, uint64_t seq);
/* Calls fn on every held batch of res with events after seq, oldest first;
 * stops at fn's first non-zero and returns it. */
int replay_ring_each(const replay_ring_t *r, int res, uint64_t seq,
                     int (*fn)(void *ctx, const batch_frame_t *f), void *ctx);

size_t replay_ring_bytes(const replay_ring_t *r);
size_t replay_ring_len(const replay_ring_t *r);

#endif
