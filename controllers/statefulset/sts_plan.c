/* sts_plan.c - one sync's decisions for a StatefulSet. See sts_plan.h. */
#include "sts_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/kobj.h"
#include "sts_pod.h"
#include "sts_pvc.h"

typedef struct {
    const sts_plan_in_t *in;
    sts_plan_t *out;
    const json_t **slots;      /* replicas by ordinal - start (NULL: missing) */
    const json_t **condemned;  /* highest ordinal first */
    size_t n_condemned;
    bool oom;
} ctx_t;

static void add(ctx_t *c, sts_step_t s)
{
    sts_plan_t *p = c->out;
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        sts_step_t *n = realloc(p->steps, cap * sizeof *n);
        if (!n) { c->oom = true; return; }
        p->steps = n;
        p->cap = cap;
    }
    p->steps[p->n++] = s;
}

static int32_t ordinal_of(const ctx_t *c, const json_t *pod)
{
    return sts_member_ordinal(pod, kobj_name(c->in->sts));
}

static void count_status(ctx_t *c)
{
    const sts_plan_in_t *in = c->in;
    for (size_t i = 0; i < in->n_pods; i++) {
        const json_t *pod = in->pods[i];
        if (!sts_pod_created(pod)) continue;
        c->out->replicas++;
        if (sts_pod_running_ready(pod)) {
            c->out->ready++;
            if (sts_pod_available(pod, in->spec->min_ready_seconds, in->now)) c->out->available++;
        }
        if (sts_pod_terminating(pod)) continue;
        const char *rev = sts_pod_revision(pod);
        if (strcmp(rev, in->current_rev) == 0) c->out->current++;
        if (strcmp(rev, in->update_rev) == 0) c->out->updated++;
    }
}

static int cmp_desc(const void *a, const void *b)
{
    const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
    int32_t ox = sts_name_ordinal(kobj_name(x), NULL, 0), oy = sts_name_ordinal(kobj_name(y), NULL, 0);
    return ox < oy ? 1 : ox > oy ? -1 : 0;
}

static int partition_pods(ctx_t *c)
{
    const sts_plan_in_t *in = c->in;
    size_t nrep = (size_t)in->spec->replicas;
    c->slots = calloc(nrep ? nrep : 1, sizeof *c->slots);
    c->condemned = calloc(in->n_pods ? in->n_pods : 1, sizeof *c->condemned);
    if (!c->slots || !c->condemned) return -1;
    for (size_t i = 0; i < in->n_pods; i++) {
        int32_t ord = ordinal_of(c, in->pods[i]);
        if (ord < 0) continue;
        if (ord >= in->spec->start && (int64_t)ord < (int64_t)in->spec->start + in->spec->replicas)
            c->slots[ord - in->spec->start] = in->pods[i];
        else
            c->condemned[c->n_condemned++] = in->pods[i];
    }
    qsort(c->condemned, c->n_condemned, sizeof *c->condemned, cmp_desc);
    return 0;
}

static const json_t *claim_tmpl(const ctx_t *c, size_t i)
{
    return json_array_get(c->in->spec->claim_templates, i);
}

static size_t n_tmpls(const ctx_t *c) { return json_array_size(c->in->spec->claim_templates); }

static const json_t *claim_of(const ctx_t *c, size_t t, int32_t ord)
{
    char name[512];
    const char *tn = kobj_name(claim_tmpl(c, t));
    if (!*tn || sts_claim_name(name, sizeof name, tn, kobj_name(c->in->sts), ord) < 0) return NULL;
    return c->in->claim_get(c->in->claim_ud, name);
}

/* upstream PodClaimIsStale: with whenScaled=Delete, a claim still owned by
 * an earlier pod of this name is on its way out (the garbage collector
 * deletes it); the new pod must not start using it. */
static bool claim_is_stale(const ctx_t *c, const json_t *claim, int32_t ord)
{
    if (!c->in->spec->delete_when_scaled) return false;
    char pod[320];
    snprintf(pod, sizeof pod, "%s-%d", kobj_name(c->in->sts), ord);
    kobj_ownerref_t r;
    for (size_t i = 0; i < kobj_ownerref_count(claim); i++)
        if (kobj_ownerref_at(claim, i, &r) == 0 && strcmp(r.api_version, "v1") == 0 && strcmp(r.kind, "Pod") == 0 &&
            strcmp(r.name, pod) == 0)
            return true;   /* the pod does not exist yet, so any ref to its name is stale */
    return false;
}

/* Missing claims get created; returns true when the pod must wait (a claim
 * is missing, being deleted, or stale). */
static bool ensure_claims(ctx_t *c, int32_t ord, bool creating_pod)
{
    bool wait = false;
    for (size_t t = 0; t < n_tmpls(c); t++) {
        if (!*kobj_name(claim_tmpl(c, t))) continue;
        const json_t *cl = claim_of(c, t, ord);
        if (cl && creating_pod && claim_is_stale(c, cl, ord)) {
            wait = true;
        } else if (!cl) {
            add(c, (sts_step_t){ .kind = STS_STEP_CREATE_CLAIM, .ordinal = ord, .tmpl = t });
            wait = true;
        } else if (kobj_being_deleted(cl)) {
            add(c, (sts_step_t){ .kind = STS_STEP_CLAIM_DELETING, .ordinal = ord, .tmpl = t });
            wait = true;
        }
    }
    return wait;
}

static void fix_claim_refs(ctx_t *c, const json_t *pod, int32_t ord, bool in_range)
{
    for (size_t t = 0; t < n_tmpls(c); t++) {
        const json_t *cl = claim_of(c, t, ord);
        if (!cl || sts_claim_refs_ok(cl, c->in->sts, c->in->spec, pod, in_range)) continue;
        add(c, (sts_step_t){ .kind = STS_STEP_CLAIM_REFS, .pod = pod, .ordinal = ord, .tmpl = t,
                             .in_range = in_range });
    }
}

static void note_recheck(ctx_t *c, const json_t *pod)
{
    int64_t at = sts_pod_available_at(pod, c->in->spec->min_ready_seconds, c->in->now);
    if (at && (!c->out->recheck_at || at < c->out->recheck_at)) c->out->recheck_at = at;
}

/* upstream processReplica: true when an OrderedReady set must stop here. */
static bool process_replica(ctx_t *c, size_t i)
{
    const sts_spec_t *spec = c->in->spec;
    bool mono = !spec->parallel;
    const json_t *pod = c->slots[i];
    int32_t ord = spec->start + (int32_t)i;
    if (pod && sts_pod_finished(pod)) {
        if (!sts_pod_terminating(pod)) add(c, (sts_step_t){ .kind = STS_STEP_DELETE_POD, .pod = pod, .ordinal = ord });
        return true;   /* the new pod comes once the old one is gone */
    }
    if (!pod) {
        if (ensure_claims(c, ord, true)) return true;
        bool cur = !spec->on_delete && (int64_t)ord < (int64_t)spec->start + spec->partition;
        add(c, (sts_step_t){ .kind = STS_STEP_CREATE_POD, .ordinal = ord, .use_current = cur });
        return mono;
    }
    if (sts_pod_pending(pod)) (void)ensure_claims(c, ord, false);
    if (mono && sts_pod_terminating(pod)) return true;
    if (mono && !sts_pod_running_ready(pod)) return true;
    if (!sts_pod_available(pod, spec->min_ready_seconds, c->in->now)) note_recheck(c, pod);
    if (mono && !sts_pod_available(pod, spec->min_ready_seconds, c->in->now)) return true;
    if (!sts_pod_terminating(pod)) fix_claim_refs(c, pod, ord, true);
    if (!sts_pod_identity_ok(pod)) add(c, (sts_step_t){ .kind = STS_STEP_FIX_IDENTITY, .pod = pod, .ordinal = ord });
    return false;
}

/* The lowest-ordinal unavailable pod: replicas first, then condemned. */
static const json_t *first_unavailable(const ctx_t *c, bool *is_placeholder)
{
    const sts_spec_t *spec = c->in->spec;
    *is_placeholder = false;
    for (int32_t i = 0; i < spec->replicas; i++)
        if (sts_pod_unavailable(c->slots[i], spec->min_ready_seconds, c->in->now)) {
            *is_placeholder = c->slots[i] == NULL;
            return c->slots[i];
        }
    for (size_t i = c->n_condemned; i-- > 0;)
        if (sts_pod_unavailable(c->condemned[i], spec->min_ready_seconds, c->in->now)) return c->condemned[i];
    return NULL;
}

/* upstream processCondemned. */
static bool process_condemned(ctx_t *c, size_t i, const json_t *first_bad)
{
    const sts_spec_t *spec = c->in->spec;
    bool mono = !spec->parallel;
    const json_t *pod = c->condemned[i];
    int32_t ord = ordinal_of(c, pod);
    if (sts_pod_terminating(pod)) return mono;
    if (mono && pod != first_bad &&
        (!sts_pod_running_ready(pod) || !sts_pod_available(pod, spec->min_ready_seconds, c->in->now)))
        return true;
    add(c, (sts_step_t){ .kind = STS_STEP_DELETE_POD, .pod = pod, .ordinal = ord });
    return mono;
}

static void rolling_update(ctx_t *c)
{
    const sts_spec_t *spec = c->in->spec;
    int32_t max_unavail = sts_spec_max_unavailable(spec), unavail = 0;
    for (int32_t i = 0; i < spec->replicas; i++)
        unavail += sts_pod_unavailable(c->slots[i], spec->min_ready_seconds, c->in->now);
    if (unavail >= max_unavail) return;
    int32_t budget = max_unavail - unavail;
    for (int32_t t = spec->replicas - 1; t >= spec->partition && budget > 0; t--) {
        const json_t *pod = c->slots[t];
        if (!pod || sts_pod_terminating(pod) || strcmp(sts_pod_revision(pod), c->in->update_rev) == 0) continue;
        add(c, (sts_step_t){ .kind = STS_STEP_DELETE_POD, .pod = pod, .ordinal = spec->start + t, .for_update = true });
        c->out->current--;
        budget--;
    }
}

static void plan(ctx_t *c)
{
    const sts_spec_t *spec = c->in->spec;
    bool mono = !spec->parallel;
    for (int32_t i = 0; i < spec->replicas; i++)
        if (process_replica(c, (size_t)i) && mono) return;
    for (size_t i = 0; i < c->n_condemned; i++)
        if (!sts_pod_terminating(c->condemned[i]))
            fix_claim_refs(c, c->condemned[i], ordinal_of(c, c->condemned[i]), false);
    bool placeholder;
    const json_t *bad = first_unavailable(c, &placeholder);
    for (size_t i = 0; i < c->n_condemned; i++)
        if (process_condemned(c, i, bad) && mono) return;
    if (spec->on_delete) return;
    rolling_update(c);
}

int sts_plan_make(const sts_plan_in_t *in, sts_plan_t *out)
{
    memset(out, 0, sizeof *out);
    ctx_t c = { .in = in, .out = out };
    count_status(&c);
    int rc = 0;
    if (partition_pods(&c) < 0) {
        rc = -1;
    } else if (!kobj_being_deleted(in->sts)) {
        plan(&c);
        if (c.oom) rc = -1;
    }
    free(c.slots);
    free(c.condemned);
    if (rc < 0) sts_plan_free(out);
    return rc;
}

void sts_plan_free(sts_plan_t *p)
{
    if (!p) return;
    free(p->steps);
    p->steps = NULL;
    p->n = p->cap = 0;
}
