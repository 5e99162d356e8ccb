/* subscriber.h - the client half of the Clone pattern (DEVELOPERS.md, "Events").
 *
 * Owns: a SUB socket on the events stream and a DEALER to the informer's
 * snapshot socket, and the state machine that turns them into one ordered,
 * gap-free stream of callbacks per resource:
 *
 *   on_resync_begin(r)  on_event(SNAPSHOT)...  on_resync_end(r)     (a full state of r)
 *   on_event(ADDED|MODIFIED|DELETED)...                             (changes after it)
 *   ... and again begin/SNAPSHOT/end whenever the stream cannot be trusted.
 *
 * A consumer keeps its cache with mark-and-sweep: on begin mark every object
 * of r stale, on each SNAPSHOT upsert and unmark, on end drop what is still
 * marked (those objects were deleted while we were not looking).
 *
 * What it does for you:
 * - asks for the first snapshot at once (no heartbeat wait): its SnapshotEnd
 *   brings the epoch, and live events lost while the subscriptions still
 *   travel to the informer (the slow joiner) are caught as below, by a gap
 *   or a heartbeat ahead of us;
 * - buffers live events while a snapshot streams in, drops those with
 *   seq <= the snapshot's seq, and delivers a snapshot only when complete
 *   (an aborted or timed-out snapshot never reaches the callbacks);
 * - takes the live stream as EventBatches (and single WatchEvents); on a
 *   sequence gap, when the informer's heartbeat is ahead of us for more
 *   than 2 s, or when a message on a resource's topic was refused, asks
 *   the informer for a replay of the lost events (subscriber_replay.c) and
 *   re-snapshots the resource only when the replay cannot repair it (its
 *   ring no longer holds them); re-snapshots everything on
 *   a new epoch, and after 5 s without heartbeats treats the informer as
 *   gone (it re-snapshots when one with a new epoch appears). The epoch is
 *   taken from heartbeats and SnapshotEnds only: an event of another epoch
 *   (a late one of a dead informer, or an early one of a new) triggers a
 *   re-snapshot of everything but never switches the epoch;
 * - retries a snapshot with synced=false after 500 ms, and one that stalls
 *   for 10 s on a fresh DEALER (so late replies of the old one cannot mix in).
 * Bad messages (undecodable, unknown resource, unparseable object JSON) are
 * counted, logged rate-limited and dropped.
 *
 * Cost: one parsed json_t per event for the callback's duration; while a
 * snapshot streams, the snapshot and the live events of its resources are
 * held in memory (bounded: a buffer overflow restarts the snapshot).
 * Single-threaded: call everything from one thread.
 */
#ifndef KUBUS_SUBSCRIBER_H
#define KUBUS_SUBSCRIBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <zmq.h>

#include "bus.h"
#include "msg.h"

typedef struct subscriber subscriber_t;

/* One event as the informer stamped it. Strings are borrowed for the call
 * and never NULL ("" when empty; ns is "" for cluster-scoped objects). */
typedef struct {
    const char *resource;          /* "pods" */
    int type;                      /* KUBUS__V1__EVENT_TYPE__{ADDED,MODIFIED,DELETED,SNAPSHOT} */
    const char *ns, *name, *uid, *resource_version;
    uint64_t epoch, seq;           /* for SNAPSHOT: seq is the snapshot's seq of the resource */
    const char *json;              /* the object's JSON bytes (not NUL-terminated) */
    size_t json_len;
    const char *old_json;          /* MODIFIED of a stored resource: the previous state; else NULL */
    size_t old_len;
} subscriber_event_t;

typedef struct {
    /* obj is the parsed object, borrowed for the call (json_incref to keep);
     * NULL when the config says defer_parse (parse ev->json yourself). */
    void (*on_event)(void *ctx, const subscriber_event_t *ev, json_t *obj);
    void (*on_resync_begin)(void *ctx, const char *resource, uint64_t epoch);
    void (*on_resync_end)(void *ctx, const char *resource, uint64_t epoch);
    /* Optional: any message on cfg.extra_topics (e.g. ExecutorStatus on
     * BUS_TOPIC_EXECUTOR). env is borrowed for the call. */
    void (*on_other)(void *ctx, const char *topic, const msg_envelope_t *env);
    void *ctx;
} subscriber_callbacks_t;

typedef struct {
    void *zctx;                    /* the process's ZeroMQ context */
    const bus_config_t *bus;
    const char *name;              /* who asks (SnapshotRequest.requester, logs) */
    const char *const *resources;  /* NULL-terminated, e.g. {"pods","replicasets",NULL} */
    const char *const *extra_topics; /* NULL-terminated or NULL, e.g. {BUS_TOPIC_EXECUTOR,NULL} */
    subscriber_callbacks_t cb;
    /* Hand on_event the object's bytes only (obj NULL): for consumers that
     * parse some events or none. The parse (jansson, ~5 us per KiB) is
     * most of a subscriber's CPU; deferred, an object that is not JSON is
     * the consumer's to refuse (parse_failures stays 0). */
    bool defer_parse;
    /* NULL-terminated subset of resources (or NULL) read from the shard's
     * store (store.h): their snapshots bring seqs only (begin and end with
     * no SNAPSHOT events between: the store at those seqs is the state),
     * and their MODIFIED events carry old_json. */
    const char *const *stored;
} subscriber_config_t;

typedef struct {
    uint64_t events;               /* live events delivered */
    uint64_t snapshot_events;      /* SNAPSHOT events delivered */
    uint64_t snapshots;            /* snapshot requests sent */
    uint64_t resyncs_done;         /* snapshots delivered (per resource) */
    uint64_t gaps;                 /* sequence gaps seen */
    uint64_t batches;              /* EventBatch messages taken from the live stream */
    uint64_t replays;              /* replay requests sent */
    uint64_t replay_hits;          /* resources a replay repaired */
    uint64_t replay_misses;        /* resources a replay could not repair (-> snapshot) */
    uint64_t epoch_changes;
    uint64_t refused;              /* messages dropped as malformed */
    uint64_t parse_failures;       /* event objects that were not JSON objects */
} subscriber_stats_t;

/* Connects the sockets and subscribes; nothing is requested until the first
 * heartbeat arrives. The config's strings are copied. NULL + err on failure. */
subscriber_t *subscriber_create(const subscriber_config_t *cfg, char *err, size_t errlen);
void subscriber_destroy(subscriber_t **s);

/* Fills up to max poll items (ZMQ_POLLIN on each socket). Returns how many
 * (currently 2). Re-fetch after every subscriber_tick/subscriber_process:
 * the DEALER is replaced when a snapshot is retried. For a loop built on
 * raw fds use ZMQ_FD of items[i].socket (edge-triggered: always call
 * subscriber_process after a wake). */
int subscriber_poll_items(subscriber_t *s, zmq_pollitem_t *items, int max);
/* Handles every message ready on both sockets without blocking, calling the
 * callbacks. Returns the number of messages read, -1 on a socket error. */
int subscriber_process(subscriber_t *s);
/* Timers (heartbeat silence, stalled snapshot, retries). now_ms from
 * CLOCK_MONOTONIC (now_mono_ms()). Call at least every 100 ms. */
void subscriber_tick(subscriber_t *s, uint64_t now_ms);

/* True once every resource has had a complete snapshot delivered and no
 * resync is pending. */
bool subscriber_synced(const subscriber_t *s);
/* Synced, nothing in flight and no retry waiting: the only timer left is
 * the informer's silence (5 s), so subscriber_tick is due about once a
 * second instead of every 100 ms. */
bool subscriber_quiet(const subscriber_t *s);
uint64_t subscriber_epoch(const subscriber_t *s);  /* 0 until known */
/* Last delivered seq of a resource (0 if none or unknown resource). */
uint64_t subscriber_seq(const subscriber_t *s, const char *resource);
void subscriber_stats(const subscriber_t *s, subscriber_stats_t *out);

#endif
