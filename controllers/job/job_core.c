/* job_core.c - the Job controller's pure decisions. See job_core.h. */
#include "job_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/kobj.h"
#include "errfmt.h"
#include "job_pfp.h"
#include "ctrl/satint.h"

/* ---- spec ---------------------------------------------------------------- */

static int read_opt_int(const json_t *job, const char *path, int64_t def, int64_t *out, const char *name,
                        char *err, size_t errlen)
{
    json_t *v = kobj_get(job, path);
    if (!v || json_is_null(v)) { *out = def; return 0; }
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT32_MAX) {
        snprintf(err, errlen, "%s must be a non-negative int32", name);
        return -1;
    }
    *out = json_integer_value(v);
    return 0;
}

/* API limits with backoffLimitPerIndex (pkg/apis/batch/validation) */
#define JOB_MAX_FAILED_INDEXES 100000
#define JOB_BPI_COMPLETIONS_SOFT_LIMIT 100000
#define JOB_BPI_HIGH_PARALLELISM 10000
#define JOB_BPI_HIGH_MAX_FAILED 10000

/* spec.backoffLimitPerIndex and spec.maxFailedIndexes, after the
 * completion mode: the API's rules, so a Job that slipped past them (or
 * an older API server) is refused rather than half-honoured. */
static int read_per_index(const json_t *job, job_spec_t *out, char *err, size_t errlen)
{
    int64_t bpi, mfi;
    if (read_opt_int(job, "spec.backoffLimitPerIndex", -1, &bpi, "spec.backoffLimitPerIndex", err, errlen) < 0 ||
        read_opt_int(job, "spec.maxFailedIndexes", -1, &mfi, "spec.maxFailedIndexes", err, errlen) < 0)
        return -1;
    out->has_bpi = bpi >= 0;
    out->backoff_limit_per_index = bpi >= 0 ? (int32_t)bpi : 0;
    out->has_max_failed = mfi >= 0;
    out->max_failed_indexes = mfi >= 0 ? (int32_t)mfi : 0;
    if ((out->has_bpi || out->has_max_failed) && !out->indexed)
        return errfmt(err, errlen, "backoffLimitPerIndex and maxFailedIndexes require indexed completion mode");
    if (out->has_max_failed && !out->has_bpi)
        return errfmt(err, errlen, "maxFailedIndexes requires backoffLimitPerIndex");
    if (out->has_max_failed && (mfi > out->completions || mfi > JOB_MAX_FAILED_INDEXES))
        return errfmt(err, errlen, "maxFailedIndexes must be at most completions and %d", JOB_MAX_FAILED_INDEXES);
    if (out->has_bpi && out->completions > JOB_BPI_COMPLETIONS_SOFT_LIMIT &&
        (!out->has_max_failed || mfi > JOB_BPI_HIGH_MAX_FAILED || out->parallelism > JOB_BPI_HIGH_PARALLELISM))
        return errfmt(err, errlen, "above %d completions backoffLimitPerIndex needs maxFailedIndexes of at most %d "
                      "and parallelism of at most %d", JOB_BPI_COMPLETIONS_SOFT_LIMIT, JOB_BPI_HIGH_MAX_FAILED,
                      JOB_BPI_HIGH_PARALLELISM);
    /* the API server's default: per-index limits replace the Job-wide one */
    json_t *bl = kobj_get(job, "spec.backoffLimit");
    if (out->has_bpi && (!bl || json_is_null(bl))) out->backoff_limit = INT32_MAX;
    return 0;
}

int job_spec_read(const json_t *job, job_spec_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int64_t par, comp, bl, ads;
    if (read_opt_int(job, "spec.parallelism", 1, &par, "spec.parallelism", err, errlen) < 0 ||
        read_opt_int(job, "spec.completions", -1, &comp, "spec.completions", err, errlen) < 0 ||
        read_opt_int(job, "spec.backoffLimit", 6, &bl, "spec.backoffLimit", err, errlen) < 0 ||
        read_opt_int(job, "spec.activeDeadlineSeconds", -1, &ads, "spec.activeDeadlineSeconds", err, errlen) < 0)
        return -1;
    out->parallelism = (int32_t)par;
    out->has_completions = comp >= 0;
    out->completions = comp >= 0 ? (int32_t)comp : 0;
    out->backoff_limit = (int32_t)bl;
    out->has_deadline = ads >= 0;
    out->active_deadline_s = ads >= 0 ? ads : 0;
    out->suspend = json_is_true(kobj_get(job, "spec.suspend"));
    const char *mode = kobj_str(job, "spec.completionMode");
    if (mode && strcmp(mode, "Indexed") == 0) out->indexed = true;
    else if (mode && strcmp(mode, "NonIndexed") != 0) {
        snprintf(err, errlen, "unknown completion mode %s", mode);
        return -1;
    }
    if (out->indexed && !out->has_completions) {
        snprintf(err, errlen, "an Indexed Job needs spec.completions");
        return -1;
    }
    if (read_per_index(job, out, err, errlen) < 0) return -1;
    if (job_pfp_check(job, err, errlen) < 0) return -1;
    out->has_pfp = job_pfp_present(job);
    const char *prp = kobj_str(job, "spec.podReplacementPolicy");
    out->only_replace_failed = (prp && strcmp(prp, "Failed") == 0) || out->has_pfp;
    const char *rp = kobj_str(job, "spec.template.spec.restartPolicy");
    out->restart_on_failure = rp && strcmp(rp, "OnFailure") == 0;
    char serr[256];
    out->selector = selector_compile(kobj_get(job, "spec.selector"), serr, sizeof serr);
    if (!out->selector) {
        snprintf(err, errlen, "invalid selector: %s", serr);
        return -1;
    }
    if (selector_is_empty(out->selector) || selector_is_nothing(out->selector)) {
        snprintf(err, errlen, "the selector selects %s", selector_is_empty(out->selector) ? "everything" : "nothing");
        selector_destroy(&out->selector);
        return -1;
    }
    return 0;
}

void job_spec_free(job_spec_t *s)
{
    if (s) selector_destroy(&s->selector);
}

bool job_managed_elsewhere(const json_t *job)
{
    const char *m = kobj_str(job, "spec.managedBy");
    return m && strcmp(m, JOB_MANAGED_BY_DEFAULT) != 0;
}

/* ---- conditions ------------------------------------------------------------ */

const json_t *job_condition(const json_t *job, const char *type)
{
    json_t *conds = kobj_get(job, "status.conditions");
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c) {
        const char *t = json_string_value(json_object_get(c, "type"));
        if (t && strcmp(t, type) == 0) return c;
    }
    return NULL;
}

bool job_condition_true(const json_t *job, const char *type)
{
    const char *s = json_string_value(json_object_get(job_condition(job, type), "status"));
    return s && strcmp(s, "True") == 0;
}

bool job_is_finished(const json_t *job)
{
    return job_condition_true(job, "Complete") || job_condition_true(job, "Failed");
}

json_t *job_condition_new(const char *type, const char *status, const char *reason, const char *message,
                          int64_t now_sec)
{
    char ts[32];
    if (kobj_time_format(now_sec, ts, sizeof ts) < 0) return NULL;
    json_t *c = json_pack("{s:s, s:s, s:s, s:s}", "type", type, "status", status, "lastProbeTime", ts,
                          "lastTransitionTime", ts);
    if (!c) return NULL;
    if (reason && *reason) json_object_set_new(c, "reason", json_string(reason));
    if (message && *message) json_object_set_new(c, "message", json_string(message));
    return c;
}

static bool str_same(const json_t *c, const char *field, const char *want)
{
    const char *v = json_string_value(json_object_get(c, field));
    return strcmp(v ? v : "", want ? want : "") == 0;
}

bool job_condition_ensure(json_t *status, const char *type, const char *cstatus, const char *reason,
                          const char *message, int64_t now_sec)
{
    json_t *conds = json_object_get(status, "conditions");
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c) {
        if (!str_same(c, "type", type)) continue;
        if (str_same(c, "status", cstatus) && str_same(c, "reason", reason) && str_same(c, "message", message))
            return false;
        json_array_set_new(conds, i, job_condition_new(type, cstatus, reason, message, now_sec));
        return true;
    }
    if (strcmp(cstatus, "False") == 0) return false;
    if (!json_is_array(conds)) {
        conds = json_array();
        json_object_set_new(status, "conditions", conds);
    }
    json_array_append_new(conds, job_condition_new(type, cstatus, reason, message, now_sec));
    return true;
}

/* ---- pods ------------------------------------------------------------------- */

bool job_pod_tracked(const json_t *pod)
{
    json_t *fins = kobj_get(pod, "metadata.finalizers");
    size_t i;
    json_t *f;
    json_array_foreach(fins, i, f) {
        const char *s = json_string_value(f);
        if (s && strcmp(s, JOB_TRACKING_FINALIZER) == 0) return true;
    }
    return false;
}

bool job_pod_succeeded(const json_t *pod) { return strcmp(kpod_phase(pod), "Succeeded") == 0; }

bool job_pod_failed(const json_t *pod, bool only_replace_failed)
{
    const char *ph = kpod_phase(pod);
    if (strcmp(ph, "Failed") == 0) return true;
    if (only_replace_failed) return false;
    return kobj_being_deleted(pod) && strcmp(ph, "Succeeded") != 0;
}

bool job_pod_terminating(const json_t *pod)
{
    const char *ph = kpod_phase(pod);
    return kobj_being_deleted(pod) && strcmp(ph, "Succeeded") != 0 && strcmp(ph, "Failed") != 0;
}

static int64_t time_ms(const char *s)
{
    int64_t us;
    if (!s || kobj_time_parse_us(s, &us) < 0) return 0;
    return us / 1000;
}

/* A restartable init container (a sidecar: restartPolicy Always)? */
static bool is_sidecar(const json_t *pod, const char *name)
{
    json_t *ics = kobj_get(pod, "spec.initContainers");
    size_t i;
    json_t *c;
    if (!name) return false;
    json_array_foreach(ics, i, c)
        if (str_same(c, "name", name)) return str_same(c, "restartPolicy", "Always");
    return false;
}

/* upstream latestFinishTime: the latest of prev and the finishedAt of the
 * statuses under path (only sidecars' when sidecars_only); 0 as soon as
 * one of them has not terminated. */
static int64_t latest_finish(const json_t *pod, int64_t prev, const char *path, bool sidecars_only)
{
    json_t *sts = kobj_get(pod, path);
    size_t i;
    json_t *st;
    int64_t best = prev;
    json_array_foreach(sts, i, st) {
        if (sidecars_only && !is_sidecar(pod, kobj_str(st, "name"))) continue;
        int64_t t = time_ms(kobj_str(st, "state.terminated.finishedAt"));
        if (t == 0) return 0;
        if (t > best) best = t;
    }
    return best;
}

/* Latest finishedAt when every container terminated, else 0. Sidecars
 * outlive the regular containers, so theirs count too; as upstream, they
 * are folded in even when a regular container hid its time (0). */
static int64_t finish_from_containers(const json_t *pod)
{
    int64_t t = latest_finish(pod, 0, "status.containerStatuses", false);
    return latest_finish(pod, t, "status.initContainerStatuses", true);
}

static int64_t finish_from_ready_false(const json_t *pod)
{
    json_t *conds = kobj_get(pod, "status.conditions");
    size_t i;
    json_t *c;
    json_array_foreach(conds, i, c) {
        if (str_same(c, "type", "Ready") && str_same(c, "status", "False"))
            return time_ms(json_string_value(json_object_get(c, "lastTransitionTime")));
    }
    return 0;
}

int64_t job_pod_finish_ms(const json_t *pod)
{
    int64_t t = finish_from_containers(pod);
    if (t == 0) t = finish_from_ready_false(pod);
    if (t == 0 && kobj_being_deleted(pod)) {
        t = time_ms(kobj_str(pod, "metadata.deletionTimestamp"));
        if (t) t = sat_sub64(t, sat_ms(kobj_int(pod, "metadata.deletionGracePeriodSeconds", 0)));
    }
    if (t == 0) t = kobj_creation_time(pod) * 1000;
    return t;
}

static int64_t restarts_of(const json_t *pod, const char *path)
{
    json_t *sts = kobj_get(pod, path);
    size_t i;
    json_t *st;
    int64_t n = 0;
    json_array_foreach(sts, i, st) n += kobj_int(st, "restartCount", 0);
    return n;
}

bool job_past_backoff_on_failure(const job_spec_t *spec, const json_t *const *pods, size_t n)
{
    if (!spec->restart_on_failure) return false;
    int64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        const char *ph = kpod_phase(pods[i]);
        if (strcmp(ph, "Running") != 0 && strcmp(ph, "Pending") != 0) continue;
        total += restarts_of(pods[i], "status.initContainerStatuses") + restarts_of(pods[i], "status.containerStatuses");
    }
    return spec->backoff_limit == 0 ? total > 0 : total >= spec->backoff_limit;
}

/* ---- back-off ------------------------------------------------------------------ */

static int by_finish(const void *a, const void *b)
{
    int64_t x = job_pod_finish_ms(*(const json_t *const *)a), y = job_pod_finish_ms(*(const json_t *const *)b);
    return x < y ? -1 : x > y;
}

job_backoff_t job_backoff_update(job_backoff_t prev, const json_t **succeeded, size_t n_succeeded,
                                 const json_t **failed, size_t n_failed)
{
    if (n_succeeded) qsort(succeeded, n_succeeded, sizeof *succeeded, by_finish);
    if (n_failed) qsort(failed, n_failed, sizeof *failed, by_finish);
    if (n_failed == 0 && n_succeeded == 0) return prev;
    if (n_succeeded == 0) {
        prev.failures += (int32_t)n_failed;
        prev.last_failure_ms = job_pod_finish_ms(failed[n_failed - 1]);
        return prev;
    }
    /* a success resets the count: only failures after the last success count */
    job_backoff_t b = { 0, 0 };
    int64_t last_ok = job_pod_finish_ms(succeeded[n_succeeded - 1]);
    for (size_t i = n_failed; i-- > 0;) {
        int64_t t = job_pod_finish_ms(failed[i]);
        if (t <= last_ok) break;
        if (b.last_failure_ms == 0) b.last_failure_ms = t;
        b.failures++;
    }
    return b;
}

int64_t job_backoff_remaining_ms(const job_backoff_t *b, int64_t now_ms)
{
    if (b->failures <= 0) return 0;
    int64_t d = JOB_POD_BACKOFF_BASE_MS;
    for (int32_t i = 1; i < b->failures; i++) {
        d *= 2;
        if (d >= JOB_POD_BACKOFF_MAX_MS) { d = JOB_POD_BACKOFF_MAX_MS; break; }
    }
    int64_t elapsed = now_ms - b->last_failure_ms;
    return d < elapsed ? 0 : d - elapsed;
}

/* ---- how many pods ------------------------------------------------------------- */

int32_t job_want_active(const job_spec_t *spec, int32_t succeeded, int32_t active)
{
    if (!spec->has_completions) return succeeded > 0 ? active : spec->parallelism;
    int32_t want = spec->completions - succeeded;
    if (want > spec->parallelism) want = spec->parallelism;
    return want < 0 ? 0 : want;
}

bool job_complete(const job_spec_t *spec, int32_t succeeded, int32_t active)
{
    if (active != 0) return false;
    return spec->has_completions ? succeeded >= spec->completions : succeeded > 0;
}

static int phase_rank(const json_t *pod)
{
    const char *ph = kpod_phase(pod);
    if (strcmp(ph, "Pending") == 0) return 0;
    if (strcmp(ph, "Unknown") == 0) return 1;
    if (strcmp(ph, "Running") == 0) return 2;
    return 3;
}

/* upstream controller.ActivePods.Less: < 0 when a goes first. */
static int removal_cmp(const void *pa, const void *pb)
{
    const json_t *a = *(const json_t *const *)pa, *b = *(const json_t *const *)pb;
    bool sa = *kpod_node_name(a) != 0, sb = *kpod_node_name(b) != 0;
    if (sa != sb) return sa ? 1 : -1;
    int ra = phase_rank(a), rb = phase_rank(b);
    if (ra != rb) return ra < rb ? -1 : 1;
    bool ya = kpod_is_ready(a), yb = kpod_is_ready(b);
    if (ya != yb) return ya ? 1 : -1;
    if (ya && yb) {
        int64_t ta = kpod_ready_since(a), tb = kpod_ready_since(b);
        if (ta != tb) return ta > tb ? -1 : 1;   /* ready for less time first */
    }
    int32_t xa = kpod_max_restarts(a), xb = kpod_max_restarts(b);
    if (xa != xb) return xa > xb ? -1 : 1;
    int64_t ca = kobj_creation_time(a), cb = kobj_creation_time(b);
    if (ca != cb) return ca > cb ? -1 : 1;
    return strcmp(kobj_uid(a), kobj_uid(b));
}

void job_sort_for_removal(const json_t **pods, size_t n)
{
    if (n > 1) qsort(pods, n, sizeof *pods, removal_cmp);
}

/* ---- Indexed -------------------------------------------------------------------- */

int32_t job_pod_index(const json_t *pod)
{
    const char *s = kobj_annotation(pod, JOB_COMPLETION_INDEX_KEY);
    if (!s || !*s || strlen(s) > 10) return -1;
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (!end || *end || v < 0 || v > INT32_MAX || (s[0] == '0' && s[1])) return -1;
    return (int32_t)v;
}

int job_indexes_format(const bool *done, int32_t n, char *out, size_t outlen)
{
    size_t len = 0;
    if (outlen) out[0] = 0;
    for (int32_t i = 0; i < n; i++) {
        if (!done[i]) continue;
        int32_t j = i;
        while (j + 1 < n && done[j + 1]) j++;
        /* upstream orderedIntervals.String: a run of two is "i,j", longer ones "i-j" */
        int w = j > i ? snprintf(out + len, outlen - len, "%s%d%c%d", len ? "," : "", i, j == i + 1 ? ',' : '-', j)
                      : snprintf(out + len, outlen - len, "%s%d", len ? "," : "", i);
        if (w < 0 || (size_t)w >= outlen - len) return (int)len;
        len += (size_t)w;
        i = j;
    }
    return (int)len;
}

int job_indexes_parse(const char *s, bool *done, int32_t n)
{
    memset(done, 0, (size_t)n * sizeof *done);
    if (!s || !*s) return 0;
    const char *p = s;
    while (*p) {
        char *end;
        long a = strtol(p, &end, 10), b;
        if (end == p || a < 0) return -1;
        b = a;
        if (*end == '-') {
            p = end + 1;
            b = strtol(p, &end, 10);
            if (end == p || b < a) return -1;
        }
        for (long i = a; i <= b && i < n; i++) done[i] = true;
        if (*end == ',') end++;
        else if (*end) return -1;
        p = end;
    }
    return 0;
}

/* ---- the pod a Job makes ---------------------------------------------------------- */

static void copy_field(json_t *dst, const json_t *src, const char *key)
{
    json_t *v = json_object_get(src, key);
    if (v) json_object_set_new(dst, key, json_deep_copy(v));
}

static void add_tracking_finalizer(json_t *meta)
{
    json_t *fins = json_object_get(meta, "finalizers");
    if (!json_is_array(fins)) {
        fins = json_array();
        json_object_set_new(meta, "finalizers", fins);
    }
    size_t i;
    json_t *f;
    json_array_foreach(fins, i, f)
        if (json_string_value(f) && strcmp(json_string_value(f), JOB_TRACKING_FINALIZER) == 0) return;
    json_array_append_new(fins, json_string(JOB_TRACKING_FINALIZER));
}

/* 0, or -1 when out of memory. */
static int set_in(json_t *meta, const char *field, const char *key, const char *value)
{
    json_t *m = json_object_get(meta, field);
    if (!json_is_object(m)) {
        m = json_object();
        if (json_object_set_new(meta, field, m) < 0) return -1;
    }
    return json_object_set_new(m, key, json_string(value));
}

/* upstream addCompletionIndexEnvVariables: every container gets
 * JOB_COMPLETION_INDEX from the index label (the PodIndexLabel gate is on
 * by default), unless it has it already. */
static void add_index_env(json_t *spec, const char *list)
{
    json_t *cs = json_object_get(spec, list);
    size_t i, j;
    json_t *c, *e;
    json_array_foreach(cs, i, c) {
        json_t *env = json_object_get(c, "env");
        bool has = false;
        json_array_foreach(env, j, e) has = has || str_same(e, "name", "JOB_COMPLETION_INDEX");
        if (has) continue;
        if (!json_is_array(env)) {
            env = json_array();
            json_object_set_new(c, "env", env);
        }
        json_array_append_new(env, json_pack("{s:s, s:{s:{s:s}}}", "name", "JOB_COMPLETION_INDEX", "valueFrom",
                                             "fieldRef", "fieldPath",
                                             "metadata.labels['" JOB_COMPLETION_INDEX_KEY "']"));
    }
}

int job_pod_prefix(const json_t *job, int32_t index, char *out, size_t outlen)
{
    if (index < 0) return snprintf(out, outlen, "%s-", kobj_name(job));
    char tail[24];
    int tl = snprintf(tail, sizeof tail, "-%d-", index);
    int keep = (int)strlen(kobj_name(job));
    if (keep + tl > 58) keep = 58 - tl;
    return snprintf(out, outlen, "%.*s%s", keep, kobj_name(job), tail);
}

json_t *job_pod_from_template(const json_t *job, const char *name, int32_t index)
{
    json_t *tmpl = kobj_get(job, "spec.template");
    json_t *tspec = json_object_get(tmpl, "spec");
    json_t *tmeta = json_object_get(tmpl, "metadata");
    if (!json_is_object(tspec) || !name) return NULL;
    char prefix[300];
    job_pod_prefix(job, index, prefix, sizeof prefix);
    json_t *ref = kobj_new_controller_ref(JOB_API_VERSION, JOB_KIND, job);
    json_t *meta = json_pack("{s:s, s:s, s:s, s:[o]}", "name", name, "generateName", prefix, "namespace",
                             kobj_namespace(job), "ownerReferences", ref);
    if (!meta) return NULL;
    if (json_is_object(tmeta)) {
        copy_field(meta, tmeta, "labels");
        copy_field(meta, tmeta, "annotations");
        copy_field(meta, tmeta, "finalizers");
    }
    add_tracking_finalizer(meta);
    json_t *spec = json_deep_copy(tspec);
    if (!spec) { json_decref(meta); return NULL; }
    if (index >= 0) {
        char ix[16], host[300];
        snprintf(ix, sizeof ix, "%d", index);
        if (set_in(meta, "annotations", JOB_COMPLETION_INDEX_KEY, ix) < 0 ||
            set_in(meta, "labels", JOB_COMPLETION_INDEX_KEY, ix) < 0) {
            json_decref(meta);
            json_decref(spec);
            return NULL;
        }
        snprintf(host, sizeof host, "%s-%d", kobj_name(job), index);
        if (strlen(host) > 63) host[63] = 0;
        json_object_set_new(spec, "hostname", json_string(host));
        add_index_env(spec, "initContainers");
        add_index_env(spec, "containers");
    }
    return json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "v1", "kind", "Pod", "metadata", meta, "spec", spec);
}

int job_pod_set_index_failures(json_t *pod, int32_t failures, int32_t ignored)
{
    json_t *meta = json_object_get(pod, "metadata");
    char v[16];
    if (!json_is_object(meta)) return -1;
    snprintf(v, sizeof v, "%d", failures);
    if (set_in(meta, "annotations", JOB_INDEX_FAILURE_COUNT_KEY, v) < 0) return -1;
    if (ignored <= 0) return 0;
    snprintf(v, sizeof v, "%d", ignored);
    return set_in(meta, "annotations", JOB_INDEX_IGNORED_FAILURE_COUNT_KEY, v);
}
