/* kubeconfig.c - kubeconfig (libyaml) and in-cluster credentials. See kubeconfig.h.
 *
 * Owns: finding the config, walking current-context -> context -> cluster/user,
 * decoding the *-data fields, and the libcurl TLS/auth options they imply.
 *
 * The YAML is loaded as a libyaml document (not an event stream) so every
 * error can point at the node it is about: "FILE:LINE: expected ...".
 * Invariant: on failure `out` is left zeroed (nothing to free); on success
 * every string in it is owned by it and released by kubeconfig_free().
 */
#include "kubeconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <curl/curl.h>
#include <yaml.h>

#include "errfmt.h"
#include "log.h"

/* A kubeconfig is a few KiB; refuse anything absurd before parsing it. */
#define KC_MAX_FILE (4u * 1024u * 1024u)
#define KC_MAX_TOKEN (64u * 1024u)
#define KC_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

typedef struct {
    yaml_document_t doc;
    const char *name;     /* file name for messages */
    const char *basedir;  /* relative paths in the file are relative to this; NULL: as is */
    char *err;
    size_t errlen;
} kc_doc_t;

/* "FILE:LINE: what" for a node (lines are 1-based for people). */
static int node_fail(kc_doc_t *d, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int node_fail(kc_doc_t *d, const yaml_node_t *n, const char *fmt, ...)
{
    char what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    unsigned long line = n ? (unsigned long)n->start_mark.line + 1 : 1;
    return errfmt(d->err, d->errlen, "%s:%lu: %s", d->name, line, what);
}

static const char *node_type_name(const yaml_node_t *n)
{
    switch (n ? n->type : YAML_NO_NODE) {
    case YAML_SCALAR_NODE: return "a scalar";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "nothing";
    }
}

static bool scalar_is(const yaml_node_t *n, const char *s)
{
    return n && n->type == YAML_SCALAR_NODE && n->data.scalar.length == strlen(s) &&
           memcmp(n->data.scalar.value, s, n->data.scalar.length) == 0;
}

/* A null scalar ("~", "null", or nothing after the colon) counts as absent. */
static bool is_null(const yaml_node_t *n)
{
    if (!n) return true;
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return false;
    return n->data.scalar.length == 0 || scalar_is(n, "~") || scalar_is(n, "null") || scalar_is(n, "Null") ||
           scalar_is(n, "NULL");
}

/* Looks key up in a mapping. A duplicate key is refused: which one wins is
 * parser-dependent, so silently picking one could connect somewhere unexpected. */
static int map_get(kc_doc_t *d, yaml_node_t *map, const char *key, yaml_node_t **out)
{
    *out = NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(&d->doc, p->key);
        if (!scalar_is(k, key)) continue;
        if (*out) return node_fail(d, k, "duplicate key '%s'", key);
        *out = yaml_document_get_node(&d->doc, p->value);
    }
    if (*out && is_null(*out)) *out = NULL;
    return 0;
}

static int expect(kc_doc_t *d, yaml_node_t *n, yaml_node_type_t type, const char *what)
{
    if (n && n->type == type) return 0;
    const char *want = type == YAML_MAPPING_NODE ? "a mapping" : type == YAML_SEQUENCE_NODE ? "a list" : "a string";
    return node_fail(d, n, "expected %s for %s, found %s", want, what, node_type_name(n));
}

/* Reads an optional string field into a fresh copy (*out NULL when absent). */
static int get_str(kc_doc_t *d, yaml_node_t *map, const char *key, char **out)
{
    yaml_node_t *v;
    *out = NULL;
    if (map_get(d, map, key, &v) < 0) return -1;
    if (!v) return 0;
    if (expect(d, v, YAML_SCALAR_NODE, key) < 0) return -1;
    if (memchr(v->data.scalar.value, '\0', v->data.scalar.length))
        return node_fail(d, v, "'%s' contains a NUL byte", key);
    *out = strndup((const char *)v->data.scalar.value, v->data.scalar.length);
    if (!*out) return node_fail(d, v, "out of memory");
    return 0;
}

static int get_bool(kc_doc_t *d, yaml_node_t *map, const char *key, bool *out)
{
    yaml_node_t *v;
    *out = false;
    if (map_get(d, map, key, &v) < 0) return -1;
    if (!v) return 0;
    /* A quoted "true" is a string in Kubernetes' eyes, not a bool. */
    if (v->type == YAML_SCALAR_NODE && v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        const char *s = (const char *)v->data.scalar.value;
        if (v->data.scalar.length == 4 && strncasecmp(s, "true", 4) == 0) { *out = true; return 0; }
        if (v->data.scalar.length == 5 && strncasecmp(s, "false", 5) == 0) return 0;
    }
    return node_fail(d, v, "expected true or false for '%s', found %s", key, node_type_name(v));
}

/* ---- base64 (RFC 4648, standard alphabet; whitespace ignored) ---- */

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Returns a malloc'd NUL-terminated buffer of *outlen bytes, or NULL if the
 * input is not valid base64 (bad character, bad padding, truncated group). */
static char *b64_decode(const char *in, size_t inlen, size_t *outlen)
{
    char *out = malloc(inlen / 4 * 3 + 4);
    if (!out) return NULL;
    uint32_t acc = 0;
    size_t n = 0, group = 0, pad = 0;
    for (size_t i = 0; i < inlen; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
        if (c == '=') {
            if (group < 2 || ++pad + group > 4) goto bad;
            continue;
        }
        int v = b64_value(c);
        if (v < 0 || pad) goto bad; /* data after padding */
        acc = acc << 6 | (uint32_t)v;
        if (++group == 4) {
            out[n++] = (char)(acc >> 16);
            out[n++] = (char)(acc >> 8);
            out[n++] = (char)acc;
            acc = 0;
            group = 0;
        }
    }
    if (group == 1) goto bad;
    if (group && pad && group + pad != 4) goto bad;
    if (group == 2) out[n++] = (char)(acc >> 4);
    if (group == 3) { out[n++] = (char)(acc >> 10); out[n++] = (char)(acc >> 2); }
    out[n] = '\0';
    *outlen = n;
    return out;
bad:
    free(out);
    return NULL;
}

/* Decodes a *-data field that must hold PEM. */
static int get_pem_data(kc_doc_t *d, yaml_node_t *map, const char *key, char **out, size_t *outlen)
{
    yaml_node_t *v;
    *out = NULL;
    *outlen = 0;
    if (map_get(d, map, key, &v) < 0) return -1;
    if (!v) return 0;
    if (expect(d, v, YAML_SCALAR_NODE, key) < 0) return -1;
    char *pem = b64_decode((const char *)v->data.scalar.value, v->data.scalar.length, outlen);
    if (!pem) return node_fail(d, v, "'%s' is not valid base64", key);
    if (*outlen == 0 || !strstr(pem, "-----BEGIN ")) {
        free(pem);
        return node_fail(d, v, "'%s' does not decode to PEM (no -----BEGIN line)", key);
    }
    *out = pem;
    return 0;
}

/* ---- files ---- */

/* Reads a whole regular file (bounded). Returns malloc'd, NUL-terminated. */
static char *read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { errfmt(err, errlen, "%s: %s", path, strerror(errno)); return NULL; }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
        errfmt(err, errlen, "%s: not a regular file of at most %zu bytes", path, max);
        close(fd);
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t n = 0;
    while (buf && n < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += (size_t)r;
    }
    close(fd);
    if (!buf || n != (size_t)st.st_size) {
        errfmt(err, errlen, "%s: read failed", path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Reads a bearer token file, trimming surrounding whitespace. */
static char *read_token(const char *path, char *err, size_t errlen)
{
    size_t len = 0;
    char *t = read_file(path, KC_MAX_TOKEN, &len, err, errlen);
    if (!t) return NULL;
    if (memchr(t, '\0', len)) { free(t); errfmt(err, errlen, "%s: token contains a NUL byte", path); return NULL; }
    size_t start = 0;
    while (start < len && strchr(" \t\r\n", t[start])) start++;
    while (len > start && strchr(" \t\r\n", t[len - 1])) len--;
    memmove(t, t + start, len - start);
    t[len - start] = '\0';
    if (!t[0] || strpbrk(t, "\r\n")) {
        free(t);
        errfmt(err, errlen, "%s: empty or multi-line token", path);
        return NULL;
    }
    return t;
}

/* Makes a path from the file relative to the kubeconfig's directory, as
 * client-go does, and checks it is readable now (a clear error at start
 * beats a TLS failure later). */
static int resolve_path(kc_doc_t *d, yaml_node_t *map, const char *key, char **path)
{
    if (get_str(d, map, key, path) < 0) return -1;
    if (!*path) return 0;
    if ((*path)[0] != '/' && d->basedir) {
        char *full = NULL;
        if (asprintf(&full, "%s/%s", d->basedir, *path) < 0) return errfmt(d->err, d->errlen, "out of memory");
        free(*path);
        *path = full;
    }
    if (access(*path, R_OK) < 0) {
        yaml_node_t *v;
        map_get(d, map, key, &v);
        return node_fail(d, v, "%s '%s': %s", key, *path, strerror(errno));
    }
    return 0;
}

/* ---- the kubeconfig structure ---- */

/* Finds the entry {name: NAME, <field>: {...}} in the list under key. */
static int find_named(kc_doc_t *d, yaml_node_t *root, const char *list_key, const char *field, const char *name,
                      yaml_node_t *ref, yaml_node_t **out)
{
    yaml_node_t *list;
    *out = NULL;
    if (map_get(d, root, list_key, &list) < 0) return -1;
    if (!list) return node_fail(d, ref, "'%s' refers to %s '%s' but the file has no '%s'", field, field, name, list_key);
    if (expect(d, list, YAML_SEQUENCE_NODE, list_key) < 0) return -1;
    for (yaml_node_item_t *it = list->data.sequence.items.start; it < list->data.sequence.items.top; it++) {
        yaml_node_t *entry = yaml_document_get_node(&d->doc, *it);
        if (expect(d, entry, YAML_MAPPING_NODE, list_key) < 0) return -1;
        yaml_node_t *n;
        if (map_get(d, entry, "name", &n) < 0) return -1;
        if (!n || n->type != YAML_SCALAR_NODE) return node_fail(d, entry, "entry of '%s' without a name", list_key);
        if (!scalar_is(n, name)) continue;
        if (map_get(d, entry, field, out) < 0) return -1;
        if (!*out) return node_fail(d, entry, "%s '%s' has no '%s' mapping", field, name, field);
        return expect(d, *out, YAML_MAPPING_NODE, field);
    }
    return node_fail(d, ref, "%s '%s' not found in '%s'", field, name, list_key);
}

static int valid_server(const char *s)
{
    return strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
}

static void strip_trailing_slashes(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '/') s[--n] = '\0';
}

static int parse_cluster(kc_doc_t *d, yaml_node_t *c, kubeconfig_t *kc)
{
    if (get_str(d, c, "server", &kc->server) < 0) return -1;
    if (!kc->server) return node_fail(d, c, "cluster has no 'server'");
    if (!valid_server(kc->server)) {
        yaml_node_t *v;
        map_get(d, c, "server", &v);
        return node_fail(d, v, "expected an http:// or https:// URL for 'server', found '%s'", kc->server);
    }
    strip_trailing_slashes(kc->server);
    if (get_bool(d, c, "insecure-skip-tls-verify", &kc->insecure) < 0) return -1;
    if (resolve_path(d, c, "certificate-authority", &kc->ca_file) < 0) return -1;
    if (get_pem_data(d, c, "certificate-authority-data", &kc->ca_data, &kc->ca_data_len) < 0) return -1;
    /* client-go's rule (its TLS config refuses the pair): a CA given and
     * verification off is a mistake, not a choice to honour either way. */
    if (kc->insecure && (kc->ca_file || kc->ca_data)) {
        yaml_node_t *v;
        map_get(d, c, "insecure-skip-tls-verify", &v);
        return node_fail(d, v, "specifying a root certificates file with the insecure flag is not allowed "
                               "(certificate-authority%s and insecure-skip-tls-verify: true)",
                         kc->ca_data ? "-data" : "");
    }
    return 0;
}

/* A token goes into an HTTP header: one line of visible characters. */
static bool token_ok(const char *t)
{
    for (const unsigned char *p = (const unsigned char *)t; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return false;
    return true;
}

static int parse_user(kc_doc_t *d, yaml_node_t *u, kubeconfig_t *kc)
{
    static const char *unsupported[] = { "exec", "auth-provider", "username", "password", NULL };
    for (int i = 0; unsupported[i]; i++) {
        yaml_node_t *v;
        if (map_get(d, u, unsupported[i], &v) < 0) return -1;
        if (v) return node_fail(d, v, "user credentials '%s' are not supported by kubus (use a token or a client certificate)", unsupported[i]);
    }
    if (resolve_path(d, u, "client-certificate", &kc->cert_file) < 0) return -1;
    if (resolve_path(d, u, "client-key", &kc->key_file) < 0) return -1;
    if (get_pem_data(d, u, "client-certificate-data", &kc->cert_data, &kc->cert_data_len) < 0) return -1;
    if (get_pem_data(d, u, "client-key-data", &kc->key_data, &kc->key_data_len) < 0) return -1;
    if (get_str(d, u, "token", &kc->token) < 0) return -1;
    if (kc->token && !token_ok(kc->token)) {
        yaml_node_t *v;
        map_get(d, u, "token", &v);
        return node_fail(d, v, "'token' contains a control character (CR, LF, tab...): it would break the "
                               "Authorization header");
    }
    if (resolve_path(d, u, "tokenFile", &kc->token_file) < 0) return -1;
    if (!kc->token && kc->token_file) {
        char why[256];
        kc->token = read_token(kc->token_file, why, sizeof why);
        if (!kc->token) {
            yaml_node_t *v;
            map_get(d, u, "tokenFile", &v);
            return node_fail(d, v, "tokenFile: %s", why);
        }
    }
    bool has_cert = kc->cert_file || kc->cert_data, has_key = kc->key_file || kc->key_data;
    if (has_cert != has_key) return node_fail(d, u, "a client certificate needs both a certificate and a key");
    return 0;
}

static int parse_root(kc_doc_t *d, kubeconfig_t *kc)
{
    yaml_node_t *root = yaml_document_get_root_node(&d->doc);
    if (!root) return errfmt(d->err, d->errlen, "%s:1: empty document, expected a kubeconfig mapping", d->name);
    if (expect(d, root, YAML_MAPPING_NODE, "the kubeconfig") < 0) return -1;
    yaml_node_t *cur, *ctx, *cname, *uname, *cluster, *user = NULL;
    if (map_get(d, root, "current-context", &cur) < 0) return -1;
    if (!cur) return node_fail(d, root, "no 'current-context' set");
    if (expect(d, cur, YAML_SCALAR_NODE, "'current-context'") < 0) return -1;
    char *name = strndup((const char *)cur->data.scalar.value, cur->data.scalar.length);
    if (!name) return errfmt(d->err, d->errlen, "out of memory");
    int rc = find_named(d, root, "contexts", "context", name, cur, &ctx);
    free(name);
    if (rc < 0) return -1;
    if (map_get(d, ctx, "cluster", &cname) < 0 || map_get(d, ctx, "user", &uname) < 0) return -1;
    if (!cname) return node_fail(d, ctx, "context has no 'cluster'");
    if (expect(d, cname, YAML_SCALAR_NODE, "'cluster'") < 0) return -1;
    name = strndup((const char *)cname->data.scalar.value, cname->data.scalar.length);
    if (!name) return errfmt(d->err, d->errlen, "out of memory");
    rc = find_named(d, root, "clusters", "cluster", name, cname, &cluster);
    free(name);
    if (rc < 0 || parse_cluster(d, cluster, kc) < 0) return -1;
    if (!uname) return 0; /* anonymous: allowed (e.g. a plain-http test server) */
    if (expect(d, uname, YAML_SCALAR_NODE, "'user'") < 0) return -1;
    name = strndup((const char *)uname->data.scalar.value, uname->data.scalar.length);
    if (!name) return errfmt(d->err, d->errlen, "out of memory");
    rc = find_named(d, root, "users", "user", name, uname, &user);
    free(name);
    if (rc < 0) return -1;
    return parse_user(d, user, kc);
}

static int parse_with_dir(const char *yaml, size_t len, const char *name, const char *basedir, kubeconfig_t *out,
                          char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (err && errlen) err[0] = '\0';
    char dummy[1];
    kc_doc_t d = { .name = name ? name : "kubeconfig", .basedir = basedir,
                   .err = err && errlen ? err : dummy, .errlen = err && errlen ? errlen : sizeof dummy };
    if (len > KC_MAX_FILE) return errfmt(d.err, d.errlen, "%s: larger than %u bytes", d.name, KC_MAX_FILE);
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) return errfmt(d.err, d.errlen, "%s: out of memory", d.name);
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
    if (!yaml_parser_load(&parser, &d.doc)) {
        errfmt(d.err, d.errlen, "%s:%lu: not valid YAML: %s", d.name, (unsigned long)parser.problem_mark.line + 1,
               parser.problem ? parser.problem : "parse error");
        yaml_parser_delete(&parser);
        return -1;
    }
    yaml_parser_delete(&parser);
    int rc = parse_root(&d, out);
    yaml_document_delete(&d.doc);
    if (rc == 0) rc = (out->source = strdup(d.name)) ? 0 : errfmt(d.err, d.errlen, "out of memory");
    if (rc < 0) kubeconfig_free(out);
    return rc;
}

int kubeconfig_parse(const char *yaml, size_t len, const char *name, kubeconfig_t *out, char *err, size_t errlen)
{
    char dir[1024] = "";
    const char *slash = name ? strrchr(name, '/') : NULL;
    if (slash && (size_t)(slash - name) < sizeof dir) {
        memcpy(dir, name, (size_t)(slash - name));
        dir[slash - name] = '\0';
        if (!dir[0]) strcpy(dir, "/");
    }
    return parse_with_dir(yaml, len, name, dir[0] ? dir : NULL, out, err, errlen);
}

static int load_file(const char *path, kubeconfig_t *out, char *err, size_t errlen)
{
    size_t len = 0;
    char *text = read_file(path, KC_MAX_FILE, &len, err, errlen);
    if (!text) return -1;
    int rc = kubeconfig_parse(text, len, path, out, err, errlen);
    free(text);
    return rc;
}

int kubeconfig_in_cluster_dir(const char *sa_dir, kubeconfig_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *host = getenv("KUBERNETES_SERVICE_HOST"), *port = getenv("KUBERNETES_SERVICE_PORT");
    if (!host || !*host || !port || !*port)
        return errfmt(err, errlen, "in-cluster: KUBERNETES_SERVICE_HOST/PORT are not set");
    if (strspn(port, "0123456789") != strlen(port) || strlen(port) > 5)
        return errfmt(err, errlen, "in-cluster: KUBERNETES_SERVICE_PORT '%s' is not a port", port);
    bool v6 = strchr(host, ':') != NULL;
    if (asprintf(&out->server, v6 ? "https://[%s]:%s" : "https://%s:%s", host, port) < 0) {
        out->server = NULL;
        return errfmt(err, errlen, "out of memory");
    }
    if (asprintf(&out->token_file, "%s/token", sa_dir) < 0 || asprintf(&out->ca_file, "%s/ca.crt", sa_dir) < 0) {
        kubeconfig_free(out);
        return errfmt(err, errlen, "out of memory");
    }
    char why[256];
    out->token = read_token(out->token_file, why, sizeof why);
    if (!out->token || access(out->ca_file, R_OK) < 0) {
        if (out->token) snprintf(why, sizeof why, "%s: %s", out->ca_file, strerror(errno));
        kubeconfig_free(out);
        return errfmt(err, errlen, "in-cluster: %s", why);
    }
    if (!(out->source = strdup("in-cluster"))) {
        kubeconfig_free(out);
        return errfmt(err, errlen, "out of memory");
    }
    return 0;
}

int kubeconfig_in_cluster(kubeconfig_t *out, char *err, size_t errlen)
{
    return kubeconfig_in_cluster_dir(KC_SA_DIR, out, err, errlen);
}

/* First existing file of a ':'-separated $KUBECONFIG; *found false if none. */
static int load_env_list(const char *list, kubeconfig_t *out, bool *found, char *err, size_t errlen)
{
    *found = false;
    char *copy = strdup(list), *save = NULL;
    if (!copy) return errfmt(err, errlen, "out of memory");
    int rc = 0;
    for (char *p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
        if (access(p, F_OK) < 0) continue;
        *found = true;
        rc = load_file(p, out, err, errlen);
        break;
    }
    free(copy);
    return rc;
}

static int apply_master(kubeconfig_t *kc, const char *master, char *err, size_t errlen)
{
    if (!master || !*master) return 0;
    if (!valid_server(master)) return errfmt(err, errlen, "--master '%s' is not an http:// or https:// URL", master);
    char *s = strdup(master);
    if (!s) return errfmt(err, errlen, "out of memory");
    strip_trailing_slashes(s);
    free(kc->server);
    kc->server = s;
    return 0;
}

static int load_any(const char *path, const char *master, kubeconfig_t *out, char *err, size_t errlen)
{
    if (path && *path) return load_file(path, out, err, errlen);
    const char *env = getenv("KUBECONFIG");
    if (env && *env) {
        bool found;
        if (load_env_list(env, out, &found, err, errlen) < 0) return -1;
        if (found) return 0;
    }
    const char *home = getenv("HOME");
    char def[1024];
    if (home && *home && snprintf(def, sizeof def, "%s/.kube/config", home) < (int)sizeof def &&
        access(def, F_OK) == 0)
        return load_file(def, out, err, errlen);
    char why[256];
    if (kubeconfig_in_cluster(out, why, sizeof why) == 0) return 0;
    if (master && *master) { /* a bare --master: no credentials, system CAs */
        memset(out, 0, sizeof *out);
        out->source = strdup("--master");
        return out->source ? 0 : errfmt(err, errlen, "out of memory");
    }
    return errfmt(err, errlen, "no kubeconfig: give --kubeconfig, set $KUBECONFIG, create ~/.kube/config, "
                                "or run in a pod (%s)", why);
}

bool kubeconfig_token_in_clear(const kubeconfig_t *kc)
{
    return kc->token && kc->server && strncmp(kc->server, "http://", 7) == 0;
}

int kubeconfig_load(const char *path, const char *master, kubeconfig_t *out, char *err, size_t errlen)
{
    if (load_any(path, master, out, err, errlen) < 0) return -1;
    if (apply_master(out, master, err, errlen) < 0) { kubeconfig_free(out); return -1; }
    if (kubeconfig_token_in_clear(out))
        LOGW("the bearer token will be sent over plain http: anyone on the path can read and reuse it",
             "server", out->server, "kubeconfig", out->source ? out->source : "");
    return 0;
}

int kubeconfig_reload_token(kubeconfig_t *kc, char *err, size_t errlen)
{
    if (!kc->token_file) return 0;
    char *t = read_token(kc->token_file, err, errlen);
    if (!t) return -1;
    free(kc->token);
    kc->token = t;
    return 0;
}

static void free_secret(char *s, size_t len)
{
    if (!s) return;
    /* Key material should not linger in freed heap. */
    explicit_bzero(s, len ? len : strlen(s));
    free(s);
}

void kubeconfig_free(kubeconfig_t *kc)
{
    if (!kc) return;
    free(kc->server);
    free(kc->ca_file);
    free(kc->ca_data);
    free(kc->cert_file);
    free(kc->key_file);
    free(kc->cert_data);
    free_secret(kc->key_data, kc->key_data_len);
    free_secret(kc->token, 0);
    free(kc->token_file);
    free(kc->source);
    memset(kc, 0, sizeof *kc);
}

static int set_blob(CURL *h, CURLoption opt, char *data, size_t len)
{
    struct curl_blob blob = { .data = data, .len = len, .flags = CURL_BLOB_COPY };
    return curl_easy_setopt(h, opt, &blob) == CURLE_OK ? 0 : -1;
}

int kubeconfig_apply_curl(const kubeconfig_t *kc, void *curl_easy, struct curl_slist **headers)
{
    CURL *h = curl_easy;
    long verify = kc->insecure ? 0L : 1L;
    if (curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, verify) != CURLE_OK ||
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L) != CURLE_OK)
        return -1;
    if (kc->ca_data && set_blob(h, CURLOPT_CAINFO_BLOB, kc->ca_data, kc->ca_data_len) < 0) return -1;
    if (!kc->ca_data && kc->ca_file && curl_easy_setopt(h, CURLOPT_CAINFO, kc->ca_file) != CURLE_OK) return -1;
    if (kc->cert_data) {
        if (set_blob(h, CURLOPT_SSLCERT_BLOB, kc->cert_data, kc->cert_data_len) < 0 ||
            curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM") != CURLE_OK)
            return -1;
    } else if (kc->cert_file && curl_easy_setopt(h, CURLOPT_SSLCERT, kc->cert_file) != CURLE_OK) {
        return -1;
    }
    if (kc->key_data) {
        if (set_blob(h, CURLOPT_SSLKEY_BLOB, kc->key_data, kc->key_data_len) < 0 ||
            curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM") != CURLE_OK)
            return -1;
    } else if (kc->key_file && curl_easy_setopt(h, CURLOPT_SSLKEY, kc->key_file) != CURLE_OK) {
        return -1;
    }
    if (kc->token && headers) {
        char *line = NULL;
        if (asprintf(&line, "Authorization: Bearer %s", kc->token) < 0) return -1;
        struct curl_slist *l = curl_slist_append(*headers, line);
        explicit_bzero(line, strlen(line));
        free(line);
        if (!l) return -1;
        *headers = l;
    }
    return 0;
}
