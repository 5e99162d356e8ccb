/* gc_meta.c - parse and validate the metadata the GC works from. */
#include "gc_meta.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errfmt.h"
#include "turnarena.h"

/* A string member: required (non-empty) or optional (absent/null -> ""). */
static int take_str(json_t *obj, const char *key, bool required, char **out, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        if (required) return errfmt(err, errlen, "%s missing", key);
        *out = strdup("");
        return *out ? 0 : errfmt(err, errlen, "out of memory");
    }
    if (!json_is_string(v)) return errfmt(err, errlen, "%s is not a string", key);
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (required && n == 0) return errfmt(err, errlen, "%s is empty", key);
    if (n > GC_MAX_STR || strlen(s) != n) return errfmt(err, errlen, "%s too long or has NUL", key);
    *out = strdup(s);
    return *out ? 0 : errfmt(err, errlen, "out of memory");
}

static int take_bool(json_t *obj, const char *key, bool *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);
    *out = false;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_boolean(v)) return errfmt(err, errlen, "%s is not a boolean", key);
    *out = json_is_true(v);
    return 0;
}

static int parse_ref(json_t *r, int index, gc_ref_t *out, char *err, size_t errlen)
{
    out->index = index;
    if (!json_is_object(r)) return errfmt(err, errlen, "ownerReferences[%d] is not an object", index);
    char why[160] = "";
    if (take_str(r, "apiVersion", true, &out->api_version, why, sizeof why) ||
        take_str(r, "kind", true, &out->kind, why, sizeof why) ||
        take_str(r, "name", true, &out->name, why, sizeof why) ||
        take_str(r, "uid", true, &out->uid, why, sizeof why) ||
        take_bool(r, "controller", &out->controller, why, sizeof why) ||
        take_bool(r, "blockOwnerDeletion", &out->block_owner_deletion, why, sizeof why))
        return errfmt(err, errlen, "ownerReferences[%d]: %s", index, why);
    return 0;
}

static int parse_refs(json_t *md, gc_meta_t *out, char *err, size_t errlen)
{
    json_t *refs = json_object_get(md, "ownerReferences");
    if (!refs || json_is_null(refs)) return 0;
    if (!json_is_array(refs)) return errfmt(err, errlen, "ownerReferences is not an array");
    size_t n = json_array_size(refs);
    if (n > GC_MAX_REFS) return errfmt(err, errlen, "%zu ownerReferences (max %d)", n, GC_MAX_REFS);
    if (n == 0) return 0;
    out->refs = calloc(n, sizeof *out->refs);
    if (!out->refs) return errfmt(err, errlen, "out of memory");
    for (size_t i = 0; i < n; i++) {
        out->n_refs = i + 1;  /* so a partial list is freed by gc_meta_clear */
        if (parse_ref(json_array_get(refs, i), (int)i, &out->refs[i], err, errlen)) return -1;
    }
    return 0;
}

static int parse_finalizers(json_t *md, gc_meta_t *out, char *err, size_t errlen)
{
    json_t *fs = json_object_get(md, "finalizers");
    if (!fs || json_is_null(fs)) return 0;
    if (!json_is_array(fs)) return errfmt(err, errlen, "finalizers is not an array");
    size_t n = json_array_size(fs);
    if (n > GC_MAX_FINALIZERS) return errfmt(err, errlen, "%zu finalizers (max %d)", n, GC_MAX_FINALIZERS);
    if (n == 0) return 0;
    out->finalizers = calloc(n, sizeof *out->finalizers);
    if (!out->finalizers) return errfmt(err, errlen, "out of memory");
    for (size_t i = 0; i < n; i++) {
        json_t *f = json_array_get(fs, i);
        if (!json_is_string(f) || json_string_length(f) > GC_MAX_STR ||
            strlen(json_string_value(f)) != json_string_length(f))
            return errfmt(err, errlen, "finalizers[%zu] is not a valid string", i);
        out->finalizers[i] = strdup(json_string_value(f));
        if (!out->finalizers[i]) return errfmt(err, errlen, "out of memory");
        out->n_finalizers = i + 1;
    }
    return 0;
}

static int parse_type(const json_t *root, const char *api_version, const char *kind, gc_meta_t *out,
                      char *err, size_t errlen)
{
    if (api_version && kind) {
        out->api_version = strdup(api_version);
        out->kind = strdup(kind);
        return out->api_version && out->kind ? 0 : errfmt(err, errlen, "out of memory");
    }
    json_t *r = (json_t *)root;  /* jansson getters take non-const; nothing is changed */
    if (take_str(r, "apiVersion", true, &out->api_version, err, errlen)) return -1;
    return take_str(r, "kind", true, &out->kind, err, errlen);
}

static int parse_metadata(json_t *md, gc_meta_t *out, char *err, size_t errlen)
{
    if (!json_is_object(md)) return errfmt(err, errlen, "metadata missing or not an object");
    if (take_str(md, "uid", true, &out->uid, err, errlen) ||
        take_str(md, "name", true, &out->name, err, errlen) ||
        take_str(md, "namespace", false, &out->namespace_, err, errlen) ||
        take_str(md, "resourceVersion", false, &out->resource_version, err, errlen))
        return -1;
    json_t *dt = json_object_get(md, "deletionTimestamp");
    if (dt && !json_is_null(dt) && !json_is_string(dt))
        return errfmt(err, errlen, "deletionTimestamp is not a string");
    out->being_deleted = dt && json_is_string(dt);
    if (parse_finalizers(md, out, err, errlen)) return -1;
    return parse_refs(md, out, err, errlen);
}

int gc_meta_from_json(const json_t *obj, const char *api_version, const char *kind, gc_meta_t *out,
                      char *err, size_t errlen)
{
    if (!out) return errfmt(err, errlen, "no output");
    memset(out, 0, sizeof *out);
    if (!json_is_object(obj)) return errfmt(err, errlen, "object is not a JSON object");
    int rc = parse_type(obj, api_version, kind, out, err, errlen);
    if (rc == 0) rc = parse_metadata(json_object_get(obj, "metadata"), out, err, errlen);
    if (rc == 0 && strlen(out->uid) > GC_MAX_UID) rc = errfmt(err, errlen, "uid longer than %d", GC_MAX_UID);
    for (size_t i = 0; rc == 0 && i < out->n_refs; i++)
        if (strlen(out->refs[i].uid) > GC_MAX_UID)
            rc = errfmt(err, errlen, "ownerReferences[%zu]: uid longer than %d", i, GC_MAX_UID);
    if (rc) gc_meta_clear(out);
    return rc;
}

int gc_meta_parse(const char *json, size_t len, const char *api_version, const char *kind,
                  gc_meta_t *out, char *err, size_t errlen)
{
    if (!out) return errfmt(err, errlen, "no output");
    memset(out, 0, sizeof *out);
    if (!json || len == 0) return errfmt(err, errlen, "empty object");
    json_error_t jerr;
    turn_arena_open();   /* the tree dies below (turnarena.h) */
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    turn_arena_close();
    if (!root) return errfmt(err, errlen, "bad JSON at line %d: %s", jerr.line, jerr.text);
    int rc = gc_meta_from_json(root, api_version, kind, out, err, errlen);
    json_decref(root);
    return rc;
}

void gc_meta_clear(gc_meta_t *m)
{
    if (!m) return;
    free(m->api_version);
    free(m->kind);
    free(m->namespace_);
    free(m->name);
    free(m->uid);
    free(m->resource_version);
    for (size_t i = 0; i < m->n_finalizers; i++) free(m->finalizers[i]);
    free(m->finalizers);
    for (size_t i = 0; i < m->n_refs; i++) {
        free(m->refs[i].api_version);
        free(m->refs[i].kind);
        free(m->refs[i].name);
        free(m->refs[i].uid);
    }
    free(m->refs);
    memset(m, 0, sizeof *m);
}

static int dup_into(char **dst, const char *src)
{
    if (!src) {
        *dst = NULL;
        return 0;
    }
    *dst = strdup(src);
    return *dst ? 0 : -1;
}

static int copy_refs(gc_meta_t *dst, const gc_meta_t *src)
{
    if (src->n_refs == 0) return 0;
    dst->refs = calloc(src->n_refs, sizeof *dst->refs);
    if (!dst->refs) return -1;
    for (size_t i = 0; i < src->n_refs; i++) {
        const gc_ref_t *s = &src->refs[i];
        gc_ref_t *d = &dst->refs[i];
        dst->n_refs = i + 1;
        *d = *s;
        d->api_version = d->kind = d->name = d->uid = NULL;
        if (dup_into(&d->api_version, s->api_version) || dup_into(&d->kind, s->kind) ||
            dup_into(&d->name, s->name) || dup_into(&d->uid, s->uid))
            return -1;
    }
    return 0;
}

static int copy_finalizers(gc_meta_t *dst, const gc_meta_t *src)
{
    if (src->n_finalizers == 0) return 0;
    dst->finalizers = calloc(src->n_finalizers, sizeof *dst->finalizers);
    if (!dst->finalizers) return -1;
    for (size_t i = 0; i < src->n_finalizers; i++) {
        dst->n_finalizers = i + 1;
        if (dup_into(&dst->finalizers[i], src->finalizers[i])) return -1;
    }
    return 0;
}

int gc_meta_copy(gc_meta_t *dst, const gc_meta_t *src)
{
    memset(dst, 0, sizeof *dst);
    if (!src) return 0;
    dst->being_deleted = src->being_deleted;
    if (dup_into(&dst->api_version, src->api_version) || dup_into(&dst->kind, src->kind) ||
        dup_into(&dst->namespace_, src->namespace_) || dup_into(&dst->name, src->name) ||
        dup_into(&dst->uid, src->uid) || dup_into(&dst->resource_version, src->resource_version) ||
        copy_finalizers(dst, src) || copy_refs(dst, src)) {
        gc_meta_clear(dst);
        return -1;
    }
    return 0;
}

static gc_meta_t *heap_meta(const char *json, size_t len, const json_t *obj, const char *api_version,
                            const char *kind, char *err, size_t errlen)
{
    gc_meta_t *m = calloc(1, sizeof *m);
    if (!m) {
        errfmt(err, errlen, "out of memory");
        return NULL;
    }
    int rc = obj ? gc_meta_from_json(obj, api_version, kind, m, err, errlen)
                 : gc_meta_parse(json, len, api_version, kind, m, err, errlen);
    if (rc) {
        free(m);
        return NULL;
    }
    return m;
}

gc_meta_t *gc_meta_new_parsed(const char *json, size_t len, const char *api_version,
                              const char *kind, char *err, size_t errlen)
{
    return heap_meta(json, len, NULL, api_version, kind, err, errlen);
}

gc_meta_t *gc_meta_new_from_json(const json_t *obj, const char *api_version, const char *kind,
                                 char *err, size_t errlen)
{
    if (!obj) {
        errfmt(err, errlen, "no object");
        return NULL;
    }
    return heap_meta(NULL, 0, obj, api_version, kind, err, errlen);
}

void gc_meta_destroy(gc_meta_t **mp)
{
    if (!mp || !*mp) return;
    gc_meta_clear(*mp);
    free(*mp);
    *mp = NULL;
}

int gc_meta_finalizer_index(const gc_meta_t *m, const char *name)
{
    if (!m || !name) return -1;
    for (size_t i = 0; i < m->n_finalizers; i++)
        if (strcmp(m->finalizers[i], name) == 0) return (int)i;
    return -1;
}

bool gc_meta_has_finalizer(const gc_meta_t *m, const char *name)
{
    return gc_meta_finalizer_index(m, name) >= 0;
}

bool gc_meta_deleting_dependents(const gc_meta_t *m)
{
    return m && m->being_deleted && gc_meta_has_finalizer(m, GC_FINALIZER_FOREGROUND);
}

bool gc_meta_orphaning(const gc_meta_t *m)
{
    return m && m->being_deleted && gc_meta_has_finalizer(m, GC_FINALIZER_ORPHAN);
}

const gc_ref_t *gc_meta_ref_by_uid(const gc_meta_t *m, const char *uid)
{
    if (!m || !uid) return NULL;
    for (size_t i = 0; i < m->n_refs; i++)
        if (strcmp(m->refs[i].uid, uid) == 0) return &m->refs[i];
    return NULL;
}

bool gc_meta_same_refs(const gc_meta_t *a, const gc_meta_t *b)
{
    if (!a || !b || a->n_refs != b->n_refs) return false;
    for (size_t i = 0; i < a->n_refs; i++) {
        const gc_ref_t *x = &a->refs[i], *y = &b->refs[i];
        if (strcmp(x->uid, y->uid) || strcmp(x->name, y->name) || strcmp(x->kind, y->kind) ||
            strcmp(x->api_version, y->api_version) || x->controller != y->controller ||
            x->block_owner_deletion != y->block_owner_deletion)
            return false;
    }
    return true;
}

const char *gc_api_group(const char *api_version, char *out, size_t outlen)
{
    if (!out || outlen == 0) return "";
    out[0] = '\0';
    if (!api_version) return out;
    const char *slash = strchr(api_version, '/');
    if (!slash) return out;  /* "v1": the core group */
    size_t n = (size_t)(slash - api_version);
    if (n >= outlen) n = outlen - 1;
    memcpy(out, api_version, n);
    out[n] = '\0';
    return out;
}

bool gc_same_group_kind(const char *av1, const char *k1, const char *av2, const char *k2)
{
    if (!av1 || !k1 || !av2 || !k2 || strcmp(k1, k2) != 0) return false;
    char g1[256], g2[256];
    return strcmp(gc_api_group(av1, g1, sizeof g1), gc_api_group(av2, g2, sizeof g2)) == 0;
}
