/* backoff.c - the restart schedule. See backoff.h. */
#include "backoff.h"

#include <signal.h>
#include <sys/wait.h>

unsigned sup_backoff_streak(unsigned streak, uint64_t ready_for_ms)
{
    if (ready_for_ms >= SUP_BACKOFF_STABLE_MS) return 1;
    return streak < 1000000u ? streak + 1 : streak;
}

uint64_t sup_backoff_delay_ms(unsigned streak)
{
    if (streak <= 1) return 0;
    uint64_t d = SUP_BACKOFF_FIRST_MS;
    for (unsigned i = 2; i < streak && d < SUP_BACKOFF_MAX_MS; i++) d *= 2;
    return d < SUP_BACKOFF_MAX_MS ? d : SUP_BACKOFF_MAX_MS;
}

bool sup_backoff_outside_kill(int wait_status, bool sent_by_us)
{
    if (sent_by_us || !WIFSIGNALED(wait_status)) return false;
    int sig = WTERMSIG(wait_status);
    return sig == SIGKILL || sig == SIGTERM;
}
