/* pending.c - updates awaiting observation (see ctrl/pending.h). */
#include "ctrl/pending.h"

#include <stdlib.h>
#include <string.h>

#include "strmap.h"

typedef struct {
    char *rv;
    uint64_t since_ms;
} entry_t;

struct ctrl_pending {
    strmap_t *by_uid;
};

static void entry_free(void *v)
{
    entry_t *e = v;
    if (e)
        free(e->rv);
    free(e);
}

ctrl_pending_t *ctrl_pending_new(void)
{
    ctrl_pending_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->by_uid = strmap_new(entry_free);
    if (!p->by_uid) {
        free(p);
        return NULL;
    }
    return p;
}

void ctrl_pending_destroy(ctrl_pending_t **pp)
{
    if (!pp || !*pp)
        return;
    strmap_destroy(&(*pp)->by_uid);
    free(*pp);
    *pp = NULL;
}

int ctrl_pending_add(ctrl_pending_t *p, const char *uid, const char *rv, uint64_t now_ms)
{
    if (!p || !uid || !*uid || !rv)
        return -1;
    entry_t *e = calloc(1, sizeof *e);
    if (!e || !(e->rv = strdup(rv))) {
        free(e);
        return -1;
    }
    e->since_ms = now_ms;
    if (strmap_put(p->by_uid, uid, e) != 0) {
        entry_free(e);
        return -1;
    }
    return 0;
}

void ctrl_pending_drop(ctrl_pending_t *p, const char *uid)
{
    if (p && uid)
        strmap_del(p->by_uid, uid);
}

bool ctrl_pending_blocks(ctrl_pending_t *p, const char *uid, const char *cached_rv, uint64_t now_ms)
{
    if (!p || !uid)
        return false;
    entry_t *e = strmap_get(p->by_uid, uid);
    if (!e)
        return false;
    bool same = cached_rv && strcmp(e->rv, cached_rv) == 0;
    if (same && now_ms - e->since_ms < CTRL_PENDING_TTL_MS)
        return true;
    strmap_del(p->by_uid, uid);
    return false;
}

void ctrl_pending_observe(ctrl_pending_t *p, const char *uid, const char *rv)
{
    if (!p || !uid)
        return;
    entry_t *e = strmap_get(p->by_uid, uid);
    if (e && (!rv || strcmp(e->rv, rv) != 0))
        strmap_del(p->by_uid, uid);
}
