/* broker.h - kubus-broker's forwarding engine.
 *
 * Owns: the four bound sockets and what flows between them.
 *   events-in (XSUB) -> events (XPUB)     published [topic][envelope], checked
 *   events (XPUB) -> events-in (XSUB)     subscriptions, passed upstream
 *   actions (ROUTER) -> exec (ROUTER)     [ctl-id][env] -> [executor][ctl-id][env]
 *   exec (ROUTER) -> actions (ROUTER)     [executor][ctl-id][env] -> [ctl-id][env]
 * Every envelope is decoded and checked (msg_decode, route.h) and then the
 * received frames themselves are sent on: no re-encoding, no copies. An
 * EventBatch is checked by its header only (batch_header_read: version,
 * epoch, resource, seqs, count against the events' length prefixes, topic),
 * not decoded: a 64 KiB batch costs some hundred varint reads here, and its
 * events are checked one by one by every subscriber that decodes it.
 * High-water marks: BUS_EVENTS_HWM messages on the event sockets (lib/bus.h
 * has the bytes arithmetic), BROKER_HWM on the action paths (one small
 * action or result per message).
 * The executor is "up" while it has been heard from (it heartbeats every
 * second on its DEALER) within BROKER_EXEC_SILENCE_MS; otherwise actions are
 * held in a bounded FIFO (actq.h) and flushed, in order, when it is back.
 */
#ifndef KUBUS_BROKER_BROKER_H
#define KUBUS_BROKER_BROKER_H

#include <stdbool.h>
#include <stdint.h>

#include "actq.h"
#include "bus.h"
#include "log.h"
#include "worker.h"

#define BROKER_HWM 100000
#define BROKER_EXEC_SILENCE_MS 3000u
#define BROKER_STATS_MS 30000u

typedef struct {
    uint64_t events;          /* published messages forwarded to subscribers */
    uint64_t batch_events;    /* events inside the batches among them */
    uint64_t subscriptions;   /* subscription changes passed upstream */
    uint64_t actions;         /* actions handed to the executor */
    uint64_t results;         /* results and reports handed to controllers */
    uint64_t malformed;       /* refused: undecodable or mis-addressed */
    uint64_t queued;          /* actions that had to wait for the executor */
    uint64_t undeliverable;   /* results whose controller was not connected */
} broker_counters_t;

typedef struct {
    void *xsub, *xpub, *actions, *exec;
    broker_actq_t held;
    broker_counters_t c;
    bool exec_up;
    uint64_t exec_seen_ms;    /* monotonic ms of the last valid executor message */
    uint64_t next_stats_ms;
    log_limit_t bad_log;
    int lock_fd;              /* flock on <bus-dir>/broker.lock; -1 for tcp */
} broker_t;

/* Creates and binds the sockets. 0, or -1 after logging why. */
int broker_open(broker_t *b, void *zctx, const bus_config_t *bus);
void broker_close(broker_t *b);
/* The main loop; returns the exit code when worker_tick says stop. */
int broker_run(broker_t *b, worker_t *w);
/* The number reported as heartbeat progress: everything forwarded. */
uint64_t broker_progress(const broker_t *b);

#endif
