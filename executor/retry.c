/* retry.c - the retry policy. See retry.h. */
#include "retry.h"

#include <curl/curl.h>
#include <string.h>

#include "kubus.pb-c.h"

bool retry_curl_not_sent(int curl_code)
{
    switch (curl_code) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
        return true;
    default:
        return false;
    }
}

bool retry_status_retryable(long s) { return s == 429 || s == 500 || s == 502 || s == 503 || s == 504; }

static bool is_json_patch(const retry_outcome_t *o)
{
    return o->verb == KUBUS__V1__VERB__PATCH && o->patch_type == KUBUS__V1__PATCH_TYPE__JSON_PATCH;
}

static retry_decision_t classify_transport(const retry_outcome_t *o)
{
    if (retry_curl_not_sent(o->curl_code) || o->is_lookup) return RETRY_AGAIN;
    if (o->verb == KUBUS__V1__VERB__CREATE) return RETRY_VERIFY_CREATE;
    if (is_json_patch(o)) return RETRY_DONE;
    return RETRY_AGAIN;
}

retry_decision_t retry_classify(const retry_outcome_t *o)
{
    if (o->http_status == 0) return classify_transport(o);
    if (o->http_status == 429) return RETRY_AGAIN;
    if (retry_status_retryable(o->http_status)) return is_json_patch(o) && !o->is_lookup ? RETRY_DONE : RETRY_AGAIN;
    if (o->http_status == 409 && o->verb == KUBUS__V1__VERB__CREATE && !o->is_lookup && o->reason &&
        strcmp(o->reason, "AlreadyExists") == 0)
        return RETRY_CHECK_EXISTING;
    return RETRY_DONE;
}

uint64_t retry_delay_ms(unsigned attempt, int64_t retry_after_ms)
{
    if (retry_after_ms >= 0) return retry_after_ms > RETRY_AFTER_CAP_MS ? RETRY_AFTER_CAP_MS : (uint64_t)retry_after_ms;
    uint64_t d = RETRY_BASE_MS;
    for (unsigned i = 2; i < attempt && d < RETRY_MAX_MS; i++) d *= 2;
    return d > RETRY_MAX_MS ? RETRY_MAX_MS : d;
}
