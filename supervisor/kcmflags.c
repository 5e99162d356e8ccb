/* kcmflags.c - the table of kube-controller-manager flags without effect. See kcmflags.h. */
#include "kcmflags.h"
#include "errfmt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"

#define WHY_CONTROLLER "it configures a controller kubus does not run"
#define WHY_CLOUD "kubus has no cloud provider integration"
#define WHY_SERVING "kubus serves plain HTTP on --bind-address:--port, without TLS, authentication " \
    "or authorization"
#define WHY_METRICS "kubus's /metrics has a fixed set of families"
#define WHY_PROFILING "kubus has no profiling endpoints"
#define WHY_LOGS "kubus writes every log line at once, unbuffered"
#define WHY_VERSIONS "kubus has no emulated or compatibility versions"
#define WHY_MIGRATION "kubus has no leader migration"
#define WHY_RESYNC "kubus's caches follow watches and never resync on a timer"
#define WHY_START "kubus starts its controllers as soon as the broker, informer and executor are up"
#define WHY_SHUTDOWN "kubus stops its workers with SIGTERM, then SIGKILL after a fixed grace"
#define WHY_SA_CREDENTIALS "every kubus controller uses the kubeconfig's identity (its User-Agent " \
    "names the controller)"
#define WHY_CONTENT_TYPE "kubus always sends application/json"

/* Sorted by name (bsearch). */
static const kcm_flag_t table[KCM_IGNORED_COUNT] = {
    { "allocate-node-cidrs", KCM_BOOL, WHY_CONTROLLER },
    { "allow-metric-labels", KCM_STRING, WHY_METRICS },
    { "allow-metric-labels-manifest", KCM_STRING, WHY_METRICS },
    { "allow-untagged-cloud", KCM_BOOL, WHY_CLOUD },
    { "attach-detach-reconcile-sync-period", KCM_DURATION, WHY_CONTROLLER },
    { "authentication-kubeconfig", KCM_STRING, WHY_SERVING },
    { "authentication-skip-lookup", KCM_BOOL, WHY_SERVING },
    { "authentication-token-webhook-cache-ttl", KCM_DURATION, WHY_SERVING },
    { "authentication-tolerate-lookup-failure", KCM_BOOL, WHY_SERVING },
    { "authorization-always-allow-paths", KCM_STRING, WHY_SERVING },
    { "authorization-kubeconfig", KCM_STRING, WHY_SERVING },
    { "authorization-webhook-cache-authorized-ttl", KCM_DURATION, WHY_SERVING },
    { "authorization-webhook-cache-unauthorized-ttl", KCM_DURATION, WHY_SERVING },
    { "cert-dir", KCM_STRING, WHY_SERVING },
    { "cidr-allocator-type", KCM_STRING, WHY_CONTROLLER },
    { "client-ca-file", KCM_STRING, WHY_SERVING },
    { "cloud-config", KCM_STRING, WHY_CLOUD },
    { "cloud-provider", KCM_STRING, WHY_CLOUD },
    { "cluster-cidr", KCM_STRING, WHY_CONTROLLER },
    { "cluster-name", KCM_STRING, WHY_CLOUD },
    { "cluster-signing-cert-file", KCM_STRING, WHY_CONTROLLER },
    { "cluster-signing-duration", KCM_DURATION, WHY_CONTROLLER },
    { "cluster-signing-key-file", KCM_STRING, WHY_CONTROLLER },
    { "cluster-signing-kube-apiserver-client-cert-file", KCM_STRING, WHY_CONTROLLER },
    { "cluster-signing-kube-apiserver-client-key-file", KCM_STRING, WHY_CONTROLLER },
    { "cluster-signing-kubelet-client-cert-file", KCM_STRING, WHY_CONTROLLER },
    { "cluster-signing-kubelet-client-key-file", KCM_STRING, WHY_CONTROLLER },
    { "cluster-signing-kubelet-serving-cert-file", KCM_STRING, WHY_CONTROLLER },
    { "cluster-signing-kubelet-serving-key-file", KCM_STRING, WHY_CONTROLLER },
    { "cluster-signing-legacy-unknown-cert-file", KCM_STRING, WHY_CONTROLLER },
    { "cluster-signing-legacy-unknown-key-file", KCM_STRING, WHY_CONTROLLER },
    { "concurrent-device-taint-eviction-syncs", KCM_INT, WHY_CONTROLLER },
    { "concurrent-endpoint-syncs", KCM_INT, WHY_CONTROLLER },
    { "concurrent-ephemeralvolume-syncs", KCM_INT, WHY_CONTROLLER },
    { "concurrent-horizontal-pod-autoscaler-syncs", KCM_INT, WHY_CONTROLLER },
    { "concurrent-namespace-syncs", KCM_INT, WHY_CONTROLLER },
    { "concurrent-rc-syncs", KCM_INT, WHY_CONTROLLER },
    { "concurrent-resource-quota-syncs", KCM_INT, WHY_CONTROLLER },
    { "concurrent-resourceclaim-syncs", KCM_INT, WHY_CONTROLLER },
    { "concurrent-service-endpoint-syncs", KCM_INT, WHY_CONTROLLER },
    { "concurrent-service-syncs", KCM_INT, WHY_CONTROLLER },
    { "concurrent-serviceaccount-token-syncs", KCM_INT, WHY_CONTROLLER },
    { "concurrent-validating-admission-policy-status-syncs", KCM_INT, WHY_CONTROLLER },
    { "configure-cloud-routes", KCM_BOOL, WHY_CLOUD },
    { "contention-profiling", KCM_BOOL, WHY_PROFILING },
    { "controller-shutdown-timeout", KCM_DURATION, WHY_SHUTDOWN },
    { "controller-start-interval", KCM_DURATION, WHY_START },
    { "disable-attach-detach-reconcile-sync", KCM_BOOL, WHY_CONTROLLER },
    { "disable-force-detach-on-timeout", KCM_BOOL, WHY_CONTROLLER },
    { "disable-http2-serving", KCM_BOOL, WHY_SERVING },
    { "disabled-metrics", KCM_STRING, WHY_METRICS },
    { "emulated-version", KCM_STRING, WHY_VERSIONS },
    { "enable-dynamic-provisioning", KCM_BOOL, WHY_CONTROLLER },
    { "enable-hostpath-provisioner", KCM_BOOL, WHY_CONTROLLER },
    { "enable-leader-migration", KCM_BOOL, WHY_MIGRATION },
    { "endpoint-updates-batch-period", KCM_DURATION, WHY_CONTROLLER },
    { "endpointslice-updates-batch-period", KCM_DURATION, WHY_CONTROLLER },
    { "external-cloud-volume-plugin", KCM_STRING, WHY_CLOUD },
    { "flex-volume-plugin-dir", KCM_STRING, WHY_CONTROLLER },
    { "horizontal-pod-autoscaler-cpu-initialization-period", KCM_DURATION, WHY_CONTROLLER },
    { "horizontal-pod-autoscaler-downscale-stabilization", KCM_DURATION, WHY_CONTROLLER },
    { "horizontal-pod-autoscaler-initial-readiness-delay", KCM_DURATION, WHY_CONTROLLER },
    { "horizontal-pod-autoscaler-sync-period", KCM_DURATION, WHY_CONTROLLER },
    { "horizontal-pod-autoscaler-tolerance", KCM_FLOAT, WHY_CONTROLLER },
    { "http2-max-streams-per-connection", KCM_INT, WHY_SERVING },
    { "kube-api-content-type", KCM_CONTENT_TYPE, WHY_CONTENT_TYPE },
    { "large-cluster-size-threshold", KCM_INT, WHY_CONTROLLER },
    { "leader-migration-config", KCM_STRING, WHY_MIGRATION },
    { "legacy-service-account-token-clean-up-period", KCM_DURATION, WHY_CONTROLLER },
    { "log-flush-frequency", KCM_DURATION, WHY_LOGS },
    { "max-endpoints-per-slice", KCM_INT, WHY_CONTROLLER },
    { "min-compatibility-version", KCM_STRING, WHY_VERSIONS },
    { "min-resync-period", KCM_DURATION, WHY_RESYNC },
    { "mirroring-concurrent-service-endpoint-syncs", KCM_INT, WHY_CONTROLLER },
    { "mirroring-endpointslice-updates-batch-period", KCM_DURATION, WHY_CONTROLLER },
    { "mirroring-max-endpoints-per-subset", KCM_INT, WHY_CONTROLLER },
    { "namespace-sync-period", KCM_DURATION, WHY_CONTROLLER },
    { "node-cidr-mask-size", KCM_INT, WHY_CONTROLLER },
    { "node-cidr-mask-size-ipv4", KCM_INT, WHY_CONTROLLER },
    { "node-cidr-mask-size-ipv6", KCM_INT, WHY_CONTROLLER },
    { "node-eviction-rate", KCM_FLOAT, WHY_CONTROLLER },
    { "node-monitor-grace-period", KCM_DURATION, WHY_CONTROLLER },
    { "node-monitor-period", KCM_DURATION, WHY_CONTROLLER },
    { "node-startup-grace-period", KCM_DURATION, WHY_CONTROLLER },
    { "node-sync-period", KCM_DURATION, WHY_CLOUD },
    { "permit-address-sharing", KCM_BOOL, WHY_SERVING },
    { "permit-port-sharing", KCM_BOOL, WHY_SERVING },
    { "profiling", KCM_BOOL, WHY_PROFILING },
    { "pv-recycler-increment-timeout-nfs", KCM_INT, WHY_CONTROLLER },
    { "pv-recycler-minimum-timeout-hostpath", KCM_INT, WHY_CONTROLLER },
    { "pv-recycler-minimum-timeout-nfs", KCM_INT, WHY_CONTROLLER },
    { "pv-recycler-pod-template-filepath-hostpath", KCM_STRING, WHY_CONTROLLER },
    { "pv-recycler-pod-template-filepath-nfs", KCM_STRING, WHY_CONTROLLER },
    { "pv-recycler-timeout-increment-hostpath", KCM_INT, WHY_CONTROLLER },
    { "pvclaimbinder-sync-period", KCM_DURATION, WHY_CONTROLLER },
    { "requestheader-allowed-names", KCM_STRING, WHY_SERVING },
    { "requestheader-client-ca-file", KCM_STRING, WHY_SERVING },
    { "requestheader-extra-headers-prefix", KCM_STRING, WHY_SERVING },
    { "requestheader-group-headers", KCM_STRING, WHY_SERVING },
    { "requestheader-uid-headers", KCM_STRING, WHY_SERVING },
    { "requestheader-username-headers", KCM_STRING, WHY_SERVING },
    { "resource-quota-sync-period", KCM_DURATION, WHY_CONTROLLER },
    { "root-ca-file", KCM_STRING, WHY_CONTROLLER },
    { "route-reconciliation-period", KCM_DURATION, WHY_CLOUD },
    { "secondary-node-eviction-rate", KCM_FLOAT, WHY_CONTROLLER },
    { "secure-port", KCM_PORT, WHY_SERVING },
    { "service-account-private-key-file", KCM_STRING, WHY_CONTROLLER },
    { "service-cluster-ip-range", KCM_STRING, WHY_CONTROLLER },
    { "show-hidden-metrics-for-version", KCM_STRING, WHY_METRICS },
    { "terminated-pod-gc-threshold", KCM_INT, WHY_CONTROLLER },
    { "tls-cert-file", KCM_STRING, WHY_SERVING },
    { "tls-cipher-suites", KCM_STRING, WHY_SERVING },
    { "tls-curve-preferences", KCM_STRING, WHY_SERVING },
    { "tls-min-version", KCM_STRING, WHY_SERVING },
    { "tls-private-key-file", KCM_STRING, WHY_SERVING },
    { "tls-sni-cert-key", KCM_STRING, WHY_SERVING },
    { "unhealthy-zone-threshold", KCM_FLOAT, WHY_CONTROLLER },
    { "use-service-account-credentials", KCM_BOOL, WHY_SA_CREDENTIALS },
};

const kcm_flag_t *kcm_flag(size_t i) { return i < KCM_IGNORED_COUNT ? &table[i] : NULL; }

static int by_name(const void *key, const void *elem)
{
    return strcmp(key, ((const kcm_flag_t *)elem)->name);
}

int kcm_flag_lookup(const char *name)
{
    const kcm_flag_t *f = bsearch(name, table, KCM_IGNORED_COUNT, sizeof table[0], by_name);
    return f ? (int)(f - table) : -1;
}

static int check_content_type(const char *name, const char *v, char *err, size_t errlen)
{
    if (strcmp(v, "application/json") == 0 || strcmp(v, "application/vnd.kubernetes.protobuf") == 0)
        return 0;
    return errfmt(err, errlen, "--%s=%s: must be application/json or "
                      "application/vnd.kubernetes.protobuf", name, v);
}

static int check_value(const kcm_flag_t *f, const char *v, char *err, size_t errlen)
{
    long l = 0;
    double d = 0;
    switch (f->kind) {
    case KCM_BOOL: {
        bool b;
        return flags_bool(f->name, v, &b, err, errlen);
    }
    case KCM_INT: return flags_long(f->name, v, INT32_MIN, INT32_MAX, &l, err, errlen);
    case KCM_FLOAT: return flags_double(f->name, v, -1e300, 1e300, &d, err, errlen);
    case KCM_DURATION: return flags_go_duration(f->name, v, &d, err, errlen);
    case KCM_PORT: return flags_long(f->name, v, 0, 65535, &l, err, errlen);
    case KCM_CONTENT_TYPE: return check_content_type(f->name, v, err, errlen);
    case KCM_STRING: return 0;
    }
    return 0;
}

int kcm_flag_check(size_t i, const char *value, bool inline_value, bool *took, char *err,
                   size_t errlen)
{
    const kcm_flag_t *f = kcm_flag(i);
    *took = false;
    if (!f) return errfmt(err, errlen, "internal error: no such flag");
    if (f->kind == KCM_BOOL) {
        /* Like upstream's booleans: "--profiling false" is a flag and an argument. */
        *took = inline_value && value;
        return check_value(f, inline_value ? value : NULL, err, errlen);
    }
    if (!value) return errfmt(err, errlen, "--%s needs a value", f->name);
    *took = true;
    return check_value(f, value, err, errlen);
}
