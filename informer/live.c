/* live.c - the informer's live event stream. See informer.h.
 *
 * Owns: the pending EventBatch of each resource and where a flushed batch
 * goes: the PUB under "E/<resource>/" and, whether the PUB took it or not
 * (a batch the PUB dropped at its high-water mark is exactly what a replay
 * repairs), the replay ring.
 * A batch is cut when the next event would take it past BATCH_MAX_BYTES, and
 * at the end of every loop turn (informer_flush_live): latency stays that of
 * one turn, and a burst (a relist, a busy watch) fills 64 KiB frames.
 * Cost per event: one protobuf pack into the batch; per batch: one
 * zmq_send (libzmq copies the frame) and one ring push (no copy).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "informer.h"
#include "view.h"

/* For WatchEvent.recv_unix_us: the reflector publishes a watch event from inside
 * the curl write callback that delivered its line, so this is when it was read. */
static uint64_t unix_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int informer_index(const informer_t *in, const reflector_t *r)
{
    for (int i = 0; i < in->nrefl; i++)
        if (in->refl[i] == r) return i;
    return -1;
}

/* The store's pending changes become visible before any event naming
 * them leaves (store.h, writer protocol). A store that cannot commit no
 * longer matches what was published: the informer stops (a new one starts
 * a new epoch and a new store, and every subscriber re-snapshots). */
void informer_commit_store(informer_t *in)
{
    char err[256];
    if (!in->store || store_commit(in->store, err, sizeof err) == 0) return;
    LOGE("cannot commit the store: stopping", "error", err);
    in->fatal = true;
    worker_request_stop(in->w);
}

static void flush_one(informer_t *in, int i)
{
    batch_builder_t *b = &in->live[i];
    uint32_t count = batch_count(b);
    if (count == 0) return;
    informer_commit_store(in);
    if (in->fatal) return;   /* never publish what the store does not hold */
    uint64_t first = b->first_seq;
    char topic[BUS_TOPIC_MAX];
    batch_frame_t f;
    if (bus_topic_resource(topic, sizeof topic, b->resource) < 0 || batch_finish(b, &f) < 0) {
        in->dropped += count;   /* (cannot happen: a name batch_add took fits) */
        replay_ring_forget(in->ring, i, first + count - 1);
        return;
    }
    in->batches++;
    /* A failed send is a gap subscribers detect by seq, and replay. */
    if (bus_send_raw(in->pub, topic, batch_frame_data(&f), f.len, true) < 0) in->dropped += count;
    if (replay_ring_push(in->ring, i, first, first + count - 1, &f) < 0 && log_limit_allow(&in->bad_log))
        LOGW("out of memory keeping a batch for replays", "resource", topic);
}

void informer_flush_live(informer_t *in)
{
    for (int i = 0; i < in->nrefl; i++) flush_one(in, i);
}

/* An event that cannot be batched (not expected: the reflector only
 * publishes validated objects) is lost: counted, and its seq forgotten by
 * the ring so that a replay across it answers "missed" (-> snapshot). */
static void lose(informer_t *in, int i, const msg_event_t *ev, const char *why)
{
    in->dropped++;
    flush_one(in, i);
    replay_ring_forget(in->ring, i, ev->seq);
    if (log_limit_allow(&in->bad_log))
        LOGW("event not published", "resource", ev->resource, "name", ev->name, "error", why);
}

/* "ns/name" ("name" cluster-scoped): the key controllers look objects up by. */
static int store_key(char *out, size_t outlen, const objcache_entry_t *e)
{
    int n = *e->ns ? snprintf(out, outlen, "%s/%s", e->ns, e->name) : snprintf(out, outlen, "%s", e->name);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int informer_stored_bytes(informer_t *in, const reflector_t *r, const objcache_entry_t *e, const char **json,
                          size_t *len)
{
    char key[512], err[256];
    store_rec_t rec;
    if (!in->store || store_key(key, sizeof key, e) < 0 || store_read_begin(in->store, err, sizeof err) < 0) return -1;
    if (store_get(in->store, reflector_resource(r), key, &rec, err, sizeof err) != 1) return -1;
    *json = rec.json;
    *len = rec.json_len;
    return 0;
}

/* The bytes the cache no longer keeps (reflector_forget_bytes), copied out
 * of the store before the change overwrites them: a MODIFIED's previous
 * state, or a DELETED's last state when the relist sweep found it gone.
 * NULL when not needed or not found (logged: the store and the cache
 * disagree, which only a bug can cause). */
static char *bytes_before_change(informer_t *in, reflector_t *r, const reflector_change_t *ch, size_t *len)
{
    bool need = (ch->type == KUBUS__V1__EVENT_TYPE__MODIFIED && !ch->old_json) ||
                (ch->type == KUBUS__V1__EVENT_TYPE__DELETED && !ch->e->json);
    const char *json;
    if (!need) return NULL;
    if (informer_stored_bytes(in, r, ch->e, &json, len) < 0) {
        if (log_limit_allow(&in->bad_log))
            LOGW("object missing from the store", "resource", reflector_resource(r), "name", ch->e->name);
        return NULL;
    }
    char *copy = malloc(*len ? *len : 1);
    if (copy) memcpy(copy, json, *len);
    return copy;
}

/* Writes the change into the store (resources it keeps). A failure leaves
 * the store behind the stream: fatal, as in informer_commit_store. */
static void store_change(informer_t *in, const reflector_change_t *ch, const msg_event_t *ev)
{
    char key[512], err[256];
    const objcache_entry_t *e = ch->e;
    int rc;
    if (store_key(key, sizeof key, e) < 0) {
        rc = -1;
        snprintf(err, sizeof err, "key too long");
    } else if (ch->type == KUBUS__V1__EVENT_TYPE__DELETED) {
        rc = store_del(in->store, ev->resource, key, ev->seq, err, sizeof err);
    } else {
        const char *owner = ch->owner_uid ? ch->owner_uid : "";
        store_rec_t rec = { .key = key, .key_len = strlen(key), .uid = e->uid, .uid_len = strlen(e->uid),
                            .owner = owner, .owner_len = strlen(owner), .rv = e->rv, .rv_len = strlen(e->rv),
                            .json = e->json, .json_len = e->json_len };
        rc = store_put(in->store, ev->resource, &rec, ev->seq, err, sizeof err);
    }
    if (rc == 0) return;
    LOGE("cannot write the store: stopping", "resource", ev->resource, "name", e->name, "error", err);
    in->fatal = true;
    worker_request_stop(in->w);
}

void informer_publish_event(void *ctx, reflector_t *r, const reflector_change_t *ch)
{
    informer_t *in = ctx;
    int i = informer_index(in, r);
    if (i < 0 || in->fatal) return;
    msg_envelope_t env;
    msg_event_t ev;
    informer_event_fill(in, r, ch->type, ch->e, &env, &ev);
    ev.recv_unix_us = unix_us();
    char *before = NULL;
    size_t before_len = 0;
    if (in->stored[i]) {
        before = bytes_before_change(in, r, ch, &before_len);
        if (before && ch->type == KUBUS__V1__EVENT_TYPE__DELETED) {
            ev.object.data = (uint8_t *)before;
            ev.object.len = before_len;
        }
        store_change(in, ch, &ev);
        if (ch->old_json || (before && ch->type == KUBUS__V1__EVENT_TYPE__MODIFIED)) {
            ev.old_object.data = (uint8_t *)(ch->old_json ? ch->old_json : before);
            ev.old_object.len = ch->old_json ? ch->old_len : before_len;
        }
    }
    in->published++;
    batch_builder_t *b = &in->live[i];
    if (batch_count(b) && batch_size(b) + batch_event_size(&ev) > BATCH_MAX_BYTES) flush_one(in, i);
    char err[256];
    if (batch_add(b, &ev, err, sizeof err) < 0) lose(in, i, &ev, err);
    free(before);
}
