/* runtime_store.c - the controller runtime's side of the shard's store
 * (DEVELOPERS.md, "Store", rule 4): the stored slots' live events, and
 * after a stored resync the store of the epoch attached, its objects told
 * to the handlers and the expectations it meets observed. See
 * runtime_priv.h.
 */
#include "ctrl/runtime_priv.h"

#include <string.h>

#include "ctrl/kobj.h"
#include "log.h"
#include "turnarena.h"

/* A live event of a stored resource: the store already holds it (the
 * informer commits before it publishes), so only the handlers and the
 * expectations hear of it, with the previous state from the event. A read
 * transaction older than the event is ended first, so whatever the
 * handlers look up is at least as new as the event. */
void runtime_stored_event(ctrl_runtime_t *rt, slot_t *s, const subscriber_event_t *ev, json_t *obj)
{
    if (ev->type == KUBUS__V1__EVENT_TYPE__SNAPSHOT || s->rebuilding || !rt->store) return;
    if (store_reading(rt->store) && ev->seq > store_seq(rt->store, s->resource)) store_read_end(rt->store);
    if (ev->type == KUBUS__V1__EVENT_TYPE__DELETED) {
        runtime_on_change(CACHE_DELETED, obj, NULL, s);
        return;
    }
    json_t *old = NULL;
    if (ev->type == KUBUS__V1__EVENT_TYPE__MODIFIED && ev->old_json) {
        json_error_t jerr;
        old = json_loadb(ev->old_json, ev->old_len, 0, &jerr);
        if (!json_is_object(old)) {
            json_decref(old);
            old = NULL;
            LOGFV(1, "%s: previous state of %s/%s does not parse: handled as added", s->resource, ev->ns, ev->name);
        }
    }
    /* (a MODIFIED without its previous state is told as an ADDED: handlers
     * then look at the new state alone) */
    runtime_on_change(old ? CACHE_MODIFIED : CACHE_ADDED, old, obj, s);
    json_decref(old);
}

/* What a stored resync implies, told as upstream's informers tell a
 * (re)list: every object as ADDED (so handlers route every object, orphans
 * included), and the expectations the store's state meets are observed.
 * Costs one parse per object, freed at once (about 13 us a pod with its
 * handler): a controller whose handlers of stored resources only route to
 * primaries, which the resync queues all of anyway, skips it
 * (cfg.stored_routes_only), and one whose handlers matter for some objects
 * only names them (cfg.stored_replay_wanted, asked before the parse); one
 * that reads the record's text itself takes it unparsed (cfg.stored_replay). */
typedef struct {
    slot_t *s;
    size_t told;
} replay_t;

static bool replay_one(const store_rec_t *rec, void *ud)
{
    replay_t *r = ud;
    ctrl_runtime_t *rt = r->s->rt;
    if (rt->stored_replay_wanted && !rt->stored_replay_wanted(rt, r->s->resource, rec, rt->ud)) return true;
    r->told++;
    if (rt->stored_replay) {   /* the controller reads the text itself */
        rt->stored_replay(rt, r->s->resource, rec, rt->ud);
        return true;
    }
    json_error_t jerr;
    turn_arena_open();   /* freed right after its handlers (turnarena.h) */
    json_t *obj = json_loadb(rec->json, rec->json_len, 0, &jerr);
    turn_arena_close();
    if (json_is_object(obj)) runtime_on_change(CACHE_ADDED, NULL, obj, r->s);
    json_decref(obj);
    return true;
}

/* A create id "resource/ns/name" (expectations_create_id) whose object a
 * cache holds. */
static bool create_present(ctrl_runtime_t *rt, const char *id)
{
    const char *slash = strchr(id, '/');
    char resource[64];
    if (!slash || (size_t)(slash - id) >= sizeof resource) return false;
    memcpy(resource, id, (size_t)(slash - id));
    resource[slash - id] = '\0';
    const char *key = slash + 1;
    if (*key == '/') key++;   /* cluster-scoped: "resource//name" */
    return cache_get(ctrl_cache(rt, resource), key) != NULL;
}

static bool delete_present(ctrl_runtime_t *rt, const char *uid)
{
    for (int k = 0; k < rt->n_slots; k++) {
        const json_t *o = cache_get_by_uid(rt->slots[k].cache, uid);
        if (o && !kobj_being_deleted(o)) return true;
    }
    return false;
}

/* After a stored resync: the expectations the store's state meets. */
static void recheck_expectations(ctrl_runtime_t *rt)
{
    for (int creates = 0; creates < 2; creates++) {
        char **ids = NULL;
        size_t n = 0;
        if (expectations_list(rt->exp, creates, &ids, &n) < 0) continue;
        for (size_t i = 0; i < n; i++) {
            if (creates && create_present(rt, ids[i])) expectations_observe_create(rt->exp, ids[i]);
            if (!creates && !delete_present(rt, ids[i])) expectations_observe_delete(rt->exp, ids[i]);
        }
        expectations_free_list(ids, n);
    }
}

/* Opens the store of epoch (closing another epoch's) and attaches it to
 * every stored slot. 0, or -1 (logged; retried every turn). */
static int attach_store(ctrl_runtime_t *rt, uint64_t epoch)
{
    if (rt->store && store_epoch(rt->store) == epoch) return 0;
    for (int i = 0; i < rt->n_slots; i++)
        if (rt->slots[i].stored) cache_attach_store(rt->slots[i].cache, NULL);
    store_close(&rt->store);
    char err[512];
    rt->store = store_open(rt->bus_dir, epoch, rt->stored_names, err, sizeof err);
    if (!rt->store) {
        LOGFW("cannot open the shard's store (retrying): %s", err);
        return -1;
    }
    for (int i = 0; i < rt->n_slots; i++)
        if (rt->slots[i].stored) cache_attach_store(rt->slots[i].cache, rt->store);
    return 0;
}

/* The stored slots whose resync ended: attached and replayed. */
void runtime_finish_stored_resyncs(ctrl_runtime_t *rt)
{
    if (!rt->store_pending) return;
    uint64_t epoch = subscriber_epoch(rt->sub);
    if (epoch == 0 || attach_store(rt, epoch) < 0) return;
    rt->store_pending = false;
    char err[256];
    for (int i = 0; i < rt->n_slots; i++) {
        slot_t *s = &rt->slots[i];
        if (!s->stored || !s->rebuilding) continue;
        replay_t r = { s, 0 };
        if (store_read_begin(rt->store, err, sizeof err) < 0 ||
            (!rt->stored_routes_only && store_scan(rt->store, s->resource, NULL, replay_one, &r, err, sizeof err) < 0)) {
            LOGFW("%s: cannot read the shard's store (retrying): %s", s->resource, err);
            store_read_end(rt->store);
            rt->store_pending = true;
            return;
        }
        s->rebuilding = false;
        LOGFI("%s: reading the shard's store (epoch %llu, %zu objects, %zu told to handlers)", s->resource,
              (unsigned long long)epoch, store_count(rt->store, s->resource), r.told);
    }
    recheck_expectations(rt);
    runtime_release_parsed(rt);
    runtime_queue_all_primary(rt);
}

