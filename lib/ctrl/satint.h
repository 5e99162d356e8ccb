/* satint.h - saturating int64 arithmetic on values users set.
 *
 * Owns: sat_add64, sat_sub64, sat_mul64 and sat_ms (seconds to ms) for the
 * fields the API server accepts up to the int64 limits and controllers
 * compute with: deletionGracePeriodSeconds, activeDeadlineSeconds and
 * startingDeadlineSeconds in ms, revisions + 1. Signed overflow is undefined
 * behaviour in C; these clamp to INT64_MIN / INT64_MAX instead, which for a
 * deadline means "never" and for a revision "the last one" (upstream's Go
 * wraps around to a negative number there, which helps nobody).
 */
#ifndef KUBUS_CTRL_SATINT_H
#define KUBUS_CTRL_SATINT_H

#include <stdint.h>

static inline int64_t sat_add64(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

static inline int64_t sat_sub64(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r)) return b < 0 ? INT64_MAX : INT64_MIN;
    return r;
}

static inline int64_t sat_mul64(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r)) return (a < 0) != (b < 0) ? INT64_MIN : INT64_MAX;
    return r;
}

/* Seconds to milliseconds. */
static inline int64_t sat_ms(int64_t s) { return sat_mul64(s, 1000); }

#endif
