/* ratelimit.h - the client-side token bucket in front of the API server.
 *
 * Owns: --kube-api-qps / --kube-api-burst semantics, as client-go's
 * flowcontrol token bucket has them: the bucket starts full with `burst`
 * tokens, refills continuously at `qps` tokens per second up to `burst`, and
 * every request takes one token. qps <= 0 means no limit at all.
 *
 * Time is passed in (monotonic nanoseconds) so the bucket is a pure function
 * of its inputs and testable without sleeping. O(1) per call.
 */
#ifndef KUBUS_EXECUTOR_RATELIMIT_H
#define KUBUS_EXECUTOR_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    double qps;        /* tokens per second; <= 0: unlimited */
    double burst;      /* capacity, >= 1 */
    double tokens;     /* current level, 0..burst */
    uint64_t last_ns;  /* when `tokens` was last brought up to date */
} ratelimit_t;

/* burst < 1 is treated as 1 (a bucket that can never hold a token would
 * stall every request forever). */
void ratelimit_init(ratelimit_t *rl, double qps, int burst, uint64_t now_ns);
bool ratelimit_unlimited(const ratelimit_t *rl);
/* Takes one token if one is available now. */
bool ratelimit_try_take(ratelimit_t *rl, uint64_t now_ns);
/* Nanoseconds until a token will be available (0: one is available now). */
uint64_t ratelimit_wait_ns(ratelimit_t *rl, uint64_t now_ns);

#endif
