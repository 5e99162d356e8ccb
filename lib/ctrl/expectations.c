/* expectations.c - name/uid-tracking expectations with expiry.
 * See expectations.h. Invariant: id in owners[k].creates <=> create_owner[id]
 * == k (same for deletes); drop_owner and the observe functions are the
 * only places that remove, and they remove both sides. */
#include "ctrl/expectations.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"
#include "worker.h"

typedef struct {
    strmap_t *creates;   /* create id -> NULL */
    strmap_t *deletes;   /* uid -> NULL */
    uint64_t raised_at;
} record_t;

struct expectations {
    strmap_t *owners;        /* owner key -> record_t */
    strmap_t *create_owner;  /* create id -> char *owner key */
    strmap_t *delete_owner;  /* uid -> char *owner key */
    expectations_clock_fn clock;
    void *clock_ud;
    char last_owner[512];    /* what observe_* return */
};

static uint64_t default_clock(void *ud) { (void)ud; return now_mono_ms(); }

static void record_free(void *p)
{
    record_t *r = p;
    if (!r) return;
    strmap_destroy(&r->creates);
    strmap_destroy(&r->deletes);
    free(r);
}

expectations_t *expectations_new(expectations_clock_fn clock, void *clock_ud)
{
    expectations_t *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->owners = strmap_new(record_free);
    e->create_owner = strmap_new(free);
    e->delete_owner = strmap_new(free);
    e->clock = clock ? clock : default_clock;
    e->clock_ud = clock_ud;
    if (!e->owners || !e->create_owner || !e->delete_owner) expectations_destroy(&e);
    return e;
}

void expectations_destroy(expectations_t **ep)
{
    if (!ep || !*ep) return;
    expectations_t *e = *ep;
    strmap_destroy(&e->owners);
    strmap_destroy(&e->create_owner);
    strmap_destroy(&e->delete_owner);
    free(e);
    *ep = NULL;
}

int expectations_create_id(char *out, size_t outlen, const char *resource, const char *ns, const char *name)
{
    int n = snprintf(out, outlen, "%s/%s/%s", resource ? resource : "", ns ? ns : "", name ? name : "");
    return n < 0 || (size_t)n >= outlen ? -1 : n;
}

static record_t *record_for(expectations_t *e, const char *owner)
{
    record_t *r = strmap_get(e->owners, owner);
    if (r) return r;
    r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->creates = strmap_new(NULL);
    r->deletes = strmap_new(NULL);
    if (!r->creates || !r->deletes || strmap_put(e->owners, owner, r) < 0) {
        record_free(r);
        return NULL;
    }
    return r;
}

static void drop_owner(expectations_t *e, const char *owner)
{
    record_t *r = strmap_take(e->owners, owner);
    if (!r) return;
    strmap_iter_t it;
    const char *k;
    strmap_iter_init(&it, r->creates);
    while (strmap_next(&it, &k, NULL)) strmap_del(e->create_owner, k);
    strmap_iter_init(&it, r->deletes);
    while (strmap_next(&it, &k, NULL)) strmap_del(e->delete_owner, k);
    record_free(r);
}

/* One identity belongs to one owner: re-raising under another owner moves it. */
static int expect(expectations_t *e, strmap_t *global, bool create, const char *owner, const char *id)
{
    if (!e || !owner || !id || !*id) return -1;
    const char *prev = strmap_get(global, id);
    if (prev && strcmp(prev, owner) != 0) {
        record_t *pr = strmap_get(e->owners, prev);
        if (pr) strmap_del(create ? pr->creates : pr->deletes, id);
    }
    record_t *r = record_for(e, owner);
    if (!r) return -1;
    char *o = strdup(owner);
    if (!o) return -1;
    if (strmap_put(create ? r->creates : r->deletes, id, NULL) < 0) { free(o); return -1; }
    if (strmap_put(global, id, o) < 0) {
        free(o);
        strmap_del(create ? r->creates : r->deletes, id);
        return -1;
    }
    r->raised_at = e->clock(e->clock_ud);
    return 0;
}

int expectations_expect_create(expectations_t *e, const char *owner_key, const char *create_id)
{
    return e ? expect(e, e->create_owner, true, owner_key, create_id) : -1;
}

int expectations_expect_delete(expectations_t *e, const char *owner_key, const char *uid)
{
    return e ? expect(e, e->delete_owner, false, owner_key, uid) : -1;
}

static const char *observe(expectations_t *e, strmap_t *global, bool create, const char *id)
{
    if (!e || !id) return NULL;
    char *owner = strmap_take(global, id);
    if (!owner) return NULL;
    snprintf(e->last_owner, sizeof e->last_owner, "%s", owner);
    record_t *r = strmap_get(e->owners, owner);
    if (r) {
        strmap_del(create ? r->creates : r->deletes, id);
        if (strmap_size(r->creates) == 0 && strmap_size(r->deletes) == 0) strmap_del(e->owners, owner);
    }
    free(owner);
    return e->last_owner;
}

const char *expectations_observe_create(expectations_t *e, const char *create_id)
{
    return e ? observe(e, e->create_owner, true, create_id) : NULL;
}

const char *expectations_observe_delete(expectations_t *e, const char *uid)
{
    return e ? observe(e, e->delete_owner, false, uid) : NULL;
}

int expectations_delete_uids(const expectations_t *e, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t total = e ? strmap_size(e->delete_owner) : 0;
    if (total == 0) return 0;
    char **uids = calloc(total, sizeof *uids);
    if (!uids) return -1;
    strmap_iter_t it;
    const char *uid;
    strmap_iter_init(&it, e->delete_owner);
    while (*n < total && strmap_next(&it, &uid, NULL)) {
        if (!(uids[*n] = strdup(uid))) {
            expectations_free_uids(uids, *n);
            *n = 0;
            return -1;
        }
        (*n)++;
    }
    *out = uids;
    return 0;
}

void expectations_free_uids(char **uids, size_t n)
{
    for (size_t i = 0; uids && i < n; i++) free(uids[i]);
    free(uids);
}

static bool expired(const expectations_t *e, const record_t *r)
{
    uint64_t now = e->clock(e->clock_ud);
    return now > r->raised_at && now - r->raised_at > EXPECTATIONS_TTL_MS;
}

bool expectations_satisfied(expectations_t *e, const char *owner_key)
{
    record_t *r = e && owner_key ? strmap_get(e->owners, owner_key) : NULL;
    if (!r) return true;
    if ((strmap_size(r->creates) == 0 && strmap_size(r->deletes) == 0) || expired(e, r)) {
        drop_owner(e, owner_key);
        return true;
    }
    return false;
}

size_t expectations_pending_creates(const expectations_t *e, const char *owner_key)
{
    record_t *r = e && owner_key ? strmap_get(e->owners, owner_key) : NULL;
    return r && !expired(e, r) ? strmap_size(r->creates) : 0;
}

size_t expectations_pending_deletes(const expectations_t *e, const char *owner_key)
{
    record_t *r = e && owner_key ? strmap_get(e->owners, owner_key) : NULL;
    return r && !expired(e, r) ? strmap_size(r->deletes) : 0;
}

int64_t expectations_expires_in_ms(const expectations_t *e, const char *owner_key)
{
    record_t *r = e && owner_key ? strmap_get(e->owners, owner_key) : NULL;
    if (!r || (strmap_size(r->creates) == 0 && strmap_size(r->deletes) == 0)) return -1;
    uint64_t now = e->clock(e->clock_ud), age = now > r->raised_at ? now - r->raised_at : 0;
    return age > EXPECTATIONS_TTL_MS ? 0 : (int64_t)(EXPECTATIONS_TTL_MS - age) + 1;   /* expired() is strict */
}

bool expectations_expects_create(const expectations_t *e, const char *create_id)
{
    return e && create_id && strmap_has(e->create_owner, create_id);
}

bool expectations_expects_delete(const expectations_t *e, const char *uid)
{
    return e && uid && strmap_has(e->delete_owner, uid);
}

void expectations_forget(expectations_t *e, const char *owner_key)
{
    if (e && owner_key) drop_owner(e, owner_key);
}
