/* evcorr.h - which Events are sent at all, and which are combined: the
 * correlation client-go's recorder does before it writes an Event.
 *
 * Owns: two bounded tables, both keyed by the Event's source (component,
 * host) and involvedObject:
 *   - similar events (+ type + reason): the distinct messages seen within
 *     EVCORR_SIMILAR_WINDOW_MS. From the EVCORR_SIMILAR_MAX-th distinct one
 *     on, an event is combined (evagg_spec_combine): one Event whose message
 *     says "(combined from similar events): ..." and whose count goes up,
 *     instead of one Event per pod a ReplicaSet creates;
 *   - spam: a token bucket per source + object, EVCORR_SPAM_BURST tokens,
 *     one more every EVCORR_SPAM_REFILL_MS. An event without a token is
 *     dropped. A 300-pod scale-up thus writes ~25 Events, as upstream's
 *     controllers do, and keeps the API budget for the pods.
 * Upstream keeps these per controller process; here the executor keeps them
 * for every controller (the source component is part of each key, so the
 * controllers do not share budgets). They are memory only: an executor
 * restart starts them afresh, like a kube-controller-manager restart.
 *
 * Cost: O(1) expected per event; a table that reaches its capacity is swept
 * (O(capacity)) of entries whose window has passed, then of arbitrary ones.
 */
#ifndef KUBUS_EXECUTOR_EVCORR_H
#define KUBUS_EXECUTOR_EVCORR_H

#include <stddef.h>
#include <stdint.h>

#include "evagg.h"

#define EVCORR_CAPACITY 4096
#define EVCORR_SIMILAR_MAX 10
#define EVCORR_SIMILAR_WINDOW_MS (600u * 1000u)
#define EVCORR_SPAM_BURST 25
#define EVCORR_SPAM_REFILL_MS (300u * 1000u)

typedef struct evcorr evcorr_t;

typedef enum {
    EVCORR_SEND = 0,     /* send as it is */
    EVCORR_COMBINED,     /* send: the spec now stands for its similar events */
    EVCORR_DROP,         /* over the object's budget: do not send */
} evcorr_verdict_t;

evcorr_t *evcorr_new(size_t capacity);
void evcorr_destroy(evcorr_t **c);

/* Decides for one event (now_ms: monotonic). May rewrite spec (COMBINED).
 * Out of memory never drops an event: it is sent as it is. */
evcorr_verdict_t evcorr_admit(evcorr_t *c, evagg_spec_t *spec, uint64_t now_ms);

#endif
