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
 *   "E/<resource>/<namespace>/"   watch events ("E/nodes//" for cluster scope)
 *   "H/informer"                  InformerStatus heartbeats
 *   "H/executor"                  ExecutorStatus heartbeats
 * A subscriber takes a whole resource with "E/pods/", one namespace with
 * "E/pods/default/".
 *
 * Endpoints are ipc:// sockets in the bus directory (created 0700, so only
 * the service user can connect) unless a tcp base is configured, in which
 * case endpoint i is tcp://HOST:(PORT+i).
 */
#ifndef KUBUS_BUS_H
#define KUBUS_BUS_H

#include <stdbool.h>
#include <stddef.h>

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

typedef struct {
    char dir[256];        /* ipc directory; used when tcp_host is empty */
    char tcp_host[64];    /* non-empty: use tcp://tcp_host:tcp_port+i */
    int tcp_port;
} bus_config_t;

/* Fills cfg from a --bus-dir value or a "tcp://host:port" base. 0 or -1. */
int bus_config_parse(bus_config_t *cfg, const char *spec);
/* Creates the ipc directory with mode 0700 (and checks an existing one is
 * ours and not group/world accessible). No-op for tcp. 0 or -1 with errno. */
int bus_dir_prepare(const bus_config_t *cfg);
/* Writes the ZeroMQ endpoint string for ep into out. 0 or -1 if too long. */
int bus_endpoint(const bus_config_t *cfg, bus_endpoint_t ep, char *out, size_t outlen);
/* "events-in", "snapshot", ... ("?" out of range): for messages. */
const char *bus_endpoint_name(bus_endpoint_t ep);

/* Creates a socket of type, sets sane options (linger 0, no fd inheritance
 * is zmq's default since 4.x: ZMQ_IPV6 off), binds or connects it. NULL on error. */
void *bus_open(void *zctx, int type, const bus_config_t *cfg, bus_endpoint_t ep, bool bind);
/* The same for the informer's side of the event stream: sndhwm (0:
 * unlimited, < 0: zmq's default) and, for a ROUTER, ROUTER_MANDATORY (a
 * reply to a vanished peer fails with EHOSTUNREACH instead of being dropped
 * without a word). */
void *bus_open_server(void *zctx, int type, const bus_config_t *cfg, bus_endpoint_t ep, bool bind, int sndhwm);

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
