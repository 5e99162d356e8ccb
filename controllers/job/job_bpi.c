/* job_bpi.c - a Job's backoffLimitPerIndex. See job_bpi.h. */
#include "job_bpi.h"

#include "ctrl/kobj.h"
#include "job_pfp.h"

/* The count s holds; *ok false (and 0) when it holds none. */
static int32_t parse_count(const char *s, bool *ok)
{
    *ok = false;
    if (!s) return 0;
    bool neg = *s == '-';
    if (*s == '+' || *s == '-') s++;
    if (!*s) return 0;
    int64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return 0;
        /* past MaxInt32 the value reads 0 anyway: stop growing, keep checking digits */
        if (v <= INT32_MAX) v = v * 10 + (*s - '0');
    }
    if ((neg && v != 0) || v > INT32_MAX) return 0;
    *ok = true;
    return (int32_t)v;
}

int32_t job_bpi_parse_count(const char *s)
{
    bool ok;
    return parse_count(s, &ok);
}

static bool readable(const char *s)
{
    bool ok;
    (void)parse_count(s, &ok);
    return !s || ok;
}

bool job_pod_index_counts_readable(const json_t *pod)
{
    return readable(kobj_annotation(pod, JOB_INDEX_FAILURE_COUNT_KEY)) &&
           readable(kobj_annotation(pod, JOB_INDEX_IGNORED_FAILURE_COUNT_KEY));
}

int32_t job_pod_index_failures(const json_t *pod)
{
    return job_bpi_parse_count(kobj_annotation(pod, JOB_INDEX_FAILURE_COUNT_KEY));
}

int32_t job_pod_index_ignored_failures(const json_t *pod)
{
    return job_bpi_parse_count(kobj_annotation(pod, JOB_INDEX_IGNORED_FAILURE_COUNT_KEY));
}

/* Failures and ignored failures together, in 64 bits (two int32 may not fit one). */
static int64_t total_count(const json_t *pod)
{
    return (int64_t)job_pod_index_failures(pod) + job_pod_index_ignored_failures(pod);
}

bool job_pod_fails_index(const json_t *job, const job_spec_t *spec, const json_t *pod)
{
    if (!spec->has_bpi || !job_pod_failed(pod, spec->only_replace_failed)) return false;
    if (spec->has_pfp) {
        job_pfp_match_t m;
        job_pfp_match(job, pod, &m);
        if (m.action == JOB_PFP_FAIL_INDEX) return true;
        if (!m.count_failed) return false;
    }
    return job_pod_index_failures(pod) >= spec->backoff_limit_per_index;
}

static int32_t plus_one(int32_t v) { return v < INT32_MAX ? v + 1 : INT32_MAX; }

void job_bpi_replacement_counts(const json_t *job, const job_spec_t *spec, const json_t *replaced, int32_t *failures,
                                int32_t *ignored)
{
    *failures = *ignored = 0;
    if (!replaced) return;
    *failures = job_pod_index_failures(replaced);
    *ignored = job_pod_index_ignored_failures(replaced);
    bool counted = true;
    if (spec->has_pfp) {
        job_pfp_match_t m;
        job_pfp_match(job, replaced, &m);
        counted = m.count_failed;
    }
    if (counted) *failures = plus_one(*failures);
    else *ignored = plus_one(*ignored);
}

bool job_bpi_delay_prefer(const json_t *kept, const json_t *cand)
{
    if (!kept) return true;
    return total_count(kept) <= total_count(cand) && job_pod_finish_ms(cand) >= job_pod_finish_ms(kept);
}

int64_t job_bpi_backoff_remaining_ms(const json_t *last_failed, int64_t now_ms)
{
    if (!last_failed) return 0;
    int64_t n = total_count(last_failed) + 1;
    job_backoff_t b = { .failures = n > INT32_MAX ? INT32_MAX : (int32_t)n,
                        .last_failure_ms = job_pod_finish_ms(last_failed) };
    return job_backoff_remaining_ms(&b, now_ms);
}

const char *job_bpi_failure(const job_spec_t *spec, int32_t n_failed, int32_t n_succeeded, const char **message)
{
    *message = NULL;
    if (!spec->has_bpi) return NULL;
    if (spec->has_max_failed && n_failed > spec->max_failed_indexes) {
        *message = JOB_MSG_MAX_FAILED_INDEXES;
        return JOB_REASON_MAX_FAILED_INDEXES;
    }
    if (n_failed > 0 && (int64_t)n_failed + n_succeeded >= spec->completions) {
        *message = JOB_MSG_FAILED_INDEXES;
        return JOB_REASON_FAILED_INDEXES;
    }
    return NULL;
}
