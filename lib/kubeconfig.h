/* kubeconfig.h - where the API server is and who we are to it.
 *
 * Owns: reading a kubeconfig (libyaml) or the in-cluster service account,
 * and turning it into libcurl options. Lookup order (like client-go):
 * explicit path (--kubeconfig), $KUBECONFIG (first existing file of a
 * ':'-separated list), ~/.kube/config, then in-cluster
 * (KUBERNETES_SERVICE_HOST/PORT, /var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt}).
 * --master overrides the server URL.
 *
 * Supported: current-context -> context -> cluster (server,
 * certificate-authority, certificate-authority-data, insecure-skip-tls-verify)
 * and user (client-certificate[-data], client-key[-data], token, tokenFile).
 * TLS verification is on unless insecure-skip-tls-verify: true, which is
 * refused together with a CA (as client-go does). An inline token must be
 * one line without control characters (it goes into a header). A token for
 * an http:// server is logged as a warning when loaded.
 * Errors name the file, the line and what was expected.
 */
#ifndef KUBUS_KUBECONFIG_H
#define KUBUS_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *server;            /* "https://127.0.0.1:6443", no trailing slash */
    char *ca_file;           /* PEM file path, or NULL */
    char *ca_data;           /* PEM bytes (decoded from base64), or NULL */
    size_t ca_data_len;
    char *cert_file, *key_file;
    char *cert_data, *key_data;  /* PEM bytes, decoded */
    size_t cert_data_len, key_data_len;
    char *token;             /* bearer token (read from tokenFile if given) */
    char *token_file;        /* re-read on 401 (service-account rotation) */
    bool insecure;
    char *source;            /* which file (or "in-cluster") it came from */
} kubeconfig_t;

/* path may be NULL (search order above); master may be NULL.
 * Returns 0, or -1 with a message in err. */
int kubeconfig_load(const char *path, const char *master, kubeconfig_t *out, char *err, size_t errlen);
/* True when kc would send its bearer token over plain http (kubeconfig_load
 * warns). */
bool kubeconfig_token_in_clear(const kubeconfig_t *kc);
/* Parses kubeconfig YAML text (for tests). name is used in messages. */
int kubeconfig_parse(const char *yaml, size_t len, const char *name, kubeconfig_t *out, char *err,
                     size_t errlen);
int kubeconfig_in_cluster(kubeconfig_t *out, char *err, size_t errlen);
/* The same with another service-account directory (tests). */
int kubeconfig_in_cluster_dir(const char *sa_dir, kubeconfig_t *out, char *err, size_t errlen);
/* Re-reads token_file into token (service-account token rotation; call on a
 * 401). No-op without a token file. 0, or -1 with a message (token kept). */
int kubeconfig_reload_token(kubeconfig_t *kc, char *err, size_t errlen);
void kubeconfig_free(kubeconfig_t *kc);

/* Sets TLS and auth options on a curl easy handle (CURL *). Returns 0 or -1.
 * *headers is a curl_slist the caller owns and frees (Authorization added). */
struct curl_slist;
int kubeconfig_apply_curl(const kubeconfig_t *kc, void *curl_easy, struct curl_slist **headers);

#endif
