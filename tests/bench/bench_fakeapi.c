/* bench_fakeapi.c - kubus-bench-fakeapi: a plain-HTTP stand-in for the API
 * server that feeds the real kubus-informer as fast as it can read, for the
 * full-path throughput benchmark (watch stream -> informer -> broker ->
 * subscriber).
 *
 * It knows one resource, pods:
 *   GET /api/v1/pods?limit=...                   an empty PodList at resourceVersion 1
 *   GET /api/v1/pods?watch=true&resourceVersion=1  200, chunked: once --go-file
 *        exists, --events lines {"type":"ADDED","object":<pod i>} (pod i has
 *        resourceVersion i+1 and --object-bytes bytes, benchobj.h), then the
 *        stream stays open until the client goes
 *   a watch from any other resourceVersion        200, chunked, no events, held open
 *   anything else                                 404 Status
 * The whole stream is built in memory before the port is printed, so serving
 * it is write(2) calls only and leaves the CPUs to the informer.
 *
 * stdout: the port, one line. With --kubeconfig=PATH, first a kubeconfig
 * for it is written there (the informer's --kubeconfig), so the port line
 * means both are ready. One process per connection (fork), each dies with
 * the parent (PR_SET_PDEATHSIG).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchobj.h"

#define CHUNK_TARGET (64 * 1024)

typedef struct {
    char *data;
    size_t len, cap;
} buf_t;

static long g_events = 200000, g_object_bytes = 1024;
static const char *g_ns = "bench", *g_go_file, *g_kubeconfig;
static buf_t g_stream;      /* the watch body, already chunk-framed */

static int buf_add(buf_t *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 20;
        while (cap < b->len + n) cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) return -1;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

static int add_chunk(buf_t *out, const buf_t *chunk)
{
    char head[32];
    int n = snprintf(head, sizeof head, "%zx\r\n", chunk->len);
    return buf_add(out, head, (size_t)n) < 0 || buf_add(out, chunk->data, chunk->len) < 0 ||
                   buf_add(out, "\r\n", 2) < 0
               ? -1
               : 0;
}

static int build_stream(void)
{
    buf_t chunk = { 0 };
    for (long i = 1; i <= g_events; i++) {
        size_t len;
        char *pod = benchobj_pod(g_ns, (uint64_t)i, (uint64_t)i + 1, (size_t)g_object_bytes, &len);
        static const char pre[] = "{\"type\":\"ADDED\",\"object\":";
        if (!pod || buf_add(&chunk, pre, sizeof pre - 1) < 0 || buf_add(&chunk, pod, len) < 0 ||
            buf_add(&chunk, "}\n", 2) < 0) {
            free(pod);
            return -1;
        }
        free(pod);
        if (chunk.len >= CHUNK_TARGET || i == g_events) {
            if (add_chunk(&g_stream, &chunk) < 0) return -1;
            chunk.len = 0;
        }
    }
    free(chunk.data);
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int respond(int fd, int code, const char *reason, const char *body)
{
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n", code,
                     reason, strlen(body));
    return write_all(fd, head, (size_t)n) < 0 || write_all(fd, body, strlen(body)) < 0 ? -1 : 0;
}

/* Streams (or not) and then holds the connection until the client closes it. */
static void watch(int fd, bool stream)
{
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                               "Transfer-Encoding: chunked\r\n\r\n";
    if (write_all(fd, head, sizeof head - 1) < 0) return;
    if (stream) {
        while (access(g_go_file, F_OK) != 0) usleep(5000);
        if (write_all(fd, g_stream.data, g_stream.len) < 0) return;
    }
    char sink[4096];
    while (read(fd, sink, sizeof sink) > 0) {}
}

/* True if the query of path has key=value. */
static bool query_is(const char *path, const char *key, const char *value)
{
    const char *q = strchr(path, '?');
    size_t kl = strlen(key), vl = strlen(value);
    while (q) {
        q++;
        if (strncmp(q, key, kl) == 0 && q[kl] == '=' && strncmp(q + kl + 1, value, vl) == 0 &&
            (q[kl + 1 + vl] == '&' || q[kl + 1 + vl] == '\0'))
            return true;
        q = strchr(q, '&');
    }
    return false;
}

/* Serves requests on one connection until it closes. */
static void serve(int fd)
{
    char req[16384];
    size_t have = 0;
    for (;;) {
        char *end;
        while (!(end = memmem(req, have, "\r\n\r\n", 4))) {
            if (have == sizeof req) return;
            ssize_t n = read(fd, req + have, sizeof req - have);
            if (n <= 0) return;
            have += (size_t)n;
        }
        *end = '\0';
        char path[8192] = "";
        sscanf(req, "GET %8191s", path);
        size_t used = (size_t)(end + 4 - req);
        memmove(req, end + 4, have - used);
        have -= used;
        bool pods = strncmp(path, "/api/v1/pods?", 13) == 0 || strcmp(path, "/api/v1/pods") == 0;
        if (pods && strstr(path, "watch=true")) {
            watch(fd, query_is(path, "resourceVersion", "1"));
            return;
        }
        int rc = pods ? respond(fd, 200, "OK",
                                "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"1\"},"
                                "\"items\":[]}")
                      : respond(fd, 404, "Not Found",
                                "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                                "\"reason\":\"NotFound\",\"code\":404}");
        if (rc < 0) return;
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: kubus-bench-fakeapi --go-file=PATH [--events=N] [--object-bytes=N] [--ns=NS]"
                    " [--kubeconfig=PATH]\n");
    exit(2);
}

static void parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = strchr(a, '=');
        if (!v) usage();
        v++;
        if (strncmp(a, "--events=", 9) == 0) g_events = strtol(v, NULL, 10);
        else if (strncmp(a, "--object-bytes=", 15) == 0) g_object_bytes = strtol(v, NULL, 10);
        else if (strncmp(a, "--ns=", 5) == 0) g_ns = v;
        else if (strncmp(a, "--go-file=", 10) == 0) g_go_file = v;
        else if (strncmp(a, "--kubeconfig=", 13) == 0) g_kubeconfig = v;
        else usage();
    }
    if (!g_go_file || g_events < 1 || g_object_bytes < 1) usage();
}

/* A kubeconfig that points at our port (plain HTTP, no credentials). */
static int write_kubeconfig(unsigned port)
{
    FILE *f = fopen(g_kubeconfig, "we");
    if (!f) return -1;
    fprintf(f, "apiVersion: v1\nkind: Config\ncurrent-context: fake\n"
               "contexts: [{name: fake, context: {cluster: fake}}]\n"
               "clusters: [{name: fake, cluster: {server: \"http://127.0.0.1:%u\"}}]\n", port);
    return fclose(f) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGCHLD, SIG_IGN); /* no zombies */
    if (build_stream() < 0) { fprintf(stderr, "kubus-bench-fakeapi: out of memory\n"); return 1; }
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof sa;
    if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 16) < 0 ||
        getsockname(ls, (struct sockaddr *)&sa, &sl) < 0) {
        perror("kubus-bench-fakeapi: listen");
        return 1;
    }
    if (g_kubeconfig && write_kubeconfig(ntohs(sa.sin_port)) < 0) {
        perror("kubus-bench-fakeapi: --kubeconfig");
        return 1;
    }
    printf("%u\n", ntohs(sa.sin_port));
    fflush(stdout);
    pid_t parent = getpid();
    for (;;) {
        int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR) continue;
            perror("kubus-bench-fakeapi: accept");
            return 1;
        }
        pid_t pid = fork();
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (getppid() != parent) _exit(0);
            close(ls);
            serve(fd);
            _exit(0);
        }
        close(fd);
    }
}
