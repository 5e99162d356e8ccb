/* linkwatch.h - has a connecting socket's link to its peer been made again?
 *
 * Owns: a ZeroMQ socket monitor on one connecting socket (a controller's
 * actions DEALER towards the broker) and the rule that reads it: the first
 * completed handshake is the link coming up; every later one follows a lost
 * connection, and what was sent before it may have died with the peer. A
 * SIGKILLed broker takes the actions it was holding or forwarding and the
 * results on their way back; without this the controller would notice only
 * by its 30 s re-send timer.
 *
 * Install it before connecting the socket, or the first handshake may be
 * missed and the first reconnect taken for it.
 */
#ifndef KUBUS_CTRL_LINKWATCH_H
#define KUBUS_CTRL_LINKWATCH_H

typedef struct linkwatch linkwatch_t;

/* Monitors sock (not yet connected) in zctx. NULL on error (logged). */
linkwatch_t *linkwatch_new(void *zctx, void *sock);
/* Stops monitoring; call before closing the monitored socket. */
void linkwatch_destroy(linkwatch_t **lw);
/* The socket to poll for ZMQ_POLLIN. */
void *linkwatch_socket(const linkwatch_t *lw);
/* Reads the monitor's pending events; returns how many times the link was
 * made again since the last call (0: none). */
int linkwatch_process(linkwatch_t *lw);

#endif
