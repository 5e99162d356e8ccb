/* runtime.c - the controller event loop. See runtime.h (the store's side:
 * runtime_store.c, the shared state: runtime_priv.h).
 * Invariant: a key is in `held` iff its sync returned while it still had
 * actions outstanding; it leaves `held` (and the queue's processing set)
 * when the actions layer reports the key idle. */
#include "ctrl/runtime.h"
#include "ctrl/runtime_priv.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "ctrl/kobj.h"
#include "ctrl/linkwatch.h"
#include "ctrl/metaonly.h"
#include "log.h"
#include "store.h"
#include "strmap.h"
#include "subscriber.h"
#include "turnarena.h"
#include "view.h"

#define LOOP_MAX_WAIT_MS 100
/* When the subscriber is quiet and nothing is due: an idle controller wakes
 * for its heartbeat (1 s), the informer's (1 s) and work, not 10 times a
 * second (12 processes' wake-ups were most of kubus's idle CPU). */
#define LOOP_QUIET_WAIT_MS 1000

/* ---- small accessors ---------------------------------------------------------- */

cache_t *ctrl_cache(ctrl_runtime_t *rt, const char *resource)
{
    for (int i = 0; rt && resource && i < rt->n_slots; i++)
        if (strcmp(rt->slots[i].resource, resource) == 0) return rt->slots[i].cache;
    return NULL;
}

static slot_t *slot_of(ctrl_runtime_t *rt, const char *resource)
{
    for (int i = 0; rt && resource && i < rt->n_slots; i++)
        if (strcmp(rt->slots[i].resource, resource) == 0) return &rt->slots[i];
    return NULL;
}

expectations_t *ctrl_expectations(ctrl_runtime_t *rt) { return rt ? rt->exp : NULL; }
workqueue_t *ctrl_queue(ctrl_runtime_t *rt) { return rt ? rt->queue : NULL; }
worker_t *ctrl_worker(ctrl_runtime_t *rt) { return rt ? rt->w : NULL; }
actions_t *ctrl_actions(ctrl_runtime_t *rt) { return rt ? rt->actions : NULL; }
const char *ctrl_controller_name(const ctrl_runtime_t *rt) { return rt ? rt->controller : ""; }
const char *ctrl_component(const ctrl_runtime_t *rt) { return rt ? rt->component : ""; }
bool ctrl_is_ready(const ctrl_runtime_t *rt) { return rt && rt->ready; }
size_t ctrl_outstanding(ctrl_runtime_t *rt, const char *owner_key)
{
    return rt ? actions_outstanding(rt->actions, owner_key) : 0;
}

uint64_t ctrl_now_unix_ms(const ctrl_runtime_t *rt)
{
    return rt && rt->test_unix_ms ? rt->test_unix_ms : now_unix_ms();
}
int64_t ctrl_now_unix(const ctrl_runtime_t *rt) { return (int64_t)(ctrl_now_unix_ms(rt) / 1000u); }
void ctrl_test_set_unix_ms(ctrl_runtime_t *rt, uint64_t ms) { if (rt) rt->test_unix_ms = ms; }

/* The monotonic clock of the queue, the expectations and the actions: one
 * clock, so a test can move all three past a timeout at once. */
static uint64_t mono_ms(void *ud)
{
    const ctrl_runtime_t *rt = ud;
    return rt->test_mono_ms ? rt->test_mono_ms : now_mono_ms();
}
void ctrl_test_set_mono_ms(ctrl_runtime_t *rt, uint64_t ms) { if (rt) rt->test_mono_ms = ms; }

void ctrl_enqueue(ctrl_runtime_t *rt, const char *key)
{
    if (rt && key && *key && workqueue_add(rt->queue, key) < 0) LOGW("could not queue key", "key", key);
}

void ctrl_enqueue_after(ctrl_runtime_t *rt, const char *key, uint64_t delay_ms)
{
    if (rt && key && *key && workqueue_add_after(rt->queue, key, delay_ms) < 0) LOGW("could not queue key", "key", key);
}

/* Marks a held key as failed: its back-off must not be forgotten when its
 * actions finish (strmap values: NULL ok, HELD_FAILED failed). */
#define HELD_FAILED ((void *)1)

void ctrl_enqueue_rate_limited(ctrl_runtime_t *rt, const char *key)
{
    if (!rt || !key || !*key) return;
    if (strmap_has(rt->held, key)) strmap_put(rt->held, key, HELD_FAILED);
    if (workqueue_add_rate_limited(rt->queue, key) < 0) LOGW("could not queue key", "key", key);
}

void ctrl_enqueue_obj(ctrl_runtime_t *rt, const json_t *obj)
{
    char key[512];
    if (kobj_key(obj, key, sizeof key) > 0) ctrl_enqueue(rt, key);
}

int ctrl_on(ctrl_runtime_t *rt, const char *resource, ctrl_handler_fn fn, void *ud)
{
    slot_t *s = slot_of(rt, resource);
    if (!s || !fn || s->n_handlers >= MAX_HANDLERS) return -1;
    s->handlers[s->n_handlers++] = (handler_t){ fn, ud };
    return 0;
}

/* ---- events into caches ----------------------------------------------------- */

/* What an event tells the expectations: a name we expected now exists, a
 * uid we expected gone is gone or terminating. */
static void observe(ctrl_runtime_t *rt, const char *resource, cache_change_t ch, const json_t *old_obj,
                    const json_t *new_obj)
{
    const json_t *cur = new_obj ? new_obj : old_obj;
    char id[768];
    if (expectations_create_id(id, sizeof id, resource, kobj_namespace(cur), kobj_name(cur)) > 0)
        expectations_observe_create(rt->exp, id);
    if (ch == CACHE_DELETED || kobj_being_deleted(cur)) expectations_observe_delete(rt->exp, kobj_uid(cur));
    if (ch == CACHE_MODIFIED && strcmp(kobj_uid(old_obj), kobj_uid(new_obj)) != 0)
        expectations_observe_delete(rt->exp, kobj_uid(old_obj));   /* replaced under the same name */
}

void runtime_on_change(cache_change_t ch, const json_t *old_obj, const json_t *new_obj, void *ud)
{
    slot_t *s = ud;
    observe(s->rt, s->resource, ch, old_obj, new_obj);
    for (int i = 0; i < s->n_handlers; i++)
        s->handlers[i].fn(s->rt, s->resource, ch, old_obj, new_obj, s->handlers[i].ud);
}

/* json, len: the bytes obj was parsed from (NULL: none at hand). */
static void apply_event(ctrl_runtime_t *rt, const char *resource, json_t **obj, const char *json, size_t len,
                        bool deleted)
{
    slot_t *s = slot_of(rt, resource);
    if (!s) {
        json_decref(*obj);
        *obj = NULL;
        return;
    }
    if (rt->metadata_only && *obj) {
        json_t *md = metaonly_from_tree(*obj);
        json_decref(*obj);
        *obj = md;
        json = NULL;   /* the bytes are of the whole object */
    }
    if (cache_apply_json(s->cache, obj, json, len, deleted, runtime_on_change, s) < 0)
        LOGFV(1, "%s: event without a usable object dropped", resource);
}

/* A metadata-only runtime's subscriber defers the parse (cfg.defer_parse):
 * the object's text becomes {apiVersion, kind, metadata} only, in the turn
 * arena like the subscriber's own parse (the tree lives for this event).
 * Refused text is counted and logged (rate-limited), never applied. */
static json_t *parse_metadata_only(ctrl_runtime_t *rt, const subscriber_event_t *ev)
{
    char err[160];
    turn_arena_open();
    json_t *obj = metaonly_from_text(ev->json, ev->json_len, err, sizeof err);
    turn_arena_close();
    if (!obj) {
        rt->objects_refused++;
        if (log_limit_allow(&rt->bad_object))
            LOGW("event object refused", "resource", ev->resource, "namespace", ev->ns, "name", ev->name,
                 "reason", err);
    }
    return obj;
}

static void sub_on_event(void *ctx, const subscriber_event_t *ev, json_t *obj)
{
    ctrl_runtime_t *rt = ctx;
    json_t *own = obj ? json_incref(obj) : parse_metadata_only(rt, ev);
    if (!json_is_object(own)) {
        json_decref(own);
        return;
    }
    slot_t *s = slot_of(rt, ev->resource);
    if (s && s->stored) {
        runtime_stored_event(rt, s, ev, own);
        json_decref(own);
        return;
    }
    apply_event(rt, ev->resource, &own, ev->json, ev->json_len, ev->type == KUBUS__V1__EVENT_TYPE__DELETED);
}

static bool enqueue_key(const char *key, void *ud)
{
    ctrl_enqueue(ud, key);
    return true;
}

/* By key, parsing nothing: a compact cache would otherwise build a tree of
 * every primary (1,000 ReplicaSets: a third of a restart, profiled). */
void runtime_queue_all_primary(ctrl_runtime_t *rt)
{
    cache_foreach_key(ctrl_cache(rt, rt->primary), enqueue_key, rt);
}

static void sub_on_resync_begin(void *ctx, const char *resource, uint64_t epoch)
{
    slot_t *s = slot_of(ctx, resource);
    (void)epoch;
    if (!s) return;
    s->rebuilding = true;
    cache_rebuild_begin(s->cache);
}

static void sub_on_resync_end(void *ctx, const char *resource, uint64_t epoch)
{
    ctrl_runtime_t *rt = ctx;
    slot_t *s = slot_of(rt, resource);
    rt->trim_pending = true;
    if (!s) return;
    if (s->stored) {
        rt->store_pending = true;
        runtime_finish_stored_resyncs(rt);
        return;
    }
    cache_rebuild_end(s->cache, runtime_on_change, s);
    s->rebuilding = false;
    LOGFI("%s: cache rebuilt from snapshot (epoch %llu, %zu objects)", resource,
          (unsigned long long)epoch, cache_size(s->cache));
    /* objects may have changed unseen: every owner must look again */
    runtime_queue_all_primary(rt);
}

static void sub_on_other(void *ctx, const char *topic, const msg_envelope_t *env)
{
    ctrl_runtime_t *rt = ctx;
    (void)topic;
    if (env && env->body_case == KUBUS__V1__ENVELOPE__BODY_EXECUTOR_STATUS)
        actions_on_executor_epoch(rt->actions, env->executor_status->epoch);
}

/* ---- actions socket ------------------------------------------------------------ */

static int dealer_send(const uint8_t *buf, size_t len, void *ud)
{
    ctrl_runtime_t *rt = ud;
    if (rt->test_mode) return rt->test_send ? rt->test_send(buf, len, rt->test_send_ud) : 0;
    return bus_send_raw(rt->dealer, NULL, buf, len, true);
}

/* A held key's last action has its result: the sync is over. Its failures
 * are forgotten only if nothing during the hold asked for a back-off, so a
 * create that keeps failing backs off exponentially like upstream's. */
static void on_idle(const char *owner_key, void *ud)
{
    ctrl_runtime_t *rt = ud;
    if (!strmap_has(rt->held, owner_key)) return;
    bool failed = strmap_take(rt->held, owner_key) == HELD_FAILED;
    if (!failed) workqueue_forget(rt->queue, owner_key);
    workqueue_done(rt->queue, owner_key);
}

/* A failed action of the previous life (adopted from the InflightReport):
 * as upstream returns a sync's error, the owner syncs again with back-off. */
static void on_adopted_failed(const char *owner_key, void *ud) { ctrl_enqueue_rate_limited(ud, owner_key); }

static bool caches_consistent(const ctrl_runtime_t *rt);

/* Has the cache already shown what this action did? Before the caches are
 * complete an absent object proves nothing: a delete is then "not seen",
 * and actions_recheck_recovered settles it once they are. */
static bool seen_in_cache(const char *resource, const char *ns, const char *name, const char *uid, int verb,
                          void *ud)
{
    cache_t *c = ctrl_cache(ud, resource);
    if (!c) return false;
    if (verb == KUBUS__V1__VERB__CREATE) return cache_get_ns(c, ns, name) != NULL;
    if (!caches_consistent(ud)) return false;
    const json_t *o = uid ? cache_get_by_uid(c, uid) : NULL;
    return !o || kobj_being_deleted(o);
}

static void drain_dealer(ctrl_runtime_t *rt)
{
    for (int i = 0; i < 1000; i++) {
        char err[256];
        msg_envelope_t *env = bus_recv(rt->dealer, NULL, 0, true, err, sizeof err);
        if (!env) {
            if (errno == EPROTO) { LOGW("refused message on actions socket", "reason", err); continue; }
            return;
        }
        if (env->body_case == KUBUS__V1__ENVELOPE__BODY_ACTION_RESULT)
            actions_on_result(rt->actions, env->action_result);
        else if (env->body_case == KUBUS__V1__ENVELOPE__BODY_INFLIGHT_REPORT)
            actions_on_report(rt->actions, env->inflight_report, seen_in_cache, rt);
        else
            LOGW("unexpected message on actions socket", "body", msg_body_name(env));
        msg_free(env);
    }
}

/* ---- syncing --------------------------------------------------------------------- */

static bool caches_consistent(const ctrl_runtime_t *rt)
{
    for (int i = 0; i < rt->n_slots; i++)
        if (rt->slots[i].rebuilding) return false;
    return rt->test_mode || subscriber_synced(rt->sub);
}

static void check_ready(ctrl_runtime_t *rt)
{
    if (rt->ready) return;
    bool ok = rt->test_mode ? rt->test_ready : (caches_consistent(rt) && actions_report_received(rt->actions));
    if (!ok) return;
    actions_recheck_recovered(rt->actions, seen_in_cache, rt);
    rt->ready = true;
    if (rt->w) worker_set_ready(rt->w, true);
    LOGI("controller ready: caches synced and in-flight actions known", "controller", rt->controller);
    runtime_queue_all_primary(rt);
}

void runtime_release_parsed(ctrl_runtime_t *rt)
{
    for (int i = 0; i < rt->n_slots; i++) cache_release_parsed(rt->slots[i].cache);
    turn_arena_rotate();
}

/* A snapshot passes through the heap once (the subscriber's buffer, one
 * parsed tree per object) and leaves it fragmented: hand the free pages
 * back so that the process's memory is its caches, not that peak. Costs a
 * few ms, once per snapshot. */
static void trim_after_snapshot(ctrl_runtime_t *rt)
{
    if (!rt->trim_pending) return;
    rt->trim_pending = false;
    malloc_trim(0);
}

/* Expectations still outstanding after a sync end by observation, by a
 * failed result, or by expiry; only the first two queue the key. Expiry
 * must too, or an owner whose awaited event never comes (an object created
 * and deleted before our informer saw it) waits for an unrelated event
 * past the 5 minutes. A key already waiting keeps the earlier time. */
static void sync_at_expiry(ctrl_runtime_t *rt, const char *key)
{
    int64_t ms = expectations_expires_in_ms(rt->exp, key);
    if (ms >= 0) ctrl_enqueue_after(rt, key, (uint64_t)ms);
}

static int run_syncs(ctrl_runtime_t *rt)
{
    int ran = 0;
    if (!rt->ready || !caches_consistent(rt)) return 0;
    const char *k;
    while ((k = workqueue_get(rt->queue)) != NULL) {
        char key[512];
        snprintf(key, sizeof key, "%s", k);
        /* held from the start, so a result-time back-off request during
         * the sync itself is remembered too */
        bool held = strmap_put(rt->held, key, NULL) == 0;
        int rc = rt->sync(rt, key, rt->ud);
        runtime_release_parsed(rt);   /* the sync's borrowed objects end with it */
        rt->syncs++;
        ran++;
        sync_at_expiry(rt, key);
        bool failed = rc < 0 || (held && strmap_get(rt->held, key) == HELD_FAILED);
        if (rc < 0) workqueue_add_rate_limited(rt->queue, key);
        if (held && actions_outstanding(rt->actions, key) > 0) {
            if (failed) strmap_put(rt->held, key, HELD_FAILED);
            continue;
        }
        if (held) strmap_del(rt->held, key);
        if (!failed) workqueue_forget(rt->queue, key);
        workqueue_done(rt->queue, key);
    }
    return ran;
}

/* ---- construction ------------------------------------------------------------------ */

/* use_store: resources that travel as views are read from the shard's
 * store (on an ipc bus: the store is a file beside its sockets). */
static int init_common(ctrl_runtime_t *rt, const ctrl_config_t *cfg, int max_active, uint32_t generation,
                       uint32_t shard, bool use_store)
{
    if (!cfg->controller || !*cfg->controller || !cfg->resources || !cfg->sync) return -1;
    turn_arena_install();
    rt->controller = strdup(cfg->controller);
    rt->component = strdup(cfg->component ? cfg->component : cfg->controller);
    rt->primary = strdup(cfg->primary ? cfg->primary : "");
    rt->sync = cfg->sync;
    rt->ud = cfg->ud;
    rt->metadata_only = cfg->metadata_only;
    rt->bad_object = (log_limit_t)LOG_LIMIT_INIT(1.0, 10.0);
    rt->stored_routes_only = cfg->stored_routes_only;
    rt->stored_replay_wanted = cfg->stored_replay_wanted;
    rt->stored_replay = cfg->stored_replay;
    if (!rt->controller || !rt->component || !rt->primary) return -1;
    for (int i = 0; cfg->resources[i]; i++) {
        if (rt->n_slots >= MAX_RESOURCES) return -1;
        slot_t *s = &rt->slots[rt->n_slots];
        s->rt = rt;
        s->resource = strdup(cfg->resources[i]);
        /* Resources that travel as compact views are read from the store;
         * the others are kept as bytes and parsed when read (a 1.5 KiB
         * ReplicaSet is ~10 KiB as a tree; a parse costs ~8 us). */
        bool view = view_version(cfg->resources[i]) != 0;
        s->stored = view && use_store;   /* (metadata_only too: handlers read metadata of the views) */
        s->cache = s->stored ? cache_new_stored(cfg->resources[i]) : cache_new_compact(cfg->resources[i]);
        if (!s->resource || !s->cache) return -1;
        if (s->stored) rt->stored_names[rt->n_stored++] = s->resource;
        rt->resource_names[rt->n_slots++] = s->resource;
    }
    rt->resource_names[rt->n_slots] = NULL;
    rt->stored_names[rt->n_stored] = NULL;
    workqueue_opts_t wo = { .max_active = max_active, .base_delay_ms = cfg->rate_limit.base_delay_ms,
                            .max_delay_ms = cfg->rate_limit.max_delay_ms, .no_bucket = cfg->rate_limit.no_bucket,
                            .clock = mono_ms, .clock_ud = rt };
    rt->queue = workqueue_new(&wo);
    rt->exp = expectations_new(mono_ms, rt);
    rt->held = strmap_new(NULL);
    actions_opts_t ao = { .controller = cfg->controller, .shard = shard, .generation = generation,
                          .expectations = rt->exp, .send = dealer_send, .send_ud = rt,
                          .idle = on_idle, .idle_ud = rt,
                          .adopted_failed = on_adopted_failed, .adopted_failed_ud = rt, .clock = mono_ms, .clock_ud = rt, .rt = rt };
    rt->actions = actions_new(&ao);
    return rt->queue && rt->exp && rt->held && rt->actions ? 0 : -1;
}

static int open_dealer(ctrl_runtime_t *rt, const worker_opts_t *o)
{
    char id[BUS_ID_MAX];
    snprintf(id, sizeof id, "%s.%d", rt->controller, o->shard_index);
    void *s = zmq_socket(worker_zctx(rt->w), ZMQ_DEALER);
    if (!s) return -1;
    int zero = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_setsockopt(s, ZMQ_ROUTING_ID, id, strlen(id)) < 0 || bus_limit_inbound(s, MSG_MAX_BYTES) < 0) {
        zmq_close(s);
        return -1;
    }
    rt->dealer = s;   /* closed by ctrl_runtime_destroy from here on */
    char ep[512];
    /* watched from before the connect, so the first handshake is known */
    rt->link = linkwatch_new(worker_zctx(rt->w), s);
    if (!rt->link || bus_endpoint(&o->bus, BUS_EP_ACTIONS, ep, sizeof ep) < 0 || zmq_connect(s, ep) < 0) return -1;
    return 0;
}

ctrl_runtime_t *ctrl_runtime_new(worker_t *w, const ctrl_config_t *cfg)
{
    if (!w || !cfg) return NULL;
    const worker_opts_t *o = worker_opts(w);
    ctrl_runtime_t *rt = calloc(1, sizeof *rt);
    if (!rt) return NULL;
    rt->w = w;
    int conc = cfg->concurrent_syncs > 0 ? cfg->concurrent_syncs : o->concurrent_syncs;
    snprintf(rt->bus_dir, sizeof rt->bus_dir, "%s", o->bus.dir);
    if (init_common(rt, cfg, conc > 0 ? conc : 5, o->generation, (uint32_t)o->shard_index, !o->bus.tcp_host[0]) < 0) {
        LOGE("controller runtime: bad config or out of memory", "controller", cfg->controller ? cfg->controller : "");
        ctrl_runtime_destroy(&rt);
        return NULL;
    }
    static const char *const extra[] = { BUS_TOPIC_EXECUTOR, NULL };
    subscriber_config_t sc = {
        .zctx = worker_zctx(w), .bus = &o->bus, .name = rt->controller,
        .resources = rt->resource_names, .extra_topics = extra, .stored = rt->stored_names,
        .defer_parse = rt->metadata_only,   /* parse_metadata_only reads the text */
        .cb = { .on_event = sub_on_event, .on_resync_begin = sub_on_resync_begin,
                .on_resync_end = sub_on_resync_end, .on_other = sub_on_other, .ctx = rt },
    };
    char err[256] = "";
    rt->sub = subscriber_create(&sc, err, sizeof err);
    if (!rt->sub || open_dealer(rt, o) < 0) {
        LOGE("controller runtime: cannot connect to the bus", "reason", rt->sub ? strerror(errno) : err);
        ctrl_runtime_destroy(&rt);
        return NULL;
    }
    return rt;
}

ctrl_runtime_t *ctrl_runtime_new_test(const ctrl_config_t *cfg, actions_send_fn send, void *send_ud)
{
    if (!cfg) return NULL;
    ctrl_runtime_t *rt = calloc(1, sizeof *rt);
    if (!rt) return NULL;
    rt->test_mode = true;
    rt->test_send = send;
    rt->test_send_ud = send_ud;
    if (init_common(rt, cfg, cfg->concurrent_syncs > 0 ? cfg->concurrent_syncs : 5, 1, 0, false) < 0)
        ctrl_runtime_destroy(&rt);
    return rt;
}

void ctrl_runtime_destroy(ctrl_runtime_t **rtp)
{
    if (!rtp || !*rtp) return;
    ctrl_runtime_t *rt = *rtp;
    subscriber_destroy(&rt->sub);
    linkwatch_destroy(&rt->link);
    if (rt->dealer) zmq_close(rt->dealer);
    actions_destroy(&rt->actions);
    expectations_destroy(&rt->exp);
    workqueue_destroy(&rt->queue);
    strmap_destroy(&rt->held);
    for (int i = 0; i < rt->n_slots; i++) {
        cache_destroy(&rt->slots[i].cache);
        free(rt->slots[i].resource);
    }
    store_close(&rt->store);   /* after the caches that read it */
    free(rt->controller);
    free(rt->component);
    free(rt->primary);
    free(rt);
    *rtp = NULL;
}

/* ---- the loop --------------------------------------------------------------------- */

static long poll_timeout(ctrl_runtime_t *rt)
{
    long t = rt->ready && subscriber_quiet(rt->sub) ? LOOP_QUIET_WAIT_MS : LOOP_MAX_WAIT_MS;
    uint64_t hb = worker_ms_until_heartbeat(rt->w);
    if (hb < (uint64_t)t) t = (long)hb;
    if (rt->ready && caches_consistent(rt)) {
        int64_t q = workqueue_next_due_ms(rt->queue);
        if (q >= 0 && q < t) t = (long)q;
    }
    int64_t a = actions_next_due_ms(rt->actions);
    if (a >= 0 && a < t) t = (long)a;
    return t;
}

int ctrl_run(ctrl_runtime_t *rt)
{
    if (!rt || rt->test_mode) return 1;
    actions_query_inflight(rt->actions);
    while (worker_tick(rt->w)) {
        zmq_pollitem_t items[8];
        int n = subscriber_poll_items(rt->sub, items, 6);
        if (n < 0) n = 0;
        items[n++] = (zmq_pollitem_t){ .socket = rt->dealer, .events = ZMQ_POLLIN };
        items[n++] = (zmq_pollitem_t){ .socket = linkwatch_socket(rt->link), .events = ZMQ_POLLIN };
        if (zmq_poll(items, n, poll_timeout(rt)) < 0 && errno != EINTR) {
            LOGE("zmq_poll failed", "error", strerror(errno));
            return 1;
        }
        if (subscriber_process(rt->sub) < 0) LOGFW("subscriber socket error: %s", strerror(errno));
        if (linkwatch_process(rt->link) > 0) {
            LOGV(1, "actions socket connected to the broker again", "controller", rt->controller);
            actions_on_link_restored(rt->actions);
        }
        drain_dealer(rt);
        runtime_finish_stored_resyncs(rt);
        subscriber_tick(rt->sub, now_mono_ms());
        actions_tick(rt->actions);
        check_ready(rt);
        run_syncs(rt);
        runtime_release_parsed(rt);   /* handlers' and result callbacks' objects end with the turn */
        trim_after_snapshot(rt);
        worker_set_progress(rt->w, rt->syncs);
    }
    LOGI("controller stopping", "controller", rt->controller);
    return 0;
}

/* ---- test hooks ------------------------------------------------------------------- */

int ctrl_test_apply(ctrl_runtime_t *rt, const char *resource, json_t **obj, bool deleted)
{
    if (!rt || !slot_of(rt, resource)) {
        if (obj) { json_decref(*obj); *obj = NULL; }
        return -1;
    }
    apply_event(rt, resource, obj, NULL, 0, deleted);
    return 0;
}

void ctrl_test_report(ctrl_runtime_t *rt, const Kubus__V1__InflightReport *rep)
{
    if (rt) actions_on_report(rt->actions, rep, seen_in_cache, rt);
}

void ctrl_test_mark_ready(ctrl_runtime_t *rt)
{
    if (!rt) return;
    rt->test_ready = true;
    check_ready(rt);
}

int ctrl_test_step(ctrl_runtime_t *rt)
{
    if (!rt) return 0;
    actions_tick(rt->actions);
    check_ready(rt);
    return run_syncs(rt);
}
