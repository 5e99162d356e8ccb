/* rs_core.c - ReplicaSet decisions without I/O. See rs_core.h. */
#include "rs_core.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/kobj.h"
#include "strmap.h"

/* ---- spec -------------------------------------------------------------------- */

void rs_spec_free(rs_spec_t *s)
{
    if (!s) return;
    selector_destroy(&s->selector);
    selector_destroy(&s->template_sel);
}

int rs_spec_read(const json_t *rs, rs_spec_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_t *jr = kobj_get(rs, "spec.replicas");
    if (jr && !json_is_null(jr) && !json_is_integer(jr)) {
        snprintf(err, errlen, "spec.replicas: not an integer");
        return -1;
    }
    int64_t replicas = jr && json_is_integer(jr) ? json_integer_value(jr) : 1;
    if (replicas < 0 || replicas > INT32_MAX) {
        snprintf(err, errlen, "spec.replicas: %lld is out of range (must be >= 0)", (long long)replicas);
        return -1;
    }
    int64_t mrs = kobj_int(rs, "spec.minReadySeconds", 0);
    if (mrs < 0 || mrs > INT32_MAX) {
        snprintf(err, errlen, "spec.minReadySeconds: %lld is out of range", (long long)mrs);
        return -1;
    }
    json_t *tmpl = kobj_get(rs, "spec.template");
    if (!json_is_object(tmpl) || !json_is_object(json_object_get(tmpl, "spec"))) {
        snprintf(err, errlen, "spec.template: missing or without spec");
        return -1;
    }
    char why[256];
    selector_t *sel = selector_compile(kobj_get(rs, "spec.selector"), why, sizeof why);
    if (!sel) {
        snprintf(err, errlen, "invalid selector: %s", why);
        return -1;
    }
    if (selector_is_nothing(sel) || selector_is_empty(sel)) {
        snprintf(err, errlen, "%s", selector_is_nothing(sel) ? "spec.selector: required"
                                                            : "spec.selector: empty selector is invalid for ReplicaSet");
        selector_destroy(&sel);
        return -1;
    }
    json_t *tlabels = kobj_labels(tmpl);
    if (!selector_matches(sel, tlabels)) {
        snprintf(err, errlen, "spec.template.metadata.labels: `selector` does not match template `labels`");
        selector_destroy(&sel);
        return -1;
    }
    selector_t *tsel = selector_from_labels(tlabels, why, sizeof why);
    if (!tsel) {
        snprintf(err, errlen, "spec.template.metadata.labels: %s", why);
        selector_destroy(&sel);
        return -1;
    }
    out->replicas = (int32_t)replicas;
    out->min_ready_seconds = (int32_t)mrs;
    out->selector = sel;
    out->template_sel = tsel;
    return 0;
}

/* ---- claiming ------------------------------------------------------------------ */

rs_claim_t rs_claim(const json_t *rs, const selector_t *sel, const json_t *pod)
{
    if (!kpod_is_active(pod)) return RS_CLAIM_IGNORE;
    bool match = selector_matches(sel, kobj_labels(pod));
    kobj_ownerref_t ref;
    if (kobj_controller_ref(pod, &ref) == 0) {
        if (strcmp(ref.uid, kobj_uid(rs)) != 0) return RS_CLAIM_IGNORE;   /* someone else's */
        if (match) return RS_CLAIM_OWNED;
        return kobj_being_deleted(rs) ? RS_CLAIM_IGNORE : RS_CLAIM_RELEASE;
    }
    if (kobj_being_deleted(rs) || !match || kobj_being_deleted(pod)) return RS_CLAIM_IGNORE;
    if (strcmp(kobj_namespace(rs), kobj_namespace(pod)) != 0) return RS_CLAIM_IGNORE;
    return RS_CLAIM_ADOPT;
}

/* ---- diff ------------------------------------------------------------------------- */

int rs_diff(size_t active_owned, int32_t desired, int burst)
{
    int64_t d = (int64_t)desired - (int64_t)active_owned;
    if (burst <= 0) burst = RS_BURST_REPLICAS;
    if (d > burst) d = burst;
    if (d < -burst) d = -burst;
    return (int)d;
}

/* ---- victims ----------------------------------------------------------------------- */

static int phase_ordinal(const json_t *pod)
{
    const char *p = kpod_phase(pod);
    if (strcmp(p, "Unknown") == 0) return 1;
    if (strcmp(p, "Running") == 0) return 2;
    return 0;   /* Pending, and (like a Go map miss) anything else */
}

static int64_t ready_time_us(const json_t *pod)
{
    if (!kpod_is_ready(pod)) return 0;
    json_t *conds = kobj_get(pod, "status.conditions");
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c) {
        const char *t = kobj_str(c, "type"), *st = kobj_str(c, "status");
        int64_t us;
        if (t && st && strcmp(t, "Ready") == 0 && strcmp(st, "True") == 0)
            return kobj_time_parse_us(kobj_str(c, "lastTransitionTime"), &us) == 0 ? us : 0;
    }
    return 0;
}

static int64_t created_us(const json_t *pod)
{
    int64_t us;
    return kobj_time_parse_us(kobj_str(pod, "metadata.creationTimestamp"), &us) == 0 ? us : 0;
}

/* upstream afterOrZero: a zero time counts as after any other. */
static bool after_or_zero(int64_t t1, int64_t t2)
{
    if (t1 == 0 || t2 == 0) return t1 == 0;
    return t1 > t2;
}

static int64_t log_rank(int64_t t_us, int64_t now_us)
{
    /* durations in nanoseconds, as upstream's time.Duration */
    double d = ((double)now_us - (double)t_us) * 1000.0;
    return d > 0 ? (int64_t)floor(log2(d)) : -1;
}

/* Is pod a (time ta) to go before pod b (time tb)? upstream's rule 6/8. */
static bool time_less(const json_t *a, int64_t ta, const json_t *b, int64_t tb, int64_t now_us)
{
    if (now_us == 0 || ta == 0 || tb == 0) return after_or_zero(ta, tb);
    int64_t diff = log_rank(ta, now_us) - log_rank(tb, now_us);
    if (diff == 0) return strcmp(kobj_uid(a), kobj_uid(b)) < 0;
    return diff < 0;
}

static bool victim_less(const json_t *a, int ra, const json_t *b, int rb, int64_t now_us)
{
    const char *na = kpod_node_name(a), *nb = kpod_node_name(b);
    if (strcmp(na, nb) != 0 && (!*na || !*nb)) return !*na;
    int pa = phase_ordinal(a), pb = phase_ordinal(b);
    if (pa != pb) return pa < pb;
    bool ya = kpod_is_ready(a), yb = kpod_is_ready(b);
    if (ya != yb) return !ya;
    int32_t ca, cb;
    kpod_deletion_cost(a, &ca);   /* invalid counts as 0, as upstream */
    kpod_deletion_cost(b, &cb);
    if (ca != cb) return ca < cb;
    if (ra != rb) return ra > rb;
    if (ya && yb) {
        int64_t ta = ready_time_us(a), tb = ready_time_us(b);
        if (ta != tb) return time_less(a, ta, b, tb, now_us);
    }
    int32_t xa = kpod_max_restarts(a), xb = kpod_max_restarts(b);
    if (xa != xb) return xa > xb;
    int64_t ka = created_us(a), kb = created_us(b);
    if (ka != kb) return time_less(a, ka, b, kb, now_us);
    return false;
}

int rs_victim_cmp(const json_t *a, int rank_a, const json_t *b, int rank_b, int64_t now_us)
{
    if (victim_less(a, rank_a, b, rank_b, now_us)) return -1;
    if (victim_less(b, rank_b, a, rank_a, now_us)) return 1;
    return 0;
}

typedef struct {
    const json_t *pod;
    int rank;
} ranked_t;

static int ranked_cmp(const void *x, const void *y, void *ctx)
{
    const ranked_t *a = x, *b = y;
    return rs_victim_cmp(a->pod, a->rank, b->pod, b->rank, *(const int64_t *)ctx);
}

int rs_sort_victims(const json_t **pods, size_t n, const json_t *const *related, size_t n_related, int64_t now_us)
{
    if (n < 2) return 0;
    strmap_t *on_node = strmap_new(free);
    ranked_t *r = malloc(n * sizeof *r);
    if (!on_node || !r) { strmap_destroy(&on_node); free(r); return -1; }
    for (size_t i = 0; i < n_related; i++) {
        if (!kpod_is_active(related[i])) continue;
        const char *node = kpod_node_name(related[i]);
        int *c = strmap_get(on_node, node);
        if (!c && (c = calloc(1, sizeof *c)) != NULL && strmap_put(on_node, node, c) < 0) { free(c); c = NULL; }
        if (c) (*c)++;
    }
    for (size_t i = 0; i < n; i++) {
        int *c = strmap_get(on_node, kpod_node_name(pods[i]));
        r[i] = (ranked_t){ pods[i], c ? *c : 0 };
    }
    qsort_r(r, n, sizeof *r, ranked_cmp, &now_us);
    for (size_t i = 0; i < n; i++) pods[i] = r[i].pod;
    free(r);
    strmap_destroy(&on_node);
    return 0;
}

/* ---- slow start ------------------------------------------------------------------ */

void rs_slowstart_init(rs_slowstart_t *s, int count)
{
    memset(s, 0, sizeof *s);
    s->remaining = count > 0 ? count : 0;
}

int rs_slowstart_next(rs_slowstart_t *s)
{
    if (s->in_flight > 0 || s->failed > 0 || s->remaining == 0) return 0;
    int size = s->batch == 0 ? RS_SLOW_START_INITIAL_BATCH : 2 * s->batch;
    if (size > s->remaining) size = s->remaining;
    s->batch = size;
    s->remaining -= size;
    s->in_flight = size;
    return size;
}

void rs_slowstart_result(rs_slowstart_t *s, bool ok)
{
    if (s->in_flight <= 0) return;
    s->in_flight--;
    if (ok) {
        s->succeeded++;
        return;
    }
    s->failed++;
    s->skipped += s->remaining;
    s->remaining = 0;
}

void rs_slowstart_stop(rs_slowstart_t *s)
{
    if (s->in_flight <= 0) return;
    s->in_flight--;
    s->skipped += s->remaining;
    s->remaining = 0;
}

bool rs_slowstart_done(const rs_slowstart_t *s)
{
    return s->in_flight == 0 && (s->remaining == 0 || s->failed > 0);
}

/* ---- status ---------------------------------------------------------------------- */

static json_t *find_condition(const json_t *status, const char *type, size_t *idx)
{
    json_t *conds = json_object_get(status, "conditions");
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c) {
        const char *t = kobj_str(c, "type");
        if (t && strcmp(t, type) == 0) {
            if (idx) *idx = i;
            return c;
        }
    }
    return NULL;
}

static void set_failure_condition(json_t *status, const rs_manage_err_t *err, int64_t now_sec)
{
    size_t idx;
    json_t *cond = find_condition(status, "ReplicaFailure", &idx);
    if (err && err->error && !cond) {
        char ts[32];
        if (kobj_time_format(now_sec, ts, sizeof ts) < 0) return;
        json_t *conds = json_object_get(status, "conditions");
        if (!json_is_array(conds)) {
            conds = json_array();
            json_object_set_new(status, "conditions", conds);
        }
        json_array_append_new(conds, json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "ReplicaFailure",
                                               "status", "True", "lastTransitionTime", ts,
                                               "reason", err->create_side ? "FailedCreate" : "FailedDelete",
                                               "message", err->error));
    } else if ((!err || !err->error) && cond) {
        json_array_remove(json_object_get(status, "conditions"), idx);
        if (json_array_size(json_object_get(status, "conditions")) == 0) json_object_del(status, "conditions");
    }
}

json_t *rs_status_compute(const json_t *rs, const rs_spec_t *spec, const json_t *const *pods, size_t n,
                          const rs_manage_err_t *err, int64_t now_sec, int64_t *next_available_sec)
{
    json_t *old = kobj_get(rs, "status");
    json_t *st = json_is_object(old) ? json_deep_copy(old) : json_object();
    if (!st) return NULL;
    int32_t fully = 0, ready = 0, avail = 0;
    int64_t next = 0;
    for (size_t i = 0; i < n; i++) {
        if (selector_matches(spec->template_sel, kobj_labels(pods[i]))) fully++;
        if (!kpod_is_ready(pods[i])) continue;
        ready++;
        if (kpod_is_available(pods[i], spec->min_ready_seconds, now_sec)) {
            avail++;
        } else {
            int64_t since = kpod_ready_since(pods[i]);
            int64_t at = since ? since + spec->min_ready_seconds + 1 : 0;
            if (at && (next == 0 || at < next)) next = at;
        }
    }
    set_failure_condition(st, err, now_sec);
    json_object_set_new(st, "replicas", json_integer((json_int_t)n));
    json_object_set_new(st, "fullyLabeledReplicas", json_integer(fully));
    json_object_set_new(st, "readyReplicas", json_integer(ready));
    json_object_set_new(st, "availableReplicas", json_integer(avail));
    json_object_set_new(st, "observedGeneration", json_integer(kobj_generation(rs)));
    if (next_available_sec) *next_available_sec = next;
    return st;
}

bool rs_pod_terminating(const json_t *rs, const selector_t *sel, const json_t *pod)
{
    const char *ph = kpod_phase(pod);
    if (!kobj_being_deleted(pod) || strcmp(ph, "Succeeded") == 0 || strcmp(ph, "Failed") == 0) return false;
    kobj_ownerref_t ref;
    if (kobj_controller_ref(pod, &ref) != 0 || strcmp(ref.uid, kobj_uid(rs)) != 0) return false;
    return selector_matches(sel, kobj_labels(pod));
}

void rs_status_set_terminating(json_t *status, int32_t n)
{
    if (json_is_object(status)) json_object_set_new(status, "terminatingReplicas", json_integer(n));
}

static int64_t num(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? json_integer_value(v) : 0;
}

static bool str_eq(const char *a, const char *b) { return strcmp(a ? a : "", b ? b : "") == 0; }

bool rs_status_equal(const json_t *a, const json_t *b)
{
    static const char *const fields[] = { "replicas", "fullyLabeledReplicas", "readyReplicas",
                                          "availableReplicas", "observedGeneration" };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (num(a, fields[i]) != num(b, fields[i])) return false;
    json_t *ta = json_object_get(a, "terminatingReplicas"), *tb = json_object_get(b, "terminatingReplicas");
    if (json_is_integer(ta) != json_is_integer(tb) || num(a, "terminatingReplicas") != num(b, "terminatingReplicas"))
        return false;
    json_t *ca = find_condition(a, "ReplicaFailure", NULL), *cb = find_condition(b, "ReplicaFailure", NULL);
    if (!ca || !cb) return !ca && !cb;
    return str_eq(kobj_str(ca, "status"), kobj_str(cb, "status")) &&
           str_eq(kobj_str(ca, "reason"), kobj_str(cb, "reason")) &&
           str_eq(kobj_str(ca, "message"), kobj_str(cb, "message"));
}

/* ---- pods from the template ------------------------------------------------------- */

static void copy_field(json_t *dst, const json_t *src, const char *key)
{
    json_t *v = json_object_get(src, key);
    if (v && !json_is_null(v)) json_object_set_new(dst, key, json_deep_copy(v));
}

json_t *rs_pod_from_template(const json_t *rs, const char *name)
{
    json_t *tmpl = kobj_get(rs, "spec.template");
    json_t *tspec = json_object_get(tmpl, "spec");
    json_t *tmeta = json_object_get(tmpl, "metadata");
    if (!json_is_object(tspec) || !name) return NULL;
    char prefix[300];
    snprintf(prefix, sizeof prefix, "%s-", kobj_name(rs));
    json_t *ref = kobj_new_controller_ref(RS_API_VERSION, RS_KIND, rs);
    json_t *meta = json_pack("{s:s, s:s, s:s, s:[o]}", "name", name, "generateName", prefix, "namespace",
                             kobj_namespace(rs), "ownerReferences", ref);
    if (!meta) return NULL;
    if (json_is_object(tmeta)) {
        copy_field(meta, tmeta, "labels");
        copy_field(meta, tmeta, "annotations");
        copy_field(meta, tmeta, "finalizers");
    }
    json_t *spec = json_deep_copy(tspec);
    json_t *pod = json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "v1", "kind", "Pod", "metadata", meta, "spec", spec);
    return pod;
}
