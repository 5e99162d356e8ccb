/* turntrees.c - the parsed trees a cache handed out this turn. See turntrees.h. */
#include "ctrl/turntrees.h"

#include <stdlib.h>

bool turn_trees_keep(turn_trees_t *tt, json_t *t)
{
    if (!tt || !t) return false;
    if (tt->n == tt->cap) {
        size_t cap = tt->cap ? tt->cap * 2 : 64;
        json_t **p = realloc(tt->v, cap * sizeof *p);
        if (!p) return false;
        tt->v = p;
        tt->cap = cap;
    }
    tt->v[tt->n++] = t;
    return true;
}

void turn_trees_release(turn_trees_t *tt)
{
    if (!tt) return;
    for (size_t i = 0; i < tt->n; i++) json_decref(tt->v[i]);
    tt->n = 0;
}

void turn_trees_free(turn_trees_t *tt)
{
    if (!tt) return;
    turn_trees_release(tt);
    free(tt->v);
    tt->v = NULL;
    tt->cap = 0;
}
