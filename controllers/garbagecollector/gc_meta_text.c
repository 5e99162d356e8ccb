/* gc_meta_text.c - gc_meta_parse: the GC's metadata read straight from
 * JSON text with the scanner (jscan.h), no tree built. See gc_meta.h.
 *
 * Why: after a restart the GC reads every object of the shard's store (10,000
 * pods at the bench's scale) for their metadata alone; building a jansson
 * tree of each was two thirds of its time to ready (profiled). The rules are
 * gc_meta_from_json's, and a unit test holds both to the same results.
 *
 * Checked as jansson checks with JSON_REJECT_DUPLICATES, in the same pass
 * as the read: the values it skips are scanned with the duplicate check,
 * the objects it walks (the top level, metadata, each ownerReference) have
 * their keys compared as they go; one with more than KEYS_MAX keys sends the
 * whole text through the scanner's check afterwards.
 * Cost: one pass of the scanner over the text (two for such an object), no
 * allocation but the kept strings.
 */
#include "gc_meta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errfmt.h"
#include "jscan.h"

#define KEYS_MAX 48   /* a pod's metadata has about 15 */

typedef struct {
    jscan_t s;
    char *err;
    size_t errlen;
    bool recheck;   /* an object had more keys than KEYS_MAX: check it all after */
} reader_t;

/* The keys of one walked object so far, as written. */
typedef struct {
    jscan_str_t k[KEYS_MAX];
    size_t n;
} keys_t;

/* A scan error as the tree parser words a bad document. */
static int scan_failed(reader_t *r)
{
    return errfmt(r->err, r->errlen, "bad JSON: %s", r->s.error ? r->s.error : "truncated");
}

/* key, met in the object whose keys are ks: false when it came before
 * (a duplicate, refused as jansson would). */
static bool key_is_new(reader_t *r, keys_t *ks, const jscan_str_t *key)
{
    for (size_t i = 0; i < ks->n; i++)
        if (ks->k[i].len == key->len && memcmp(ks->k[i].raw, key->raw, key->len) == 0) {
            r->s.error = "duplicate key";
            return false;
        }
    if (ks->n < KEYS_MAX) ks->k[ks->n++] = *key;
    else r->recheck = true;
    return true;
}

/* The string value at the cursor into a new string (*out), as take_str in
 * gc_meta.c: absent or null -> "" unless required; present -> a string of
 * at most GC_MAX_STR bytes (no NUL: the scanner refuses \u0000), non-empty
 * when required. The value is consumed. */
static int read_str(reader_t *r, const char *key, bool required, char **out)
{
    if (*out) return errfmt(r->err, r->errlen, "%s given twice", key);   /* the check pass rules it out */
    char c = jscan_peek(&r->s);
    if (c == 'n') {
        if (!jscan_skip(&r->s, false)) return scan_failed(r);
        if (required) return errfmt(r->err, r->errlen, "%s missing", key);
        *out = strdup("");
        return *out ? 0 : errfmt(r->err, r->errlen, "out of memory");
    }
    if (c != '"') return errfmt(r->err, r->errlen, "%s is not a string", key);
    const char *start = r->s.p;
    if (!jscan_skip(&r->s, false)) return scan_failed(r);
    jscan_str_t str = { .raw = start + 1, .len = (size_t)(r->s.p - start) - 2 };
    str.escaped = memchr(str.raw, '\\', str.len) != NULL;
    char buf[GC_MAX_STR + 1];
    if (!jscan_str_decode(&str, buf, sizeof buf)) return errfmt(r->err, r->errlen, "%s too long or has NUL", key);
    if (required && !buf[0]) return errfmt(r->err, r->errlen, "%s is empty", key);
    *out = strdup(buf);
    return *out ? 0 : errfmt(r->err, r->errlen, "out of memory");
}

/* A required string never seen: "missing", as for a null. */
static int require(reader_t *r, const char *key, char **v)
{
    return *v ? 0 : errfmt(r->err, r->errlen, "%s missing", key);
}

static int optional_empty(reader_t *r, char **v)
{
    if (!*v) *v = strdup("");
    return *v ? 0 : errfmt(r->err, r->errlen, "out of memory");
}

/* A boolean member (absent or null: false). */
static int read_bool(reader_t *r, const char *key, bool *out)
{
    char c = jscan_peek(&r->s);
    *out = c == 't';
    if (c != 't' && c != 'f' && c != 'n') return errfmt(r->err, r->errlen, "%s is not a boolean", key);
    return jscan_skip(&r->s, false) ? 0 : scan_failed(r);
}

static int read_ref(reader_t *r, int index, gc_ref_t *ref)
{
    ref->index = index;
    if (!jscan_enter_object(&r->s)) return errfmt(r->err, r->errlen, "ownerReferences[%d] is not an object", index);
    char ctx[40], why[160] = "";
    snprintf(ctx, sizeof ctx, "ownerReferences[%d]", index);
    reader_t sub = { r->s, why, sizeof why, r->recheck };   /* its errors get the entry's prefix */
    keys_t ks = { .n = 0 };
    jscan_str_t key;
    int m, rc = 0;
    while (rc == 0 && (m = jscan_next_member(&sub.s, &key)) == 1) {
        if (!key_is_new(&sub, &ks, &key)) rc = scan_failed(&sub);
        else if (jscan_str_is(&key, "apiVersion")) rc = read_str(&sub, "apiVersion", true, &ref->api_version);
        else if (jscan_str_is(&key, "kind")) rc = read_str(&sub, "kind", true, &ref->kind);
        else if (jscan_str_is(&key, "name")) rc = read_str(&sub, "name", true, &ref->name);
        else if (jscan_str_is(&key, "uid")) rc = read_str(&sub, "uid", true, &ref->uid);
        else if (jscan_str_is(&key, "controller")) rc = read_bool(&sub, "controller", &ref->controller);
        else if (jscan_str_is(&key, "blockOwnerDeletion")) rc = read_bool(&sub, "blockOwnerDeletion", &ref->block_owner_deletion);
        else if (!jscan_skip(&sub.s, true)) rc = scan_failed(&sub);
    }
    r->s = sub.s;
    r->recheck = sub.recheck;
    if (rc == 0 && m < 0) return scan_failed(r);
    if (rc == 0)
        rc = require(&sub, "apiVersion", &ref->api_version) || require(&sub, "kind", &ref->kind) ||
             require(&sub, "name", &ref->name) || require(&sub, "uid", &ref->uid) ? -1 : 0;
    return rc ? errfmt(r->err, r->errlen, "%s: %s", ctx, why) : 0;
}

/* Grows a list to hold one more entry: 0, or -1 (out of memory). */
static int grow(void **items, size_t n, size_t *cap, size_t size)
{
    if (n < *cap) return 0;
    size_t ncap = *cap ? *cap * 2 : 4;
    void *p = realloc(*items, ncap * size);
    if (!p) return -1;
    memset((char *)p + *cap * size, 0, (ncap - *cap) * size);
    *items = p;
    *cap = ncap;
    return 0;
}

static int read_refs(reader_t *r, gc_meta_t *out)
{
    if (jscan_peek(&r->s) == 'n') return jscan_skip(&r->s, false) ? 0 : scan_failed(r);
    if (!jscan_enter_array(&r->s)) return errfmt(r->err, r->errlen, "ownerReferences is not an array");
    size_t cap = 0;
    int e;
    while ((e = jscan_next_element(&r->s)) == 1) {
        if (out->n_refs == GC_MAX_REFS)
            return errfmt(r->err, r->errlen, "more than %d ownerReferences", GC_MAX_REFS);
        if (grow((void **)&out->refs, out->n_refs, &cap, sizeof *out->refs))
            return errfmt(r->err, r->errlen, "out of memory");
        out->n_refs++;   /* so a partial entry is freed by gc_meta_clear */
        if (read_ref(r, (int)out->n_refs - 1, &out->refs[out->n_refs - 1])) return -1;
    }
    return e < 0 ? scan_failed(r) : 0;
}

static int read_finalizers(reader_t *r, gc_meta_t *out)
{
    if (jscan_peek(&r->s) == 'n') return jscan_skip(&r->s, false) ? 0 : scan_failed(r);
    if (!jscan_enter_array(&r->s)) return errfmt(r->err, r->errlen, "finalizers is not an array");
    size_t cap = 0;
    int e;
    while ((e = jscan_next_element(&r->s)) == 1) {
        size_t i = out->n_finalizers;
        if (i == GC_MAX_FINALIZERS) return errfmt(r->err, r->errlen, "more than %d finalizers", GC_MAX_FINALIZERS);
        if (grow((void **)&out->finalizers, i, &cap, sizeof *out->finalizers))
            return errfmt(r->err, r->errlen, "out of memory");
        char name[24];
        snprintf(name, sizeof name, "finalizers[%zu]", i);
        if (jscan_peek(&r->s) != '"') return errfmt(r->err, r->errlen, "%s is not a valid string", name);
        out->n_finalizers = i + 1;
        char why[160];
        reader_t sub = { r->s, why, sizeof why, r->recheck };
        int rc = read_str(&sub, name, false, &out->finalizers[i]);
        r->s = sub.s;
        if (rc) return errfmt(r->err, r->errlen, "%s is not a valid string", name);
    }
    return e < 0 ? scan_failed(r) : 0;
}

static int read_deletion(reader_t *r, gc_meta_t *out)
{
    char c = jscan_peek(&r->s);
    if (c != 'n' && c != '"') return errfmt(r->err, r->errlen, "deletionTimestamp is not a string");
    out->being_deleted = c == '"';
    return jscan_skip(&r->s, false) ? 0 : scan_failed(r);
}

static int read_metadata(reader_t *r, gc_meta_t *out)
{
    if (!jscan_enter_object(&r->s)) return errfmt(r->err, r->errlen, "metadata missing or not an object");
    keys_t ks = { .n = 0 };
    jscan_str_t key;
    int m, rc = 0;
    while (rc == 0 && (m = jscan_next_member(&r->s, &key)) == 1) {
        if (!key_is_new(r, &ks, &key)) rc = scan_failed(r);
        else if (jscan_str_is(&key, "uid")) rc = read_str(r, "uid", true, &out->uid);
        else if (jscan_str_is(&key, "name")) rc = read_str(r, "name", true, &out->name);
        else if (jscan_str_is(&key, "namespace")) rc = read_str(r, "namespace", false, &out->namespace_);
        else if (jscan_str_is(&key, "resourceVersion")) rc = read_str(r, "resourceVersion", false, &out->resource_version);
        else if (jscan_str_is(&key, "deletionTimestamp")) rc = read_deletion(r, out);
        else if (jscan_str_is(&key, "finalizers")) rc = read_finalizers(r, out);
        else if (jscan_str_is(&key, "ownerReferences")) rc = read_refs(r, out);
        else if (!jscan_skip(&r->s, true)) rc = scan_failed(r);
    }
    if (rc) return rc;
    if (m < 0) return scan_failed(r);
    if (require(r, "uid", &out->uid) || require(r, "name", &out->name)) return -1;
    return optional_empty(r, &out->namespace_) || optional_empty(r, &out->resource_version) ? -1 : 0;
}

/* The top level: metadata, and apiVersion/kind when the caller did not
 * name the type. */
static int read_object(reader_t *r, const char *api_version, const char *kind, gc_meta_t *out)
{
    if (!jscan_enter_object(&r->s)) {   /* as the tree reader: bad JSON first, then the wrong kind of value */
        if (!jscan_skip(&r->s, true) || !jscan_at_end(&r->s)) return scan_failed(r);
        return errfmt(r->err, r->errlen, "object is not a JSON object");
    }
    bool typed = api_version && kind, seen_md = false;
    keys_t ks = { .n = 0 };
    jscan_str_t key;
    int m, rc = 0;
    while (rc == 0 && (m = jscan_next_member(&r->s, &key)) == 1) {
        if (!key_is_new(r, &ks, &key)) {
            rc = scan_failed(r);
        } else if (jscan_str_is(&key, "metadata")) {
            seen_md = true;
            rc = read_metadata(r, out);
        } else if (!typed && jscan_str_is(&key, "apiVersion")) {
            rc = read_str(r, "apiVersion", true, &out->api_version);
        } else if (!typed && jscan_str_is(&key, "kind")) {
            rc = read_str(r, "kind", true, &out->kind);
        } else if (!jscan_skip(&r->s, true)) {
            rc = scan_failed(r);
        }
    }
    if (rc) return rc;
    if (m < 0) return scan_failed(r);
    if (!seen_md) return errfmt(r->err, r->errlen, "metadata missing or not an object");
    if (typed) {
        out->api_version = strdup(api_version);
        out->kind = strdup(kind);
        return out->api_version && out->kind ? 0 : errfmt(r->err, r->errlen, "out of memory");
    }
    return require(r, "apiVersion", &out->api_version) || require(r, "kind", &out->kind) ? -1 : 0;
}

int gc_meta_parse(const char *json, size_t len, const char *api_version, const char *kind,
                  gc_meta_t *out, char *err, size_t errlen)
{
    if (!out) return errfmt(err, errlen, "no output");
    memset(out, 0, sizeof *out);
    if (!json || len == 0) return errfmt(err, errlen, "empty object");
    reader_t r = { .err = err, .errlen = errlen };
    jscan_init(&r.s, json, len);
    int rc = read_object(&r, api_version, kind, out);
    if (rc == 0 && !jscan_at_end(&r.s)) {
        r.s.error = "text after the object";
        rc = scan_failed(&r);
    }
    if (rc == 0 && r.recheck) {   /* an object too wide for the keys kept: the scanner checks it all */
        jscan_init(&r.s, json, len);
        if (!jscan_skip(&r.s, true)) rc = scan_failed(&r);
    }
    if (rc == 0) rc = gc_meta_check_limits(out, err, errlen);
    if (rc) gc_meta_clear(out);
    return rc;
}
