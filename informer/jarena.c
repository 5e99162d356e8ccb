/* jarena.c - bump allocation for jansson inside a window. See jarena.h. */
#include "jarena.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_BYTES ((size_t)1 << 20)   /* above glibc's mmap threshold: returned on free */
#define ALIGN 16u

typedef struct chunk {
    struct chunk *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
} chunk_t;

static chunk_t *chunks;   /* newest first */
static bool active;

static chunk_t *chunk_new(size_t need)
{
    size_t size = need > CHUNK_BYTES ? need : CHUNK_BYTES;
    chunk_t *c = malloc(sizeof *c + size);
    if (!c) return NULL;
    c->next = chunks;
    c->used = 0;
    c->size = size;
    chunks = c;
    return c;
}

static void *arena_alloc(size_t n)
{
    size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (need < n) return NULL;   /* overflow */
    chunk_t *c = chunks;
    if (!c || c->size - c->used < need) c = chunk_new(need);
    if (!c) return NULL;
    void *p = c->data + c->used;
    c->used += need;
    return p;
}

static void arena_free(void *p) { (void)p; }   /* everything goes at jarena_end */

void jarena_begin(void)
{
    if (active) return;
    active = true;
    json_set_alloc_funcs(arena_alloc, arena_free);
}

void jarena_end(void)
{
    if (!active) return;
    json_set_alloc_funcs(malloc, free);
    active = false;
    while (chunks) {
        chunk_t *next = chunks->next;
        free(chunks);
        chunks = next;
    }
}

typedef struct {
    char *buf;
    size_t len, cap;
    bool oom;
} dumpbuf_t;

static int append(const char *data, size_t n, void *ud)
{
    dumpbuf_t *d = ud;
    if (d->len + n + 1 > d->cap) {
        size_t cap = d->cap ? d->cap : 1024;
        while (cap < d->len + n + 1) cap *= 2;
        char *p = realloc(d->buf, cap);
        if (!p) { d->oom = true; return -1; }
        d->buf = p;
        d->cap = cap;
    }
    memcpy(d->buf + d->len, data, n);
    d->len += n;
    return 0;
}

char *jarena_dump(const json_t *obj, size_t *len)
{
    dumpbuf_t d = { 0 };
    if (json_dump_callback(obj, append, &d, JSON_COMPACT) < 0 || d.oom || !d.buf) {
        free(d.buf);
        return NULL;
    }
    d.buf[d.len] = '\0';
    *len = d.len;
    return d.buf;
}
