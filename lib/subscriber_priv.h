/* subscriber_priv.h - the subscriber's state, shared by its two files:
 * subscriber.c (sockets, live stream, snapshots) and subscriber_replay.c
 * (gap repair by replay). Not for use outside lib/subscriber*.c.
 */
#ifndef KUBUS_SUBSCRIBER_PRIV_H
#define KUBUS_SUBSCRIBER_PRIV_H

#include "log.h"
#include "subscriber.h"

#define SUB_STALL_MS 10000u       /* no reply progress this long: retry on a fresh DEALER */
#define SUB_REPLY_MAX_MSGS 5000000u /* messages buffered from one snapshot or replay reply */

typedef enum { S_WAIT_HB, S_IDLE, S_SNAPSHOT, S_REPLAY } state_t;

typedef struct {
    char *name;
    uint64_t seq;             /* last delivered */
    bool have;                /* a snapshot was delivered in this epoch */
    bool need;                /* wants a (re)snapshot */
    bool replay;              /* lost events after seq: wants a replay (need wins) */
    bool in_request;          /* part of the snapshot in flight */
    bool in_replay;           /* part of the replay in flight */
    bool stored;              /* read from the store: snapshots carry seqs only */
    uint64_t ahead_since_ms;
} res_t;

typedef struct {
    msg_envelope_t **v;
    size_t n, cap;
    size_t events;            /* events inside the envelopes */
} envvec_t;

struct subscriber {
    void *zctx;
    bus_config_t bus;
    char *name;
    char **extra;             /* NULL-terminated */
    subscriber_callbacks_t cb;
    bool defer_parse;
    void *sub, *dealer;
    res_t *res;
    size_t nres;
    state_t state;
    uint64_t epoch;
    uint64_t last_hb_ms, retry_at_ms, snap_last_ms;
    uint64_t request_id;
    envvec_t snap, live;      /* the reply (snapshot or replay) and the live events held meanwhile */
    subscriber_stats_t stats;
    log_limit_t lim;
};

/* The events an envelope carries: one WatchEvent or an EventBatch's. */
size_t sub_env_events(const msg_envelope_t *env, msg_event_t *const **out);
/* Pushes env (owned on success). 0, or -1 (full or out of memory). */
int sub_vec_push(envvec_t *v, msg_envelope_t *env, size_t max_events);
void sub_vec_clear(envvec_t *v);
res_t *sub_find_res(subscriber_t *s, const char *name);
void sub_refuse(subscriber_t *s, const char *what, const char *detail);
/* Applies a live event of r: delivered when it is the next seq, skipped
 * when already covered, a gap asks for a replay. */
void sub_apply_live(subscriber_t *s, res_t *r, const msg_event_t *ev);
/* Every event of env, through sub_apply_live, for resource r. */
void sub_apply_env(subscriber_t *s, res_t *r, const msg_envelope_t *env);
/* The live envelopes held while a reply streamed, through sub_apply_env. */
void sub_apply_held_live(subscriber_t *s);
/* Drops the request in flight (fresh DEALER) and moves to next. */
void sub_abort_request(subscriber_t *s, state_t next);

/* subscriber_replay.c */
void sub_request_replay(subscriber_t *s, uint64_t now);
void sub_on_replay_batch(subscriber_t *s, msg_envelope_t *env, uint64_t now);
void sub_on_replay_end(subscriber_t *s, const Kubus__V1__ReplayEnd *end, uint64_t now);
/* A gap (or a refused message) of r: ask for a replay after r->seq. */
void sub_want_replay(subscriber_t *s, res_t *r, const char *why);

#endif
