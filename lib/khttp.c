/* khttp.c - libcurl configuration, bounded bodies, Status and Retry-After. See khttp.h. */
#include "khttp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errfmt.h"
#include "worker.h"

#define RETRY_AFTER_MAX_S 86400L

int khttp_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

/* Options every API request shares. Keepalive probes find a dead apiserver
 * on an idle watch long before its timeoutSeconds would. */
static int set_common(CURL *h)
{
    return curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
           curl_easy_setopt(h, CURLOPT_USERAGENT, KHTTP_USER_AGENT) != CURLE_OK ||
           curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS) != CURLE_OK ||
           curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK ||
           curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L) != CURLE_OK ||
           curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 10L) != CURLE_OK ||
           curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L) != CURLE_OK ||
           curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
           curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
           curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "") != CURLE_OK
               ? -1
               : 0;
}

CURL *khttp_easy_new(const kubeconfig_t *kc, struct curl_slist **headers, char *err, size_t errlen)
{
    CURL *h = curl_easy_init();
    if (!h) { errfmt(err, errlen, "curl_easy_init failed"); return NULL; }
    if (set_common(h) < 0) { errfmt(err, errlen, "curl: cannot set common options"); goto fail; }
    if (kubeconfig_apply_curl(kc, h, headers) < 0) { errfmt(err, errlen, "curl: cannot set TLS/auth options"); goto fail; }
    struct curl_slist *l = curl_slist_append(*headers, "Accept: application/json");
    if (!l) { errfmt(err, errlen, "out of memory"); goto fail; }
    *headers = l;
    if (curl_easy_setopt(h, CURLOPT_HTTPHEADER, *headers) != CURLE_OK) { errfmt(err, errlen, "curl: headers"); goto fail; }
    return h;
fail:
    curl_easy_cleanup(h);
    return NULL;
}

int khttp_url(char *out, size_t outlen, const kubeconfig_t *kc, const char *path)
{
    int n = snprintf(out, outlen, "%s%s", kc->server ? kc->server : "", path);
    return n < 0 || (size_t)n >= outlen ? -1 : n;
}

void khttp_buf_init(khttp_buf_t *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max;
}

void khttp_buf_reset(khttp_buf_t *b)
{
    b->len = 0;
    b->overflow = false;
    if (b->data) b->data[0] = '\0';
}

void khttp_buf_free(khttp_buf_t *b)
{
    free(b->data);
    size_t max = b->max;
    memset(b, 0, sizeof *b);
    b->max = max;
}

int khttp_buf_append(khttp_buf_t *b, const void *data, size_t len)
{
    if (len > b->max || b->len > b->max - len) { b->overflow = true; return -1; }
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len + 1) cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p) return -1;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

size_t khttp_buf_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    size_t n = size * nmemb;
    return khttp_buf_append(userdata, ptr, n) == 0 ? n : 0;
}

static void copy_str(char *dst, size_t dstlen, const json_t *v)
{
    snprintf(dst, dstlen, "%s", json_string_value(v));
}

/* details.causes[].reason, as far as they are strings that fit; the rest of
 * a cause (message, field) is not needed by anyone. */
static void copy_causes(const json_t *details, khttp_status_t *out)
{
    const json_t *causes = json_object_get(details, "causes"), *c;
    size_t i;
    json_array_foreach(causes, i, c) {
        const json_t *r = json_object_get(c, "reason");
        if (out->n_causes >= KHTTP_STATUS_CAUSES) return;
        if (!json_is_string(r) || json_string_length(r) >= sizeof out->causes[0]) continue;
        copy_str(out->causes[out->n_causes++], sizeof out->causes[0], r);
    }
}

int khttp_parse_status_json(const json_t *obj, khttp_status_t *out)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(obj)) return -1;
    const json_t *kind = json_object_get(obj, "kind");
    if (!json_is_string(kind) || strcmp(json_string_value(kind), "Status") != 0) return -1;
    const json_t *code = json_object_get(obj, "code"), *status = json_object_get(obj, "status");
    const json_t *reason = json_object_get(obj, "reason"), *message = json_object_get(obj, "message");
    if ((code && !json_is_integer(code)) || (status && !json_is_string(status)) ||
        (reason && !json_is_string(reason)) || (message && !json_is_string(message)))
        return -1;
    if (code) {
        json_int_t c = json_integer_value(code);
        if (c < 0 || c > 999) return -1;
        out->code = (int)c;
    }
    if (status) copy_str(out->status, sizeof out->status, status);
    if (reason) copy_str(out->reason, sizeof out->reason, reason);
    if (message) copy_str(out->message, sizeof out->message, message);
    copy_causes(json_object_get(obj, "details"), out);
    return 0;
}

int khttp_parse_status(const char *body, size_t len, khttp_status_t *out)
{
    memset(out, 0, sizeof *out);
    if (!body || len == 0) return -1;
    json_t *obj = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
    if (!obj) return -1;
    int rc = khttp_parse_status_json(obj, out);
    json_decref(obj);
    return rc;
}

int khttp_parse_retry_after(const char *value, time_t now, long *seconds)
{
    if (!value) return -1;
    while (*value == ' ' || *value == '\t') value++;
    if (*value >= '0' && *value <= '9') {
        char *end = NULL;
        unsigned long long s = strtoull(value, &end, 10);
        while (end && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')) end++;
        if (!end || *end) return -1;
        *seconds = s > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : (long)s;
        return 0;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end) return -1;
    while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n') end++;
    if (*end) return -1;
    time_t at = timegm(&tm);
    if (at == (time_t)-1) return -1;
    /* ms_until's arithmetic in seconds; time_t is signed, and a date (or a
     * clock) before 1970 is no wait at all. */
    long d = at < 0 || now < 0 ? 0 : (long)ms_until((uint64_t)at, (uint64_t)now);
    *seconds = d > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S : d;
    return 0;
}

long khttp_retry_after_ms(CURL *h)
{
    curl_off_t s = 0;
    if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &s) != CURLE_OK || s <= 0) return 0;
    if (s > RETRY_AFTER_MAX_S) s = RETRY_AFTER_MAX_S;
    return (long)s * 1000L;
}
