/* evagg.h - Kubernetes Event aggregation, the way client-go's recorder does it.
 *
 * Owns: turning an EVENT action's small spec into the request to send, and
 * the LRU of recently recorded events. Key = source (component, host) +
 * involvedObject (kind, namespace, name, uid, apiVersion, fieldPath) + type +
 * reason + message. (Which events are sent at all, and which are combined
 * into one, is evcorr.h's business, decided before this.) The first occurrence of a key POSTs a new Event
 * named "<involvedObject.name>.<16 hex digits of unix nanoseconds>" with
 * count 1; a repeat within the window PATCHes that Event with count+1 and a
 * new lastTimestamp instead of creating another object.
 *
 * One request per key at a time: while a key's request is in flight
 * evagg_plan() answers EVAGG_BUSY, so two identical events sent back to back
 * become POST count=1 then PATCH count=2, never two Events.
 *
 * Cost: O(1) expected per plan/done (hash + LRU list); capacity entries.
 */
#ifndef KUBUS_EXECUTOR_EVAGG_H
#define KUBUS_EXECUTOR_EVAGG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVAGG_CAPACITY 4096
#define EVAGG_WINDOW_MS (10u * 60u * 1000u)

typedef struct evagg evagg_t;
typedef struct evagg_spec evagg_spec_t;

typedef struct {
    bool patch;        /* true: PATCH `name` (strategic merge); false: POST to the collection */
    char *namespace_;  /* the Event's namespace */
    char *name;        /* the Event's name */
    char *body;        /* JSON to send */
    uint64_t count;    /* the count this request sets */
} evagg_plan_t;

typedef enum { EVAGG_OK = 0, EVAGG_GONE, EVAGG_FAILED } evagg_outcome_t;
#define EVAGG_BUSY 1

/* Parses and validates an EVENT action body. The Event goes to
 * involvedObject.namespace, else action_ns, else "default". NULL with a
 * reason in err when the spec is malformed. */
evagg_spec_t *evagg_spec_parse(const void *json, size_t len, const char *action_ns, char *err, size_t errlen);
void evagg_spec_free(evagg_spec_t **spec);
/* The aggregation key and the Event's namespace (owned by the spec). */
const char *evagg_spec_key(const evagg_spec_t *spec);
const char *evagg_spec_namespace(const evagg_spec_t *spec);
/* The correlator's keys (evcorr.h): similar events share source,
 * involvedObject, type and reason; the spam key is source + involvedObject. */
const char *evagg_spec_similar_key(const evagg_spec_t *spec);
const char *evagg_spec_spam_key(const evagg_spec_t *spec);
const char *evagg_spec_message(const evagg_spec_t *spec);
/* Makes the spec the aggregate of its similar events: the message gets
 * EVAGG_COMBINED_PREFIX and the aggregation key becomes the similar key, so
 * every further similar event PATCHes one Event. 0, or -1 out of memory. */
#define EVAGG_COMBINED_PREFIX "(combined from similar events): "
int evagg_spec_combine(evagg_spec_t *spec);

evagg_t *evagg_new(size_t capacity, uint64_t window_ms);
void evagg_destroy(evagg_t **ea);
size_t evagg_size(const evagg_t *ea);

/* Plans the next request for spec. Returns 0 (out filled; free it with
 * evagg_plan_clear), EVAGG_BUSY (a request for this key is in flight: ask
 * again later), -1 (out of memory). now_ms is monotonic, unix_ns is the
 * wall clock the timestamps and the name are made of. */
int evagg_plan(evagg_t *ea, const evagg_spec_t *spec, uint64_t now_ms, uint64_t unix_ns, evagg_plan_t *out);
void evagg_plan_clear(evagg_plan_t *p);
/* Reports what became of the planned request for key: OK records the new
 * count, GONE (PATCH answered 404: the Event expired) forgets the key so the
 * next plan POSTs a new Event, FAILED keeps the last good state. */
void evagg_done(evagg_t *ea, const char *key, evagg_outcome_t outcome, uint64_t now_ms);

#endif
