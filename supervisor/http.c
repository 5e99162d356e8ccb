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
#include "sbuf.h"
#include "worker.h"

#define LOOP_STALL_MS 5000u
#define TEXT "text/plain; charset=utf-8"

enum { EP_HEALTHZ, EP_LIVEZ, EP_READYZ, EP_COUNT };
static const char *const endpoint_names[EP_COUNT] = { "healthz", "livez", "readyz" };

struct sup_http {
    struct MHD_Daemon *daemon;
    pthread_mutex_t mu;        /* guards the four fields below */
    char *statusz, *metrics;
    sup_http_health_t health;
    bool published;            /* the main loop has published once */
    _Atomic uint64_t loop_ms;
};

/* nosniff: as upstream's health handlers (and http.Error) answer. */
static enum MHD_Result reply_ex(struct MHD_Connection *c, unsigned status, const char *type,
                                const char *body, bool nosniff)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    enum MHD_Result rc = MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (rc == MHD_YES && nosniff) rc = MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (rc == MHD_YES) rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             const char *body)
{
    return reply_ex(c, status, type, body, false);
}

/* Replies with a published text, copied under the lock. */
static enum MHD_Result reply_snapshot(sup_http_t *h, struct MHD_Connection *c, char *const *text,
                                      const char *type)
{
    pthread_mutex_lock(&h->mu);
    enum MHD_Result rc = *text ? reply(c, MHD_HTTP_OK, type, *text)
                               : reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, type, "starting\n");
    pthread_mutex_unlock(&h->mu);
    return rc;
}

/* ---- the health endpoints ---- */

/* "/healthz" -> EP_HEALTHZ with *check NULL; "/healthz/NAME" -> *check NAME
 * (possibly ""); -1 for any other path. */
static int health_path(const char *url, const char **check)
{
    *check = NULL;
    if (url[0] != '/') return -1;
    for (int ep = 0; ep < EP_COUNT; ep++) {
        size_t n = strlen(endpoint_names[ep]);
        if (strncmp(url + 1, endpoint_names[ep], n) != 0) continue;
        const char *rest = url + 1 + n;
        if (*rest == '\0') return ep;
        if (*rest == '/') {
            *check = rest + 1;
            return ep;
        }
    }
    return -1;
}

typedef struct {
    sup_healthz_query_t q;
    bool overflow;
} query_t;

static enum MHD_Result query_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    query_t *x = cls;
    if (!key) return MHD_YES;
    if (strcmp(key, "verbose") == 0) x->q.verbose = true;
    if (strcmp(key, "exclude") != 0) return MHD_YES;
    if (x->q.nexclude == SUP_HEALTHZ_EXCLUDE_MAX) {
        x->overflow = true;
        return MHD_NO;
    }
    x->q.exclude[x->q.nexclude++] = value ? value : "";
    return MHD_YES;
}

/* The loop check the HTTP thread adds to every endpoint (http.h). */
static void add_loop_check(sup_http_t *h, bool published, sup_checks_t *l)
{
    uint64_t now = now_mono_ms(), last = atomic_load(&h->loop_ms);
    uint64_t quiet = now > last ? now - last : 0;
    if (!published)
        sup_checks_add(l, "supervisor-loop", false, "the supervisor has not started yet");
    else
        sup_checks_add(l, "supervisor-loop", quiet <= LOOP_STALL_MS, "supervisor loop stalled for %llu ms",
                       (unsigned long long)quiet);
}

/* Upstream logs the reasons the page withholds, at V(2). */
static void log_failures(const char *endpoint, const sup_checks_t *l)
{
    if (!log_v_enabled_at(2, __FILE__)) return;
    sbuf_t b = { 0 };
    for (size_t i = 0; i < l->n; i++)
        if (!l->c[i].ok) sbuf_printf(&b, "%s[-]%s failed: %s", b.len ? "; " : "", l->c[i].name, l->c[i].reason);
    char *text = sbuf_take(&b);
    LOGV(2, "health check failed", "endpoint", endpoint, "checks", text ? text : "");
    free(text);
}

static enum MHD_Result reply_health(sup_http_t *h, struct MHD_Connection *c, int ep, const char *check)
{
    sup_checks_t l;
    pthread_mutex_lock(&h->mu);
    const sup_checks_t *src = ep == EP_HEALTHZ ? &h->health.healthz
                              : ep == EP_LIVEZ ? &h->health.livez : &h->health.readyz;
    l = *src;
    bool published = h->published;
    pthread_mutex_unlock(&h->mu);
    add_loop_check(h, published, &l);
    sup_healthz_reply_t r;
    if (check) {
        r = sup_healthz_one(&l, check);
    } else {
        query_t x = { 0 };
        MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, query_arg, &x);
        if (x.overflow) return reply(c, MHD_HTTP_BAD_REQUEST, TEXT, "too many exclude parameters\n");
        r = sup_healthz_root(&l, endpoint_names[ep], &x.q);
        if (r.status != 200) log_failures(endpoint_names[ep], &l);
    }
    if (!r.body) return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, TEXT, "out of memory\n");
    enum MHD_Result rc = reply_ex(c, (unsigned)r.status, TEXT, r.body, true);
    free(r.body);
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
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, TEXT, "only GET\n");
    if (*upload_data_size) return reply(c, MHD_HTTP_BAD_REQUEST, TEXT, "no body expected\n");
    const char *check = NULL;
    int ep = health_path(url, &check);
    if (ep >= 0) return reply_health(h, c, ep, check);
    if (strcmp(url, "/statusz") == 0) return reply_snapshot(h, c, &h->statusz, TEXT);
    if (strcmp(url, "/metrics") == 0)
        return reply_snapshot(h, c, &h->metrics, "text/plain; version=0.0.4; charset=utf-8");
    return reply(c, MHD_HTTP_NOT_FOUND, TEXT,
                 "not found: try /healthz /livez /readyz /metrics /statusz\n");
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

void sup_http_publish(sup_http_t *h, char *statusz, char *metrics, const sup_http_health_t *health)
{
    pthread_mutex_lock(&h->mu);
    swap_in(&h->statusz, statusz);
    swap_in(&h->metrics, metrics);
    h->health = *health;
    h->published = true;
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
    free(h);
    *hp = NULL;
}
