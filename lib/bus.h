/* bus.h - the ZeroMQ bus: endpoint names, topics, and sending/receiving envelopes.
 *
 * Owns: where every socket lives and how frames are laid out.
 *
 * Sockets (all bound by the broker except SNAPSHOT, bound by the informer):
 *   BUS_EP_EVENTS_IN  XSUB  publishers (informer, executor) connect PUB here
 *   BUS_EP_EVENTS     XPUB  subscribers (controllers) connect SUB here
 *   BUS_EP_ACTIONS    ROUTER controllers connect DEALER (routing id "<controller>.<shard>")
 *   BUS_EP_EXEC       ROUTER the executor connects DEALER (routing id "executor")
 *   BUS_EP_SNAPSHOT   ROUTER (informer) subscribers connect DEALER for snapshots
 *
 * Frames:
 *   publish streams:   [topic][envelope]
 *   controller->broker: [envelope]                  (DEALER adds nothing)
 *   broker->executor:   [controller-id][envelope]
 *   executor->broker:   [controller-id][envelope]   (results, inflight reports)
 *   broker->controller: [envelope]
 *
 * Topics (ZeroMQ prefix matching):
 *   "E/<resource>/"               EventBatch: the informer's live events
 *   "E/<resource>/<namespace>/"   a single WatchEvent ("E/nodes//" for cluster
 *                                 scope): older publishers, kubus-bench-pub's
 *                                 unbatched mode
 *   "H/informer"                  InformerStatus heartbeats
 *   "H/executor"                  ExecutorStatus heartbeats
 * A subscriber takes a whole resource with "E/pods/". A batch holds events
 * of many namespaces, so a per-namespace subscription ("E/pods/default/")
 * no longer sees the informer's events: filter after decoding instead.
 *
 * High-water marks: ZMQ_SNDHWM/RCVHWM count messages, not bytes. The event
 * pipes carry batches of at most BATCH_MAX_BYTES (64 KiB, lib/batch.h), so
 * BUS_EVENTS_HWM = BUS_PIPE_BYTES / BATCH_MAX_BYTES = 256 MiB / 64 KiB =
 * 4096 messages bounds a pipe of full batches to 256 MiB. A message is
 * bigger than a batch only when it is one object bigger than 64 KiB, so the
 * hard bound is 4096 x that object (objects are <= 1.5 MiB in etcd, frames
 * <= MSG_MAX_BYTES); the old 100,000 single events per pipe had no bytes
 * bound at all (~100 MiB of 1 KiB objects, 10x that of 10 KiB ones). Small
 * batches (quiet periods: one event per loop turn) hold fewer bytes per
 * slot; 4096 of them still queue 4096 events. Every event pipe is bounded
 * so: informer PUB -> broker XSUB, broker XPUB -> each subscriber, and each
 * subscriber's SUB (BUS_SUB_RCVHWM). Why 256 MiB: a subscriber that lags
 * holds a burst in the broker's pipe plus its own; 2 x 64 MiB dropped a
 * 200,000-event burst of 1 KiB pods (220 MiB, kubus-bench-pub) even for a
 * subscriber that keeps up on average, 2 x 256 MiB absorbs it.
 * Every receiving socket also refuses (disconnects) a peer that sends a
 * frame above its ZMQ_MAXMSGSIZE: MSG_MAX_BYTES on the event and action
 * paths, BUS_REQUEST_MAX_BYTES on the informer's snapshot ROUTER,
 * BUS_TOPIC_MAX + 1 for subscriptions at the broker's XPUB.
 *
 * Endpoints are ipc:// sockets in the bus directory (created 0700, so only
 * the service user can connect) unless a tcp base is configured, in which
 * case endpoint i is tcp://HOST:(PORT+i).
 */
#ifndef KUBUS_BUS_H
#define KUBUS_BUS_H

#include <stdbool.h>
#include <stddef.h>

#include "batch.h"
#include "msg.h"

typedef enum {
    BUS_EP_EVENTS_IN = 0,
    BUS_EP_EVENTS = 1,
    BUS_EP_ACTIONS = 2,
    BUS_EP_EXEC = 3,
    BUS_EP_SNAPSHOT = 4,
    BUS_EP_COUNT
} bus_endpoint_t;

#define BUS_TOPIC_INFORMER "H/informer"
#define BUS_TOPIC_EXECUTOR "H/executor"
#define BUS_EXECUTOR_ID "executor"
#define BUS_TOPIC_MAX 512
#define BUS_ID_MAX 256
#define BUS_PIPE_BYTES (256u * 1024u * 1024u)
#define BUS_EVENTS_HWM ((int)(BUS_PIPE_BYTES / BATCH_MAX_BYTES)) /* 4096, see above */
#define BUS_SUB_RCVHWM BUS_EVENTS_HWM
#define BUS_REQUEST_MAX_BYTES (64u * 1024u) /* a SnapshotRequest or ReplayRequest */

typedef struct {
    char dir[256];        /* ipc directory; used when tcp_host is empty */
    char tcp_host[64];    /* non-empty: use tcp://tcp_host:tcp_port+i */
    int tcp_port;
} bus_config_t;

/* Fills cfg from a --bus-dir value or a "tcp://host:port" base. 0 or -1. */
int bus_config_parse(bus_config_t *cfg, const char *spec);
/* Creates the ipc directory with mode 0700, or checks an existing one
 * (trusted.h: not a symbolic link, ours, 0700). No-op for tcp. 0, or -1
 * with a message in err (errno set). */
int bus_dir_prepare(const bus_config_t *cfg, char *err, size_t errlen);
/* Opens (flags, O_CREAT makes it 0600) the file name in the ipc directory,
 * both checked as trusted.h says: a lock file of the bus. fd, or -1 with a
 * message in err. */
int bus_open_file(const bus_config_t *cfg, const char *name, int flags, char *err, size_t errlen);
/* Writes the ZeroMQ endpoint string for ep into out. 0 or -1 if too long. */
int bus_endpoint(const bus_config_t *cfg, bus_endpoint_t ep, char *out, size_t outlen);
/* "events-in", "snapshot", ... ("?" out of range): for messages. */
const char *bus_endpoint_name(bus_endpoint_t ep);

/* Creates a socket of type, sets sane options (linger 0, no fd inheritance
 * is zmq's default since 4.x: ZMQ_IPV6 off; ZMQ_MAXMSGSIZE MSG_MAX_BYTES),
 * binds or connects it. NULL on error. */
void *bus_open(void *zctx, int type, const bus_config_t *cfg, bus_endpoint_t ep, bool bind);
/* The same for the informer's side of the event stream: sndhwm (0:
 * unlimited, < 0: zmq's default) and, for a ROUTER, ROUTER_MANDATORY (a
 * reply to a vanished peer fails with EHOSTUNREACH instead of being dropped
 * without a word) and ZMQ_MAXMSGSIZE BUS_REQUEST_MAX_BYTES (it only takes
 * requests). */
void *bus_open_server(void *zctx, int type, const bus_config_t *cfg, bus_endpoint_t ep, bool bind, int sndhwm);
/* Sets ZMQ_MAXMSGSIZE (before connect/bind: a pipe takes it when made).
 * 0 or -1. */
int bus_limit_inbound(void *sock, size_t max_bytes);

/* Topic builders; return the length written or -1 if it would not fit. */
int bus_topic_event(char *out, size_t outlen, const char *resource, const char *ns);
int bus_topic_resource(char *out, size_t outlen, const char *resource);

/* Sends [topic?][envelope] (topic NULL: no topic frame). 0, -1 on error
 * (EAGAIN counted as drop when dontwait). */
int bus_send(void *sock, const char *topic, const msg_envelope_t *env, bool dontwait);
/* Sends [id][envelope] on a ROUTER, or through the broker's exec path. */
int bus_send_to(void *sock, const char *id, const msg_envelope_t *env, bool dontwait);
/* Sends pre-encoded bytes (used when forwarding). */
int bus_send_raw(void *sock, const char *first_frame, const void *data, size_t len, bool dontwait);

/* Receives one multipart message. The last frame is decoded as an envelope;
 * the frame before it (if any) is copied into prefix (topic or routing id,
 * NUL-terminated, truncated to prefixlen). Returns the envelope, or NULL:
 * errno EAGAIN when nothing was ready (dontwait), EPROTO when a message was
 * read but refused (reason in err). A refused message is fully consumed. */
msg_envelope_t *bus_recv(void *sock, char *prefix, size_t prefixlen, bool dontwait,
                         char *err, size_t errlen);

#endif
