/* rs_core.h - the ReplicaSet controller's decisions, as pure functions.
 *
 * Owns: what upstream's replica_set.go and controller_utils.go decide,
 * without any I/O, so that each rule is unit-tested on its own:
 *   - spec reading and validation (replicas, selector, template labels);
 *   - claiming: which pods are ours, which to adopt, which to release;
 *   - the replica diff (capped by burstReplicas);
 *   - scale-down victim order (ActivePodsWithRanks, LogarithmicScaleDown);
 *   - slow-start batches, driven by asynchronous results;
 *   - the status a set of pods implies, and whether it changed;
 *   - the pod a template makes.
 * Everything borrows its JSON arguments; functions that return JSON return
 * a new reference the caller owns.
 */
#ifndef KUBUS_RS_CORE_H
#define KUBUS_RS_CORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctrl/selector.h"

#define RS_BURST_REPLICAS 500          /* upstream BurstReplicas */
#define RS_SLOW_START_INITIAL_BATCH 1  /* upstream SlowStartInitialBatchSize */
#define RS_API_VERSION "apps/v1"
#define RS_KIND "ReplicaSet"

/* ---- spec ------------------------------------------------------------------ */

typedef struct {
    int32_t replicas;          /* spec.replicas (API default 1 when absent) */
    int32_t min_ready_seconds;
    selector_t *selector;      /* owned */
    selector_t *template_sel;  /* template labels as a selector (fullyLabeled), owned */
} rs_spec_t;

/* Reads and checks rs. 0, or -1 with a human reason in err (negative
 * replicas, invalid/empty/null selector, template labels the selector does
 * not match, no template). On error nothing needs freeing. */
int rs_spec_read(const json_t *rs, rs_spec_t *out, char *err, size_t errlen);
void rs_spec_free(rs_spec_t *s);

/* ---- claiming ---------------------------------------------------------------- */

typedef enum {
    RS_CLAIM_IGNORE = 0,  /* inactive, or another controller's, or not ours and not adoptable */
    RS_CLAIM_OWNED,       /* controller ref is ours and the selector matches */
    RS_CLAIM_ADOPT,       /* orphan matching the selector: adopt (after the live re-check) */
    RS_CLAIM_RELEASE,     /* ours but no longer matching: release */
} rs_claim_t;

/* upstream ClaimObject for one (already active-filtered or not) pod. The
 * patches that adopt and release are lib/ctrl/claim.h's. */
rs_claim_t rs_claim(const json_t *rs, const selector_t *sel, const json_t *pod);

/* ---- diff ---------------------------------------------------------------------- */

/* > 0: create that many; < 0: delete that many; capped at burst. */
int rs_diff(size_t active_owned, int32_t desired, int burst);

/* ---- victims ---------------------------------------------------------------------- */

/* Orders pods so that the first ones are those to delete first (upstream
 * ActivePodsWithRanks.Less): unscheduled < scheduled; Pending < Unknown <
 * Running; not ready < ready; lower pod-deletion-cost; more related active
 * pods on the same node; ready for less time (log2 buckets against now,
 * ties by uid); more restarts; newer creation (log2 buckets, ties by uid).
 * related: the pods used for the same-node rank (upstream: pods of all
 * ReplicaSets with the same controller). now_us: wall clock in microseconds
 * (0: compare times without log scaling). 0 or -1 (OOM, pods untouched). */
int rs_sort_victims(const json_t **pods, size_t n, const json_t *const *related, size_t n_related,
                    int64_t now_us);
/* The comparison itself, with explicit ranks: < 0 when a goes first. */
int rs_victim_cmp(const json_t *a, int rank_a, const json_t *b, int rank_b, int64_t now_us);

/* ---- slow start ---------------------------------------------------------------- */

/* upstream slowStartBatch, split for asynchronous results: batches of 1,
 * 2, 4, ... (never more than what remains); the next batch starts only
 * when the whole current batch succeeded; the first failure (or stop) ends
 * it and the rest is skipped (never attempted, so never expected). */
typedef struct {
    int remaining;     /* not yet issued */
    int batch;         /* size of the current batch */
    int in_flight;     /* of the current batch, without result */
    int succeeded;     /* total successes */
    int failed;        /* total failures */
    int skipped;       /* given up after a failure */
} rs_slowstart_t;

void rs_slowstart_init(rs_slowstart_t *s, int count);
/* How many to issue now: the next batch when nothing is in flight and no
 * failure happened; 0 otherwise. Counts them as in flight. */
int rs_slowstart_next(rs_slowstart_t *s);
/* Records one result of the current batch. */
void rs_slowstart_result(rs_slowstart_t *s, bool ok);
/* Records a result that ends the plan without being a failure: nothing
 * more is issued once the batch is in (upstream: a create refused because
 * the namespace is terminating is no error, and every further one would be
 * refused alike). */
void rs_slowstart_stop(rs_slowstart_t *s);
/* Nothing in flight and nothing more will be issued. */
bool rs_slowstart_done(const rs_slowstart_t *s);

/* ---- status ------------------------------------------------------------------------ */

typedef struct {
    const char *error;   /* last manageReplicas error message, or NULL */
    bool create_side;    /* the error came from creating (else deleting) */
} rs_manage_err_t;

/* upstream calculateStatus + observedGeneration: a new status object built
 * on rs.status (unknown fields kept). pods: the active owned pods. now_sec:
 * wall clock. *next_available_sec (may be NULL) gets the earliest time a
 * ready-but-not-yet-available pod becomes available (0: none). */
json_t *rs_status_compute(const json_t *rs, const rs_spec_t *spec, const json_t *const *pods, size_t n,
                          const rs_manage_err_t *err, int64_t now_sec, int64_t *next_available_sec);
/* upstream FilterClaimedPods(FilterTerminatingPods(...)) for one pod: being
 * deleted, not Succeeded/Failed, controlled by rs and matching sel. */
bool rs_pod_terminating(const json_t *rs, const selector_t *sel, const json_t *pod);
/* status.terminatingReplicas = n. Upstream writes it, even as 0, since the
 * DeploymentReplicaSetTerminatingReplicas gate is on by default (1.35+), and
 * the Deployment controller sums it into the Deployment's status. */
void rs_status_set_terminating(json_t *status, int32_t n);
/* Same replicas/fullyLabeled/ready/available/observedGeneration, the same
 * terminatingReplicas (absent differs from 0: a pointer upstream) and the
 * same ReplicaFailure condition (type/status/reason/message)? Other absent
 * numbers count as 0. */
bool rs_status_equal(const json_t *a, const json_t *b);

/* ---- pods from the template ---------------------------------------------------- */

/* The pod to create: name, generateName "<rs>-", namespace, template
 * labels/annotations/finalizers, the controller ownerReference, template
 * spec. NULL on OOM or a template without spec. */
json_t *rs_pod_from_template(const json_t *rs, const char *name);

#endif
