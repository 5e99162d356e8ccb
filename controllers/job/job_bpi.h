/* job_bpi.h - a Job's backoffLimitPerIndex, as pure functions.
 *
 * Owns: upstream's per-index failure accounting for Indexed Jobs
 * (indexed_job_utils.go, backoff_utils.go):
 *   - the failure counts a pod carries in its annotations
 *     (JOB_INDEX_FAILURE_COUNT_KEY, JOB_INDEX_IGNORED_FAILURE_COUNT_KEY):
 *     a missing, non-numeric, negative or above-int32 value reads as 0,
 *     as upstream's parseInt32 (it is user-writable: never trusted);
 *   - whether a failed pod fails its index: a podFailurePolicy FailIndex
 *     rule, or a counted failure (not Ignore) of a pod whose count already
 *     reached backoffLimitPerIndex;
 *   - the counts the replacement of a failed pod carries (one more failure,
 *     or one more ignored failure);
 *   - which failed pod of an index keeps its tracking finalizer until the
 *     replacement exists (so the replacement can read its counts);
 *   - the per-index back-off before the replacement (the Job-wide 10 s
 *     doubling, from that pod's counts and finish time);
 *   - the Job's failure by its failed indexes (reasons and messages).
 * Borrowed JSON only.
 */
#ifndef KUBUS_JOB_BPI_H
#define KUBUS_JOB_BPI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "job_core.h"

#define JOB_REASON_MAX_FAILED_INDEXES "MaxFailedIndexesExceeded"
#define JOB_MSG_MAX_FAILED_INDEXES "Job has exceeded the specified maximal number of failed indexes"
#define JOB_REASON_FAILED_INDEXES "FailedIndexes"
#define JOB_MSG_FAILED_INDEXES "Job has failed indexes"

/* upstream parseInt32: an optional sign and decimal digits within
 * 0..MaxInt32, else 0 (NULL included). */
int32_t job_bpi_parse_count(const char *s);
/* The pod's failure count, ignored failure count (annotations, parsed as above). */
int32_t job_pod_index_failures(const json_t *pod);
int32_t job_pod_index_ignored_failures(const json_t *pod);
/* Both annotations are absent or hold a count (else they read 0: worth a warning). */
bool job_pod_index_counts_readable(const json_t *pod);

/* upstream isIndexFailed: pod has failed (job_pod_failed) and either
 * matches a FailIndex rule or is a counted failure whose failure count
 * reached spec->backoff_limit_per_index. */
bool job_pod_fails_index(const json_t *job, const job_spec_t *spec, const json_t *pod);

/* upstream getNewIndexFailureCounts: the counts of the pod replacing
 * replaced (NULL: none, 0 and 0). An ignored failure raises the ignored
 * count, any other the failure count; each stops at MaxInt32 (upstream's
 * int32 would wrap to a negative value, which then reads as 0). */
void job_bpi_replacement_counts(const json_t *job, const job_spec_t *spec, const json_t *replaced, int32_t *failures,
                                int32_t *ignored);

/* upstream getPodsWithDelayedDeletionPerIndex's choice among the failed
 * pods of one index: cand replaces kept (NULL: none yet) when its total
 * count is at least kept's and it finished no earlier. */
bool job_bpi_delay_prefer(const json_t *kept, const json_t *cand);

/* upstream getRemainingTimePerIndex: ms before the index of last_failed
 * (the pod whose deletion is delayed; NULL: 0) may get a replacement, with
 * failures = its total count + 1 from its finish time. */
int64_t job_bpi_backoff_remaining_ms(const json_t *last_failed, int64_t now_ms);

/* The failure reason the failed indexes give the Job (with its message
 * in *message), or NULL: MaxFailedIndexesExceeded when more than
 * maxFailedIndexes failed, else FailedIndexes when some failed and every
 * index has either succeeded or failed. */
const char *job_bpi_failure(const job_spec_t *spec, int32_t n_failed, int32_t n_succeeded, const char **message);

#endif
