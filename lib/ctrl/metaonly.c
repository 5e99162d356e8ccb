/* ctrl/metaonly.c - {apiVersion, kind, metadata} of an object, from its tree
 * or its text. See metaonly.h. */
#include "ctrl/metaonly.h"

#include <stdbool.h>
#include <string.h>

#include "errfmt.h"
#include "jscan.h"

#define TOP_KEYS_MAX 16   /* an API object has 4-6 top-level keys */

json_t *metaonly_from_tree(json_t *obj)
{
    json_t *md = json_object_get(obj, "metadata");
    if (!json_is_object(md)) return NULL;
    json_t *out = json_pack("{s:O}", "metadata", md);
    static const char *const type_meta[] = { "apiVersion", "kind" };
    for (size_t i = 0; out && i < 2; i++) {
        json_t *v = json_object_get(obj, type_meta[i]);
        if (v && json_object_set(out, type_meta[i], v) < 0) { json_decref(out); out = NULL; }
    }
    return out;
}

/* The slow path with the same verdicts: parse it all, then cut. */
static json_t *from_whole_text(const char *json, size_t len, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *obj = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(obj)) {
        json_decref(obj);
        errfmt(err, errlen, "not a JSON object: %s", obj ? "another type" : jerr.text);
        return NULL;
    }
    json_t *out = metaonly_from_tree(obj);
    json_decref(obj);
    if (!out) errfmt(err, errlen, "no metadata object");
    return out;
}

typedef struct {
    const char *start[3];   /* apiVersion, kind, metadata: their values' text */
    size_t len[3];
} wanted_t;

static const char *const wanted_keys[3] = { "apiVersion", "kind", "metadata" };

/* Walks the top level: 1 done (w filled, every value checked), 0 the slow
 * path is needed (unusual keys), -1 refused (err). */
static int walk_top(const char *json, size_t len, wanted_t *w, char *err, size_t errlen)
{
    jscan_t s;
    jscan_init(&s, json, len);
    if (!jscan_enter_object(&s)) return s.error ? errfmt(err, errlen, "%s", s.error)
                                                : errfmt(err, errlen, "not a JSON object");
    jscan_str_t keys[TOP_KEYS_MAX], key;
    size_t n = 0;
    int rc;
    while ((rc = jscan_next_member(&s, &key)) == 1) {
        if (key.escaped || n == TOP_KEYS_MAX) return 0;
        for (size_t i = 0; i < n; i++)
            if (keys[i].len == key.len && memcmp(keys[i].raw, key.raw, key.len) == 0)
                return errfmt(err, errlen, "duplicate key");
        keys[n++] = key;
        jscan_peek(&s);   /* the value starts after any white space */
        const char *v = s.p;
        if (!jscan_skip(&s, true)) return errfmt(err, errlen, "%s", s.error);
        for (int i = 0; i < 3; i++)
            if (jscan_str_is(&key, wanted_keys[i])) { w->start[i] = v; w->len[i] = (size_t)(s.p - v); }
    }
    if (rc < 0) return errfmt(err, errlen, "%s", s.error ? s.error : "bad object");
    if (!jscan_at_end(&s)) return errfmt(err, errlen, "text after the object");
    return 1;
}

json_t *metaonly_from_text(const char *json, size_t len, char *err, size_t errlen)
{
    wanted_t w = { { NULL, NULL, NULL }, { 0, 0, 0 } };
    int rc = walk_top(json, len, &w, err, errlen);
    if (rc < 0) return NULL;
    if (rc == 0) return from_whole_text(json, len, err, errlen);
    if (!w.start[2] || w.start[2][0] != '{') {
        errfmt(err, errlen, "no metadata object");
        return NULL;
    }
    json_t *out = json_object();
    for (int i = 0; out && i < 3; i++) {
        if (!w.start[i]) continue;
        json_error_t jerr;   /* checked by the scan: only OOM fails here */
        json_t *v = json_loadb(w.start[i], w.len[i], JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
        if (!v || json_object_set_new(out, wanted_keys[i], v) < 0) { json_decref(out); out = NULL; }
    }
    if (!out) errfmt(err, errlen, "out of memory");
    return out;
}
