/* ctrl/ownerstate.h - what a controller remembers about each of its
 * owners (ReplicaSets, Jobs, ...) between syncs.
 *
 * Owns: the map from an owner's key ("ns/name") to the controller's state
 * for it; the rule that a state belongs to one uid (an owner deleted and
 * made again under the same name starts from a fresh state, never from the
 * old one's plans and in-flight counts); and the rule that an invalid spec
 * is warned about once per generation, so an owner refused at every sync
 * logs (rate-limited by the caller) and records its Event once.
 *
 * A controller's state type starts with a ctrl_ostate_t:
 *     typedef struct { ctrl_ostate_t base; int creates_in_flight; } rs_state_t;
 * and a ctrl_ostate_type_t says its size and how to fill and free the rest.
 * Cost: O(1) average per lookup (a strmap).
 */
#ifndef KUBUS_CTRL_OWNERSTATE_H
#define KUBUS_CTRL_OWNERSTATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *uid;                   /* the owner this state is about */
    int64_t warned_generation;   /* the generation last warned about (-1: none) */
} ctrl_ostate_t;

typedef struct {
    size_t size;                 /* of the controller's state type, which starts with a ctrl_ostate_t */
    /* NULL, or fills the controller's fields of a new zeroed state: 0, or -1
     * when out of memory (fini then frees what it made). */
    int (*init)(void *state);
    /* NULL, or frees the controller's fields (the map frees the rest). */
    void (*fini)(void *state);
} ctrl_ostate_type_t;

typedef struct ctrl_ostates ctrl_ostates_t;

/* NULL on OOM or a size below sizeof(ctrl_ostate_t). The type is copied. */
ctrl_ostates_t *ctrl_ostates_new(const ctrl_ostate_type_t *type);
void ctrl_ostates_destroy(ctrl_ostates_t **m);

/* The state of owner under key: the one there when it is about owner's
 * uid, else a new one (replacing the old). NULL on OOM. */
void *ctrl_ostates_for(ctrl_ostates_t *m, const char *key, const json_t *owner);
/* The state under key whatever its uid, or NULL. */
void *ctrl_ostates_get(const ctrl_ostates_t *m, const char *key);
/* The owner is gone: its state goes too. */
void ctrl_ostates_forget(ctrl_ostates_t *m, const char *key);

/* obj when it is the owner state is about (same uid), else NULL: for a
 * result or a handler that must not act on a new owner of the same name. */
const json_t *ctrl_ostate_same(const void *state, const json_t *obj);
/* True the first time it is asked for the owner's current generation: warn
 * about an invalid spec then, and stay quiet until the owner is edited. */
bool ctrl_ostate_warn_once(void *state, const json_t *owner);

#endif
