/* http.h - the supervisor's HTTP endpoints (libmicrohttpd, its own thread).
 *
 * Owns: /healthz, /readyz, /metrics, /statusz on --bind-address:--port.
 *
 * Threading choice: the HTTP thread never touches the worker table. The main
 * loop renders the three texts (report.h) each iteration and hands them over
 * with sup_http_publish; the HTTP thread copies the current text under a
 * mutex held only for that copy. So the table needs no lock, a slow client
 * cannot stall supervision, and forks happen only in the main thread.
 * /healthz answers 200 while the main loop has run within the last 5 s.
 */
#ifndef KUBUS_SUP_HTTP_H
#define KUBUS_SUP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sup_http sup_http_t;

/* Listens on addr:port (IPv4 or IPv6 literal). NULL with err on failure. */
sup_http_t *sup_http_start(const char *addr, int port, char *err, size_t errlen);
/* Takes ownership of the three strings (any may be NULL: keep the old one). */
void sup_http_publish(sup_http_t *h, char *statusz, char *metrics, char *readyz, bool ready);
/* Marks the main loop alive at monotonic time now_ms. */
void sup_http_alive(sup_http_t *h, uint64_t now_ms);
void sup_http_stop(sup_http_t **h);

#endif
