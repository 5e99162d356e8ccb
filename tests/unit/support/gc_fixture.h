/* gc_fixture.h - test fixtures for the garbage collector core (header-only,
 * used by tests/unit/test_gc_*.c only): a fake kind table, a recording sink,
 * and builders for object JSON with ownerReferences.
 */
#ifndef KUBUS_GC_FIXTURE_H
#define KUBUS_GC_FIXTURE_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gc_graph.h"
#include "gc_kinds.h"
#include "gc_meta.h"

static inline bool fx_lookup(void *arg, const char *av, const char *kind, gc_kind_t *out)
{
    (void)arg;
    static const struct {
        const char *group, *kind, *resource, *gv;
        bool namespaced, watched;
    } table[] = {
        {"", "Pod", "pods", "v1", true, true},
        {"apps", "ReplicaSet", "replicasets", "apps/v1", true, true},
        {"apps", "Deployment", "deployments", "apps/v1", true, true},
        {"apps", "ControllerRevision", "controllerrevisions", "apps/v1", true, true},
        {"", "Node", "nodes", "v1", false, false},
    };
    char g[64];
    gc_api_group(av, g, sizeof g);
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strcmp(table[i].group, g) || strcmp(table[i].kind, kind)) continue;
        out->resource = table[i].resource;
        out->group_version = table[i].gv;
        out->namespaced = table[i].namespaced;
        out->watched = table[i].watched;
        return true;
    }
    return false;
}

static const gc_kinds_t fx_kinds = {fx_lookup, NULL};

/* Records what the graph asked for, as "D:<uid>" / "O:<uid>" lines. */
typedef struct {
    char buf[8192];
} fx_sink_t;

static inline void fx_record(fx_sink_t *s, char tag, const char *uid)
{
    size_t n = strlen(s->buf);
    snprintf(s->buf + n, sizeof s->buf - n, "%c:%s\n", tag, uid);
}
static inline void fx_on_delete(void *ctx, const char *uid) { fx_record(ctx, 'D', uid); }
static inline void fx_on_orphan(void *ctx, const char *uid) { fx_record(ctx, 'O', uid); }
static inline gc_sink_t fx_sink(fx_sink_t *s)
{
    gc_sink_t k = {fx_on_delete, fx_on_orphan, s};
    return k;
}
/* True if "tag:uid" was recorded. */
static inline bool fx_has(const fx_sink_t *s, char tag, const char *uid)
{
    char line[256];
    snprintf(line, sizeof line, "%c:%s\n", tag, uid);
    const char *p = s->buf;
    size_t n = strlen(line);
    while ((p = strstr(p, line))) {
        if (p == s->buf || p[-1] == '\n') return true;
        p += n;
    }
    return false;
}
static inline void fx_clear(fx_sink_t *s) { s->buf[0] = '\0'; }

/* Builds ownerReference JSON: uid, kind, name, flags "c" controller, "b" block. */
static inline char *fx_ref(char *out, size_t len, const char *av, const char *kind, const char *name,
                           const char *uid, const char *flags)
{
    snprintf(out, len,
             "{\"apiVersion\":\"%s\",\"kind\":\"%s\",\"name\":\"%s\",\"uid\":\"%s\","
             "\"controller\":%s,\"blockOwnerDeletion\":%s}",
             av, kind, name, uid, strchr(flags, 'c') ? "true" : "false",
             strchr(flags, 'b') ? "true" : "false");
    return out;
}

/* Object JSON. refs: comma-separated ref JSON or ""; finalizers: JSON array
 * body like "\"orphan\"" or ""; deleting: sets deletionTimestamp. */
static inline char *fx_obj(const char *ns, const char *name, const char *uid, const char *rv,
                           bool deleting, const char *finalizers, const char *refs)
{
    size_t len = 1024 + strlen(refs) + strlen(finalizers);
    char *s = malloc(len);
    if (!s) return NULL;
    snprintf(s, len,
             "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\",\"uid\":\"%s\","
             "\"resourceVersion\":\"%s\"%s,\"finalizers\":[%s],\"ownerReferences\":[%s]},"
             "\"spec\":{}}",
             name, ns, uid, rv, deleting ? ",\"deletionTimestamp\":\"2024-01-01T00:00:00Z\"" : "",
             finalizers, refs);
    return s;
}

/* Parses into a heap gc_meta_t (NULL on failure). */
static inline gc_meta_t *fx_meta(const char *av, const char *kind, const char *json)
{
    char err[256];
    gc_meta_t *m = gc_meta_new_parsed(json, strlen(json), av, kind, err, sizeof err);
    if (!m) fprintf(stderr, "fx_meta: %s\n", err);
    return m;
}

/* Observes an object of av/kind into g; returns gc_graph_observe's result. */
static inline int fx_observe(gc_graph_t *g, const char *av, const char *kind, const char *ns,
                             const char *name, const char *uid, bool deleting,
                             const char *finalizers, const char *refs)
{
    char *json = fx_obj(ns, name, uid, "1", deleting, finalizers, refs);
    gc_meta_t *m = json ? fx_meta(av, kind, json) : NULL;
    free(json);
    if (!m) return -2;
    return gc_graph_observe(g, &m);
}

#endif
