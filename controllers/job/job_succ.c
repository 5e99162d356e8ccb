/* job_succ.c - a Job's successPolicy. See job_succ.h. */
#include <stdio.h>
#include <stdlib.h>

#include "job_core.h"
#include "job_succ.h"

/* One rule with succeededIndexes: how many of its indexes succeeded
 * against how many it names (within completions). */
static bool indexes_rule_met(const char *indexes, const json_t *count, const bool *succ, int32_t completions,
                             bool *empty)
{
    bool *want = calloc((size_t)completions, sizeof *want);
    *empty = true;
    if (!want) return false;
    /* a malformed string selects what parsed before the error, as upstream's parser keeps its prefix */
    (void)job_indexes_parse(indexes, want, completions);
    int64_t named = 0, done = 0;
    for (int32_t i = 0; i < completions; i++) {
        named += want[i];
        done += want[i] && succ[i];
    }
    free(want);
    *empty = named == 0;
    if (*empty) return false;
    return done == named || (json_is_integer(count) && done >= json_integer_value(count));
}

bool job_success_policy_met(const json_t *job, const bool *succ, int32_t completions, char *msg, size_t msglen)
{
    const json_t *rules = json_object_get(json_object_get(json_object_get(job, "spec"), "successPolicy"), "rules");
    if (msglen) *msg = '\0';
    if (!json_is_array(rules) || completions <= 0 || !succ) return false;
    int64_t total = 0;
    for (int32_t i = 0; i < completions; i++) total += succ[i];
    if (total == 0) return false;
    size_t i;
    const json_t *r;
    json_array_foreach(rules, i, r) {
        const json_t *ix = json_object_get(r, "succeededIndexes"), *count = json_object_get(r, "succeededCount");
        bool met = false;
        if (json_is_string(ix)) {
            bool empty;
            met = indexes_rule_met(json_string_value(ix), count, succ, completions, &empty);
            if (empty) continue;
        } else if (json_is_integer(count)) {
            met = total >= json_integer_value(count);
        }
        if (met) {
            snprintf(msg, msglen, "Matched rules at index %zu", i);
            return true;
        }
    }
    return false;
}
