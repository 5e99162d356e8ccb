/* wstate.h - the life cycle of one supervised worker (s6-supervise style).
 *
 * Owns: the states and which event moves a worker from one to the next. The
 * supervisor loop performs the side effects (fork, signals, timers); this
 * file only decides, so the rules can be read and tested in one place.
 *
 *   ABSENT    its binary is not installed: never started (re-checked on SIGHUP)
 *   DOWN      not running, may be started
 *   STARTING  spawned, no READY heartbeat yet
 *   UP        reported READY
 *   DYING     SIGTERM (stop) or SIGKILL (hung) sent, waiting for the exit
 *   BACKOFF   exited; waiting out the restart delay
 *
 *   DOWN     --spawned--> STARTING     DOWN --spawn failed--> BACKOFF
 *   STARTING --ready-->   UP
 *   STARTING, UP --exited--> BACKOFF   --hung / stop--> DYING
 *   DYING    --exited-->  BACKOFF
 *   BACKOFF  --delay over / stop--> DOWN
 */
#ifndef KUBUS_SUP_WSTATE_H
#define KUBUS_SUP_WSTATE_H

typedef enum {
    SUP_W_ABSENT = 0,
    SUP_W_DOWN,
    SUP_W_STARTING,
    SUP_W_UP,
    SUP_W_DYING,
    SUP_W_BACKOFF,
} sup_wstate_t;

typedef enum {
    SUP_EV_SPAWNED = 0,
    SUP_EV_SPAWN_FAILED,
    SUP_EV_READY,
    SUP_EV_EXITED,
    SUP_EV_HUNG,
    SUP_EV_STOP,
    SUP_EV_BACKOFF_DONE,
} sup_wevent_t;

/* The state after ev, or -1 when ev means nothing in state s (ignored). */
int sup_wstate_next(sup_wstate_t s, sup_wevent_t ev);
/* "absent", "down", "starting", "up", "dying", "backoff". */
const char *sup_wstate_name(sup_wstate_t s);
/* A process exists for the worker in this state. */
int sup_wstate_running(sup_wstate_t s);

#endif
