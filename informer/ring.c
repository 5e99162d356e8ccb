/* ring.c - the replay ring: a growable circular array of frames. See ring.h. */
#include "ring.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    batch_frame_t f;
    uint64_t first, last;
    int res;
} item_t;

struct replay_ring {
    item_t *items;
    size_t head, n, cap;        /* items[head], ... items[(head + n - 1) % cap] */
    size_t bytes, max_bytes;
    uint64_t *lost;             /* per resource: the last seq that cannot be replayed */
    int nres;
};

replay_ring_t *replay_ring_new(size_t max_bytes, int nres)
{
    replay_ring_t *r = calloc(1, sizeof *r);
    if (!r || nres <= 0 || !(r->lost = calloc((size_t)nres, sizeof *r->lost))) {
        free(r);
        return NULL;
    }
    r->max_bytes = max_bytes;
    r->nres = nres;
    return r;
}

static item_t *at(const replay_ring_t *r, size_t i) { return &r->items[(r->head + i) % r->cap]; }

void replay_ring_destroy(replay_ring_t **pr)
{
    replay_ring_t *r = pr ? *pr : NULL;
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) batch_frame_free(&at(r, i)->f);
    free(r->items);
    free(r->lost);
    free(r);
    *pr = NULL;
}

/* Doubles the array, unwrapping it so that head is 0 again. */
static int grow(replay_ring_t *r)
{
    size_t cap = r->cap ? r->cap * 2 : 256;
    item_t *items = malloc(cap * sizeof *items);
    if (!items) return -1;
    for (size_t i = 0; i < r->n; i++) items[i] = *at(r, i);
    free(r->items);
    r->items = items;
    r->cap = cap;
    r->head = 0;
    return 0;
}

static void evict_oldest(replay_ring_t *r)
{
    item_t *it = at(r, 0);
    if (it->last > r->lost[it->res]) r->lost[it->res] = it->last;
    r->bytes -= it->f.len;
    batch_frame_free(&it->f);
    r->head = (r->head + 1) % r->cap;
    r->n--;
}

void replay_ring_forget(replay_ring_t *r, int res, uint64_t seq)
{
    if (res >= 0 && res < r->nres && seq > r->lost[res]) r->lost[res] = seq;
}

int replay_ring_push(replay_ring_t *r, int res, uint64_t first, uint64_t last, batch_frame_t *f)
{
    if (res < 0 || res >= r->nres || (r->n == r->cap && grow(r) < 0)) {
        batch_frame_free(f);
        replay_ring_forget(r, res, last);
        return -1;
    }
    *at(r, r->n) = (item_t){ .f = *f, .first = first, .last = last, .res = res };
    *f = (batch_frame_t){ 0 };
    r->n++;
    r->bytes += at(r, r->n - 1)->f.len;
    while (r->n > 1 && r->bytes > r->max_bytes) evict_oldest(r);
    return 0;
}

bool replay_ring_covers(const replay_ring_t *r, int res, uint64_t seq)
{
    return res >= 0 && res < r->nres && seq >= r->lost[res];
}

int replay_ring_each(const replay_ring_t *r, int res, uint64_t seq,
                     int (*fn)(void *ctx, const batch_frame_t *f), void *ctx)
{
    for (size_t i = 0; i < r->n; i++) {
        const item_t *it = at(r, i);
        if (it->res != res || it->last <= seq) continue;
        int rc = fn(ctx, &it->f);
        if (rc) return rc;
    }
    return 0;
}

size_t replay_ring_bytes(const replay_ring_t *r) { return r->bytes; }
size_t replay_ring_len(const replay_ring_t *r) { return r->n; }
