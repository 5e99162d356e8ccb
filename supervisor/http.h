/* http.h - the supervisor's HTTP endpoints (libmicrohttpd, its own thread).
 *
 * Owns: /healthz, /livez, /readyz (and /<endpoint>/<check>, ?verbose,
 * ?exclude=, as k8s.io/apiserver answers them, healthz.h), /metrics and
 * /statusz on --bind-address:--port.
 *
 * Threading choice: the HTTP thread never touches the worker table. The main
 * loop renders /statusz and /metrics and decides the checks (checks.h) each
 * iteration and hands them over with sup_http_publish; the HTTP thread
 * copies the current ones under a mutex held only for that copy. So the
 * table needs no lock, a slow client cannot stall supervision, and forks
 * happen only in the main thread. The HTTP thread adds one check of its own
 * to each health endpoint, "supervisor-loop": it fails when the main loop has
 * not run for 5 s (then everything else published is stale) or has not
 * published yet.
 */
#ifndef KUBUS_SUP_HTTP_H
#define KUBUS_SUP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "healthz.h"

typedef struct sup_http sup_http_t;

/* The checks of the three health endpoints. */
typedef struct {
    sup_checks_t healthz, livez, readyz;
} sup_http_health_t;

/* Listens on addr:port (IPv4 or IPv6 literal). NULL with err on failure. */
sup_http_t *sup_http_start(const char *addr, int port, char *err, size_t errlen);
/* Takes ownership of the two strings (either may be NULL: keep the old one)
 * and copies the checks. */
void sup_http_publish(sup_http_t *h, char *statusz, char *metrics, const sup_http_health_t *health);
/* Marks the main loop alive at monotonic time now_ms. */
void sup_http_alive(sup_http_t *h, uint64_t now_ms);
void sup_http_stop(sup_http_t **h);

#endif
