/* journal.c - pending actions and recent results per controller. See journal.h.
 *
 * Invariants: every entry is in its controller's id hash and in exactly one
 * of the two lists: `pending` (arrival order, env set) or `recent`
 * (completion order, result set). recent_bytes is the sum of the packed
 * sizes of the results in `recent`. */
#include "journal.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct jentry {
    uint64_t id;
    msg_envelope_t *env;   /* pending: the action's envelope */
    msg_result_t *result;  /* done: a deep copy of the result */
    size_t result_bytes;
    uint64_t done_ms;
    int dups;              /* duplicate submissions absorbed while pending */
    struct jentry *hnext, *prev, *next;
} jentry_t;

typedef struct {
    jentry_t *head, *tail;
    size_t len;
} jlist_t;

typedef struct jctl {
    char *name;
    jentry_t **buckets;
    size_t nbuckets, nentries;
    jlist_t pending, recent;
    size_t recent_bytes;
    struct jctl *next;
} jctl_t;

struct journal {
    jctl_t *ctls;
    size_t max_recent, max_recent_bytes;
    uint64_t recent_ms;
    size_t pending_total;
};

/* ---- lists and hash ----------------------------------------------------- */

static void list_append(jlist_t *l, jentry_t *e)
{
    e->next = NULL;
    e->prev = l->tail;
    if (l->tail) l->tail->next = e; else l->head = e;
    l->tail = e;
    l->len++;
}

static void list_unlink(jlist_t *l, jentry_t *e)
{
    if (e->prev) e->prev->next = e->next; else l->head = e->next;
    if (e->next) e->next->prev = e->prev; else l->tail = e->prev;
    e->prev = e->next = NULL;
    l->len--;
}

static size_t bucket_of(const jctl_t *c, uint64_t id)
{
    return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 17) % c->nbuckets;
}

static jentry_t *find_entry(const jctl_t *c, uint64_t id)
{
    if (!c->nbuckets) return NULL;
    jentry_t *e = c->buckets[bucket_of(c, id)];
    while (e && e->id != id) e = e->hnext;
    return e;
}

/* Keeps chains short: doubles when entries outnumber buckets. */
static int grow(jctl_t *c)
{
    if (c->nentries < c->nbuckets) return 0;
    size_t n = c->nbuckets ? c->nbuckets * 2 : 64;
    jentry_t **nb = calloc(n, sizeof *nb);
    if (!nb) return -1;
    size_t old = c->nbuckets;
    jentry_t **ob = c->buckets;
    c->buckets = nb;
    c->nbuckets = n;
    for (size_t i = 0; i < old; i++) {
        for (jentry_t *e = ob[i], *next; e; e = next) {
            next = e->hnext;
            size_t b = bucket_of(c, e->id);
            e->hnext = nb[b];
            nb[b] = e;
        }
    }
    free(ob);
    return 0;
}

static void hash_remove(jctl_t *c, jentry_t *e)
{
    jentry_t **p = &c->buckets[bucket_of(c, e->id)];
    while (*p && *p != e) p = &(*p)->hnext;
    if (*p) *p = e->hnext;
    c->nentries--;
}

static void entry_free(jentry_t *e)
{
    msg_free(e->env);
    if (e->result) kubus__v1__action_result__free_unpacked(e->result, NULL);
    free(e);
}

/* ---- controllers -------------------------------------------------------- */

journal_t *journal_new(size_t max_recent, size_t max_recent_bytes, uint64_t recent_ms)
{
    journal_t *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    j->max_recent = max_recent ? max_recent : 1;
    j->max_recent_bytes = max_recent_bytes;
    j->recent_ms = recent_ms;
    return j;
}

static jctl_t *find_ctl(const journal_t *j, const char *name)
{
    for (jctl_t *c = j->ctls; c; c = c->next)
        if (strcmp(c->name, name) == 0) return c;
    return NULL;
}

static jctl_t *get_ctl(journal_t *j, const char *name)
{
    jctl_t *c = find_ctl(j, name);
    if (c) return c;
    c = calloc(1, sizeof *c);
    if (!c || !(c->name = strdup(name))) { free(c); return NULL; }
    c->next = j->ctls;
    j->ctls = c;
    return c;
}

static void ctl_free(jctl_t *c)
{
    for (jlist_t *l = &c->pending; l; l = l == &c->pending ? &c->recent : NULL)
        for (jentry_t *e = l->head, *next; e; e = next) {
            next = e->next;
            entry_free(e);
        }
    free(c->buckets);
    free(c->name);
    free(c);
}

void journal_destroy(journal_t **jp)
{
    if (!jp || !*jp) return;
    for (jctl_t *c = (*jp)->ctls, *next; c; c = next) {
        next = c->next;
        ctl_free(c);
    }
    free(*jp);
    *jp = NULL;
}

/* ---- admission and completion ------------------------------------------------ */

journal_admit_t journal_admit(journal_t *j, const char *controller, msg_envelope_t **env, uint64_t now_ms,
                              const msg_result_t **done)
{
    (void)now_ms;
    jctl_t *c = get_ctl(j, controller);
    if (!c) return JOURNAL_ERROR;
    jentry_t *e = find_entry(c, (*env)->action->id);
    if (e && e->env) { e->dups++; return JOURNAL_DUP_PENDING; }
    if (e) { *done = e->result; return JOURNAL_DUP_DONE; }
    if (grow(c) < 0 || !(e = calloc(1, sizeof *e))) return JOURNAL_ERROR;
    e->id = (*env)->action->id;
    e->env = *env;
    *env = NULL;
    size_t b = bucket_of(c, e->id);
    e->hnext = c->buckets[b];
    c->buckets[b] = e;
    c->nentries++;
    list_append(&c->pending, e);
    j->pending_total++;
    return JOURNAL_ADMITTED;
}

static void drop_recent(jctl_t *c, jentry_t *e)
{
    list_unlink(&c->recent, e);
    hash_remove(c, e);
    c->recent_bytes -= e->result_bytes;
    entry_free(e);
}

static void enforce_bounds(const journal_t *j, jctl_t *c)
{
    while (c->recent.head && (c->recent.len > j->max_recent || c->recent_bytes > j->max_recent_bytes))
        drop_recent(c, c->recent.head);
}

/* A deep copy through the wire format: simple, and exactly what is sent. */
static msg_result_t *copy_result(const msg_result_t *res, size_t *bytes)
{
    size_t n = kubus__v1__action_result__get_packed_size(res);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) return NULL;
    kubus__v1__action_result__pack(res, buf);
    msg_result_t *copy = kubus__v1__action_result__unpack(NULL, n, buf);
    free(buf);
    *bytes = n;
    return copy;
}

int journal_complete(journal_t *j, const char *controller, const msg_result_t *res, uint64_t now_ms)
{
    jctl_t *c = find_ctl(j, controller);
    jentry_t *e = c ? find_entry(c, res->id) : NULL;
    if (!e || !e->env) return -1;
    /* Copy first: res usually borrows its strings from the action's envelope. */
    e->result = copy_result(res, &e->result_bytes);
    list_unlink(&c->pending, e);
    j->pending_total--;
    msg_free(e->env);
    e->env = NULL;
    int dups = e->dups;
    if (!e->result) { /* out of memory: forget it rather than keep a half entry */
        hash_remove(c, e);
        free(e);
        return dups;
    }
    e->done_ms = now_ms;
    list_append(&c->recent, e);
    c->recent_bytes += e->result_bytes;
    enforce_bounds(j, c);
    return dups;
}

void journal_expire(journal_t *j, uint64_t now_ms)
{
    for (jctl_t **cp = &j->ctls; *cp;) {
        jctl_t *c = *cp;
        while (c->recent.head && now_ms - c->recent.head->done_ms > j->recent_ms) drop_recent(c, c->recent.head);
        if (!c->pending.len && !c->recent.len) {
            *cp = c->next;
            ctl_free(c);
        } else {
            cp = &c->next;
        }
    }
}

size_t journal_pending_count(const journal_t *j, const char *controller)
{
    const jctl_t *c = find_ctl(j, controller);
    return c ? c->pending.len : 0;
}

size_t journal_recent_count(const journal_t *j, const char *controller)
{
    const jctl_t *c = find_ctl(j, controller);
    return c ? c->recent.len : 0;
}

size_t journal_pending_total(const journal_t *j) { return j->pending_total; }

/* ---- report ---------------------------------------------------------------- */

static int report_pending(const jctl_t *c, Kubus__V1__InflightReport *out, size_t *budget)
{
    out->pending = calloc(c->pending.len ? c->pending.len : 1, sizeof *out->pending);
    if (!out->pending) return -1;
    for (const jentry_t *e = c->pending.head; e; e = e->next) {
        size_t n = kubus__v1__action__get_packed_size(e->env->action) + 16;
        if (n > *budget) break;
        *budget -= n;
        out->pending[out->n_pending++] = e->env->action;
    }
    return 0;
}

/* Newest results matter most to a restarting controller: fill from the end. */
static int report_recent(const jctl_t *c, Kubus__V1__InflightReport *out, size_t *budget)
{
    size_t cap = c->recent.len ? c->recent.len : 1;
    out->recent = calloc(cap, sizeof *out->recent);
    msg_result_t *copies = calloc(cap, sizeof *copies);
    if (!out->recent || !copies) { free(copies); return -1; }
    size_t k = 0;
    for (const jentry_t *e = c->recent.tail; e; e = e->prev) {
        copies[k] = *e->result; /* shallow: strings stay the journal's */
        copies[k].object.data = NULL;
        copies[k].object.len = 0;
        size_t n = kubus__v1__action_result__get_packed_size(&copies[k]) + 16;
        if (n > *budget) break;
        *budget -= n;
        k++;
    }
    for (size_t i = 0; i < k / 2; i++) { /* back to completion order */
        msg_result_t t = copies[i];
        copies[i] = copies[k - 1 - i];
        copies[k - 1 - i] = t;
    }
    for (size_t i = 0; i < k; i++) out->recent[i] = &copies[i];
    out->n_recent = k;
    if (!k) free(copies);
    return 0;
}

int journal_report(const journal_t *j, const char *controller, uint64_t epoch, Kubus__V1__InflightReport *out)
{
    kubus__v1__inflight_report__init(out);
    out->controller = (char *)controller;
    out->executor_epoch = epoch;
    const jctl_t *c = find_ctl(j, controller);
    if (!c) return 0;
    size_t budget = JOURNAL_REPORT_BYTES;
    if (report_pending(c, out, &budget) < 0 || report_recent(c, out, &budget) < 0) {
        journal_report_clear(out);
        return -1;
    }
    return 0;
}

void journal_report_clear(Kubus__V1__InflightReport *r)
{
    free(r->pending);
    /* The copies were allocated as one array; recent[0] is its start. */
    if (r->n_recent) free(r->recent[0]);
    free(r->recent);
    r->pending = NULL;
    r->recent = NULL;
    r->n_pending = r->n_recent = 0;
}
