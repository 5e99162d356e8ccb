/* linkwatch.c - counting reconnects of a monitored socket. See linkwatch.h.
 * A monitor event is two frames: 6 bytes (uint16 event, uint32 value, host
 * order) and the peer's endpoint. */
#include "ctrl/linkwatch.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "log.h"

#define LINKWATCH_EVENTS ZMQ_EVENT_HANDSHAKE_SUCCEEDED

struct linkwatch {
    void *sock;        /* the monitored socket (not ours) */
    void *mon;         /* PAIR connected to its monitor endpoint */
    unsigned handshakes;
};

linkwatch_t *linkwatch_new(void *zctx, void *sock)
{
    linkwatch_t *lw = calloc(1, sizeof *lw);
    if (!lw) return NULL;
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://kubus-linkwatch-%p", (void *)lw);   /* unique per watch */
    int zero = 0;
    lw->sock = sock;
    if (zmq_socket_monitor(sock, ep, LINKWATCH_EVENTS) < 0 || !(lw->mon = zmq_socket(zctx, ZMQ_PAIR)) ||
        zmq_setsockopt(lw->mon, ZMQ_LINGER, &zero, sizeof zero) < 0 || zmq_connect(lw->mon, ep) < 0) {
        LOGE("cannot monitor the connection to the broker", "error", zmq_strerror(errno));
        linkwatch_destroy(&lw);
    }
    return lw;
}

void linkwatch_destroy(linkwatch_t **lwp)
{
    if (!lwp || !*lwp) return;
    linkwatch_t *lw = *lwp;
    if (lw->sock) zmq_socket_monitor(lw->sock, NULL, 0);
    if (lw->mon) zmq_close(lw->mon);
    free(lw);
    *lwp = NULL;
}

void *linkwatch_socket(const linkwatch_t *lw) { return lw ? lw->mon : NULL; }

/* One event, or -1 when none is pending. */
static int next_event(linkwatch_t *lw)
{
    zmq_msg_t head, addr;
    zmq_msg_init(&head);
    if (zmq_msg_recv(&head, lw->mon, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&head);
        return -1;
    }
    uint16_t ev = 0;
    if (zmq_msg_size(&head) >= sizeof ev) memcpy(&ev, zmq_msg_data(&head), sizeof ev);
    bool more = zmq_msg_more(&head);
    zmq_msg_close(&head);
    if (more) {   /* the endpoint frame: not needed */
        zmq_msg_init(&addr);
        zmq_msg_recv(&addr, lw->mon, ZMQ_DONTWAIT);
        zmq_msg_close(&addr);
    }
    return ev;
}

int linkwatch_process(linkwatch_t *lw)
{
    int again = 0, ev;
    while (lw && (ev = next_event(lw)) >= 0) {
        if (ev != LINKWATCH_EVENTS) continue;
        if (lw->handshakes++ > 0) again++;
    }
    return again;
}
