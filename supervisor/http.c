/* http.c - libmicrohttpd server over published snapshots. See http.h. */
#include "http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errfmt.h"
#include "log.h"
#include "worker.h"

#define LOOP_STALL_MS 5000u

struct sup_http {
    struct MHD_Daemon *daemon;
    pthread_mutex_t mu;        /* guards the four fields below */
    char *statusz, *metrics, *readyz;
    bool ready;
    _Atomic uint64_t loop_ms;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             const char *body)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    enum MHD_Result rc = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (rc == MHD_YES) rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

/* Replies with a published text, copied under the lock. */
static enum MHD_Result reply_snapshot(sup_http_t *h, struct MHD_Connection *c, char *const *text,
                                      const char *type, bool readyz)
{
    pthread_mutex_lock(&h->mu);
    unsigned status = readyz && !h->ready ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK;
    enum MHD_Result rc = *text ? reply(c, status, type, *text)
                               : reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, type, "starting\n");
    pthread_mutex_unlock(&h->mu);
    return rc;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **req_cls)
{
    (void)version;
    (void)upload_data;
    (void)req_cls;
    sup_http_t *h = cls;
    const char *text = "text/plain; charset=utf-8";
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, text, "only GET\n");
    if (*upload_data_size) return reply(c, MHD_HTTP_BAD_REQUEST, text, "no body expected\n");
    if (strcmp(url, "/healthz") == 0) {
        bool alive = now_mono_ms() - atomic_load(&h->loop_ms) <= LOOP_STALL_MS;
        return alive ? reply(c, MHD_HTTP_OK, text, "ok\n")
                     : reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, text, "supervisor loop stalled\n");
    }
    if (strcmp(url, "/readyz") == 0) return reply_snapshot(h, c, &h->readyz, text, true);
    if (strcmp(url, "/statusz") == 0) return reply_snapshot(h, c, &h->statusz, text, false);
    if (strcmp(url, "/metrics") == 0)
        return reply_snapshot(h, c, &h->metrics, "text/plain; version=0.0.4; charset=utf-8", false);
    return reply(c, MHD_HTTP_NOT_FOUND, text, "not found: try /healthz /readyz /metrics /statusz\n");
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n') msg[--n] = '\0';
    LOGW("http server", "detail", msg);
}

static struct MHD_Daemon *listen_on(sup_http_t *h, const char *addr, int port, char *err, size_t errlen)
{
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
    memset(&v4, 0, sizeof v4);
    memset(&v6, 0, sizeof v6);
    struct sockaddr *sa;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (inet_pton(AF_INET, addr, &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        v4.sin_port = htons((uint16_t)port);
        sa = (struct sockaddr *)&v4;
    } else if (inet_pton(AF_INET6, addr, &v6.sin6_addr) == 1) {
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons((uint16_t)port);
        sa = (struct sockaddr *)&v6;
        flags |= MHD_USE_IPv6;
    } else {
        errfmt(err, errlen, "--bind-address=%s: not an IP address", addr);
        return NULL;
    }
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, handle, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_CONNECTION_LIMIT, (unsigned)32,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
    if (!d) errfmt(err, errlen, "cannot listen on %s:%d (in use, or not a local address?)", addr, port);
    return d;
}

sup_http_t *sup_http_start(const char *addr, int port, char *err, size_t errlen)
{
    sup_http_t *h = calloc(1, sizeof *h);
    if (!h) {
        errfmt(err, errlen, "out of memory");
        return NULL;
    }
    if (pthread_mutex_init(&h->mu, NULL) != 0) {
        errfmt(err, errlen, "pthread_mutex_init failed");
        free(h);
        return NULL;
    }
    atomic_store(&h->loop_ms, now_mono_ms());
    h->daemon = listen_on(h, addr, port, err, errlen);
    if (!h->daemon) {
        pthread_mutex_destroy(&h->mu);
        free(h);
        return NULL;
    }
    return h;
}

static void swap_in(char **slot, char *text)
{
    if (!text) return;
    free(*slot);
    *slot = text;
}

void sup_http_publish(sup_http_t *h, char *statusz, char *metrics, char *readyz, bool ready)
{
    pthread_mutex_lock(&h->mu);
    swap_in(&h->statusz, statusz);
    swap_in(&h->metrics, metrics);
    swap_in(&h->readyz, readyz);
    h->ready = ready;
    pthread_mutex_unlock(&h->mu);
}

void sup_http_alive(sup_http_t *h, uint64_t now_ms) { atomic_store(&h->loop_ms, now_ms); }

void sup_http_stop(sup_http_t **hp)
{
    sup_http_t *h = *hp;
    if (!h) return;
    MHD_stop_daemon(h->daemon);
    pthread_mutex_destroy(&h->mu);
    free(h->statusz);
    free(h->metrics);
    free(h->readyz);
    free(h);
    *hp = NULL;
}
