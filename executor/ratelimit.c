/* ratelimit.c - token bucket. See ratelimit.h. */
#include "ratelimit.h"

#include <math.h>

/* Float refill of exactly the computed wait can land a hair under 1.0. */
#define TOKEN_EPSILON 1e-9

void ratelimit_init(ratelimit_t *rl, double qps, int burst, uint64_t now_ns)
{
    rl->qps = qps;
    rl->burst = burst < 1 ? 1.0 : (double)burst;
    rl->tokens = rl->burst;
    rl->last_ns = now_ns;
}

bool ratelimit_unlimited(const ratelimit_t *rl) { return !(rl->qps > 0); }

/* Brings the level up to date. A clock that went backwards refills nothing
 * (and does not make `last_ns` jump back, which would refill twice). */
static void refill(ratelimit_t *rl, uint64_t now_ns)
{
    if (now_ns <= rl->last_ns) return;
    double elapsed = (double)(now_ns - rl->last_ns) / 1e9;
    rl->tokens = fmin(rl->burst, rl->tokens + elapsed * rl->qps);
    rl->last_ns = now_ns;
}

bool ratelimit_try_take(ratelimit_t *rl, uint64_t now_ns)
{
    if (ratelimit_unlimited(rl)) return true;
    refill(rl, now_ns);
    if (rl->tokens < 1.0 - TOKEN_EPSILON) return false;
    rl->tokens = fmax(0.0, rl->tokens - 1.0);
    return true;
}

uint64_t ratelimit_wait_ns(ratelimit_t *rl, uint64_t now_ns)
{
    if (ratelimit_unlimited(rl)) return 0;
    refill(rl, now_ns);
    if (rl->tokens >= 1.0 - TOKEN_EPSILON) return 0;
    /* Round up so a caller sleeping this long finds the token there. */
    return (uint64_t)ceil((1.0 - rl->tokens) / rl->qps * 1e9);
}
