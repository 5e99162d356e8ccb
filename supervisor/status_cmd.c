/* status_cmd.c - the `status` subcommand: GET /statusz and print it. See status_cmd.h. */
#include "status_cmd.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "errfmt.h"
#include "flags.h"

typedef struct {
    int port;
    char addr[64];
} status_opts_t;

static int parse(status_opts_t *o, int argc, char **argv, char *err, size_t errlen)
{
    flags_iter_t it;
    flags_arg_t a;
    int rc;
    flags_iter_init(&it, argc, argv, 1);
    while ((rc = flags_iter_next(&it, &a, err, errlen)) == 1) {
        long v = 0;
        if (strcmp(a.name, "help") == 0 || strcmp(a.name, "h") == 0) return 1;
        if (flags_need_value(&a, err, errlen) < 0) return -1;
        if (strcmp(a.name, "port") == 0) {
            if (flags_long("port", a.value, 1, 65535, &v, err, errlen) < 0) return -1;
            o->port = (int)v;
        } else if (strcmp(a.name, "bind-address") == 0) {
            if (flags_string("bind-address", a.value, o->addr, sizeof o->addr, false, err, errlen) < 0)
                return -1;
        } else {
            return errfmt(err, errlen, "status: unknown flag \"%s\"", a.arg);
        }
        flags_iter_took_value(&it, &a);
    }
    return rc < 0 ? -1 : 0;
}

/* A wildcard listen address is reached on loopback; IPv6 needs brackets. */
static int build_url(const status_opts_t *o, char *url, size_t len)
{
    const char *host = o->addr;
    if (strcmp(host, "0.0.0.0") == 0) host = "127.0.0.1";
    if (strcmp(host, "::") == 0) host = "::1";
    unsigned char buf[16];
    bool v6 = inet_pton(AF_INET6, host, buf) == 1;
    int n = snprintf(url, len, v6 ? "http://[%s]:%d/statusz" : "http://%s:%d/statusz", host, o->port);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

static size_t write_out(char *data, size_t size, size_t n, void *user)
{
    (void)user;
    return fwrite(data, size, n, stdout) * size;
}

static int fetch(const char *url)
{
    CURL *c = curl_easy_init();
    if (!c) {
        fprintf(stderr, "status: cannot initialise libcurl\n");
        return 1;
    }
    long code = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_out);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        fprintf(stderr, "status: %s: %s (is kubus-controller-manager running with this --port?)\n",
                url, curl_easy_strerror(rc));
        return 1;
    }
    if (code != 200) {
        fprintf(stderr, "status: %s answered HTTP %ld\n", url, code);
        return 1;
    }
    return 0;
}

int sup_status_main(int argc, char **argv)
{
    status_opts_t o = { .port = SUP_DEFAULT_PORT };
    snprintf(o.addr, sizeof o.addr, "127.0.0.1");
    char err[256], url[256];
    int rc = parse(&o, argc, argv, err, sizeof err);
    if (rc == 1) {
        printf("Usage: kubus-controller-manager status [--port=N] [--bind-address=ADDR]\n"
               "Prints the worker table of the supervisor listening there (default 127.0.0.1:%d).\n",
               SUP_DEFAULT_PORT);
        return 0;
    }
    if (rc < 0 || build_url(&o, url, sizeof url) < 0) {
        fprintf(stderr, "%s\n", rc < 0 ? err : "status: address too long");
        return 2;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "status: cannot initialise libcurl\n");
        return 1;
    }
    rc = fetch(url);
    curl_global_cleanup();
    return rc;
}
