/* actions.h - asking the executor to change the cluster, and hearing back.
 *
 * Owns: the controller's side of the action contract (DEVELOPERS.md):
 *   - ids (random life tag << 32 | counter): unique per process life, and
 *     two lives (of one controller, or of two supervisors on one executor)
 *     share a tag with odds of 2^-32; the executor refuses an id it knows
 *     with other content (journal.h), so even then nothing is mixed up;
 *   - the table of outstanding actions with their result callbacks, counted
 *     per owner key (a key stays "in sync" while it has any outstanding);
 *   - re-sending: every outstanding action when the ExecutorStatus epoch
 *     changes or the connection to the broker is made again (a killed
 *     broker loses what it held), and any action without a result for 30 s
 *     (creates carry
 *     their client-chosen name, deletes a uid precondition: re-sending is
 *     safe);
 *   - expectations raised by creates and deletes (unless CTRL_ACT_NO_EXPECT)
 *     and lowered by failed results;
 *   - start-up recovery: an InflightQuery, and the InflightReport's pending
 *     actions and recent successful creates/deletes turned into
 *     expectations, so a restarted controller waits to observe them instead
 *     of acting twice;
 *   - builders for the actions controllers issue, Events included, and the
 *     generateName-compatible name generator.
 * Result semantics: ok = 2xx, or 404 for DELETE (already gone). Every
 * failed CREATE lowers its expectation, status 0 (outcome unknown) and 504
 * included, as upstream counts any create error as not made: the owner's
 * next sync decides again instead of waiting out the 5-minute expiry.
 *
 * Controllers use the ctrl_* functions (they take the runtime); actions_t
 * is the layer below, driven by runtime.c and by unit tests.
 * Cost: O(1) average per action and result; resend O(outstanding).
 */
#ifndef KUBUS_CTRL_ACTIONS_H
#define KUBUS_CTRL_ACTIONS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctrl/expectations.h"
#include "msg.h"

typedef struct ctrl_runtime ctrl_runtime_t;
typedef struct actions actions_t;

#define ACTIONS_RESEND_MS 30000u
/* Name generator: the API server's generateName alphabet and length. */
#define CTRL_NAME_ALPHABET "bcdfghjklmnpqrstvwxz2456789"
#define CTRL_NAME_SUFFIX_LEN 5
/* Object names are DNS subdomains: at most 253; generateName prefixes are
 * cut to 58 so that prefix + 5 stays within 63 (upstream maxGeneratedNameLength). */
#define CTRL_NAME_PREFIX_MAX 58

typedef struct {
    bool ok;                /* 2xx, or 404 on DELETE */
    uint32_t status;        /* HTTP status, 0 = no answer */
    const char *reason;     /* "AlreadyExists", "Conflict", ... ("" if none) */
    const char *message;    /* server message ("" if none) */
    const json_t *object;   /* resulting object when the server sent one, else NULL */
    char *const *causes;    /* the Status's details.causes[].reason, n_causes of them */
    size_t n_causes;
    int verb;               /* KUBUS__V1__VERB__* */
    const char *resource, *ns, *name, *owner_key;
    uint64_t id;
} ctrl_result_t;

/* Called once per action with its final result. The owner key is still
 * counted as outstanding during the call, so issuing the next actions from
 * here (slow-start batches) keeps the key in sync without a gap. */
typedef void (*ctrl_result_fn)(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud);

/* Flags for ctrl_action_spec_t.flags */
#define CTRL_ACT_NO_EXPECT 0x1u   /* do not raise an expectation for this create/delete */

typedef struct {
    int verb;                     /* KUBUS__V1__VERB__* */
    const char *resource;         /* plural: "pods" */
    const char *ns, *name;        /* target; for CREATE the chosen name */
    json_t *body;                 /* taken (decref'd) by ctrl_action; may be NULL */
    int patch_type;               /* KUBUS__V1__PATCH_TYPE__* */
    int propagation;              /* KUBUS__V1__PROPAGATION__* */
    const char *precondition_uid;
    const char *precondition_rv;
    const char *owner_key;        /* the work key this serves; required */
    const char *subresource;      /* "status" ... or NULL */
    const char *api_group_version;/* NULL: derived from resource by the executor */
    unsigned flags;
    ctrl_result_fn cb;            /* may be NULL */
    void *ud;
} ctrl_action_spec_t;

/* ---- for controllers ------------------------------------------------------ */

/* Issues an action. Returns its id, or 0 if it could not be built/queued
 * (the reason is logged; spec->body is released either way). */
uint64_t ctrl_action(ctrl_runtime_t *rt, ctrl_action_spec_t *spec);

/* CREATE *obj (taken). metadata.name must be set (ctrl_name_generate) and
 * metadata.namespace is used as the target namespace. Raises the create
 * expectation for owner_key. */
uint64_t ctrl_create(ctrl_runtime_t *rt, const char *owner_key, const char *resource, json_t **obj,
                     ctrl_result_fn cb, void *ud);
/* DELETE with a uid precondition; raises the delete expectation. 404 = ok. */
uint64_t ctrl_delete(ctrl_runtime_t *rt, const char *owner_key, const char *resource, const char *ns,
                     const char *name, const char *uid, ctrl_result_fn cb, void *ud);
/* PATCH name with *patch (taken); patch_type KUBUS__V1__PATCH_TYPE__*. */
uint64_t ctrl_patch(ctrl_runtime_t *rt, const char *owner_key, const char *resource, const char *ns,
                    const char *name, int patch_type, json_t **patch, ctrl_result_fn cb, void *ud);
/* UPDATE / UPDATE_STATUS of *obj (taken); its metadata.resourceVersion is
 * sent as precondition (a 409 comes back as a failed result). */
uint64_t ctrl_update(ctrl_runtime_t *rt, const char *owner_key, const char *resource, json_t **obj,
                     ctrl_result_fn cb, void *ud);
uint64_t ctrl_update_status(ctrl_runtime_t *rt, const char *owner_key, const char *resource,
                            json_t **obj, ctrl_result_fn cb, void *ud);
/* GET a live object (the result's object), e.g. upstream's re-check of an
 * owner's uid before adopting. */
uint64_t ctrl_get(ctrl_runtime_t *rt, const char *owner_key, const char *resource, const char *ns,
                  const char *name, ctrl_result_fn cb, void *ud);

/* Whether the failed result's Status names this cause (upstream's
 * apierrors.HasStatusCause). */
bool ctrl_result_has_cause(const ctrl_result_t *res, const char *cause);
/* A create refused because its namespace is being deleted (the API's 403
 * with cause NamespaceTerminating; the message says "because it is being
 * terminated" too). Every create there fails alike. */
bool ctrl_result_namespace_terminating(const ctrl_result_t *res);

/* Records a Kubernetes Event about involved (any object with apiVersion,
 * kind, metadata). type "Normal"/"Warning", reason CamelCase, message
 * printf-style. Fire and forget (not counted against any key). 0 or -1. */
int ctrl_event(ctrl_runtime_t *rt, const json_t *involved, const char *type, const char *reason,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Writes prefix + 5 random characters of CTRL_NAME_ALPHABET into out
 * (prefix cut to CTRL_NAME_PREFIX_MAX like the API server). Randomness from
 * getrandom(2) (a xorshift stream seeded from it if getrandom fails).
 * Length, or -1 if out is too small. */
int ctrl_name_generate(const char *prefix, char *out, size_t outlen);
/* n random bytes from getrandom(2) (the xorshift stream above if it fails). */
void ctrl_random_bytes(uint8_t *out, size_t n);

/* Actions outstanding for owner_key (issued, no final result yet). */
size_t ctrl_outstanding(ctrl_runtime_t *rt, const char *owner_key);

/* ---- the layer below (runtime.c, tests) ----------------------------------- */

/* Sends one encoded envelope (msg_encode bytes) to the broker. 0, or -1
 * (the action stays outstanding and is re-sent later). */
typedef int (*actions_send_fn)(const uint8_t *buf, size_t len, void *ud);
/* Called when an owner key's outstanding count drops to 0. */
typedef void (*actions_idle_fn)(const char *owner_key, void *ud);
/* Clock in monotonic ms (NULL: now_mono_ms). */
typedef uint64_t (*actions_clock_fn)(void *ud);

typedef struct {
    const char *controller;  /* "replicaset" */
    uint32_t shard;
    uint32_t generation;     /* the worker's generation (>= 1) */
    uint32_t life;           /* the ids' upper half; 0: random (tests set it) */
    expectations_t *expectations;  /* borrowed; may be NULL */
    actions_send_fn send; void *send_ud;
    actions_idle_fn idle; void *idle_ud;
    /* Called when an action adopted from an InflightReport fails: no
     * callback of this life handles it, so its owner must sync again (the
     * runtime re-queues it rate-limited). May be NULL. */
    actions_idle_fn adopted_failed; void *adopted_failed_ud;
    actions_clock_fn clock; void *clock_ud;
    ctrl_runtime_t *rt;      /* handed to result callbacks */
} actions_opts_t;

actions_t *actions_new(const actions_opts_t *opts);
void actions_destroy(actions_t **a);

uint64_t actions_issue(actions_t *a, ctrl_action_spec_t *spec);
size_t actions_outstanding(const actions_t *a, const char *owner_key);
size_t actions_outstanding_total(const actions_t *a);

/* A result arrived: runs the callback, lowers expectations on failure
 * (and asks for a resync of the owner of a failed adopted action), drops
 * the action. Results for unknown ids (a duplicate, or a previous life's
 * action the InflightReport did not list) are ignored: an expectation
 * recovered from a pending action belongs to the adopted action, same id,
 * and one recovered from a recent result is met by observation. */
void actions_on_result(actions_t *a, const msg_result_t *r);
/* An ExecutorStatus epoch: when it differs from the last one seen, every
 * outstanding action is re-sent. */
void actions_on_executor_epoch(actions_t *a, uint64_t epoch);
/* The connection to the broker was lost and made again: whatever was in
 * the old broker (actions it held or forwarded, results and a report on
 * their way back) may be gone, so every outstanding action is re-sent now
 * (the executor absorbs duplicates by id), and the InflightQuery if no
 * report came yet. */
void actions_on_link_restored(actions_t *a);
/* Re-sends actions without a result for ACTIONS_RESEND_MS, and those whose
 * send failed. Call from the loop. */
void actions_tick(actions_t *a);
/* Sends an EVENT action (body: {involvedObject, type, reason, message,
 * source}; taken). Fire and forget: not tracked, its result ignored. */
int actions_send_event(actions_t *a, const char *ns, json_t **body);
/* Ms until actions_tick has something to do (-1 nothing outstanding). */
int64_t actions_next_due_ms(const actions_t *a);

/* Sends the InflightQuery (again, if no report came within 5 s). */
int actions_query_inflight(actions_t *a);
bool actions_report_received(const actions_t *a);
/* Takes in a report: its pending actions become ours (outstanding, no
 * callback, re-sent like any other), and pending plus recent successful
 * CREATE/DELETE raise expectations for their owner_key unless seen() says
 * the effect is already in the cache (CREATE: resource/ns/name present;
 * DELETE: uid absent or terminating). A recent DELETE whose result carries
 * no object uid raises nothing (the object is already terminating or gone).
 * seen may be NULL (nothing seen yet). */
typedef bool (*actions_seen_fn)(const char *resource, const char *ns, const char *name,
                                const char *uid, int verb, void *ud);
void actions_on_report(actions_t *a, const Kubus__V1__InflightReport *rep, actions_seen_fn seen,
                       void *seen_ud);
/* Once the caches are complete: drops each DELETE expectation the report
 * raised whose effect seen() now finds (object gone or terminating). A
 * report read before the snapshot cannot tell "gone" from "not listed
 * yet", so it expects every delete; this settles them. */
void actions_recheck_recovered(actions_t *a, actions_seen_fn seen, void *seen_ud);

#endif
