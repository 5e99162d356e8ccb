/* ds_core.c - DaemonSet decisions without I/O (see ds_core.h). */
#include "ds_core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_history.h"
#include "ds_node.h"

/* ---- spec ------------------------------------------------------------------------ */

void ds_spec_free(ds_spec_t *s)
{
    if (!s) return;
    selector_destroy(&s->selector);
    json_decref(s->podspec);
    s->podspec = NULL;
}

static int read_strategy(const json_t *ds, ds_spec_t *out, char *err, size_t errlen)
{
    const char *type = kobj_str(ds, "spec.updateStrategy.type");
    if (type && strcmp(type, "OnDelete") == 0) out->strategy = DS_ON_DELETE;
    else if (!type || !*type || strcmp(type, "RollingUpdate") == 0) out->strategy = DS_ROLLING_UPDATE;
    else {
        snprintf(err, errlen, "spec.updateStrategy.type: unsupported value \"%s\"", type);
        return -1;
    }
    out->max_unavailable = (kobj_intstr_t){ .is_percent = false, .value = 1 };
    json_t *ru = kobj_get(ds, "spec.updateStrategy.rollingUpdate");
    char why[160];
    json_t *mu = json_object_get(ru, "maxUnavailable");
    if (mu && !json_is_null(mu) && kobj_intstr_parse(mu, &out->max_unavailable, why, sizeof why) < 0) {
        snprintf(err, errlen, "spec.updateStrategy.rollingUpdate.maxUnavailable: %s", why);
        return -1;
    }
    json_t *ms = json_object_get(ru, "maxSurge");
    if (ms && !json_is_null(ms)) {
        if (kobj_intstr_parse(ms, &out->max_surge, why, sizeof why) < 0) {
            snprintf(err, errlen, "spec.updateStrategy.rollingUpdate.maxSurge: %s", why);
            return -1;
        }
        out->has_max_surge = true;
    }
    if (out->max_unavailable.value < 0 || (out->has_max_surge && out->max_surge.value < 0)) {
        snprintf(err, errlen, "spec.updateStrategy.rollingUpdate: negative value");
        return -1;
    }
    return 0;
}

static void read_generation(const json_t *ds, ds_spec_t *out)
{
    const char *g = kobj_annotation(ds, DS_ANN_TEMPLATE_GENERATION);
    if (!g || !*g) return;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(g, &end, 10);
    if (errno || !end || *end) return;   /* upstream: a parse error means "no generation" */
    out->has_generation = true;
    out->template_generation = v;
}

ds_spec_rc_t ds_spec_read(const json_t *ds, ds_spec_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    char why[256];
    selector_t *sel = selector_compile(kobj_get(ds, "spec.selector"), why, sizeof why);
    if (!sel) {
        snprintf(err, errlen, "invalid selector: %s", why);
        return DS_SPEC_INVALID;
    }
    if (selector_is_empty(sel) || selector_is_nothing(sel)) {
        bool all = selector_is_empty(sel);
        selector_destroy(&sel);
        snprintf(err, errlen, "%s", all ? "selects all pods" : "spec.selector: required");
        return all ? DS_SPEC_SELECTS_ALL : DS_SPEC_INVALID;
    }
    out->selector = sel;
    json_t *spec = kobj_get(ds, "spec.template.spec");
    if (!json_is_object(spec)) {
        snprintf(err, errlen, "spec.template: missing or without spec");
        ds_spec_free(out);
        return DS_SPEC_INVALID;
    }
    if (read_strategy(ds, out, err, errlen) < 0) {
        ds_spec_free(out);
        return DS_SPEC_INVALID;
    }
    out->revision_history_limit = kobj_int(ds, "spec.revisionHistoryLimit", 10);
    int64_t mrs = kobj_int(ds, "spec.minReadySeconds", 0);
    out->min_ready_seconds = mrs < 0 ? 0 : mrs > INT32_MAX ? INT32_MAX : (int32_t)mrs;
    read_generation(ds, out);
    out->podspec = json_deep_copy(spec);
    if (!out->podspec || ds_add_default_tolerations(out->podspec) < 0) {
        snprintf(err, errlen, "out of memory");
        ds_spec_free(out);
        return DS_SPEC_INVALID;
    }
    return DS_SPEC_OK;
}

static int32_t scaled(const kobj_intstr_t *v, int32_t total)
{
    int32_t out = 0;
    if (kobj_intstr_scaled(v, total, true, &out) < 0) return 0;
    return out;
}

void ds_rolling_limits(const ds_spec_t *s, int32_t desired, int32_t *max_surge, int32_t *max_unavailable)
{
    *max_surge = *max_unavailable = 0;
    if (s->strategy != DS_ROLLING_UPDATE) return;
    *max_unavailable = scaled(&s->max_unavailable, desired);
    if (s->has_max_surge) *max_surge = scaled(&s->max_surge, desired);
    /* an impossible configuration falls back to one unavailable, as upstream */
    if (desired > 0 && *max_unavailable == 0 && *max_surge == 0) *max_unavailable = 1;
}

bool ds_allows_surge(const ds_spec_t *s)
{
    return s->strategy == DS_ROLLING_UPDATE && s->has_max_surge && scaled(&s->max_surge, 1) != 0;
}

bool ds_pod_is_updated(const json_t *pod, const char *hash, const ds_spec_t *s)
{
    if (s->has_generation) {
        char g[32];
        snprintf(g, sizeof g, "%lld", (long long)s->template_generation);
        const char *pg = kobj_label(pod, DS_LABEL_TEMPLATE_GENERATION);
        if (pg && strcmp(pg, g) == 0) return true;
    }
    const char *ph = kobj_label(pod, DS_LABEL_HASH);
    return hash && *hash && ph && strcmp(ph, hash) == 0;
}

/* ---- the pod ------------------------------------------------------------------------- */

static json_t *copy_or_empty(const json_t *v)
{
    return json_is_object(v) ? json_deep_copy(v) : json_object();
}

json_t *ds_pod_new(const json_t *ds, const ds_spec_t *s, const char *hash, const char *node, const char *name)
{
    json_t *tmeta = kobj_get(ds, "spec.template.metadata");
    json_t *labels = copy_or_empty(json_object_get(tmeta, "labels"));
    json_t *spec = json_deep_copy(kobj_get(ds, "spec.template.spec"));
    json_t *ref = kobj_new_controller_ref("apps/v1", "DaemonSet", ds);
    char prefix[320];
    snprintf(prefix, sizeof prefix, "%s-", kobj_name(ds));
    json_t *pod = NULL;
    if (!labels || !spec || !ref || ds_add_default_tolerations(spec) < 0 || ds_bind_to_node(spec, node) < 0) goto fail;
    if (s->has_generation) {
        char g[32];
        snprintf(g, sizeof g, "%lld", (long long)s->template_generation);
        json_object_set_new(labels, DS_LABEL_TEMPLATE_GENERATION, json_string(g));
    }
    if (hash && *hash) json_object_set_new(labels, DS_LABEL_HASH, json_string(hash));
    json_t *meta = json_pack("{s:s, s:s, s:s, s:O, s:[O]}", "name", name, "generateName", prefix, "namespace",
                             kobj_namespace(ds), "labels", labels, "ownerReferences", ref);
    if (!meta) goto fail;
    json_t *ann = json_object_get(tmeta, "annotations");
    if (json_object_size(ann) > 0) json_object_set_new(meta, "annotations", json_deep_copy(ann));
    json_t *fin = json_object_get(tmeta, "finalizers");
    if (json_array_size(fin) > 0) json_object_set_new(meta, "finalizers", json_deep_copy(fin));
    pod = json_pack("{s:s, s:s, s:o, s:O}", "apiVersion", "v1", "kind", "Pod", "metadata", meta, "spec", spec);
fail:
    json_decref(labels);
    json_decref(spec);
    json_decref(ref);
    return pod;
}

int ds_pod_order_cmp(const json_t *a, const json_t *b)
{
    bool sa = *kpod_node_name(a) != '\0', sb = *kpod_node_name(b) != '\0';
    if (sa != sb) return sa ? -1 : 1;
    int64_t ta = 0, tb = 0;
    const char *ca = kobj_str(a, "metadata.creationTimestamp"), *cb = kobj_str(b, "metadata.creationTimestamp");
    if (ca) kobj_time_parse_us(ca, &ta);
    if (cb) kobj_time_parse_us(cb, &tb);
    if (ta != tb) return ta < tb ? -1 : 1;
    return strcmp(kobj_name(a), kobj_name(b));
}

static int order_qsort(const void *a, const void *b)
{
    return ds_pod_order_cmp(*(const json_t *const *)a, *(const json_t *const *)b);
}

void ds_pods_sort(const json_t **pods, size_t n)
{
    if (n > 1) qsort(pods, n, sizeof *pods, order_qsort);
}

/* ---- per node ------------------------------------------------------------------------ */

/* Surge: keep the oldest new pod and the oldest old pod; the old one goes
 * when it is not ready or the new one is available. */
static void plan_surge_pair(const ds_spec_t *s, const json_t **running, size_t n, const char *hash,
                            int64_t now_sec, ds_node_plan_t *plan)
{
    const json_t *oldest_new = NULL, *oldest_old = NULL;
    ds_pods_sort(running, n);
    for (size_t i = 0; i < n; i++) {
        const char *h = kobj_label(running[i], DS_LABEL_HASH);
        bool is_new = h && strcmp(h, hash) == 0;
        if (is_new && !oldest_new) { oldest_new = running[i]; continue; }
        if (!is_new && !oldest_old) { oldest_old = running[i]; continue; }
        plan->del[plan->n_del++] = running[i];
    }
    if (!oldest_new || !oldest_old) return;
    if (!kpod_is_ready(oldest_old) || kpod_is_available(oldest_new, s->min_ready_seconds, now_sec))
        plan->del[plan->n_del++] = oldest_old;
}

void ds_plan_node(const ds_spec_t *s, bool should_run, bool should_continue, const json_t **pods, size_t n,
                  bool has_entry, const char *hash, int64_t now_sec, ds_terminal_fn terminal, void *ud,
                  ds_node_plan_t *plan)
{
    plan->create = false;
    plan->n_del = 0;
    if (should_run && !has_entry) {
        plan->create = true;
        return;
    }
    if (!should_continue) {
        for (size_t i = 0; has_entry && i < n; i++)
            if (!kobj_being_deleted(pods[i])) plan->del[plan->n_del++] = pods[i];
        return;
    }
    const json_t **running = malloc((n ? n : 1) * sizeof *running);
    if (!running) return;
    size_t nr = 0;
    for (size_t i = 0; i < n; i++) {
        const char *phase = kpod_phase(pods[i]);
        if (kobj_being_deleted(pods[i])) continue;
        bool failed = strcmp(phase, "Failed") == 0, succeeded = strcmp(phase, "Succeeded") == 0;
        if (failed || succeeded) {
            if (!terminal || terminal(pods[i], failed, ud)) plan->del[plan->n_del++] = pods[i];
        } else {
            running[nr++] = pods[i];
        }
    }
    if (!ds_allows_surge(s)) {
        /* more than one: keep the oldest */
        ds_pods_sort(running, nr);
        for (size_t i = 1; i < nr; i++) plan->del[plan->n_del++] = running[i];
    } else if (nr == 0) {
        plan->create = should_run;
    } else if (nr > 1) {
        plan_surge_pair(s, running, nr, hash, now_sec, plan);
    }
    free(running);
}

/* ---- rolling update ------------------------------------------------------------------ */

/* findUpdatedPodsOnNode: at most one new and one old live pod, else false. */
static bool find_updated(const ds_spec_t *s, const ds_node_pods_t *np, const char *hash, const json_t **newp,
                         const json_t **oldp)
{
    *newp = *oldp = NULL;
    for (size_t i = 0; i < np->n; i++) {
        const json_t *pod = np->pods[i];
        if (kobj_being_deleted(pod)) continue;
        const json_t **slot = ds_pod_is_updated(pod, hash, s) ? newp : oldp;
        if (*slot) return false;
        *slot = pod;
    }
    return true;
}

static void rolling_unavailable(const ds_spec_t *s, const ds_node_pods_t *nodes, size_t n_nodes, const char *hash,
                                int32_t max_unavailable, int64_t now_sec, const json_t **del, size_t *n_del)
{
    int32_t unavailable = 0;
    size_t n_replace = 0, n_cand = 0;
    const json_t **cand = malloc((n_nodes ? n_nodes : 1) * sizeof *cand);
    if (!cand) return;
    for (size_t i = 0; i < n_nodes; i++) {
        const json_t *np = NULL, *op = NULL;
        if (!find_updated(s, &nodes[i], hash, &np, &op)) { unavailable++; continue; }
        if ((!op && !np) || (op && np)) { unavailable++; continue; }
        if (np) {
            if (!kpod_is_available(np, s->min_ready_seconds, now_sec)) unavailable++;
            continue;
        }
        if (!kpod_is_available(op, s->min_ready_seconds, now_sec)) {
            del[n_replace++] = op;      /* an unavailable old pod is replaced at once */
            unavailable++;
        } else if (unavailable < max_unavailable) {
            cand[n_cand++] = op;
        }
    }
    int32_t remaining = max_unavailable - unavailable;
    if (remaining < 0) remaining = 0;
    if ((size_t)remaining > n_cand) remaining = (int32_t)n_cand;
    for (int32_t i = 0; i < remaining; i++) del[n_replace++] = cand[i];
    *n_del = n_replace;
    free(cand);
}

static void rolling_surge(const ds_spec_t *s, const ds_node_pods_t *nodes, size_t n_nodes, const char *hash,
                          int32_t max_surge, int32_t desired, int64_t now_sec, const json_t **del, size_t *n_del,
                          const char **create, size_t *n_create)
{
    int32_t surge = 0, available = 0;
    size_t nd = 0, nc = 0, n_cand = 0, n_sunset = 0;
    const char **cand = malloc((n_nodes ? n_nodes : 1) * sizeof *cand);
    const json_t **sunset = malloc((n_nodes ? n_nodes : 1) * sizeof *sunset);
    if (!cand || !sunset) goto out;
    for (size_t i = 0; i < n_nodes; i++) {
        const json_t *np = NULL, *op = NULL;
        if (!find_updated(s, &nodes[i], hash, &np, &op)) { surge++; continue; }
        if (op ? kpod_is_available(op, s->min_ready_seconds, now_sec)
               : np && kpod_is_available(np, s->min_ready_seconds, now_sec))
            available++;
        if (!op) continue;   /* the manage loop handles this node */
        if (!np) {
            if (!kpod_is_available(op, s->min_ready_seconds, now_sec)) {
                if (!nodes[i].should_run) del[nd++] = op;
                else create[nc++] = nodes[i].node;
            } else if (!nodes[i].should_run) {
                sunset[n_sunset++] = op;
            } else if (surge < max_surge) {
                cand[n_cand++] = nodes[i].node;
            }
            continue;
        }
        if (!kpod_is_available(np, s->min_ready_seconds, now_sec)) { surge++; continue; }
        del[nd++] = op;   /* the new pod is available: the old one goes */
    }
    /* pods on nodes that no longer fit go only as others become available */
    int32_t deletable = available - desired;
    for (int32_t i = 0; i < deletable && (size_t)i < n_sunset; i++) del[nd++] = sunset[i];
    int32_t remaining = max_surge - surge;
    if (remaining < 0) remaining = 0;
    if ((size_t)remaining > n_cand) remaining = (int32_t)n_cand;
    for (int32_t i = 0; i < remaining; i++) create[nc++] = cand[i];
out:
    *n_del = nd;
    *n_create = nc;
    free(cand);
    free(sunset);
}

void ds_rolling_update(const ds_spec_t *s, const ds_node_pods_t *nodes, size_t n_nodes, const char *hash,
                       int32_t max_surge, int32_t max_unavailable, int32_t desired, int64_t now_sec,
                       const json_t **del, size_t *n_del, const char **create, size_t *n_create)
{
    *n_del = *n_create = 0;
    if (max_surge == 0) rolling_unavailable(s, nodes, n_nodes, hash, max_unavailable, now_sec, del, n_del);
    else rolling_surge(s, nodes, n_nodes, hash, max_surge, desired, now_sec, del, n_del, create, n_create);
}

/* ---- status ------------------------------------------------------------------------------ */

void ds_status_count(const ds_spec_t *s, const ds_node_pods_t *nodes, size_t n, const char *hash, int64_t now_sec,
                     ds_counts_t *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < n; i++) {
        const ds_node_pods_t *np = &nodes[i];
        bool scheduled = np->n > 0;
        if (!np->should_run) {
            if (scheduled) c->misscheduled++;
            continue;
        }
        c->desired++;
        if (!scheduled) continue;
        c->current++;
        ds_pods_sort(np->pods, np->n);
        const json_t *pod = np->pods[0];
        if (kpod_is_ready(pod)) {
            c->ready++;
            if (kpod_is_available(pod, s->min_ready_seconds, now_sec)) c->available++;
        }
        if (ds_pod_is_updated(pod, hash, s)) c->updated++;
    }
    c->unavailable = c->desired - c->available;
}

static int64_t status_int(const json_t *ds, const char *field)
{
    char path[64];
    snprintf(path, sizeof path, "status.%s", field);
    return kobj_int(ds, path, 0);
}

bool ds_status_unchanged(const json_t *ds, const ds_counts_t *c)
{
    return status_int(ds, "desiredNumberScheduled") == c->desired &&
           status_int(ds, "currentNumberScheduled") == c->current &&
           status_int(ds, "numberMisscheduled") == c->misscheduled && status_int(ds, "numberReady") == c->ready &&
           status_int(ds, "updatedNumberScheduled") == c->updated &&
           status_int(ds, "numberAvailable") == c->available &&
           status_int(ds, "numberUnavailable") == c->unavailable &&
           status_int(ds, "observedGeneration") >= kobj_generation(ds);
}

json_t *ds_status_build(const json_t *ds, const ds_counts_t *c, bool observe)
{
    json_t *cur = kobj_get(ds, "status");
    json_t *st = json_is_object(cur) ? json_deep_copy(cur) : json_object();
    if (!st) return NULL;
    struct { const char *k; int32_t v; } f[] = {
        { "desiredNumberScheduled", c->desired }, { "currentNumberScheduled", c->current },
        { "numberMisscheduled", c->misscheduled }, { "numberReady", c->ready },
        { "updatedNumberScheduled", c->updated }, { "numberAvailable", c->available },
        { "numberUnavailable", c->unavailable },
    };
    for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
        if (json_object_set_new(st, f[i].k, json_integer(f[i].v)) < 0) {
            json_decref(st);
            return NULL;
        }
    }
    if (observe) json_object_set_new(st, "observedGeneration", json_integer(kobj_generation(ds)));
    return st;
}

/* ---- slow start ------------------------------------------------------------------------------ */

void ds_slowstart_init(ds_slowstart_t *s, int count)
{
    memset(s, 0, sizeof *s);
    s->total = count > 0 ? count : 0;
    s->batch = 1;
}

int ds_slowstart_next(ds_slowstart_t *s)
{
    if (s->in_flight > 0 || s->failed > 0) return 0;
    int left = s->total - s->issued;
    int n = s->batch < left ? s->batch : left;
    if (n <= 0) return 0;
    s->issued += n;
    s->in_flight = n;
    s->batch *= 2;
    return n;
}

void ds_slowstart_result(ds_slowstart_t *s, bool ok)
{
    if (s->in_flight > 0) s->in_flight--;
    if (!ok) s->failed++;
    if (s->failed > 0 && s->in_flight == 0) {
        s->skipped = s->total - s->issued;
        s->issued = s->total;
    }
}

bool ds_slowstart_done(const ds_slowstart_t *s)
{
    return s->in_flight == 0 && (s->issued >= s->total || s->failed > 0);
}

/* ---- back-off ---------------------------------------------------------------------------------- */

bool ds_backoff_expired(const ds_backoff_t *b, uint64_t now_ms)
{
    return b->delay_ms == 0 || now_ms - b->last_ms > 2ull * DS_BACKOFF_MAX_MS;
}

bool ds_backoff_active(const ds_backoff_t *b, uint64_t now_ms)
{
    if (ds_backoff_expired(b, now_ms)) return false;
    return now_ms - b->last_ms < b->delay_ms;
}

void ds_backoff_next(ds_backoff_t *b, uint64_t now_ms)
{
    if (ds_backoff_expired(b, now_ms)) b->delay_ms = DS_BACKOFF_INITIAL_MS;
    else b->delay_ms = b->delay_ms * 2 > DS_BACKOFF_MAX_MS ? DS_BACKOFF_MAX_MS : b->delay_ms * 2;
    b->last_ms = now_ms;
}
