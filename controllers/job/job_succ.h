/* job_succ.h - a Job's successPolicy, as a pure function.
 *
 * Owns: upstream's success_policy.go matching for Indexed Jobs: rules are
 * tried in order; a rule with succeededIndexes is met when all its
 * indexes succeeded, or (with succeededCount) when at least that many of
 * them did; a rule with only succeededCount is met when that many indexes
 * succeeded in all. A rule whose succeededIndexes selects no index below
 * completions is skipped. Nothing matches before any index succeeded.
 * Borrowed JSON only.
 */
#ifndef KUBUS_JOB_SUCC_H
#define KUBUS_JOB_SUCC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOB_REASON_SUCCESS_POLICY "SuccessPolicy"

/* succ[0..completions): the succeeded indexes. True if a rule of the Job's
 * spec.successPolicy is met, with upstream's message ("Matched rules at
 * index N") in msg. */
bool job_success_policy_met(const json_t *job, const bool *succ, int32_t completions, char *msg, size_t msglen);

#endif
