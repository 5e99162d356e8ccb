/* khttp.h - libcurl helpers shared by everything that talks to the API server
 * (the informer's list/watch, the executor's writes).
 *
 * Owns: how a request to the API server is configured (TLS and auth from the
 * kubeconfig, HTTP/2 over TLS, TCP keepalive, no signals, no redirects,
 * http/https only, user agent "kubus/0.1"), bounded response buffers, and
 * reading what the server says back (Status bodies, Retry-After).
 * No I/O of its own: callers drive the handles (easy or multi).
 */
#ifndef KUBUS_KHTTP_H
#define KUBUS_KHTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "kubeconfig.h"

#define KHTTP_USER_AGENT "kubus/0.1"

/* curl_global_init once per process, before any thread exists. 0 or -1. */
int khttp_global_init(void);

/* A new easy handle configured for kc. *headers (caller owns; must outlive
 * the handle) gets "Accept: application/json" and the Authorization header
 * and is installed as CURLOPT_HTTPHEADER; a caller that appends more headers
 * sets CURLOPT_HTTPHEADER again. NULL with a message in err on failure. */
CURL *khttp_easy_new(const kubeconfig_t *kc, struct curl_slist **headers, char *err, size_t errlen);

/* Writes kc->server + path into out. Length, or -1 if it does not fit. */
int khttp_url(char *out, size_t outlen, const kubeconfig_t *kc, const char *path);

/* A response body buffer with a hard cap: a body larger than max makes the
 * write callback fail the transfer (CURLE_WRITE_ERROR) with overflow set,
 * so a hostile or broken server cannot make us allocate without bound.
 * data is always NUL-terminated (when non-NULL). */
typedef struct {
    char *data;
    size_t len, cap, max;
    bool overflow;
} khttp_buf_t;

void khttp_buf_init(khttp_buf_t *b, size_t max);
void khttp_buf_reset(khttp_buf_t *b);     /* keeps the allocation */
void khttp_buf_free(khttp_buf_t *b);
int khttp_buf_append(khttp_buf_t *b, const void *data, size_t len); /* 0, -1 overflow/ENOMEM */
/* CURLOPT_WRITEFUNCTION for a khttp_buf_t passed as CURLOPT_WRITEDATA. */
size_t khttp_buf_write(char *ptr, size_t size, size_t nmemb, void *userdata);

/* A Kubernetes Status object (metav1.Status), as errors come back. */
#define KHTTP_STATUS_CAUSES 4
typedef struct {
    int code;             /* HTTP-like code inside the Status; 0 if absent */
    char status[16];      /* "Success" / "Failure" */
    char reason[64];      /* "NotFound", "AlreadyExists", "Conflict", "Expired", "Gone"... */
    char message[512];    /* truncated */
    /* details.causes[].reason (CauseType), the first KHTTP_STATUS_CAUSES */
    char causes[KHTTP_STATUS_CAUSES][48];
    int n_causes;
} khttp_status_t;

/* Parses a body that should be a Status. 0 when it is one (kind "Status",
 * fields of the right types), -1 otherwise (out then holds nothing useful). */
int khttp_parse_status(const char *body, size_t len, khttp_status_t *out);
int khttp_parse_status_json(const json_t *obj, khttp_status_t *out);

/* Retry-After: delta-seconds or an HTTP-date (relative to now). 0 with
 * *seconds >= 0 (capped at one day), -1 for anything else. */
int khttp_parse_retry_after(const char *value, time_t now, long *seconds);
/* The Retry-After of the handle's last response in ms, 0 if none. */
long khttp_retry_after_ms(CURL *h);

#endif
