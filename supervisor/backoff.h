/* backoff.h - when to restart a worker that exited (pure functions).
 *
 * Owns: the restart schedule. A worker's "streak" counts its exits since it
 * last stayed up (ready) for SUP_BACKOFF_STABLE_MS. The first exit of a
 * streak restarts at once; later ones wait 0.1 s, 0.2 s, 0.4 s ... capped at
 * 30 s. A run that stayed ready for 10 s or more starts a new streak.
 *
 * A SIGKILL or SIGTERM that the supervisor did not send is somebody else's
 * decision (an operator, a chaos test, the OOM killer), not the worker failing
 * on its own: it restarts at once and does not grow the streak. Otherwise a
 * worker whose peers are being killed too (so it cannot get ready) would be
 * held back for up to 30 s by deaths that were never its fault. Crash loops
 * (non-zero exits, crash signals) and hangs the supervisor killed are throttled.
 */
#ifndef KUBUS_SUP_BACKOFF_H
#define KUBUS_SUP_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

#define SUP_BACKOFF_FIRST_MS 100u
#define SUP_BACKOFF_MAX_MS 30000u
#define SUP_BACKOFF_STABLE_MS 10000u

/* The streak after an exit: 1 if the run stayed ready >= 10 s, else streak+1. */
unsigned sup_backoff_streak(unsigned streak, uint64_t ready_for_ms);
/* Delay before the restart that follows exit number `streak` (>= 1) of a
 * streak: 0, 100, 200, 400 ... 30000 ms. */
uint64_t sup_backoff_delay_ms(unsigned streak);

/* True when a wait status is a kill from outside (see above). sent_by_us:
 * the supervisor itself signalled this worker (stop or hang). */
bool sup_backoff_outside_kill(int wait_status, bool sent_by_us);

#endif
