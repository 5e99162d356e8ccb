/* informer.h - the kubus-informer process: the only reader of the API server.
 *
 * Owns: one reflector per resource on a single curl multi handle, the PUB
 * socket every change goes out on, the snapshot ROUTER, the InformerStatus
 * heartbeat, and the stats file. Everything runs on one thread, in one loop
 * (informer_run): so a snapshot is atomic with respect to the sequences.
 *
 * epoch: random non-zero 64-bit, chosen at start; seqs restart at 1 in it.
 *
 * Live events go out in EventBatches (live.c): one pending batch per
 * resource, flushed at the end of every loop turn (so an event waits at most
 * for the rest of the turn that read it) or when it reaches 64 KiB. Every
 * flushed batch is also kept in the replay ring (ring.h, --replay-bytes)
 * that answers ReplayRequests (replay.c).
 *
 * On an ipc bus the resources that travel as views are also written to the
 * shard's store (store.h; DEVELOPERS.md "Store"), committed before any batch
 * or SnapshotEnd naming their seqs leaves; their reflectors then keep no
 * bytes (reflector_forget_bytes): the store's copy is the only one.
 */
#ifndef KUBUS_INFORMER_H
#define KUBUS_INFORMER_H

#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>

#include "kubeconfig.h"
#include "log.h"
#include "msg.h"
#include "batch.h"
#include "reflector.h"
#include "ring.h"
#include "store.h"
#include "worker.h"

#define INFORMER_MAX_RESOURCES 32
/* The replay ring's default budget. Replays repair gaps of resources
 * that travel whole; a stored resource's re-snapshot costs only a scan of
 * the store, so the ring need not hold a cluster's worth of pods. */
#define INFORMER_REPLAY_BYTES (8u * 1024u * 1024u)
#define INFORMER_DEFAULT_RESOURCES \
    "pods,nodes,namespaces,persistentvolumeclaims,replicasets,deployments,statefulsets,daemonsets," \
    "controllerrevisions,jobs,cronjobs"

typedef struct {
    /* flags */
    char resources_csv[1024];
    int page_size;
    char stats_file[1024];
    int test_stale_rv_after_s;     /* 0: off */
    long replay_bytes;             /* replay ring budget; 0: INFORMER_REPLAY_BYTES */
    char test_stale_rv_resource[64];

    /* run state */
    worker_t *w;
    uint64_t epoch;
    kubeconfig_t kc;
    CURLM *multi;
    void *pub, *router;
    reflector_t *refl[INFORMER_MAX_RESOURCES];
    int nrefl;
    batch_builder_t live[INFORMER_MAX_RESOURCES];   /* pending batch of refl[i] */
    replay_ring_t *ring;
    store_t *store;                               /* NULL on a tcp bus (store.h) */
    bool stored[INFORMER_MAX_RESOURCES];          /* refl[i] is kept in the store */
    bool fatal;                                   /* the store failed: stop */
    uint64_t trimmed_relists;                     /* relists when the heap was last trimmed */
    log_limit_t bad_log;
    uint64_t started_ms, next_status_ms, next_log_ms;
    bool test_stale_done, ready;
    uint64_t published, dropped, snapshots, snapshot_events, refused_requests;
    uint64_t batches, replays, replay_misses, replay_events;
} informer_t;

int informer_parse_flag(void *state, const char *flag, const char *value, bool *used_value);
int informer_init(worker_t *w, void *state);
int informer_run(worker_t *w, void *state);
void informer_fini(worker_t *w, void *state);

/* The WatchEvent envelope of entry e of r (env and ev are the caller's
 * storage; strings are borrowed from e and r): the one place it is built. */
void informer_event_fill(const informer_t *in, const reflector_t *r, int type, const objcache_entry_t *e,
                         msg_envelope_t *env, msg_event_t *ev);

/* live.c: the reflectors' sink (adds the change to its resource's pending
 * batch) and the end-of-turn flush of every pending batch. */
void informer_publish_event(void *ctx, reflector_t *r, const reflector_change_t *ch);
void informer_flush_live(informer_t *in);
/* The stored bytes of e (a resource kept in the store), pointing into the
 * store's map until its next commit. 0, or -1 when not there. */
int informer_stored_bytes(informer_t *in, const reflector_t *r, const objcache_entry_t *e, const char **json,
                          size_t *len);
/* Commits the store's pending changes (before anything names their seqs). */
void informer_commit_store(informer_t *in);
int informer_index(const informer_t *in, const reflector_t *r);

/* snapshot.c: answers every SnapshotRequest and ReplayRequest waiting on
 * the ROUTER; the reply primitives ([id][bytes], [id][envelope]) and the
 * check of requested resource names (NULL, or why not, written into buf). */
void informer_serve_snapshots(informer_t *in);
int informer_reply_raw(informer_t *in, const uint8_t *id, size_t idlen, const void *data, size_t len);
int informer_reply(informer_t *in, const uint8_t *id, size_t idlen, const msg_envelope_t *env);
const char *informer_check_resources(const informer_t *in, char *const *names, size_t n, char *buf, size_t buflen);
/* replay.c: one ReplayRequest, answered from the ring. */
void informer_answer_replay(informer_t *in, const uint8_t *id, size_t idlen, const Kubus__V1__ReplayRequest *req);
/* status.c: InformerStatus heartbeat, the stats file, the 30 s log line. */
void informer_send_status(informer_t *in);
void informer_write_stats(const informer_t *in);
void informer_log_stats(const informer_t *in);
reflector_t *informer_find(const informer_t *in, const char *resource);

#endif
