/* job_pfp.h - a Job's podFailurePolicy, as pure functions.
 *
 * Owns: upstream's pod_failure_policy.go: checking spec.podFailurePolicy
 * and matching a failed pod against its rules, first match wins:
 *   - onExitCodes: the first terminated container (regular ones, then init
 *     containers), optionally only the one named containerName, whose
 *     non-zero exit code is In / NotIn the values;
 *   - onPodConditions: a pod condition with the pattern's type and status
 *     (status defaults to "True", as the API server defaults it);
 *   - the action: FailJob (the Job fails with reason PodFailurePolicy and
 *     upstream's message), Ignore (not counted against backoffLimit),
 *     Count (counted, as without a rule), FailIndex (counted, and the
 *     pod's index fails at once: job_bpi.h; only with backoffLimitPerIndex).
 * A pod no rule matches is counted. Borrowed JSON only.
 */
#ifndef KUBUS_JOB_PFP_H
#define KUBUS_JOB_PFP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* API limits (pkg/apis/batch/validation) */
#define JOB_PFP_MAX_RULES 20
#define JOB_PFP_MAX_VALUES 255
#define JOB_PFP_MAX_PATTERNS 20

typedef enum {
    JOB_PFP_NO_MATCH = 0,
    JOB_PFP_IGNORE,
    JOB_PFP_COUNT,
    JOB_PFP_FAIL_JOB,
    JOB_PFP_FAIL_INDEX,
} job_pfp_action_t;

typedef struct {
    job_pfp_action_t action;   /* of the matching rule, or JOB_PFP_NO_MATCH */
    bool count_failed;         /* counts against backoffLimit (false only for Ignore) */
    char message[512];         /* FailJob: the Job's failure message; else "" */
} job_pfp_match_t;

/* The Job has a spec.podFailurePolicy. */
bool job_pfp_present(const json_t *job);
/* Checks spec.podFailurePolicy's shape as API validation would (known
 * actions and operators, FailIndex only with backoffLimitPerIndex, one
 * requirement per rule, the limits). 0 (also
 * without a policy), or -1 with the reason in err. */
int job_pfp_check(const json_t *job, char *err, size_t errlen);
/* Matches the failed pod against the Job's rules into *out. */
void job_pfp_match(const json_t *job, const json_t *pod, job_pfp_match_t *out);

#endif
