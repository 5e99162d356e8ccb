/* lease_core.h - leader election on a coordination.k8s.io/v1 Lease: the decisions.
 *
 * Owns: the client-go leaderelection algorithm, re-implemented for one
 * candidate (this supervisor), as pure logic over an injected API call and
 * injected clocks, so unit tests drive it with a fake clock and fake answers:
 *
 *  - try (acquire or renew): when we lead and the lease we last saw is still
 *    valid, PUT our renewal on the object we last saw (fast path). Otherwise
 *    (or when that fails) GET the Lease: 404 -> POST a new one naming us;
 *    held by someone else and not expired -> fail; expired, empty or ours ->
 *    PUT it naming us. Every PUT carries the resourceVersion we read, so of
 *    two candidates only one can win: a 409 Conflict means the other did.
 *  - expiry is judged by our own monotonic clock, never by the timestamps in
 *    the Lease (clock skew): a lease counts as valid until leaseDurationSeconds
 *    after the moment WE first saw its current record.
 *  - a candidate tries every retry period (jittered by up to 1.2x, like
 *    client-go's acquire loop); a leader renews every retry period and stops
 *    leading when no renewal succeeded for the renew deadline, or at once
 *    when it sees another holder in the Lease.
 *  - release (client-go ReleaseOnCancel): a leader writes an empty holder and
 *    leaseDurationSeconds=1, so a standby can take over at its next try.
 *  - acquireTime and leaseTransitions are kept on renewals; a change of
 *    holder increments leaseTransitions.
 *  - like client-go's Lease lock, "became leader" and "stopped leading" are
 *    recorded as Events on the Lease (sup_elector_record_event).
 *
 * Every API answer is validated (status code, JSON shape, field types and
 * sizes); a bad one fails the try with a reason and is counted, nothing else.
 */
#ifndef KUBUS_SUP_LEASE_CORE_H
#define KUBUS_SUP_LEASE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define SUP_LEASE_IDENTITY_MAX 256
#define SUP_LEASE_TIME_MAX 48
#define SUP_LEASE_NAME_MAX 254
#define SUP_LEASE_BODY_MAX (256 * 1024)
#define SUP_LEASE_JITTER 1.2

/* The election record kept in a Lease's spec. */
typedef struct {
    char holder[SUP_LEASE_IDENTITY_MAX];  /* "" = nobody */
    long long duration_s;                 /* leaseDurationSeconds */
    char acquire_time[SUP_LEASE_TIME_MAX];
    char renew_time[SUP_LEASE_TIME_MAX];
    long long transitions;                /* leaseTransitions */
} sup_lease_record_t;

/* GET/POST/PUT of the Lease; EVENT: POST of a core/v1 Event about it. */
typedef enum { SUP_LEASE_GET, SUP_LEASE_CREATE, SUP_LEASE_UPDATE, SUP_LEASE_EVENT } sup_lease_verb_t;

/* One answer: code 0 when no HTTP answer came (transport error, timeout);
 * body is malloc'd (may be NULL) and freed by the elector. */
typedef struct {
    long code;
    char *body;
    size_t len;
} sup_lease_resp_t;

typedef struct {
    /* GET, POST (create) or PUT (update) of our Lease; body is JSON for
     * CREATE/UPDATE, NULL for GET. The call must give up after timeout_ms.
     * Returns 0 when *out was filled (any code), -1 when nothing was sent. */
    int (*call)(void *ctx, sup_lease_verb_t verb, const char *body, uint64_t timeout_ms,
                sup_lease_resp_t *out);
    uint64_t (*mono_ms)(void *ctx);   /* monotonic clock */
    int64_t (*wall_us)(void *ctx);    /* wall clock, microseconds since the epoch */
    void *ctx;
} sup_lease_ops_t;

typedef struct {
    char ns[64];
    char name[SUP_LEASE_NAME_MAX];
    char identity[SUP_LEASE_IDENTITY_MAX];
    uint64_t lease_ms, renew_deadline_ms, retry_ms;
} sup_lease_config_t;

typedef enum {
    SUP_LEASE_NOCHANGE = 0,
    SUP_LEASE_STARTED,    /* we became the leader */
    SUP_LEASE_STOPPED,    /* we stopped leading */
} sup_lease_event_t;

typedef struct {
    sup_lease_config_t cfg;
    sup_lease_ops_t ops;
    bool leading;
    uint64_t renewed_ms;          /* start of the last successful acquire/renew */
    bool have_observed;
    sup_lease_record_t observed;  /* the record last seen (or written) */
    uint64_t observed_ms;         /* when it was first seen as it is */
    json_t *cached;               /* the Lease object last read or written */
    uint64_t next_try_ms;
    uint64_t rng;
    uint64_t bad_answers;         /* answers refused as malformed */
    uint64_t failed_tries;
    char last_error[256];
} sup_elector_t;

/* The upstream constraints: all durations > 0, lease >= 1 s, lease >
 * renew deadline > retry period * 1.2; namespace, name, identity non-empty
 * and of valid form. 0, or -1 with a message. */
int sup_lease_config_check(const sup_lease_config_t *c, char *err, size_t errlen);

/* seed: jitter randomness. The first try happens at the first step. */
void sup_elector_init(sup_elector_t *e, const sup_lease_config_t *c, const sup_lease_ops_t *ops,
                      uint64_t seed);
void sup_elector_free(sup_elector_t *e);

/* Does what is due now: a try when the next try time has come, and the
 * leader's deadline check. Reports a change of leadership. */
sup_lease_event_t sup_elector_step(sup_elector_t *e);
/* Monotonic time of the next thing step() has to do. */
uint64_t sup_elector_next_ms(const sup_elector_t *e);
/* Gives the lease up if the record we last saw names us: PUT an empty
 * holder with leaseDurationSeconds=1. Leadership ends either way.
 * 1: released; 0: nothing to release; -1: the PUT failed. */
int sup_elector_release(sup_elector_t *e);
/* Posts the Event client-go's Lease lock records ("<identity> became
 * leader", "<identity> stopped leading"; reason LeaderElection, Normal,
 * component kube-controller-manager). Best effort: 0 or -1. */
int sup_elector_record_event(sup_elector_t *e, const char *what);
/* The holder we last saw ("" if none or not known). */
const char *sup_elector_holder(const sup_elector_t *e);

/* Parses and checks a Lease object. *obj (may be NULL) gets the parsed
 * object (caller owns). 0, or -1 with the reason in err. */
int sup_lease_parse(const char *body, size_t len, const char *ns, const char *name, json_t **obj,
                    sup_lease_record_t *rec, char *err, size_t errlen);
/* MicroTime text "2006-01-02T15:04:05.000000Z" (UTC). 0 or -1. */
int sup_lease_format_time(int64_t wall_us, char *out, size_t len);
/* hostname + "_" + a random UUID, like kube-controller-manager. 0 or -1. */
int sup_lease_identity(char *out, size_t len);
/* A DNS-1123 label (namespace) / subdomain (object name). */
bool sup_lease_dns_label(const char *s);
bool sup_lease_dns_subdomain(const char *s);

#endif
