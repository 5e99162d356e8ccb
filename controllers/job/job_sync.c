/* job_sync.c - the Job controller's state, event routing and sync. See
 * job_sync.h; decisions are in job_core.c, actions in job_act.c.
 *
 * A sync of a Job follows upstream's syncJob: count the pods (new
 * finished ones are those still carrying the job-tracking finalizer and
 * not yet listed in status.uncountedTerminatedPods), decide whether the
 * Job has failed (backoffLimit, activeDeadlineSeconds) or succeeded, else
 * manage the pods (suspend, too many, too few after the pod-failure
 * back-off), then track: finished pods go into uncountedTerminatedPods,
 * their finalizers are removed, and only then are they moved into the
 * succeeded/failed counters; the interim SuccessCriteriaMet/FailureTarget
 * condition comes first, Complete/Failed once nothing is uncounted or
 * terminating. With backoffLimitPerIndex (job_bpi.h) the failed indexes
 * are decided after the Job-wide checks, each index backs off on its own,
 * and a failed pod keeps its finalizer until its replacement exists.
 *
 * Upstream does write 1 (uncounted), the finalizer patches and write 2
 * (counters, final condition) inside one sync. Our actions are
 * asynchronous, so one sync does one stage and the next stage is a new
 * sync: after a status write it waits for the cache to show that write
 * (stale_rv), after the patches it runs at once, treating pods whose
 * finalizer removal it expects as already counted (upstream's
 * finalizerExpectations). The API sees the same writes in the same order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctrl/kobj.h"
#include "job_bpi.h"
#include "job_pfp.h"
#include "job_priv.h"
#include "job_succ.h"
#include "ctrl/satint.h"

#define SCM "SuccessCriteriaMet"

/* ---- state ------------------------------------------------------------------ */

static int state_init(void *p)
{
    job_state_t *s = p;
    s->rm_fin = strmap_new(NULL);
    s->create_plan = json_array();
    return s->rm_fin && s->create_plan ? 0 : -1;
}

static void state_fini(void *p)
{
    job_state_t *s = p;
    strmap_destroy(&s->rm_fin);
    free(s->stale_rv);
    free(s->write_from_rv);
    json_decref(s->finish_cond);
    json_decref(s->create_plan);
}

static const ctrl_ostate_type_t job_state_type = { .size = sizeof(job_state_t), .init = state_init,
                                                   .fini = state_fini };

job_ctrl_t *job_ctrl_new(void)
{
    job_ctrl_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    /* upstream's PodControllerRefManager for Jobs: adoption adds the
     * tracking finalizer, a release removes it; pod events reach a Job
     * after the batch period (enqueueSyncJobBatched) */
    c->owner = (ctrl_owner_t){ .resource = JOB_RESOURCE, .api_version = JOB_API_VERSION, .kind = JOB_KIND,
                               .finalizer = JOB_TRACKING_FINALIZER, .enqueue_after_ms = JOB_SYNC_BATCH_MS };
    c->adopter = ctrl_adopter_new(&(ctrl_adopter_config_t){ .owner = &c->owner, .resync = true });
    c->states = ctrl_ostates_new(&job_state_type);
    c->metrics = job_metrics_new();
    c->bad_log = (log_limit_t)LOG_LIMIT_INIT(1, 20);
    c->fail_log = (log_limit_t)LOG_LIMIT_INIT(1, 20);
    if (!c->states || !c->adopter) job_ctrl_destroy(&c);
    return c;
}

void job_ctrl_destroy(job_ctrl_t **cp)
{
    if (!cp || !*cp) return;
    ctrl_adopter_destroy(&(*cp)->adopter);
    ctrl_ostates_destroy(&(*cp)->states);
    job_metrics_destroy(&(*cp)->metrics);
    free(*cp);
    *cp = NULL;
}

/* After a stored resync the pod handlers matter only for orphans (the Jobs
 * that select them may adopt them), pods with the tracking finalizer (whose
 * Job may be gone or finished) and pods a Job controls (expectations of
 * removed finalizers); the rest (pods of ReplicaSets, StatefulSets, ...)
 * would only be parsed to be ignored. The finalizer test reads the text:
 * the API server writes "job-tracking" unescaped, and a false match only
 * costs a parse. */
static bool replay_wanted(ctrl_runtime_t *rt, const char *resource, const store_rec_t *rec, void *ud)
{
    (void)ud;
    if (strcmp(resource, POD_RESOURCE) != 0 || rec->owner_len == 0) return true;
    static const char mark[] = "job-tracking";
    if (memmem(rec->json, rec->json_len, mark, sizeof mark - 1)) return true;
    char uid[128];
    if (rec->owner_len >= sizeof uid) return true;
    memcpy(uid, rec->owner, rec->owner_len);
    uid[rec->owner_len] = '\0';
    return cache_has_uid(ctrl_cache(rt, JOB_RESOURCE), uid);   /* no parse of the Job */
}

void job_ctrl_config(job_ctrl_t *c, ctrl_config_t *cfg)
{
    static const char *const resources[] = { JOB_RESOURCE, POD_RESOURCE, NULL };
    *cfg = (ctrl_config_t){ .controller = "job", .component = "job-controller", .resources = resources,
                            .primary = JOB_RESOURCE, .sync = job_sync, .ud = c,
                            .stored_replay_wanted = replay_wanted,
                            .rate_limit = { .base_delay_ms = JOB_API_BACKOFF_MS,
                                            .max_delay_ms = JOB_API_BACKOFF_MAX_MS, .no_bucket = true } };
}

job_state_t *job_state_get(job_ctrl_t *c, const char *key)
{
    return c ? ctrl_ostates_get(c->states, key) : NULL;
}

/* ---- routing events to keys --------------------------------------------------- */

static void enqueue_batched(ctrl_runtime_t *rt, const json_t *job)
{
    char key[512];
    if (kobj_key(job, key, sizeof key) > 0) ctrl_enqueue_after(rt, key, JOB_SYNC_BATCH_MS);
}

static void enqueue_orphan(ctrl_runtime_t *rt, const json_t *pod)
{
    char key[600];
    if (snprintf(key, sizeof key, ORPHAN_KEY_PREFIX "%s/%s", kobj_namespace(pod), kobj_name(pod)) < (int)sizeof key)
        ctrl_enqueue(rt, key);
}

/* The tracking finalizer of pod is gone (or the pod is): stop expecting it. */
static void observe_finalizer_gone(job_ctrl_t *c, const json_t *job, const json_t *pod)
{
    char key[512];
    if (kobj_key(job, key, sizeof key) < 0) return;
    job_state_t *s = job_state_get(c, key);
    if (ctrl_ostate_same(s, job)) strmap_del(s->rm_fin, kobj_uid(pod));
}

/* upstream deletePod (final: the pod left the store). */
static void pod_gone(job_ctrl_t *c, ctrl_runtime_t *rt, const json_t *pod, bool final)
{
    kobj_ownerref_t ref;
    bool tracked = job_pod_tracked(pod);
    if (kobj_controller_ref(pod, &ref) < 0) {
        if (tracked) enqueue_orphan(rt, pod);
        return;
    }
    const json_t *job = ctrl_owner_resolve(rt, &c->owner, kobj_namespace(pod), &ref);
    if (!job || job_is_finished(job)) {
        if (tracked) enqueue_orphan(rt, pod);
        return;
    }
    if (final || !tracked) observe_finalizer_gone(c, job, pod);
    enqueue_batched(rt, job);
}

static bool same_ref(const json_t *a, const json_t *b)
{
    const char *x = kobj_controller_uid(a), *y = kobj_controller_uid(b);
    return (!x && !y) || (x && y && strcmp(x, y) == 0);
}

static bool same_labels(const json_t *a, const json_t *b)
{
    json_t *la = kobj_labels(a), *lb = kobj_labels(b);
    if (!la || !lb) return json_object_size(la) == json_object_size(lb);
    return json_equal(la, lb);
}

static void pod_changed(job_ctrl_t *c, ctrl_runtime_t *rt, const json_t *old_pod, const json_t *pod)
{
    if (kobj_being_deleted(pod)) {
        pod_gone(c, rt, pod, false);
        return;
    }
    bool fin_gone = !job_pod_tracked(pod);
    kobj_ownerref_t ref;
    if (old_pod && !same_ref(old_pod, pod) && kobj_controller_ref(old_pod, &ref) == 0) {
        const json_t *old_job = ctrl_owner_resolve(rt, &c->owner, kobj_namespace(old_pod), &ref);
        if (old_job) {
            if (fin_gone) observe_finalizer_gone(c, old_job, pod);
            enqueue_batched(rt, old_job);
        }
    }
    if (kobj_controller_ref(pod, &ref) == 0) {
        const json_t *job = ctrl_owner_resolve(rt, &c->owner, kobj_namespace(pod), &ref);
        if (!job) return;
        if (fin_gone) observe_finalizer_gone(c, job, pod);
        enqueue_batched(rt, job);
        return;
    }
    if (!fin_gone) enqueue_orphan(rt, pod);   /* an orphan keeps no tracking finalizer */
    /* the Jobs that select it may adopt it (new, relabelled or released) */
    if (!old_pod || !same_ref(old_pod, pod) || !same_labels(old_pod, pod)) ctrl_enqueue_selecting(rt, &c->owner, pod);
}

static void on_pod(ctrl_runtime_t *rt, const char *resource, cache_change_t change, const json_t *old_obj,
                   const json_t *new_obj, void *ud)
{
    (void)resource;
    if (change == CACHE_DELETED) pod_gone(ud, rt, old_obj, true);
    else pod_changed(ud, rt, change == CACHE_MODIFIED ? old_obj : NULL, new_obj);
}

/* upstream cleanupPodFinalizers: a finished or deleted Job's pods must not
 * keep the tracking finalizer. */
static void cleanup_pod_finalizers(ctrl_runtime_t *rt, const json_t *job)
{
    cache_list_t l;
    if (cache_list_controlled_by(ctrl_cache(rt, POD_RESOURCE), kobj_uid(job), &l) < 0) return;
    for (size_t i = 0; i < l.n; i++)
        if (job_pod_tracked(l.items[i])) enqueue_orphan(rt, l.items[i]);
    cache_list_free(&l);
}

static void on_job(ctrl_runtime_t *rt, const char *resource, cache_change_t change, const json_t *old_obj,
                   const json_t *new_obj, void *ud)
{
    job_ctrl_t *c = ud;
    (void)resource;
    const json_t *job = new_obj ? new_obj : old_obj;
    char key[512];
    if (kobj_key(job, key, sizeof key) < 0) return;
    if (change == CACHE_ADDED && job_managed_elsewhere(job))
        job_metrics_external(c->metrics, kobj_str(job, "spec.managedBy"));
    if (change != CACHE_MODIFIED) {
        ctrl_enqueue(rt, key);
        if (change == CACHE_DELETED) cleanup_pod_finalizers(rt, job);
        return;
    }
    job_state_t *s = job_state_get(c, key);
    if (kobj_generation(old_obj) != kobj_generation(new_obj) || (s && s->stale_rv)) ctrl_enqueue(rt, key);
    else ctrl_enqueue_after(rt, key, JOB_SYNC_BATCH_MS);
    if (job_is_finished(new_obj)) cleanup_pod_finalizers(rt, new_obj);
    /* a changed activeDeadlineSeconds: come back when it passes */
    json_t *ads = kobj_get(new_obj, "spec.activeDeadlineSeconds");
    int64_t start;
    if (json_is_integer(ads) && kobj_time_parse(kobj_str(new_obj, "status.startTime"), &start) == 0 &&
        !json_equal(ads, kobj_get(old_obj, "spec.activeDeadlineSeconds"))) {
        int64_t left_ms = sat_sub64(sat_ms(sat_add64(start, json_integer_value(ads))), (int64_t)ctrl_now_unix_ms(rt));
        ctrl_enqueue_after(rt, key, left_ms > 0 ? (uint64_t)left_ms : 0);
    }
}

static void render_metrics(void *ud, sbuf_t *out) { job_metrics_render(ud, out); }

int job_ctrl_attach(job_ctrl_t *c, ctrl_runtime_t *rt)
{
    /* no worker (the runtime's test mode) or no room: no metrics, the controller still runs */
    if (c->metrics && ctrl_worker(rt) && worker_add_metrics(ctrl_worker(rt), render_metrics, c->metrics) < 0)
        LOGW("no job_controller metrics");
    if (ctrl_on(rt, JOB_RESOURCE, on_job, c) < 0) return -1;
    return ctrl_on(rt, POD_RESOURCE, on_pod, c);
}

/* ---- orphan pods ------------------------------------------------------------------ */

/* upstream syncOrphanPod: the finalizer goes unless a live, unfinished Job
 * of ours controls the pod. */
static int orphan_sync(job_ctrl_t *c, ctrl_runtime_t *rt, const char *key)
{
    char ns[256], name[256];
    if (kobj_split_key(key + strlen(ORPHAN_KEY_PREFIX), ns, sizeof ns, name, sizeof name) < 0) return 0;
    const json_t *pod = cache_get_ns(ctrl_cache(rt, POD_RESOURCE), ns, name);
    if (!pod || !job_pod_tracked(pod)) return 0;
    kobj_ownerref_t ref;
    if (kobj_controller_ref(pod, &ref) == 0) {
        if (strcmp(ref.kind, JOB_KIND) != 0 || strcmp(ref.api_version, JOB_API_VERSION) != 0) return 0;
        const json_t *job = ctrl_owner_resolve(rt, &c->owner, ns, &ref);
        if (job && (job_managed_elsewhere(job) || !job_is_finished(job))) return 0;
    }
    job_act_remove_orphan_finalizer(rt, key, pod);
    return 0;
}

/* ---- the sync: context ------------------------------------------------------------ */

typedef struct {
    ctrl_runtime_t *rt;
    job_ctrl_t *c;
    job_state_t *s;
    const char *key;
    const json_t *job;
    job_spec_t spec;
    int64_t now_ms, now_s;
    bool satisfied;
    const json_t **pods;        /* ours: controlled by the Job and selected */
    size_t n;
    const json_t **active;
    size_t n_active;
    json_t *adopt;              /* uids of the orphans the Job selects (owned) */
    int32_t active_n, ready, terminating;
    json_t *status;             /* the status being built (owned) */
    strmap_t *unc_s, *unc_f;    /* uids uncounted at the start of the sync */
    int32_t succeeded, failed;
    json_t *finished;           /* the finishing condition decided (owned) */
    bool *prev_idx, *succ_idx;  /* Indexed: completed indexes before / now */
    bool *fail_idx;             /* backoffLimitPerIndex: failed indexes (status and new) */
    const json_t **delayed;     /* backoffLimitPerIndex: per index, the failed pod kept until its replacement */
    job_backoff_t backoff;      /* with this sync's newly finished pods */
    job_action_t action;        /* the sync's action label (upstream's manageJob result) */
} jctx_t;

static void ctx_free(jctx_t *x)
{
    free(x->pods);
    free(x->active);
    json_decref(x->adopt);
    json_decref(x->status);
    strmap_destroy(&x->unc_s);
    strmap_destroy(&x->unc_f);
    json_decref(x->finished);
    free(x->prev_idx);
    free(x->succ_idx);
    free(x->fail_idx);
    free(x->delayed);
    job_spec_free(&x->spec);
}

static json_t *uncounted_list(json_t *status, const char *which)
{
    json_t *u = json_object_get(status, "uncountedTerminatedPods");
    json_t *l = json_object_get(u, which);
    if (!json_is_array(l)) {
        l = json_array();
        json_object_set_new(u, which, l);
    }
    return l;
}

static strmap_t *uid_set(const json_t *list)
{
    strmap_t *m = strmap_new(NULL);
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
        if (m && json_string_value(v)) strmap_put(m, json_string_value(v), (void *)1);
    return m;
}

static bool index_valid(const jctx_t *x, const json_t *pod)
{
    int32_t ix = job_pod_index(pod);
    return ix >= 0 && ix < x->spec.completions;
}

/* upstream getPodsForJob's ClaimPods: a pod the Job controls but no
 * longer selects is released (its tracking finalizer with it), an orphan
 * it selects is to be adopted; neither while the Job is being deleted.
 * True if p is ours. */
static bool claim_pod(jctx_t *x, const json_t *p)
{
    bool match = selector_matches(x->spec.selector, kobj_labels(p)), deleting = kobj_being_deleted(x->job);
    if (strcmp(kobj_namespace(p), kobj_namespace(x->job)) != 0) return false;
    if (!kobj_controller_uid(p)) {
        if (match && !deleting && !kobj_being_deleted(p)) json_array_append_new(x->adopt, json_string(kobj_uid(p)));
        return false;
    }
    if (!match && !deleting) ctrl_release_as(x->rt, x->key, &x->c->owner, x->job, POD_RESOURCE, p, ctrl_claim_done, NULL);
    return match;
}

/* Lists our pods and counts them. 0 or -1 (OOM). */
static int collect_pods(jctx_t *x)
{
    cache_list_t l;
    if (cache_list_claimable(ctrl_cache(x->rt, POD_RESOURCE), kobj_namespace(x->job), kobj_uid(x->job), &l) < 0)
        return -1;
    x->pods = malloc((l.n ? l.n : 1) * sizeof *x->pods);
    x->active = malloc((l.n ? l.n : 1) * sizeof *x->active);
    x->adopt = json_array();
    if (!x->pods || !x->active || !x->adopt) { cache_list_free(&l); return -1; }
    for (size_t i = 0; i < l.n; i++) {
        const json_t *p = l.items[i];
        if (!claim_pod(x, p)) continue;
        x->pods[x->n++] = p;
        if (kpod_is_active(p)) {
            x->active[x->n_active++] = p;
            if (kpod_is_ready(p)) x->ready++;
        }
        if (job_pod_terminating(p)) x->terminating++;
    }
    cache_list_free(&l);
    x->active_n = (int32_t)x->n_active;
    return 0;
}

/* A pod still to be counted: tracked, not uncounted yet, not being untracked. */
static bool pod_countable(const jctx_t *x, const json_t *p, const strmap_t *unc)
{
    const char *uid = kobj_uid(p);
    if (!job_pod_tracked(p) || strmap_has(unc, uid) || strmap_has(x->s->rm_fin, uid)) return false;
    return !x->spec.indexed || index_valid(x, p);
}

/* upstream nonIgnoredFailedPodsCount: a failed pod counts against
 * backoffLimit unless a podFailurePolicy rule says Ignore. */
static bool failure_counts(const jctx_t *x, const json_t *p)
{
    job_pfp_match_t m;
    if (!x->spec.has_pfp) return true;
    job_pfp_match(x->job, p, &m);
    return m.count_failed;
}

/* Upstream keeps the back-off record in memory only, so a restarted
 * kube-controller-manager forgets it and recreates a failed Job's pod at
 * once. kubus workers are restarted at any moment by design, so the first
 * sync of a life rebuilds the record from the finished pods already
 * counted (those not "new" below); without a restart it is the same record. */
static int seed_backoff(jctx_t *x, const json_t **ns, const json_t **nf)
{
    size_t n_s = 0, n_f = 0;
    for (size_t i = 0; i < x->n; i++) {
        const json_t *p = x->pods[i];
        if (job_pod_succeeded(p) && !pod_countable(x, p, x->unc_s)) ns[n_s++] = p;
        else if (job_pod_failed(p, x->spec.only_replace_failed) && !pod_countable(x, p, x->unc_f)) nf[n_f++] = p;
    }
    x->s->backoff = job_backoff_update((job_backoff_t){ 0, 0 }, ns, n_s, nf, n_f);
    x->s->backoff_seeded = true;
    return 0;
}

/* upstream getNewFinishedPods, the counters, and the back-off record. */
static int count_finished(jctx_t *x)
{
    const json_t **ns = malloc((x->n ? x->n : 1) * sizeof *ns), **nf = malloc((x->n ? x->n : 1) * sizeof *nf);
    if (!ns || !nf) { free(ns); free(nf); return -1; }
    if (!x->s->backoff_seeded) seed_backoff(x, ns, nf);
    size_t n_s = 0, n_f = 0, n_f_counted = 0;
    for (size_t i = 0; i < x->n; i++) {
        const json_t *p = x->pods[i];
        if (job_pod_succeeded(p) && pod_countable(x, p, x->unc_s)) ns[n_s++] = p;
        if (job_pod_failed(p, x->spec.only_replace_failed) && pod_countable(x, p, x->unc_f)) {
            nf[n_f++] = p;
            n_f_counted += failure_counts(x, p);
        }
    }
    x->succeeded = (int32_t)(kobj_int(x->job, "status.succeeded", 0) + (int64_t)n_s + (int64_t)strmap_size(x->unc_s));
    x->failed = (int32_t)(kobj_int(x->job, "status.failed", 0) + (int64_t)n_f_counted + (int64_t)strmap_size(x->unc_f));
    /* as upstream, ignored failures still hold the next pod back */
    x->backoff = job_backoff_update(x->s->backoff, ns, n_s, nf, n_f);
    free(ns);
    free(nf);
    return 0;
}

static int32_t bits_set(const bool *b, int32_t n)
{
    int32_t total = 0;
    for (int32_t i = 0; i < n; i++) total += b[i];
    return total;
}

/* upstream calculateSucceededIndexes. */
static int count_indexes(jctx_t *x)
{
    size_t n = (size_t)(x->spec.completions ? x->spec.completions : 1);
    x->prev_idx = calloc(n, sizeof *x->prev_idx);
    x->succ_idx = calloc(n, sizeof *x->succ_idx);
    if (!x->prev_idx || !x->succ_idx) return -1;
    job_indexes_parse(kobj_str(x->job, "status.completedIndexes"), x->prev_idx, x->spec.completions);
    memcpy(x->succ_idx, x->prev_idx, n * sizeof *x->succ_idx);
    for (size_t i = 0; i < x->n; i++) {
        const json_t *p = x->pods[i];
        if (job_pod_succeeded(p) && job_pod_tracked(p) && index_valid(x, p)) x->succ_idx[job_pod_index(p)] = true;
    }
    x->succeeded = bits_set(x->succ_idx, x->spec.completions);
    return 0;
}

/* upstream calculateFailedIndexes: those of status.failedIndexes and those
 * a failed pod not counted yet (it has its finalizer) fails. A pod whose
 * finalizer we are removing was counted already (what it did to its index
 * is in status.failedIndexes): the pods a failing Job deletes count as
 * failed pods, not as failed indexes, even while the removal is on its way
 * (upstream's expected finalizer removals). The annotation check still
 * runs for every failed pod. */
static int count_failed_indexes(jctx_t *x)
{
    x->fail_idx = calloc((size_t)x->spec.completions + 1, sizeof *x->fail_idx);
    if (!x->fail_idx) return -1;
    /* written by us and checked by the API server: a corrupt string keeps what parsed */
    (void)job_indexes_parse(kobj_str(x->job, "status.failedIndexes"), x->fail_idx, x->spec.completions);
    /* Upstream counts every pod of a failing Job in the sync that marks it
     * (FailureTarget) and removes their finalizers there, so no pod adds a
     * failed index afterwards; ours go in a later turn, and the pods the
     * failure deleted meanwhile must not (maxFailedIndexes 1 with 4 pods:
     * failedIndexes "0,1", not "0-3"). */
    bool failing = job_condition_true(x->job, "FailureTarget") || job_condition_true(x->job, "Failed");
    for (size_t i = 0; i < x->n; i++) {
        const json_t *p = x->pods[i];
        if (!job_pod_tracked(p) || strmap_has(x->s->rm_fin, kobj_uid(p)) || !index_valid(x, p)) continue;
        if (!failing && job_pod_fails_index(x->job, &x->spec, p)) x->fail_idx[job_pod_index(p)] = true;
        /* users can write the annotations: one that holds no count reads 0, as upstream, and is reported */
        if (job_pod_failed(p, x->spec.only_replace_failed) && !job_pod_index_counts_readable(p) &&
            log_limit_allow(&x->c->bad_log))
            LOGW("pod's index failure count is not a count: read as 0", "job", x->key, "pod", kobj_name(p),
                 JOB_INDEX_FAILURE_COUNT_KEY, kobj_annotation(p, JOB_INDEX_FAILURE_COUNT_KEY),
                 JOB_INDEX_IGNORED_FAILURE_COUNT_KEY, kobj_annotation(p, JOB_INDEX_IGNORED_FAILURE_COUNT_KEY));
    }
    return 0;
}

/* upstream getPodsWithDelayedDeletionPerIndex: per index neither
 * succeeded, failed nor active, the failed pod whose tracking finalizer
 * stays until its replacement exists, so the replacement can carry its
 * failure counts on (a pod without the finalizer may be gone). */
static int delay_deletions(jctx_t *x)
{
    size_t n = (size_t)x->spec.completions + 1;
    bool *active = calloc(n, sizeof *active);
    x->delayed = calloc(n, sizeof *x->delayed);
    if (!active || !x->delayed) { free(active); return -1; }
    for (size_t i = 0; i < x->n_active; i++)
        if (index_valid(x, x->active[i])) active[job_pod_index(x->active[i])] = true;
    for (size_t i = 0; i < x->n; i++) {
        const json_t *p = x->pods[i];
        if (!job_pod_tracked(p) || strmap_has(x->s->rm_fin, kobj_uid(p)) || !index_valid(x, p) ||
            !job_pod_failed(p, x->spec.only_replace_failed))
            continue;
        int32_t ix = job_pod_index(p);
        if (x->succ_idx[ix] || x->fail_idx[ix] || active[ix]) continue;
        if (job_bpi_delay_prefer(x->delayed[ix], p)) x->delayed[ix] = p;
    }
    free(active);
    return 0;
}

/* ---- the sync: deciding ------------------------------------------------------------ */

static void set_count(json_t *status, const char *field, int32_t v, bool keep_zero)
{
    if (v == 0 && !keep_zero) json_object_del(status, field);
    else json_object_set_new(status, field, json_integer(v));
}

static int64_t start_time(const jctx_t *x)
{
    int64_t t;
    return kobj_time_parse(json_string_value(json_object_get(x->status, "startTime")), &t) == 0 ? t : 0;
}

static json_t *failure_target(const char *reason, const char *message, int64_t now)
{
    return job_condition_new("FailureTarget", "True", reason, message, now);
}

/* upstream getFailJobMessage: the message of the first failed pod that
 * matches a FailJob rule. */
static bool pfp_fail_job(const jctx_t *x, char *why, size_t len)
{
    if (!x->spec.has_pfp) return false;
    for (size_t i = 0; i < x->n; i++) {
        job_pfp_match_t m;
        if (!job_pod_failed(x->pods[i], x->spec.only_replace_failed)) continue;
        job_pfp_match(x->job, x->pods[i], &m);
        if (m.action != JOB_PFP_FAIL_JOB) continue;
        snprintf(why, len, "%s", m.message);
        return true;
    }
    return false;
}

/* upstream: the finishing condition, if any, before managing pods. */
static void decide_finished(jctx_t *x)
{
    const json_t *scm = job_condition(x->job, SCM), *ft = job_condition(x->job, "FailureTarget");
    if (job_condition_true(x->job, SCM)) {
        x->finished = json_deep_copy(scm);
        return;
    }
    if (job_condition_true(x->job, "FailureTarget")) {
        x->finished = job_condition_new("Failed", "True", json_string_value(json_object_get(ft, "reason")),
                                        json_string_value(json_object_get(ft, "message")), x->now_s);
        return;
    }
    char why[512];
    if (pfp_fail_job(x, why, sizeof why)) {
        /* the interim condition records the message before the finalizers go */
        x->finished = failure_target("PodFailurePolicy", why, x->now_s);
        return;
    }
    int64_t start = start_time(x);
    if (x->failed > x->spec.backoff_limit ||
        job_past_backoff_on_failure(&x->spec, x->pods, x->n)) {
        x->finished = failure_target("BackoffLimitExceeded", "Job has reached the specified backoff limit", x->now_s);
    } else if (x->spec.has_deadline && start && !x->spec.suspend &&
               x->now_ms - start * 1000 >= sat_ms(x->spec.active_deadline_s)) {
        x->finished = failure_target("DeadlineExceeded", "Job was active longer than specified deadline", x->now_s);
    } else if (x->spec.has_deadline && !x->spec.suspend && start) {
        int64_t left = sat_sub64(sat_ms(x->spec.active_deadline_s), x->now_ms - start * 1000);
        ctrl_enqueue_after(x->rt, x->key, left > 0 ? (uint64_t)left : 0);
    }
}

/* backoffLimitPerIndex (after the Job-wide failure checks, before the
 * successPolicy, as upstream): the failed indexes, the failure they give
 * the Job, and the failed pods kept for their replacements. */
static int per_index(jctx_t *x)
{
    if (count_failed_indexes(x) < 0) return -1;
    const char *msg, *reason;
    if (!x->finished && (reason = job_bpi_failure(&x->spec, bits_set(x->fail_idx, x->spec.completions), x->succeeded, &msg)))
        x->finished = failure_target(reason, msg, x->now_s);
    return delay_deletions(x);
}

static bool cond_is(const json_t *c, const char *type)
{
    const char *t = json_string_value(json_object_get(c, "type"));
    return t && strcmp(t, type) == 0;
}

/* Active pods to remove: Indexed duplicates and out-of-range indexes
 * first (upstream appendDuplicatedIndexPodsForRemoval), then by
 * controller.ActivePods order, at least at_least. Returns how many of
 * x->active (reordered) lead the array as victims. */
static size_t pick_victims(jctx_t *x, size_t at_least)
{
    size_t n = x->n_active, rm = 0;
    if (x->spec.indexed) {
        /* per index keep the one upstream keeps: the last in ActivePods order */
        job_sort_for_removal(x->active, n);
        for (size_t i = 0; i < n; i++) {
            bool drop = !index_valid(x, x->active[i]);
            for (size_t j = i + 1; !drop && j < n; j++)
                drop = index_valid(x, x->active[j]) && job_pod_index(x->active[j]) == job_pod_index(x->active[i]);
            if (!drop) continue;
            const json_t *t = x->active[rm];
            x->active[rm++] = x->active[i];
            x->active[i] = t;
        }
    }
    if (rm < at_least) {
        job_sort_for_removal(x->active + rm, n - rm);
        rm = at_least < n ? at_least : n;
    }
    return rm > JOB_MAX_CREATE_DELETE ? JOB_MAX_CREATE_DELETE : rm;
}

static void remove_pods(jctx_t *x, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        job_act_remove_and_delete(x->c, x->rt, x->key, x->active[i]);
        if (kpod_is_ready(x->active[i])) x->ready--;
    }
    x->active_n -= (int32_t)count;
    x->terminating += (int32_t)count;
}

/* upstream firstPendingIndexes: up to count of the lowest indexes that
 * are neither succeeded, failed, held by an active pod nor, when only
 * failed pods are replaced, by a terminating one. How many went to out,
 * or -1 (OOM). */
static int32_t pending_indexes(const jctx_t *x, int32_t count, int32_t *out)
{
    bool *used = calloc((size_t)x->spec.completions + 1, sizeof *used);
    int32_t n = 0;
    if (!used) return -1;
    memcpy(used, x->succ_idx, (size_t)x->spec.completions * sizeof *used);
    for (int32_t i = 0; x->fail_idx && i < x->spec.completions; i++) used[i] = used[i] || x->fail_idx[i];
    for (size_t i = 0; i < x->n_active; i++)
        if (index_valid(x, x->active[i])) used[job_pod_index(x->active[i])] = true;
    for (size_t i = 0; x->spec.only_replace_failed && i < x->n; i++)
        if (job_pod_terminating(x->pods[i]) && index_valid(x, x->pods[i])) used[job_pod_index(x->pods[i])] = true;
    for (int32_t i = 0; i < x->spec.completions && n < count; i++)
        if (!used[i]) out[n++] = i;
    free(used);
    return n;
}

/* The creates of an Indexed Job into the plan. With backoffLimitPerIndex
 * (upstream getPodCreationInfoForIndependentIndexes) only the indexes
 * whose own back-off is over, each pod with the counts of the failed pod
 * it replaces; the sync comes back when the next back-off ends. */
static int plan_indexed(jctx_t *x, int32_t count)
{
    int32_t *ix = malloc((size_t)count * sizeof *ix);
    if (!ix) return -1;
    int32_t n = pending_indexes(x, count, ix);
    int64_t next = 0;
    int rc = n < 0 ? -1 : 0;
    for (int32_t i = 0; i < n && rc == 0; i++) {
        const json_t *last = x->delayed ? x->delayed[ix[i]] : NULL;
        int32_t failures = -1, ignored = 0;
        int64_t wait = job_bpi_backoff_remaining_ms(last, x->now_ms);
        if (wait > 0) {
            if (next == 0 || wait < next) next = wait;
            continue;
        }
        if (x->spec.has_bpi) job_bpi_replacement_counts(x->job, &x->spec, last, &failures, &ignored);
        rc = job_act_plan_add(x->s, ix[i], failures, ignored);
    }
    free(ix);
    if (next > 0) ctrl_enqueue_after(x->rt, x->key, (uint64_t)(next < JOB_SYNC_BATCH_MS ? JOB_SYNC_BATCH_MS : next));
    return rc;
}

/* upstream manageJob; returns the active count to report. */
static int32_t manage(jctx_t *x)
{
    x->action = JOB_ACTION_PODS_DELETED;
    if (x->spec.suspend) {
        remove_pods(x, pick_victims(x, x->n_active));
        return x->active_n;
    }
    int32_t want = job_want_active(&x->spec, x->succeeded, x->active_n);
    size_t rm = pick_victims(x, x->active_n > want ? (size_t)(x->active_n - want) : 0);
    if (rm > 0) {
        LOGFV(4, "%s: too many pods running (want %d): deleting %zu", x->key, want, rm);
        remove_pods(x, rm);
        return x->active_n;
    }
    int32_t diff = want - (x->spec.only_replace_failed ? x->terminating : 0) - x->active_n;
    x->action = diff > 0 ? JOB_ACTION_PODS_CREATED : JOB_ACTION_TRACKING;
    if (diff <= 0) return x->active_n;
    /* with backoffLimitPerIndex each index backs off on its own (plan_indexed) */
    int64_t wait = x->spec.has_bpi ? 0 : job_backoff_remaining_ms(&x->backoff, x->now_ms);
    if (wait > 0) {
        ctrl_enqueue_after(x->rt, x->key, (uint64_t)(wait < JOB_SYNC_BATCH_MS ? JOB_SYNC_BATCH_MS : wait));
        /* upstream (#139457, in 1.36): the pods that run still count;
         * active 0 next to ready > 0 would be refused by the API server */
        return x->active_n;
    }
    if (diff > JOB_MAX_CREATE_DELETE) diff = JOB_MAX_CREATE_DELETE;
    json_array_clear(x->s->create_plan);
    int rc = x->spec.indexed ? plan_indexed(x, diff) : 0;
    for (int32_t i = 0; !x->spec.indexed && i < diff && rc == 0; i++) rc = job_act_plan_add(x->s, -1, -1, 0);
    if (rc < 0) json_array_clear(x->s->create_plan);   /* out of memory: the next sync plans again */
    diff = (int32_t)json_array_size(x->s->create_plan);
    if (diff == 0) return x->active_n;   /* every pending index still backs off */
    LOGFV(4, "%s: too few pods running (want %d): creating %d", x->key, want, diff);
    job_act_start_creates(x->c, x->rt, x->s, x->key);
    return x->active_n + diff;
}

/* upstream: the Suspended condition and its events. Suspending clears
 * startTime (1.36, MutableSchedulingDirectivesForSuspendedJobs on by
 * default: the template may then change and activeDeadlineSeconds starts
 * afresh), resuming sets it to now. */
static void suspend_condition(jctx_t *x)
{
    if (x->spec.suspend) {
        if (job_condition_ensure(x->status, "Suspended", "True", "JobSuspended", "Job suspended", x->now_s)) {
            ctrl_event(x->rt, x->job, "Normal", "Suspended", "Job suspended");
            json_object_del(x->status, "startTime");
        }
        return;
    }
    if (job_condition_ensure(x->status, "Suspended", "False", "JobResumed", "Job resumed", x->now_s)) {
        ctrl_event(x->rt, x->job, "Normal", "Resumed", "Job resumed");
        char ts[32];
        if (kobj_time_format(x->now_s, ts, sizeof ts) > 0) json_object_set_new(x->status, "startTime", json_string(ts));
    }
}

/* Finished: delete every active pod keeping its finalizer (on failure it
 * counts as failed). Else manage the pods. */
static void decide_pods(jctx_t *x)
{
    if (x->finished) {
        /* upstream deletes the active pods on success too (a successPolicy
         * met with pods still running); they are not counted as failed */
        for (size_t i = 0; i < x->n_active; i++) {
            job_act_delete_keep(x->c, x->rt, x->key, x->active[i]);
            if (kpod_is_ready(x->active[i])) x->ready--;
        }
        x->terminating += x->active_n;
        x->active_n = 0;
        if (!x->satisfied) { json_decref(x->finished); x->finished = NULL; }
        return;
    }
    bool managed = false;
    if (x->satisfied && !kobj_being_deleted(x->job)) {
        x->active_n = manage(x);
        managed = true;
    }
    if (job_complete(&x->spec, x->succeeded, x->active_n))
        x->finished = job_condition_new(SCM, "True", "CompletionsReached", "Reached expected number of succeeded pods",
                                        x->now_s);
    else if (managed)
        suspend_condition(x);
}

/* ---- the sync: tracking ------------------------------------------------------------- */

/* Drops uids whose pods no longer carry the finalizer from the uncounted
 * lists, adding them to the counter (upstream cleanUncountedPodsWithoutFinalizers). */
static void clean_uncounted(jctx_t *x, const strmap_t *with_fin)
{
    static const char *const which[2] = { "succeeded", "failed" };
    for (int w = 0; w < 2; w++) {
        json_t *l = uncounted_list(x->status, which[w]);
        int32_t moved = 0;
        for (size_t i = json_array_size(l); i-- > 0;) {
            if (strmap_has(with_fin, json_string_value(json_array_get(l, i)))) continue;
            json_array_remove(l, i);
            moved++;
        }
        if (moved) set_count(x->status, which[w], (int32_t)kobj_int(x->status, which[w], 0) + moved, false);
    }
}

/* upstream canRemoveFinalizer: also not (yet) for the failed pod an index
 * keeps until its replacement exists (delay_deletions). */
static bool can_remove_finalizer(const jctx_t *x, const json_t *p, bool failed)
{
    if (kobj_being_deleted(x->job) || x->finished || job_pod_succeeded(p)) return true;
    if (!failed) return false;
    return !(x->delayed && index_valid(x, p) && x->delayed[job_pod_index(p)] == p);
}

/* upstream's loop in trackJobStatusAndRemoveFinalizers: finished pods
 * into uncountedTerminatedPods (Indexed: succeeded indexes), and the pods
 * whose finalizer can go. Returns how many victims lead rm. */
static size_t track_pods(jctx_t *x, const json_t **rm)
{
    size_t n_rm = 0;
    json_t *us = uncounted_list(x->status, "succeeded"), *uf = uncounted_list(x->status, "failed");
    bool scm = x->finished && (cond_is(x->finished, SCM) || cond_is(x->finished, "Complete"));
    for (size_t i = 0; i < x->n; i++) {
        const json_t *p = x->pods[i];
        const char *uid = kobj_uid(p);
        if (!job_pod_tracked(p) || strmap_has(x->s->rm_fin, uid)) continue;
        bool failed = job_pod_failed(p, x->spec.only_replace_failed);
        if (!can_remove_finalizer(x, p, failed)) continue;
        rm[n_rm++] = p;
        if (job_pod_succeeded(p) && !strmap_has(x->unc_f, uid)) {
            if (x->spec.indexed) { if (index_valid(x, p)) x->succ_idx[job_pod_index(p)] = true; }
            else if (!strmap_has(x->unc_s, uid)) json_array_append_new(us, json_string(uid));
        } else if ((failed && !(scm && strcmp(kpod_phase(p), "Failed") != 0)) || (x->finished && !scm)) {
            /* scm: the pods deleted because the Job succeeded are not failures
             * (upstream removes their finalizer in the sync that deletes them) */
            /* an ignored failure loses its finalizer without being counted */
            if (!strmap_has(x->unc_f, uid) && (!x->spec.indexed || index_valid(x, p)) && failure_counts(x, p))
                json_array_append_new(uf, json_string(uid));
        }
        if (json_array_size(us) + json_array_size(uf) >= JOB_MAX_UNCOUNTED) break;
    }
    return n_rm;
}

/* status.<field> = the indexes of b[0..n) (keep_empty: "" when none, else
 * left out). Sized for the worst case, so a long list is never cut. 0 or
 * -1 (OOM). */
static int set_indexes(json_t *status, const char *field, const bool *b, int32_t n, bool keep_empty)
{
    size_t len = (size_t)n * 12 + 1;   /* "2147483647," at most per index */
    char *buf = malloc(len);
    if (!buf) return -1;
    job_indexes_format(b, n, buf, len);
    int rc = 0;
    if (*buf || keep_empty) rc = json_object_set_new(status, field, json_string(buf));
    else json_object_del(status, field);
    free(buf);
    return rc;
}

/* Indexed: succeeded from completedIndexes; failedIndexes with
 * backoffLimitPerIndex (upstream writes "" when none failed), else none. */
static int indexed_status(jctx_t *x)
{
    set_count(x->status, "succeeded", bits_set(x->succ_idx, x->spec.completions), false);
    if (set_indexes(x->status, "completedIndexes", x->succ_idx, x->spec.completions, false) < 0) return -1;
    if (!x->spec.has_bpi) {
        json_object_del(x->status, "failedIndexes");
        return 0;
    }
    return set_indexes(x->status, "failedIndexes", x->fail_idx, x->spec.completions, true);
}

/* The interim condition goes in first; returns whether it is new. */
static bool interim_condition(jctx_t *x)
{
    if (!x->finished) return false;
    const char *reason = json_string_value(json_object_get(x->finished, "reason"));
    const char *msg = json_string_value(json_object_get(x->finished, "message"));
    bool added = false;
    json_t *final = NULL;
    if (cond_is(x->finished, "FailureTarget")) {
        job_condition_ensure(x->status, "FailureTarget", "True", reason, msg, x->now_s);
        added = true;
        final = job_condition_new("Failed", "True", reason, msg, x->now_s);
    } else if (cond_is(x->finished, SCM)) {
        if (!job_condition_true(x->job, SCM)) {
            job_condition_ensure(x->status, SCM, "True", reason, msg, x->now_s);
            added = true;
        }
        final = job_condition_new("Complete", "True", reason, msg, x->now_s);
    }
    if (final) {
        json_decref(x->finished);
        x->finished = final;
    }
    return added;
}

/* upstream enactJobFinished: the final condition once nothing is
 * uncounted or terminating. True if set. */
static bool enact_finished(jctx_t *x)
{
    if (!x->finished) return false;
    if (json_array_size(uncounted_list(x->status, "succeeded")) + json_array_size(uncounted_list(x->status, "failed")))
        return false;
    if (x->terminating > 0) return false;
    const char *type = json_string_value(json_object_get(x->finished, "type"));
    job_condition_ensure(x->status, type, "True", json_string_value(json_object_get(x->finished, "reason")),
                         json_string_value(json_object_get(x->finished, "message")), x->now_s);
    if (strcmp(type, "Complete") == 0) {
        char ts[32];
        if (kobj_time_format(x->now_s, ts, sizeof ts) > 0) json_object_set_new(x->status, "completionTime", json_string(ts));
    }
    json_decref(x->s->finish_cond);
    x->s->finish_cond = json_deep_copy(x->finished);
    x->s->too_many_succeeded = x->spec.has_completions && kobj_int(x->status, "succeeded", 0) > x->spec.completions;
    return true;
}

/* Empty uncounted lists are left out, as upstream's nil slices are. */
static void tidy_uncounted(json_t *status)
{
    json_t *u = json_object_get(status, "uncountedTerminatedPods");
    if (json_array_size(json_object_get(u, "succeeded")) == 0) json_object_del(u, "succeeded");
    if (json_array_size(json_object_get(u, "failed")) == 0) json_object_del(u, "failed");
}

static void write_status(jctx_t *x)
{
    tidy_uncounted(x->status);
    x->s->write_backoff = true;
    x->s->write_backoff_rec = x->backoff;
    job_act_write_status(x->c, x->rt, x->s, x->key, x->job, &x->status);
}

/* One stage of upstream's trackJobStatusAndRemoveFinalizers (see the top). */
static int track(jctx_t *x)
{
    const json_t **rm = malloc((x->n ? x->n : 1) * sizeof *rm);
    strmap_t *with_fin = strmap_new(NULL);
    if (!rm || !with_fin) { free(rm); strmap_destroy(&with_fin); return -1; }
    for (size_t i = 0; i < x->n; i++)
        if (job_pod_tracked(x->pods[i]) && !strmap_has(x->s->rm_fin, kobj_uid(x->pods[i])))
            strmap_put(with_fin, kobj_uid(x->pods[i]), (void *)1);
    clean_uncounted(x, with_fin);
    strmap_destroy(&with_fin);
    size_t n_rm = track_pods(x, rm);
    if (x->spec.indexed && indexed_status(x) < 0) { free(rm); return -1; }
    bool new_interim = interim_condition(x);
    json_t *cur = kobj_get(x->job, "status");
    json_t *empty = json_object();
    tidy_uncounted(x->status);
    bool differs = !json_equal(cur ? cur : empty, x->status);
    json_decref(empty);
    if (n_rm > 0 && !differs) {
        for (size_t i = 0; i < n_rm; i++) job_act_remove_finalizer(x->c, x->rt, x->s, x->key, rm[i]);
    } else if (n_rm > 0 || new_interim) {
        write_status(x);     /* the uncounted pods / interim condition are recorded first */
    } else if (enact_finished(x) || differs) {
        write_status(x);
    }
    free(rm);
    return 0;
}

/* ---- the sync ---------------------------------------------------------------------- */

static void warn_invalid(job_ctrl_t *c, ctrl_runtime_t *rt, job_state_t *s, const json_t *job, const char *why)
{
    if (!ctrl_ostate_warn_once(s, job)) return;
    if (log_limit_allow(&c->bad_log))
        LOGW("Job refused: invalid spec", "namespace", kobj_namespace(job), "name", kobj_name(job), "reason", why);
    if (strstr(why, "completion mode"))
        ctrl_event(rt, job, "Warning", "UnknownCompletionMode", "Skipped Job sync because completion mode is unknown");
}

/* Our last status write is not in the cache yet: wait for its event. */
static bool waiting_for_own_write(ctrl_runtime_t *rt, job_state_t *s, const json_t *job, const char *key)
{
    if (!s->stale_rv) return false;
    if (strcmp(kobj_resource_version(job), s->stale_rv) == 0 &&
        ctrl_now_unix_ms(rt) - s->stale_since_ms < JOB_STALE_WAIT_MS) {
        ctrl_enqueue_after(rt, key, 2000);   /* safety net; the event re-queues sooner */
        return true;
    }
    free(s->stale_rv);
    s->stale_rv = NULL;
    return false;
}

static int sync_job(jctx_t *x)
{
    x->status = json_deep_copy(kobj_get(x->job, "status"));
    if (!x->status) x->status = json_object();
    if (!x->status) return -1;
    if (!json_is_object(json_object_get(x->status, "uncountedTerminatedPods")))
        json_object_set_new(x->status, "uncountedTerminatedPods", json_object());
    x->unc_s = uid_set(uncounted_list(x->status, "succeeded"));
    x->unc_f = uid_set(uncounted_list(x->status, "failed"));
    x->satisfied = expectations_satisfied(ctrl_expectations(x->rt), x->key);
    if (!x->unc_s || !x->unc_f || collect_pods(x) < 0) return -1;
    if (json_array_size(x->adopt) > 0) {
        /* the adopted pods (with their finalizer) are counted by the sync
         * the adopter queues once the live GET confirmed the Job */
        ctrl_adopter_start(x->c->adopter, x->rt, x->key, x->job, POD_RESOURCE, &x->adopt);
        return 0;
    }
    if (count_finished(x) < 0) return -1;
    if (!json_object_get(x->status, "startTime") && !x->spec.suspend) {
        char ts[32];
        if (kobj_time_format(x->now_s, ts, sizeof ts) > 0) json_object_set_new(x->status, "startTime", json_string(ts));
    }
    decide_finished(x);
    if (x->spec.indexed && count_indexes(x) < 0) return -1;
    if (x->spec.has_bpi && per_index(x) < 0) return -1;
    char msg[64];
    if (x->spec.indexed && !x->finished && job_success_policy_met(x->job, x->succ_idx, x->spec.completions, msg, sizeof msg))
        x->finished = job_condition_new(SCM, "True", JOB_REASON_SUCCESS_POLICY, msg, x->now_s);
    decide_pods(x);
    set_count(x->status, "active", x->active_n, false);
    set_count(x->status, "ready", x->ready, true);
    set_count(x->status, "terminating", x->terminating, true);
    return track(x);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int job_sync(ctrl_runtime_t *rt, const char *key, void *ud)
{
    uint64_t t0 = mono_ns();
    job_ctrl_t *c = ud;
    if (strncmp(key, ORPHAN_KEY_PREFIX, strlen(ORPHAN_KEY_PREFIX)) == 0) return orphan_sync(c, rt, key);
    const json_t *job = cache_get(ctrl_cache(rt, JOB_RESOURCE), key);
    if (!job) {
        expectations_forget(ctrl_expectations(rt), key);
        ctrl_ostates_forget(c->states, key);
        return 0;
    }
    if (job_managed_elsewhere(job)) return 0;
    job_state_t *s = ctrl_ostates_for(c->states, key, job);
    if (!s) return -1;
    if (job_is_finished(job)) {
        s->backoff = (job_backoff_t){ 0, 0 };   /* upstream removes the back-off record */
        return 0;
    }
    if (waiting_for_own_write(rt, s, job, key)) return 0;
    jctx_t x = { .rt = rt, .c = c, .s = s, .key = key, .job = job };
    char why[320];
    if (job_spec_read(job, &x.spec, why, sizeof why) < 0) {
        warn_invalid(c, rt, s, job, why);
        return 0;   /* retrying cannot help: the next edit re-queues it */
    }
    x.now_ms = (int64_t)ctrl_now_unix_ms(rt);
    x.now_s = x.now_ms / 1000;
    x.action = JOB_ACTION_RECONCILING;
    int rc = sync_job(&x);
    job_metrics_sync(c->metrics, x.spec.indexed, rc == 0, x.action, (double)(mono_ns() - t0) / 1e9);
    ctx_free(&x);
    return rc;
}
