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

#define CHUNK_BYTES ((size_t)64 << 10)    /* a chunk's size and alignment: what a pinned generation costs at least */
#define KEEP_BYTES ((size_t)1 << 20)   /* chunks a reset generation keeps for the next turn */
#define ALIGN 16u
#define HDR ALIGN                      /* the block's size, kept in front of it */

struct gen;

/* Every chunk starts at a multiple of CHUNK_BYTES and every block starts in
 * the chunk's first CHUNK_BYTES (a chunk larger than that holds one block),
 * so a pointer's chunk is its address rounded down: a free finds its
 * generation in O(1) through the registry of chunk addresses. */
typedef struct chunk {
    struct chunk *next;
    struct gen *gen;    /* the generation it belongs to (current or pinned) */
    size_t used, size;
    _Alignas(16) unsigned char data[];
} chunk_t;

#define CHUNK_DATA (CHUNK_BYTES - sizeof(chunk_t))

typedef struct gen {
    struct gen *next;   /* pinned list */
    chunk_t *chunks;    /* normal ones in the order they fill; big blocks' chunks anywhere */
    chunk_t *fill;      /* the chunk being filled; normal ones after it are empty */
    size_t live;        /* blocks allocated and not yet freed */
} gen_t;

static bool installed, window;
static gen_t current;
static gen_t *pinned;
static size_t n_pinned;

/* ---- the registry: a set of chunk addresses (open addressing) ---- */

#define REG_TOMB ((uintptr_t)1)   /* a removed entry (chunk addresses are never 0 or 1) */
static uintptr_t *reg;
static size_t reg_cap, reg_used;   /* used: entries and tombstones */

static size_t reg_slot(uintptr_t a) { return (size_t)((a / CHUNK_BYTES) * 0x9E3779B97F4A7C15u) & (reg_cap - 1); }

static bool reg_has(uintptr_t a)
{
    if (!reg_cap) return false;
    for (size_t i = reg_slot(a);; i = (i + 1) & (reg_cap - 1)) {
        if (reg[i] == a) return true;
        if (reg[i] == 0) return false;
    }
}

/* Rehashes the live entries into a table of cap slots. false on OOM. */
static bool reg_resize(size_t cap)
{
    uintptr_t *old = reg;
    size_t old_cap = reg_cap;
    uintptr_t *t = calloc(cap, sizeof *t);
    if (!t) return false;
    reg = t;
    reg_cap = cap;
    reg_used = 0;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i] > REG_TOMB) {
            size_t j = reg_slot(old[i]);
            while (reg[j]) j = (j + 1) & (reg_cap - 1);
            reg[j] = old[i];
            reg_used++;
        }
    free(old);
    return true;
}

static bool reg_add(uintptr_t a)
{
    if ((reg_used + 1) * 2 > reg_cap && !reg_resize(reg_cap ? reg_cap * 2 : 64)) return false;
    size_t i = reg_slot(a);
    while (reg[i] > REG_TOMB) i = (i + 1) & (reg_cap - 1);
    if (reg[i] == 0) reg_used++;
    reg[i] = a;
    return true;
}

static void reg_del(uintptr_t a)
{
    if (!reg_cap) return;
    for (size_t i = reg_slot(a); reg[i]; i = (i + 1) & (reg_cap - 1))
        if (reg[i] == a) {
            reg[i] = REG_TOMB;
            return;
        }
}

/* ---- chunks ---- */

/* A chunk of g for a block of need bytes: a normal one goes after the fill
 * chunk and becomes it; one for a big block is full at once. */
static chunk_t *chunk_new(gen_t *g, size_t need)
{
    bool big = need > CHUNK_DATA;
    size_t total = big ? (need + sizeof(chunk_t) + CHUNK_BYTES - 1) / CHUNK_BYTES * CHUNK_BYTES : CHUNK_BYTES;
    if (total < need) return NULL;   /* overflow */
    chunk_t *c = aligned_alloc(CHUNK_BYTES, total);
    if (!c) return NULL;
    if (!reg_add((uintptr_t)c)) {
        free(c);
        return NULL;
    }
    c->gen = g;
    c->used = 0;
    c->size = total - sizeof(chunk_t);
    POISON(c->data, c->size);
    if (big) {
        c->next = g->chunks;
        g->chunks = c;
    } else if (g->fill) {
        c->next = g->fill->next;
        g->fill->next = c;
        g->fill = c;
    } else {
        c->next = g->chunks;
        g->chunks = c;
        g->fill = c;
    }
    return c;
}

static void chunks_free(chunk_t *c)
{
    while (c) {
        chunk_t *next = c->next;
        UNPOISON(c->data, c->size);
        reg_del((uintptr_t)c);
        free(c);
        c = next;
    }
}

/* Every block of g is dead: its chunks start over (up to KEEP_BYTES of
 * normal ones stay; the rest, and every big block's, go back to malloc). */
static void gen_reset(gen_t *g)
{
    size_t kept = 0;
    chunk_t **pp = &g->chunks;
    while (*pp) {
        chunk_t *c = *pp;
        if (c->size != CHUNK_DATA || kept + c->size > KEEP_BYTES) {
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
    g->fill = g->chunks;
}

/* ---- jansson's allocator ---- */

static void *arena_malloc(size_t n)
{
    if (!window) return malloc(n);
    size_t need = ((n + ALIGN - 1) & ~(size_t)(ALIGN - 1)) + HDR;
    if (need < n) return NULL;   /* overflow */
    chunk_t *c = need <= CHUNK_DATA ? current.fill : NULL;
    if (c && c->size - c->used < need) {   /* the next one, empty since a reset, or a new one */
        chunk_t *next = c->next;
        c = next && next->size - next->used >= need ? (current.fill = next) : NULL;
    }
    if (!c && !(c = chunk_new(&current, need))) return NULL;
    unsigned char *b = c->data + c->used;
    c->used = need > CHUNK_DATA ? c->size : c->used + need;   /* a big block's chunk takes no other */
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

static void unpin(gen_t *g)
{
    for (gen_t **pp = &pinned; *pp; pp = &(*pp)->next)
        if (*pp == g) {
            *pp = g->next;
            break;
        }
    chunks_free(g->chunks);
    free(g);
    n_pinned--;
}

static void arena_free(void *p)
{
    if (!p) return;
    uintptr_t base = (uintptr_t)p & ~(uintptr_t)(CHUNK_BYTES - 1);
    if (!reg_has(base)) {
        free(p);
        return;
    }
    gen_t *g = ((chunk_t *)base)->gen;
    release_block(g, p);
    if (g->live > 0) return;
    if (g == &current) gen_reset(&current);
    else unpin(g);
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
    for (chunk_t *c = g->chunks; c; c = c->next) c->gen = g;
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
