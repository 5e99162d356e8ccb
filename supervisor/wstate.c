/* wstate.c - worker life-cycle transitions. See wstate.h. */
#include "wstate.h"

int sup_wstate_next(sup_wstate_t s, sup_wevent_t ev)
{
    switch (s) {
    case SUP_W_DOWN:
        if (ev == SUP_EV_SPAWNED) return SUP_W_STARTING;
        if (ev == SUP_EV_SPAWN_FAILED) return SUP_W_BACKOFF;
        return -1;
    case SUP_W_STARTING:
        if (ev == SUP_EV_READY) return SUP_W_UP;
        if (ev == SUP_EV_EXITED) return SUP_W_BACKOFF;
        if (ev == SUP_EV_HUNG || ev == SUP_EV_STOP) return SUP_W_DYING;
        return -1;
    case SUP_W_UP:
        if (ev == SUP_EV_EXITED) return SUP_W_BACKOFF;
        if (ev == SUP_EV_HUNG || ev == SUP_EV_STOP) return SUP_W_DYING;
        return -1;
    case SUP_W_DYING:
        if (ev == SUP_EV_EXITED) return SUP_W_BACKOFF;
        return -1;
    case SUP_W_BACKOFF:
        if (ev == SUP_EV_BACKOFF_DONE || ev == SUP_EV_STOP) return SUP_W_DOWN;
        return -1;
    case SUP_W_ABSENT:
    default:
        return -1;
    }
}

const char *sup_wstate_name(sup_wstate_t s)
{
    static const char *names[] = { "absent", "down", "starting", "up", "dying", "backoff" };
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

int sup_wstate_running(sup_wstate_t s)
{
    return s == SUP_W_STARTING || s == SUP_W_UP || s == SUP_W_DYING;
}
