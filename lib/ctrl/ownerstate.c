/* ownerstate.c - per-owner controller state keyed by name, reset by uid
 * (see ctrl/ownerstate.h). */
#include "ctrl/ownerstate.h"

#include <stdlib.h>
#include <string.h>

#include "ctrl/kobj.h"
#include "strmap.h"

struct ctrl_ostates {
    ctrl_ostate_type_t type;
    strmap_t *by_key;            /* key -> state (freed here: strmap_free_fn has no context) */
};

static void state_free(const ctrl_ostates_t *m, void *p)
{
    ctrl_ostate_t *s = p;
    if (!s) return;
    if (m->type.fini) m->type.fini(s);
    free(s->uid);
    free(s);
}

ctrl_ostates_t *ctrl_ostates_new(const ctrl_ostate_type_t *type)
{
    if (!type || type->size < sizeof(ctrl_ostate_t)) return NULL;
    ctrl_ostates_t *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->type = *type;
    m->by_key = strmap_new(NULL);
    if (!m->by_key) {
        free(m);
        return NULL;
    }
    return m;
}

void ctrl_ostates_destroy(ctrl_ostates_t **mp)
{
    if (!mp || !*mp) return;
    ctrl_ostates_t *m = *mp;
    strmap_iter_t it;
    const char *key;
    void *s;
    strmap_iter_init(&it, m->by_key);
    while (strmap_next(&it, &key, &s)) state_free(m, s);
    strmap_destroy(&m->by_key);
    free(m);
    *mp = NULL;
}

static ctrl_ostate_t *state_new(const ctrl_ostates_t *m, const char *uid)
{
    ctrl_ostate_t *s = calloc(1, m->type.size);
    if (!s) return NULL;
    s->warned_generation = -1;
    if (!(s->uid = strdup(uid)) || (m->type.init && m->type.init(s) < 0)) {
        state_free(m, s);
        return NULL;
    }
    return s;
}

void *ctrl_ostates_for(ctrl_ostates_t *m, const char *key, const json_t *owner)
{
    const char *uid = kobj_uid(owner);
    ctrl_ostate_t *s = strmap_get(m->by_key, key);
    if (s && strcmp(s->uid, uid) == 0) return s;
    ctrl_ostate_t *fresh = state_new(m, uid);
    if (!fresh) return NULL;
    /* the old state (another uid) goes only once its successor is in */
    if (strmap_put(m->by_key, key, fresh) < 0) {
        state_free(m, fresh);
        return NULL;
    }
    state_free(m, s);
    return fresh;
}

void *ctrl_ostates_get(const ctrl_ostates_t *m, const char *key)
{
    return m && key ? strmap_get(m->by_key, key) : NULL;
}

void ctrl_ostates_forget(ctrl_ostates_t *m, const char *key)
{
    if (m && key) state_free(m, strmap_take(m->by_key, key));
}

const json_t *ctrl_ostate_same(const void *state, const json_t *obj)
{
    const ctrl_ostate_t *s = state;
    return s && obj && strcmp(kobj_uid(obj), s->uid) == 0 ? obj : NULL;
}

bool ctrl_ostate_warn_once(void *state, const json_t *owner)
{
    ctrl_ostate_t *s = state;
    int64_t gen = kobj_generation(owner);
    if (s->warned_generation == gen) return false;
    s->warned_generation = gen;
    return true;
}
