/* retry.h - which failed requests the executor tries again, and when.
 *
 * Owns: the retry policy. A request is re-sent only when doing it twice
 * cannot do harm or the first one certainly did nothing:
 *   - transport errors before the request left (connect/resolve/TLS
 *     handshake): always;
 *   - transport errors after it may have reached the server: a CREATE is
 *     never re-sent blindly, its object is looked up by name first (the
 *     names are client-chosen, DEVELOPERS.md); a JSON patch may not be
 *     idempotent ("add" to "/-"), so its outcome is reported unknown
 *     (status 0); everything else is idempotent or guarded by a
 *     resourceVersion/UID precondition and is re-sent;
 *   - 429 (honouring Retry-After) for every verb: the server did nothing;
 *   - 500/502/503/504 for every verb but JSON patch (a re-sent CREATE that
 *     did succeed answers 409 AlreadyExists, which is checked below);
 *   - 409 AlreadyExists for a CREATE: GET the object and compare its
 *     controller ownerReference uid with the body's.
 * Back-off: 200 ms doubling to 10 s; at most RETRY_MAX_ATTEMPTS requests
 * per action (follow-up GETs included).
 */
#ifndef KUBUS_EXECUTOR_RETRY_H
#define KUBUS_EXECUTOR_RETRY_H

#include <stdbool.h>
#include <stdint.h>

#define RETRY_MAX_ATTEMPTS 6
#define RETRY_BASE_MS 200u
#define RETRY_MAX_MS 10000u
/* Retry-After is honoured up to this long; a server asking for more is
 * treated as asking for the cap (the controller re-sends after 30 s anyway). */
#define RETRY_AFTER_CAP_MS 10000u

typedef enum {
    RETRY_DONE = 0,         /* report the outcome as it is */
    RETRY_AGAIN,            /* re-send the same request after a back-off */
    RETRY_VERIFY_CREATE,    /* create outcome unknown: GET it by name first */
    RETRY_CHECK_EXISTING,   /* create answered AlreadyExists: GET and compare owners */
} retry_decision_t;

/* What became of one HTTP request. */
typedef struct {
    int verb;              /* Kubus__V1__Verb of the action */
    int patch_type;        /* Kubus__V1__PatchType (PATCH only) */
    bool is_lookup;        /* a follow-up GET of the executor's own, not the action's request */
    long http_status;      /* 0: transport error */
    int curl_code;         /* CURLcode when http_status is 0 */
    const char *reason;    /* Status reason of a non-2xx answer, or NULL */
} retry_outcome_t;

/* True when the transport error happened before any byte of the request
 * could have reached the API server. */
bool retry_curl_not_sent(int curl_code);
bool retry_status_retryable(long http_status);
retry_decision_t retry_classify(const retry_outcome_t *o);

/* Delay before attempt number `attempt` (2 = first retry): Retry-After
 * when the server gave one (retry_after_ms >= 0, capped), else exponential. */
uint64_t retry_delay_ms(unsigned attempt, int64_t retry_after_ms);

#endif
