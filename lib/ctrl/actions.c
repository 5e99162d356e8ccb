/* actions.c - outstanding-action table, re-sends, inflight recovery and the
 * action builders. See actions.h.
 * Invariant: owner_count[k] == number of entries in `table` whose owner is
 * k; entries leave the table only through finish(), which runs the
 * callback first and then drops the count (and fires idle at zero). */
#include "ctrl/actions.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/kobj.h"
#include "strmap.h"
#include "kapi.h"
#include "log.h"
#include "worker.h"

#define INFLIGHT_RETRY_MS 5000u

typedef struct {
    uint64_t id;
    uint8_t *buf;           /* the encoded envelope, re-sent as is */
    size_t len;
    int verb;
    char *resource, *ns, *name, *owner;
    char *expect_id;        /* create id or uid, NULL when no expectation */
    bool expect_create;
    ctrl_result_fn cb;
    void *ud;
    uint64_t sent_at;
    bool send_failed;
    bool adopted;           /* a previous life's, from the InflightReport */
} pending_t;

struct actions {
    actions_opts_t o;
    char *controller;
    uint32_t life;          /* upper half of every id of this life */
    uint32_t counter;
    strmap_t *table;        /* id (hex) -> pending_t */
    strmap_t *owner_count;  /* owner -> size_t * */
    uint64_t executor_epoch;
    uint64_t query_sent_at;
    bool query_sent;
    bool report_received;
    /* uid -> resource (char *) of each DELETE expectation the report
     * raised: seen() could not rule them out then (the report usually
     * arrives before the snapshot); actions_recheck_recovered drops those
     * whose object the complete cache no longer holds. */
    strmap_t *recovered_deletes;
    log_limit_t bad_log;
};

static uint64_t default_clock(void *ud) { (void)ud; return now_mono_ms(); }
static uint64_t now_of(const actions_t *a) { return a->o.clock(a->o.clock_ud); }

static void pending_free(void *p)
{
    pending_t *x = p;
    if (!x) return;
    free(x->buf);
    free(x->resource); free(x->ns); free(x->name); free(x->owner); free(x->expect_id);
    free(x);
}

actions_t *actions_new(const actions_opts_t *opts)
{
    if (!opts || !opts->controller || !*opts->controller) return NULL;
    actions_t *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->o = *opts;
    if (!a->o.clock) a->o.clock = default_clock;
    if (a->o.generation == 0) a->o.generation = 1;
    a->life = opts->life;
    while (a->life == 0) ctrl_random_bytes((uint8_t *)&a->life, sizeof a->life);
    a->controller = strdup(opts->controller);
    a->o.controller = a->controller;
    a->table = strmap_new(pending_free);
    a->owner_count = strmap_new(free);
    a->bad_log = (log_limit_t)LOG_LIMIT_INIT(1, 10);
    a->recovered_deletes = strmap_new(free);
    if (!a->controller || !a->table || !a->owner_count || !a->recovered_deletes) actions_destroy(&a);
    return a;
}

void actions_destroy(actions_t **ap)
{
    if (!ap || !*ap) return;
    actions_t *a = *ap;
    strmap_destroy(&a->table);
    strmap_destroy(&a->owner_count);
    strmap_destroy(&a->recovered_deletes);
    free(a->controller);
    free(a);
    *ap = NULL;
}

static void id_key(uint64_t id, char out[24]) { snprintf(out, 24, "%" PRIx64, id); }

size_t actions_outstanding(const actions_t *a, const char *owner_key)
{
    size_t *n = a && owner_key ? strmap_get(a->owner_count, owner_key) : NULL;
    return n ? *n : 0;
}

size_t actions_outstanding_total(const actions_t *a) { return a ? strmap_size(a->table) : 0; }

static void count_add(actions_t *a, const char *owner)
{
    size_t *n = strmap_get(a->owner_count, owner);
    if (!n) {
        n = calloc(1, sizeof *n);
        if (!n || strmap_put(a->owner_count, owner, n) < 0) { free(n); return; }
    }
    (*n)++;
}

/* Returns true when the owner's count reached zero. */
static bool count_sub(actions_t *a, const char *owner)
{
    size_t *n = strmap_get(a->owner_count, owner);
    if (!n) return true;
    if (*n > 1) { (*n)--; return false; }
    strmap_del(a->owner_count, owner);
    return true;
}

static void send_pending(actions_t *a, pending_t *p)
{
    p->sent_at = now_of(a);
    p->send_failed = a->o.send(p->buf, p->len, a->o.send_ud) < 0;
}

/* ---- building and issuing ---------------------------------------------------- */

static char *body_dump(json_t *body, size_t *len)
{
    if (!body) { *len = 0; return NULL; }
    char *s = json_dumps(body, JSON_COMPACT);
    *len = s ? strlen(s) : 0;
    return s;
}

static int encode_action(actions_t *a, uint64_t id, const ctrl_action_spec_t *sp, const char *body,
                         size_t body_len, uint8_t **out, size_t *out_len)
{
    msg_envelope_t env;
    msg_action_t act;
    kubus__v1__envelope__init(&env);
    kubus__v1__action__init(&act);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_ACTION;
    env.action = &act;
    act.id = id;
    act.controller = a->controller;
    act.shard = a->o.shard;
    act.verb = sp->verb;
    act.resource = (char *)sp->resource;
    act.namespace_ = (char *)(sp->ns ? sp->ns : "");
    act.name = (char *)(sp->name ? sp->name : "");
    act.body.data = (uint8_t *)body;
    act.body.len = body_len;
    act.patch_type = sp->patch_type;
    act.propagation = sp->propagation;
    act.precondition_uid = (char *)(sp->precondition_uid ? sp->precondition_uid : "");
    act.precondition_resource_version = (char *)(sp->precondition_rv ? sp->precondition_rv : "");
    act.owner_key = (char *)(sp->owner_key ? sp->owner_key : "");
    act.subresource = (char *)(sp->subresource ? sp->subresource : "");
    act.api_group_version = (char *)(sp->api_group_version ? sp->api_group_version : "");
    return msg_encode(&env, out, out_len);
}

static char *sdup(const char *s) { return strdup(s ? s : ""); }

/* The expectation an action raises, if any: creates by name, deletes by uid. */
static int expectation_for(const ctrl_action_spec_t *sp, char **id, bool *create)
{
    *id = NULL;
    if (sp->flags & CTRL_ACT_NO_EXPECT) return 0;
    if (sp->verb == KUBUS__V1__VERB__CREATE) {
        char buf[768];
        if (expectations_create_id(buf, sizeof buf, sp->resource, sp->ns, sp->name) < 0) return -1;
        *id = strdup(buf);
        *create = true;
        return *id ? 0 : -1;
    }
    if (sp->verb == KUBUS__V1__VERB__DELETE && sp->precondition_uid && *sp->precondition_uid) {
        *id = strdup(sp->precondition_uid);
        *create = false;
        return *id ? 0 : -1;
    }
    return 0;
}

static pending_t *pending_new(const ctrl_action_spec_t *sp, uint64_t id)
{
    pending_t *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->id = id;
    p->verb = sp->verb;
    p->resource = sdup(sp->resource);
    p->ns = sdup(sp->ns);
    p->name = sdup(sp->name);
    p->owner = sdup(sp->owner_key);
    p->cb = sp->cb;
    p->ud = sp->ud;
    if (!p->resource || !p->ns || !p->name || !p->owner || expectation_for(sp, &p->expect_id, &p->expect_create) < 0) {
        pending_free(p);
        return NULL;
    }
    return p;
}

static bool spec_valid(const ctrl_action_spec_t *sp)
{
    return sp->verb > KUBUS__V1__VERB__VERB_UNSPECIFIED && sp->verb <= KUBUS__V1__VERB__EVENT &&
           sp->resource && *sp->resource && sp->owner_key &&
           (sp->verb == KUBUS__V1__VERB__CREATE || sp->verb == KUBUS__V1__VERB__EVENT || (sp->name && *sp->name));
}

static uint64_t next_id(actions_t *a)
{
    if (++a->counter == 0) a->counter = 1;   /* 2^32 actions in one life: wrap, skip 0 */
    /* Random, not the generation: generations restart where a supervisor
     * cannot count its lives (a new bus dir on an old journal, a second
     * kubus on the same executor), and an id the executor already knows
     * would be answered with another action's result. */
    return ((uint64_t)a->life << 32) | a->counter;
}

uint64_t actions_issue(actions_t *a, ctrl_action_spec_t *sp)
{
    json_t *body = sp ? sp->body : NULL;
    if (sp) sp->body = NULL;
    if (!a || !sp || !spec_valid(sp)) {
        if (a && log_limit_allow(&a->bad_log))
            LOGW("refusing malformed action", "resource", sp && sp->resource ? sp->resource : "");
        json_decref(body);
        return 0;
    }
    /* the spec's strings may point into body: release it only at the end */
    size_t blen;
    char *bs = body_dump(body, &blen);
    uint64_t id = next_id(a);
    pending_t *p = pending_new(sp, id);
    uint8_t *buf = NULL;
    size_t len = 0;
    if (!p || (body && !bs) || encode_action(a, id, sp, bs, blen, &buf, &len) < 0) {
        LOGW("could not encode action", "verb", msg_verb_name(sp->verb), "resource", sp->resource,
             "name", sp->name ? sp->name : "");
        free(bs);
        json_decref(body);
        pending_free(p);
        return 0;
    }
    free(bs);
    json_decref(body);
    p->buf = buf;
    p->len = len;
    char k[24];
    id_key(id, k);
    if (strmap_put(a->table, k, p) < 0) { pending_free(p); return 0; }
    count_add(a, p->owner);
    if (p->expect_id && a->o.expectations) {
        if (p->expect_create) expectations_expect_create(a->o.expectations, p->owner, p->expect_id);
        else expectations_expect_delete(a->o.expectations, p->owner, p->expect_id);
    }
    send_pending(a, p);
    return id;
}

/* ---- results --------------------------------------------------------------- */

static bool result_ok(int verb, uint32_t status)
{
    if (status >= 200 && status < 300) return true;
    return verb == KUBUS__V1__VERB__DELETE && status == 404;
}

/* Failed actions will never be observed: lower their expectation. That
 * includes a create answered without a known outcome (status 0: the request
 * failed and the executor's lookup could not tell; 504: every attempt timed
 * out): upstream counts a create that returned an error as not made
 * (slowStartBatch's skipped = diff - successes) and the owner's next sync
 * decides again from its cache. Keeping the expectation instead holds the
 * owner for the whole 5-minute expiry. If such a create did land after
 * all, its pod shows up and the owner deletes the surplus.
 * A DELETE answered 404 is kept: the uid is gone, but our cache may not
 * show it yet. The usual 404 is a delete re-applied after an executor
 * restart whose first request had already succeeded moments before, and
 * lowering then would let the owner's next sync count the dying object as
 * live and delete another one. The deletion's event lowers it (or already
 * did, when the event came first). True when an expectation was lowered. */
static bool lower_expectation(actions_t *a, const pending_t *p, bool ok)
{
    if (ok || !p->expect_id || !a->o.expectations) return false;
    if (p->expect_create) return expectations_observe_create(a->o.expectations, p->expect_id) != NULL;
    return expectations_observe_delete(a->o.expectations, p->expect_id) != NULL;
}

static void finish(actions_t *a, pending_t *p, const msg_result_t *r)
{
    bool ok = result_ok(p->verb, r->status);
    lower_expectation(a, p, ok);
    json_t *obj = NULL;
    if (r->object.len > 0) obj = json_loadb((const char *)r->object.data, r->object.len, 0, NULL);
    if (p->cb) {
        ctrl_result_t res = {
            .ok = ok, .status = r->status,
            .reason = r->reason ? r->reason : "", .message = r->message ? r->message : "",
            .object = json_is_object(obj) ? obj : NULL, .causes = r->causes, .n_causes = r->n_causes,
            .verb = p->verb,
            .resource = p->resource, .ns = p->ns, .name = p->name, .owner_key = p->owner, .id = p->id,
        };
        p->cb(a->o.rt, &res, p->ud);
    }
    /* The previous life's callback would have handled this failure; ours
     * has none, and the owner may be waiting on the expectation just
     * lowered, with no event to come: it must look again. */
    if (!ok && p->adopted && a->o.adopted_failed) a->o.adopted_failed(p->owner, a->o.adopted_failed_ud);
    json_decref(obj);
    if (count_sub(a, p->owner) && a->o.idle) a->o.idle(p->owner, a->o.idle_ud);
}

void actions_on_result(actions_t *a, const msg_result_t *r)
{
    if (!a || !r) return;
    char k[24];
    id_key(r->id, k);
    pending_t *p = strmap_take(a->table, k);
    if (!p) {
        LOGFV(2, "result for unknown action %" PRIx64 " (duplicate, event, or a previous life)", r->id);
        return;
    }
    if (!result_ok(p->verb, r->status))
        LOGV(1, "action failed", "verb", msg_verb_name(p->verb), "resource", p->resource, "namespace", p->ns,
             "name", p->name, "reason", r->reason ? r->reason : "", "message", r->message ? r->message : "");
    finish(a, p, r);
    pending_free(p);
}

/* ---- re-sending --------------------------------------------------------------- */

static void resend_where(actions_t *a, bool all)
{
    uint64_t now = now_of(a);
    strmap_iter_t it;
    void *v;
    strmap_iter_init(&it, a->table);
    while (strmap_next(&it, NULL, &v)) {
        pending_t *p = v;
        if (all || p->send_failed || now - p->sent_at >= ACTIONS_RESEND_MS) {
            if (!all && !p->send_failed) LOGFV(1, "re-sending action %" PRIx64 " after %u ms without result", p->id, ACTIONS_RESEND_MS);
            send_pending(a, p);
        }
    }
}

void actions_on_executor_epoch(actions_t *a, uint64_t epoch)
{
    if (!a || epoch == 0 || epoch == a->executor_epoch) return;
    bool changed = a->executor_epoch != 0;
    a->executor_epoch = epoch;
    if (changed && strmap_size(a->table)) {
        LOGFI("executor epoch changed to %" PRIu64 ": re-sending %zu outstanding actions", epoch, strmap_size(a->table));
        resend_where(a, true);
    }
}

void actions_on_link_restored(actions_t *a)
{
    if (!a) return;
    if (strmap_size(a->table)) {
        LOGFI("connection to the broker made again: re-sending %zu outstanding actions", strmap_size(a->table));
        resend_where(a, true);
    }
    if (a->query_sent && !a->report_received) actions_query_inflight(a);
}

void actions_tick(actions_t *a)
{
    if (!a) return;
    resend_where(a, false);
    if (a->query_sent && !a->report_received && now_of(a) - a->query_sent_at >= INFLIGHT_RETRY_MS)
        actions_query_inflight(a);
}

int64_t actions_next_due_ms(const actions_t *a)
{
    if (!a) return -1;
    uint64_t now = now_of(a);
    int64_t best = -1;
    if (a->query_sent && !a->report_received) {
        best = (int64_t)ms_until(a->query_sent_at + INFLIGHT_RETRY_MS, now);
    }
    strmap_iter_t it;
    void *v;
    strmap_iter_init(&it, a->table);
    while (strmap_next(&it, NULL, &v)) {
        pending_t *p = v;
        uint64_t due = p->send_failed ? now : p->sent_at + ACTIONS_RESEND_MS;
        int64_t d = (int64_t)ms_until(due, now);
        if (best < 0 || d < best) best = d;
    }
    return best;
}

/* ---- inflight recovery ------------------------------------------------------- */

int actions_query_inflight(actions_t *a)
{
    if (!a) return -1;
    msg_envelope_t env;
    Kubus__V1__InflightQuery q;
    kubus__v1__envelope__init(&env);
    kubus__v1__inflight_query__init(&q);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_INFLIGHT_QUERY;
    env.inflight_query = &q;
    q.controller = a->controller;
    q.shard = a->o.shard;
    uint8_t *buf = NULL;
    size_t len = 0;
    if (msg_encode(&env, &buf, &len) < 0) return -1;
    int rc = a->o.send(buf, len, a->o.send_ud);
    free(buf);
    a->query_sent = true;
    a->query_sent_at = now_of(a);
    return rc;
}

bool actions_report_received(const actions_t *a) { return a && a->report_received; }

static void raise_recovered(actions_t *a, int verb, const char *owner, const char *resource, const char *ns,
                            const char *name, const char *uid, actions_seen_fn seen, void *ud)
{
    if (!a->o.expectations || !owner || !*owner) return;
    if (seen && seen(resource, ns, name, uid, verb, ud)) return;
    if (verb == KUBUS__V1__VERB__CREATE) {
        char id[768];
        if (expectations_create_id(id, sizeof id, resource, ns, name) > 0)
            expectations_expect_create(a->o.expectations, owner, id);
    } else if (verb == KUBUS__V1__VERB__DELETE && uid && *uid) {
        char *res = strdup(resource ? resource : "");
        if (expectations_expect_delete(a->o.expectations, owner, uid) == 0 && res &&
            strmap_put(a->recovered_deletes, uid, res) == 0)
            return;
        free(res);   /* not remembered: the expectation (if raised) ends by event or expiry */
    }
}

void actions_recheck_recovered(actions_t *a, actions_seen_fn seen, void *ud)
{
    if (!a || !seen) return;
    strmap_iter_t it;
    const char *uid;
    void *res;
    size_t dropped = 0;
    strmap_iter_init(&it, a->recovered_deletes);
    while (strmap_next(&it, &uid, &res)) {
        if (a->o.expectations && expectations_expects_delete(a->o.expectations, uid) &&
            seen(res, NULL, NULL, uid, KUBUS__V1__VERB__DELETE, ud) &&
            expectations_observe_delete(a->o.expectations, uid))
            dropped++;
        strmap_del(a->recovered_deletes, uid);
    }
    if (dropped) LOGFI("%zu recovered delete expectations already met by the snapshot", dropped);
}

/* A pending action of our previous life becomes ours: same id, so its
 * result (routed to our identity) finds it; re-sent like the rest. */
static void adopt_pending(actions_t *a, const msg_action_t *act)
{
    char k[24];
    id_key(act->id, k);
    if (strmap_has(a->table, k)) return;
    ctrl_action_spec_t sp = {
        .verb = act->verb, .resource = act->resource, .ns = act->namespace_, .name = act->name,
        .precondition_uid = act->precondition_uid, .owner_key = act->owner_key ? act->owner_key : "",
    };
    if (!spec_valid(&sp)) return;
    pending_t *p = pending_new(&sp, act->id);
    msg_envelope_t env;
    kubus__v1__envelope__init(&env);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_ACTION;
    env.action = (msg_action_t *)act;
    if (!p || msg_encode(&env, &p->buf, &p->len) < 0 || strmap_put(a->table, k, p) < 0) {
        pending_free(p);
        return;
    }
    count_add(a, p->owner);
    p->adopted = true;
    p->sent_at = now_of(a);   /* the executor has it: wait before re-sending */
}

static const char *result_uid(const msg_result_t *r, char *buf, size_t buflen)
{
    buf[0] = '\0';
    if (r->object.len == 0) return NULL;
    json_t *o = json_loadb((const char *)r->object.data, r->object.len, 0, NULL);
    snprintf(buf, buflen, "%s", kobj_uid(o));
    json_decref(o);
    return buf[0] ? buf : NULL;
}

/* Adds "resource/ns/name" of a DELETE to the set (value unused). */
static void note_deleted(strmap_t *set, int verb, const char *resource, const char *ns, const char *name)
{
    char id[768];
    if (set && verb == KUBUS__V1__VERB__DELETE &&
        expectations_create_id(id, sizeof id, resource, ns, name) > 0)
        (void)strmap_put(set, id, NULL);
}

/* A CREATE of an object the same report also deletes (a pending DELETE, or
 * a recent one that succeeded or found it gone) is not expected: once it is
 * gone no event will ever show its name, and waiting for one would wedge
 * its owner until the expectation expires (5 minutes). Typical: a pod
 * created and then scaled away within the last minute. The report usually
 * arrives before the snapshot, when seen() cannot tell either. */
static bool deleted_later(strmap_t *set, int verb, const char *resource, const char *ns, const char *name)
{
    char id[768];
    return set && verb == KUBUS__V1__VERB__CREATE &&
           expectations_create_id(id, sizeof id, resource, ns, name) > 0 && strmap_has(set, id);
}

void actions_on_report(actions_t *a, const Kubus__V1__InflightReport *rep, actions_seen_fn seen, void *ud)
{
    if (!a || !rep) return;
    if (rep->controller && strcmp(rep->controller, a->controller) != 0) {
        LOGW("inflight report for another controller ignored", "controller", rep->controller);
        return;
    }
    strmap_t *deleted = strmap_new(NULL);   /* NULL (OOM): expect every create, as before */
    for (size_t i = 0; i < rep->n_pending; i++)
        note_deleted(deleted, rep->pending[i]->verb, rep->pending[i]->resource, rep->pending[i]->namespace_,
                     rep->pending[i]->name);
    for (size_t i = 0; i < rep->n_recent; i++)
        if (result_ok(rep->recent[i]->verb, rep->recent[i]->status))
            note_deleted(deleted, rep->recent[i]->verb, rep->recent[i]->resource, rep->recent[i]->namespace_,
                         rep->recent[i]->name);
    for (size_t i = 0; i < rep->n_pending; i++) {
        const msg_action_t *act = rep->pending[i];
        adopt_pending(a, act);
        if (deleted_later(deleted, act->verb, act->resource, act->namespace_, act->name)) continue;
        raise_recovered(a, act->verb, act->owner_key, act->resource, act->namespace_, act->name,
                        act->precondition_uid, seen, ud);
    }
    for (size_t i = 0; i < rep->n_recent; i++) {
        const msg_result_t *r = rep->recent[i];
        /* A DELETE answered 404 is done too: typically a delete re-applied
         * after the executor died, whose first request had already removed
         * the object. Our cache may still show it (informer lag): expect its
         * uid to disappear unless seen() says it already did. */
        if (!result_ok(r->verb, r->status)) continue;
        if (deleted_later(deleted, r->verb, r->resource, r->namespace_, r->name)) continue;
        const char *uid = NULL;
        char buf[128];
        if (r->verb == KUBUS__V1__VERB__DELETE) /* the executor names the uid, also under a Status answer */
            uid = r->uid && *r->uid ? r->uid : result_uid(r, buf, sizeof buf);
        raise_recovered(a, r->verb, r->owner_key, r->resource, r->namespace_, r->name, uid, seen, ud);
    }
    strmap_destroy(&deleted);
    if (rep->executor_epoch) a->executor_epoch = rep->executor_epoch;
    a->report_received = true;
    LOGFI("inflight report: %zu pending, %zu recent", rep->n_pending, rep->n_recent);
}

/* ---- events ------------------------------------------------------------------- */

int actions_send_event(actions_t *a, const char *ns, json_t **body)
{
    json_t *b = body ? *body : NULL;
    if (body) *body = NULL;
    if (!a || !b) { json_decref(b); return -1; }
    size_t blen;
    char *bs = body_dump(b, &blen);
    json_decref(b);
    if (!bs) return -1;
    ctrl_action_spec_t sp = { .verb = KUBUS__V1__VERB__EVENT, .resource = "events", .ns = ns, .owner_key = "" };
    uint8_t *buf = NULL;
    size_t len = 0;
    /* fire and forget: not in the table, its result is ignored */
    int rc = encode_action(a, next_id(a), &sp, bs, blen, &buf, &len);
    free(bs);
    if (rc == 0) rc = a->o.send(buf, len, a->o.send_ud);
    free(buf);
    return rc < 0 ? -1 : 0;
}
