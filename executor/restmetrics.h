/* restmetrics.h - client-go's REST client metrics for the executor.
 *
 * Owns: rest_client_requests_total{code,host,method} (counter; code is the
 * HTTP status, "<error>" when no response came) and
 * rest_client_request_duration_seconds{host,verb} (histogram, buckets
 * 0.005 .. 60 s as component-base's) and
 * rest_client_rate_limiter_duration_seconds{host,verb} (histogram, the same
 * buckets: how long each request waited for a token of its controller's
 * bucket, 0 for one that found a token at once) and
 * rest_client_request_retries_total{code,host,verb} (a request sent again
 * after an answer, or none, that is worth retrying; code as above), with
 * upstream's names, help texts and
 * label names; host is the API server's host[:port] from the kubeconfig.
 * Every request the executor makes counts (lookups and Events included), as
 * every request of a kube-controller-manager client counts in its process.
 */
#ifndef KUBUS_EXEC_RESTMETRICS_H
#define KUBUS_EXEC_RESTMETRICS_H

#include "sbuf.h"

typedef struct restmetrics restmetrics_t;

/* server: "https://host:port[/path]". NULL when out of memory. */
restmetrics_t *restmetrics_new(const char *server);
void restmetrics_destroy(restmetrics_t **m);
/* One finished request: its method ("GET", ...), status (0: none) and duration. */
void restmetrics_observe(restmetrics_t *m, const char *method, long status, double seconds);
/* A request took its rate-limiter token after waiting this long. */
void restmetrics_throttled(restmetrics_t *m, const char *method, double seconds);
/* A request about to be sent again after this status (0: none). */
void restmetrics_retry(restmetrics_t *m, const char *method, long status);
void restmetrics_render(const restmetrics_t *m, sbuf_t *out);

#endif
