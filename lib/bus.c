/* bus.c - endpoints, topics and envelope framing on ZeroMQ. See bus.h. */
#include "bus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "trusted.h"

static const char *ep_names[BUS_EP_COUNT] = { "events-in", "events", "actions", "exec", "snapshot" };

int bus_config_parse(bus_config_t *cfg, const char *spec)
{
    memset(cfg, 0, sizeof *cfg);
    if (!spec || !*spec) return -1;
    if (strncmp(spec, "tcp://", 6) == 0) {
        const char *colon = strrchr(spec + 6, ':');
        if (!colon || colon == spec + 6) return -1;
        size_t hl = (size_t)(colon - (spec + 6));
        if (hl >= sizeof cfg->tcp_host) return -1;
        char *end = NULL;
        long port = strtol(colon + 1, &end, 10);
        if (!end || *end || port < 1 || port > 65535 - BUS_EP_COUNT) return -1;
        memcpy(cfg->tcp_host, spec + 6, hl);
        cfg->tcp_host[hl] = '\0';
        cfg->tcp_port = (int)port;
        return 0;
    }
    /* ipc socket paths are limited to ~107 bytes; leave room for the names. */
    if (strlen(spec) >= sizeof cfg->dir || strlen(spec) > 90) return -1;
    snprintf(cfg->dir, sizeof cfg->dir, "%s", spec);
    return 0;
}

int bus_dir_prepare(const bus_config_t *cfg, char *err, size_t errlen)
{
    if (cfg->tcp_host[0]) return 0;
    int fd = trusted_dir_open(cfg->dir, true, err, errlen);
    if (fd < 0) return -1;
    close(fd);
    return 0;
}

int bus_open_file(const bus_config_t *cfg, const char *name, int flags, char *err, size_t errlen)
{
    int dfd = trusted_dir_open(cfg->dir, false, err, errlen);
    if (dfd < 0) return -1;
    int fd = trusted_openat(dfd, cfg->dir, name, flags, err, errlen);
    int saved = errno;
    close(dfd);
    errno = saved;
    return fd;
}

int bus_endpoint(const bus_config_t *cfg, bus_endpoint_t ep, char *out, size_t outlen)
{
    if ((int)ep < 0 || ep >= BUS_EP_COUNT) return -1;
    int n;
    if (cfg->tcp_host[0])
        n = snprintf(out, outlen, "tcp://%s:%d", cfg->tcp_host, cfg->tcp_port + (int)ep);
    else
        n = snprintf(out, outlen, "ipc://%s/%s.sock", cfg->dir, ep_names[ep]);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* Options go before connect/bind: a pipe takes the HWM it is created with. */
int bus_limit_inbound(void *sock, size_t max_bytes)
{
    int64_t max = (int64_t)max_bytes;
    return zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max, sizeof max);
}

static void *open_with(void *zctx, int type, const bus_config_t *cfg, bus_endpoint_t ep, bool bind, int sndhwm,
                       bool mandatory, size_t maxmsg)
{
    char endpoint[512];
    if (bus_endpoint(cfg, ep, endpoint, sizeof endpoint) < 0) { errno = ENAMETOOLONG; return NULL; }
    void *s = zmq_socket(zctx, type);
    if (!s) return NULL;
    int zero = 0, one = 1;
    bool ok = zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero) == 0 &&
              (sndhwm < 0 || zmq_setsockopt(s, ZMQ_SNDHWM, &sndhwm, sizeof sndhwm) == 0) &&
              (!mandatory || zmq_setsockopt(s, ZMQ_ROUTER_MANDATORY, &one, sizeof one) == 0) &&
              bus_limit_inbound(s, maxmsg) == 0 &&
              (bind ? zmq_bind(s, endpoint) : zmq_connect(s, endpoint)) == 0;
    if (!ok) {
        int saved = errno;
        zmq_close(s);
        errno = saved;
        return NULL;
    }
    return s;
}

const char *bus_endpoint_name(bus_endpoint_t ep)
{
    return (int)ep >= 0 && ep < BUS_EP_COUNT ? ep_names[ep] : "?";
}

void *bus_open(void *zctx, int type, const bus_config_t *cfg, bus_endpoint_t ep, bool bind)
{
    return open_with(zctx, type, cfg, ep, bind, -1, false, MSG_MAX_BYTES);
}

void *bus_open_server(void *zctx, int type, const bus_config_t *cfg, bus_endpoint_t ep, bool bind, int sndhwm)
{
    bool router = type == ZMQ_ROUTER;
    return open_with(zctx, type, cfg, ep, bind, sndhwm, router, router ? BUS_REQUEST_MAX_BYTES : MSG_MAX_BYTES);
}

int bus_topic_event(char *out, size_t outlen, const char *resource, const char *ns)
{
    int n = snprintf(out, outlen, "E/%s/%s/", resource, ns ? ns : "");
    return n < 0 || (size_t)n >= outlen ? -1 : n;
}

int bus_topic_resource(char *out, size_t outlen, const char *resource)
{
    int n = snprintf(out, outlen, "E/%s/", resource);
    return n < 0 || (size_t)n >= outlen ? -1 : n;
}

int bus_send_raw(void *sock, const char *first_frame, const void *data, size_t len, bool dontwait)
{
    int flags = dontwait ? ZMQ_DONTWAIT : 0;
    if (first_frame && zmq_send(sock, first_frame, strlen(first_frame), flags | ZMQ_SNDMORE) < 0)
        return -1;
    /* After the first frame of a multipart message the rest is atomic with
     * it, so a later failure cannot leave half a message queued. */
    if (zmq_send(sock, data, len, flags) < 0) return -1;
    return 0;
}

static int send_env(void *sock, const char *first, const msg_envelope_t *env, bool dontwait)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (msg_encode(env, &buf, &len) < 0) { errno = EINVAL; return -1; }
    int rc = bus_send_raw(sock, first, buf, len, dontwait);
    int saved = errno;
    free(buf);
    errno = saved;
    return rc;
}

int bus_send(void *sock, const char *topic, const msg_envelope_t *env, bool dontwait)
{
    return send_env(sock, topic, env, dontwait);
}

int bus_send_to(void *sock, const char *id, const msg_envelope_t *env, bool dontwait)
{
    return send_env(sock, id, env, dontwait);
}

msg_envelope_t *bus_recv(void *sock, char *prefix, size_t prefixlen, bool dontwait,
                         char *err, size_t errlen)
{
    zmq_msg_t frame, last;
    int flags = dontwait ? ZMQ_DONTWAIT : 0;
    if (prefix && prefixlen) prefix[0] = '\0';
    zmq_msg_init(&last);
    int nframes = 0;
    for (;;) {
        zmq_msg_init(&frame);
        if (zmq_msg_recv(&frame, sock, nframes ? 0 : flags) < 0) {
            int saved = errno;
            zmq_msg_close(&frame);
            zmq_msg_close(&last);
            errno = saved;
            return NULL;
        }
        nframes++;
        int more = zmq_msg_more(&frame);
        if (more && prefix && prefixlen) {
            /* Keep the frame just before the envelope (topic or id). */
            size_t n = zmq_msg_size(&frame);
            if (n >= prefixlen) n = prefixlen - 1;
            memcpy(prefix, zmq_msg_data(&frame), n);
            prefix[n] = '\0';
        }
        zmq_msg_move(&last, &frame); /* releases the previous `last` */
        zmq_msg_close(&frame);
        if (!more) break;
    }
    msg_envelope_t *env = msg_decode(zmq_msg_data(&last), zmq_msg_size(&last), err, errlen);
    zmq_msg_close(&last);
    if (!env) errno = EPROTO;
    return env;
}
