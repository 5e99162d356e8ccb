/* ttl_core.h - the TTL-after-finished controller's decisions, pure.
 *
 * Owns: upstream ttlafterfinished's rules: a Job needs cleanup when
 * spec.ttlSecondsAfterFinished is set and a Complete or Failed condition
 * is True; it finished at that condition's lastTransitionTime and expires
 * ttlSecondsAfterFinished seconds later. Borrowed JSON only.
 */
#ifndef KUBUS_TTL_CORE_H
#define KUBUS_TTL_CORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* TTL set and the Job finished (Complete or Failed True). */
bool ttl_needs_cleanup(const json_t *job);
/* The finish time (unix seconds) of a finished Job: the lastTransitionTime
 * of its first True Complete/Failed condition. 0, or -1 if there is none
 * or it does not parse. */
int ttl_finish_time(const json_t *job, int64_t *finish_sec);
/* Ms until the Job expires (<= 0: expired). 0 and *left_ms, or -1 when the
 * Job does not need cleanup or has no usable finish time. */
int ttl_time_left_ms(const json_t *job, int64_t now_ms, int64_t *left_ms);

#endif
