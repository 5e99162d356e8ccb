/* turnarena.c - turn-long bump allocation for jansson. See turnarena.h. */
#include "turnarena.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "sbuf.h"

#if defined(__SANITIZE_ADDRESS__)
#define TA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TA_ASAN 1
#endif
#endif
#ifdef TA_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define CHUNK_BYTES ((size_t)64 << 10)    /* what a pinned generation costs at least */
#define KEEP_BYTES ((size_t)1 << 20)   /* chunks a reset generation keeps for the next turn */
#define ALIGN 16u
#define HDR ALIGN                      /* the block's size, kept in front of it */

typedef struct chunk {
    struct chunk *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
} chunk_t;

typedef struct gen {
    struct gen *next;   /* pinned list */
    chunk_t *chunks;    /* newest first */
    size_t live;        /* blocks allocated and not yet freed */
} gen_t;

static bool installed, window;
static gen_t current;
static gen_t *pinned;
static size_t n_pinned;

static chunk_t *chunk_new(gen_t *g, size_t need)
{
    size_t size = need > CHUNK_BYTES ? need : CHUNK_BYTES;
    chunk_t *c = malloc(sizeof *c + size);
    if (!c) return NULL;
    c->used = 0;
    c->size = size;
    c->next = g->chunks;
    g->chunks = c;
    POISON(c->data, size);
    return c;
}

static void chunks_free(chunk_t *c)
{
    while (c) {
        chunk_t *next = c->next;
        UNPOISON(c->data, c->size);
        free(c);
        c = next;
    }
}

/* Every block of g is dead: its chunks start over (up to KEEP_BYTES of
 * them stay; the rest go back to malloc). */
static void gen_reset(gen_t *g)
{
    size_t kept = 0;
    chunk_t **pp = &g->chunks;
    while (*pp) {
        chunk_t *c = *pp;
        if (kept + c->size > KEEP_BYTES && kept > 0) {
            *pp = c->next;
            c->next = NULL;
            chunks_free(c);
            continue;
        }
        kept += c->size;
        POISON(c->data, c->used);
        c->used = 0;
        pp = &c->next;
    }
}

static bool in_gen(const gen_t *g, const void *p)
{
    uintptr_t a = (uintptr_t)p;
    for (const chunk_t *c = g->chunks; c; c = c->next)
        if (a >= (uintptr_t)c->data && a < (uintptr_t)c->data + c->used) return true;
    return false;
}

static void *arena_malloc(size_t n)
{
    if (!window) return malloc(n);
    size_t need = ((n + ALIGN - 1) & ~(size_t)(ALIGN - 1)) + HDR;
    if (need < n) return NULL;   /* overflow */
    chunk_t *c = current.chunks;
    while (c && c->size - c->used < need) c = c->next;   /* an older chunk with room (after a reset) */
    if (!c && !(c = chunk_new(&current, need))) return NULL;
    unsigned char *b = c->data + c->used;
    c->used += need;
    UNPOISON(b, need);
    *(size_t *)b = need;
    current.live++;
    return b + HDR;
}

static void release_block(gen_t *g, void *p)
{
    unsigned char *b = (unsigned char *)p - HDR;
    POISON(b, *(size_t *)b);
    g->live--;
}

static void arena_free(void *p)
{
    if (!p) return;
    if (in_gen(&current, p)) {
        release_block(&current, p);
        if (current.live == 0) gen_reset(&current);
        return;
    }
    for (gen_t **pp = &pinned; *pp; pp = &(*pp)->next) {
        gen_t *g = *pp;
        if (!in_gen(g, p)) continue;
        release_block(g, p);
        if (g->live == 0) {
            *pp = g->next;
            chunks_free(g->chunks);
            free(g);
            n_pinned--;
        }
        return;
    }
    free(p);
}

void turn_arena_install(void)
{
    if (installed) return;
    installed = true;
    json_set_alloc_funcs(arena_malloc, arena_free);
}

void turn_arena_open(void) { window = installed; }
void turn_arena_close(void) { window = false; }

void turn_arena_rotate(void)
{
    window = false;
    if (current.live == 0) {
        gen_reset(&current);
        return;
    }
    gen_t *g = malloc(sizeof *g);
    if (!g) return;   /* stays current: nothing is reused until its blocks die */
    *g = current;
    g->next = pinned;
    pinned = g;
    n_pinned++;
    current = (gen_t){ 0 };
}

/* The text grows in an sbuf (realloc, never jansson's allocator): that is
 * what keeps it out of the arena. jansson's own scratch during the dump
 * is allocated and freed through the arena, counted as any node. */
static int dump_put(const char *data, size_t n, void *ud)
{
    sbuf_t *b = ud;
    sbuf_put(b, data, n);
    return b->failed ? -1 : 0;
}

char *turn_arena_dump(const json_t *obj, size_t *len)
{
    sbuf_t b = { 0 };
    int rc = obj ? json_dump_callback(obj, dump_put, &b, JSON_COMPACT) : -1;
    size_t n = b.len;
    char *text = sbuf_take(&b);   /* frees the text when an append failed */
    if (rc < 0 || !text) {
        free(text);
        return NULL;
    }
    *len = n;
    return text;
}

size_t turn_arena_live(void) { return current.live; }
size_t turn_arena_pinned(void) { return n_pinned; }
