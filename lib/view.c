/* view.c - projecting objects to their bus views. See view.h for the field
 * lists; the rule tables below are the only place they are written down,
 * and both walkers (over a jansson tree, over JSON text) read them. */
#include "view.h"

#include <stdbool.h>
#include <string.h>

typedef enum {
    VK_ANY,          /* kept as it is */
    VK_STR,          /* kept when a string, else dropped */
    VK_OBJ,          /* an object cut by sub (dropped when not an object) */
    VK_EACH,         /* an array whose object elements are cut by sub */
    VK_ANNOT,        /* annotations: the kept domains only (annotation_kept) */
    VK_PVC_VOLUMES,  /* volumes: {name, persistentVolumeClaim} of claim volumes only */
} vkind_t;

typedef struct vrule {
    const char *key;
    vkind_t kind;
    bool drop_empty;          /* VK_OBJ: dropped when nothing of it is kept */
    int capture;              /* a view_meta_t slot, or -1 */
    const struct vrule *sub;  /* VK_OBJ, VK_EACH */
} vrule_t;

#define ANY(k) { k, VK_ANY, false, -1, NULL }
#define CAP(k, slot) { k, VK_ANY, false, slot, NULL }
#define OBJ(k, s) { k, VK_OBJ, false, -1, s }
#define EACH(k, s) { k, VK_EACH, false, -1, s }
#define END { NULL, VK_ANY, false, -1, NULL }

/* ---- the pod's view (version 1) ---- */

static const vrule_t terminated_rules[] = { ANY("exitCode"), ANY("reason"), ANY("startedAt"), ANY("finishedAt"), END };
static const vrule_t running_rules[] = { ANY("startedAt"), END };
static const vrule_t waiting_rules[] = { ANY("reason"), END };
static const vrule_t state_rules[] = { OBJ("terminated", terminated_rules), OBJ("running", running_rules),
                                       OBJ("waiting", waiting_rules), END };
static const vrule_t cstatus_rules[] = { ANY("name"), ANY("ready"), ANY("started"), ANY("restartCount"),
                                         OBJ("state", state_rules), OBJ("lastState", state_rules), END };
static const vrule_t condition_rules[] = { ANY("type"), ANY("status"), ANY("lastTransitionTime"), ANY("reason"), END };
static const vrule_t status_rules[] = { ANY("phase"), ANY("reason"), ANY("startTime"),
                                        EACH("conditions", condition_rules),
                                        EACH("containerStatuses", cstatus_rules),
                                        EACH("initContainerStatuses", cstatus_rules), END };
static const vrule_t container_rules[] = { ANY("name"), END };
static const vrule_t init_container_rules[] = { ANY("name"), ANY("restartPolicy"), END };
static const vrule_t affinity_rules[] = { ANY("nodeAffinity"), END };
static const vrule_t spec_rules[] = { ANY("nodeName"), ANY("hostname"), ANY("subdomain"), ANY("restartPolicy"),
                                      { "affinity", VK_OBJ, true, -1, affinity_rules },
                                      { "volumes", VK_PVC_VOLUMES, false, -1, NULL },
                                      EACH("containers", container_rules),
                                      EACH("initContainers", init_container_rules), END };
static const vrule_t meta_rules[] = { CAP("name", VIEW_CAP_NAME), ANY("generateName"),
                                      CAP("namespace", VIEW_CAP_NAMESPACE), CAP("uid", VIEW_CAP_UID),
                                      CAP("resourceVersion", VIEW_CAP_RV), ANY("generation"),
                                      ANY("creationTimestamp"), ANY("deletionTimestamp"),
                                      ANY("deletionGracePeriodSeconds"), ANY("labels"),
                                      { "annotations", VK_ANNOT, false, -1, NULL },
                                      CAP("ownerReferences", VIEW_CAP_OWNERS), ANY("finalizers"), END };
static const vrule_t pod_rules[] = { { "apiVersion", VK_STR, false, -1, NULL }, { "kind", VK_STR, false, -1, NULL },
                                     OBJ("metadata", meta_rules), OBJ("spec", spec_rules),
                                     OBJ("status", status_rules), END };

/* Annotations the controllers may read: the kubernetes.io and k8s.io
 * domains (and their subdomains), never kubectl's copy of the whole
 * manifest. */
static bool annotation_kept(const char *key)
{
    if (strcmp(key, "kubectl.kubernetes.io/last-applied-configuration") == 0) return false;
    const char *slash = strchr(key, '/');
    if (!slash) return false;
    size_t n = (size_t)(slash - key);
    static const char *const domains[] = { "kubernetes.io", "k8s.io", NULL };
    for (const char *const *d = domains; *d; d++) {
        size_t dl = strlen(*d);
        if (n == dl && memcmp(key, *d, dl) == 0) return true;
        if (n > dl && key[n - dl - 1] == '.' && memcmp(key + n - dl, *d, dl) == 0) return true;
    }
    return false;
}

uint32_t view_version(const char *resource)
{
    return resource && strcmp(resource, "pods") == 0 ? VIEW_POD_VERSION : 0;
}

/* ==== the tree walker (watch events: the object is already a tree) ==== */

static void tree_cut(json_t *obj, const vrule_t *rules);

static const vrule_t *rule_for(const vrule_t *rules, const char *key, size_t len, int *index)
{
    for (int i = 0; rules[i].key; i++)
        if (strlen(rules[i].key) == len && memcmp(rules[i].key, key, len) == 0) {
            if (index) *index = i;
            return &rules[i];
        }
    return NULL;
}

static void tree_annotations(json_t *ann)
{
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(ann, tmp, k, v) {
        if (!annotation_kept(k)) json_object_del(ann, k);
    }
}

static json_t *tree_pvc_volumes(json_t *vols)
{
    json_t *kept = json_array();
    size_t i;
    json_t *v;
    if (!kept) return NULL;
    json_array_foreach(vols, i, v) {
        json_t *name = json_object_get(v, "name"), *pvc = json_object_get(v, "persistentVolumeClaim");
        if (!json_is_string(name) || !json_is_object(pvc)) continue;
        json_array_append_new(kept, json_pack("{s:O, s:O}", "name", name, "persistentVolumeClaim", pvc));
    }
    return kept;
}

/* Cuts the member k of obj by rule r. False when the member must go. */
static bool tree_member(json_t *obj, const char *k, json_t *v, const vrule_t *r)
{
    size_t i;
    json_t *el;
    switch (r->kind) {
    case VK_ANY: return true;
    case VK_STR: return json_is_string(v);
    case VK_OBJ:
        if (!json_is_object(v)) return false;
        tree_cut(v, r->sub);
        return !(r->drop_empty && json_object_size(v) == 0);
    case VK_EACH:
        if (!json_is_array(v)) return false;
        json_array_foreach(v, i, el) if (json_is_object(el)) tree_cut(el, r->sub);
        return true;
    case VK_ANNOT:
        if (!json_is_object(v)) return false;
        tree_annotations(v);
        return json_object_size(v) > 0;
    case VK_PVC_VOLUMES: {
        json_t *kept = json_is_array(v) ? tree_pvc_volumes(v) : NULL;
        if (!kept || json_array_size(kept) == 0) { json_decref(kept); return false; }
        json_object_set_new(obj, k, kept);
        return true;
    }
    }
    return false;
}

static void tree_cut(json_t *obj, const vrule_t *rules)
{
    const char *k;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(obj, tmp, k, v) {
        const vrule_t *r = rule_for(rules, k, strlen(k), NULL);
        if (!r || !tree_member(obj, k, v, r)) json_object_del(obj, k);
    }
}

uint32_t view_project(const char *resource, json_t *obj)
{
    uint32_t v = view_version(resource);
    if (v == VIEW_POD_VERSION && json_is_object(obj)) tree_cut(obj, pod_rules);
    return json_is_object(obj) ? v : 0;
}

/* ==== the text walker (list pages: no tree is built) ==== */

typedef struct {
    jscan_t *s;
    sbuf_t *out;
    view_meta_t *meta;
} walk_t;

static void put_lit(sbuf_t *b, const char *s) { sbuf_put(b, s, strlen(s)); }

/* Writes `,"key":` (the comma unless first) as the key was written. */
static void put_key(walk_t *w, const jscan_str_t *key, size_t *count)
{
    if ((*count)++) put_lit(w->out, ",");
    put_lit(w->out, "\"");
    sbuf_put(w->out, key->raw, key->len);
    put_lit(w->out, "\":");
}

/* Copies the value at the cursor as it is written (checked, duplicates
 * refused). */
static bool copy_value(walk_t *w, view_span_t *span)
{
    jscan_peek(w->s);
    const char *start = w->s->p;
    if (!jscan_skip(w->s, true)) return false;
    sbuf_put(w->out, start, (size_t)(w->s->p - start));
    if (span) *span = (view_span_t){ start, (size_t)(w->s->p - start) };
    return true;
}

static bool text_cut(walk_t *w, const vrule_t *rules, size_t *kept, uint32_t *written_rules);

static bool text_annotations(walk_t *w, size_t *kept)
{
    if (!jscan_enter_object(w->s)) return jscan_skip(w->s, false);   /* not an object: dropped */
    size_t mark = w->out->len, count = 0;
    put_lit(w->out, "{");
    jscan_str_t key;
    int r;
    char name[512];
    while ((r = jscan_next_member(w->s, &key)) == 1) {
        bool keep = jscan_str_decode(&key, name, sizeof name) && annotation_kept(name);
        if (!keep) {
            if (!jscan_skip(w->s, false)) return false;
            continue;
        }
        put_key(w, &key, &count);
        if (!copy_value(w, NULL)) return false;
    }
    if (r < 0) return false;
    put_lit(w->out, "}");
    if (count == 0) sbuf_truncate(w->out, mark);
    *kept = count;
    return true;
}

/* One volume: written as {name, persistentVolumeClaim} when it has both. */
static bool text_volume(walk_t *w, size_t *count)
{
    if (!jscan_enter_object(w->s)) return jscan_skip(w->s, false);
    view_span_t name = { 0 }, pvc = { 0 };
    jscan_str_t key;
    int r;
    while ((r = jscan_next_member(w->s, &key)) == 1) {
        view_span_t *slot = jscan_str_is(&key, "name") ? &name : jscan_str_is(&key, "persistentVolumeClaim") ? &pvc : NULL;
        if (slot && slot->p) return w->s->error = "duplicate object key", false;
        char c = jscan_peek(w->s);
        const char *start = w->s->p;
        if (!jscan_skip(w->s, slot != NULL)) return false;
        if (slot) *slot = (view_span_t){ start, (size_t)(w->s->p - start) };
        if (slot == &name && c != '"') name = (view_span_t){ start, 0 };   /* seen, not a string */
        if (slot == &pvc && c != '{') pvc = (view_span_t){ start, 0 };
    }
    if (r < 0) return false;
    if (!name.len || !pvc.len) return true;
    if ((*count)++) put_lit(w->out, ",");
    put_lit(w->out, "{\"name\":");
    sbuf_put(w->out, name.p, name.len);
    put_lit(w->out, ",\"persistentVolumeClaim\":");
    sbuf_put(w->out, pvc.p, pvc.len);
    put_lit(w->out, "}");
    return true;
}

static bool text_pvc_volumes(walk_t *w, size_t *kept)
{
    if (!jscan_enter_array(w->s)) return jscan_skip(w->s, false);
    size_t mark = w->out->len, count = 0;
    put_lit(w->out, "[");
    int r;
    while ((r = jscan_next_element(w->s)) == 1)
        if (!text_volume(w, &count)) return false;
    if (r < 0) return false;
    put_lit(w->out, "]");
    if (count == 0) sbuf_truncate(w->out, mark);
    *kept = count;
    return true;
}

static bool text_each(walk_t *w, const vrule_t *sub)
{
    if (!jscan_enter_array(w->s)) return false;
    put_lit(w->out, "[");
    size_t n = 0, ignored;
    int r;
    while ((r = jscan_next_element(w->s)) == 1) {
        if (n++) put_lit(w->out, ",");
        bool ok = jscan_peek(w->s) == '{' ? text_cut(w, sub, &ignored, NULL) : copy_value(w, NULL);
        if (!ok) return false;
    }
    if (r < 0) return false;
    put_lit(w->out, "]");
    return true;
}

/* The member at the cursor, by its rule: written after `"key":` or, when
 * it must go, skipped and the key taken back. *written: it stayed. */
static bool text_member(walk_t *w, const jscan_str_t *key, const vrule_t *r, size_t *count, bool *written)
{
    size_t mark = w->out->len, before = *count, inner = 1;
    char c = jscan_peek(w->s);
    bool typed = r->kind == VK_ANY || (r->kind == VK_STR && c == '"') || ((r->kind == VK_OBJ || r->kind == VK_ANNOT) && c == '{') ||
                 ((r->kind == VK_EACH || r->kind == VK_PVC_VOLUMES) && c == '[');
    *written = false;
    if (!typed) return jscan_skip(w->s, false);
    put_key(w, key, count);
    bool ok;
    switch (r->kind) {
    case VK_OBJ:
        ok = text_cut(w, r->sub, &inner, NULL);
        if (!r->drop_empty) inner = 1;
        break;
    case VK_EACH: ok = text_each(w, r->sub); break;
    case VK_ANNOT: ok = text_annotations(w, &inner); break;
    case VK_PVC_VOLUMES: ok = text_pvc_volumes(w, &inner); break;
    default: ok = copy_value(w, r->capture >= 0 && w->meta ? &w->meta->cap[r->capture] : NULL); break;
    }
    if (ok && inner == 0) {   /* nothing left of it: no empty member */
        sbuf_truncate(w->out, mark);
        *count = before;
    }
    *written = ok && inner > 0;
    return ok;
}

/* The object at the cursor, cut by rules. *kept: members written;
 * written_rules (optional): bit i set when rules[i]'s member was written. */
static bool text_cut(walk_t *w, const vrule_t *rules, size_t *kept, uint32_t *written_rules)
{
    if (!jscan_enter_object(w->s)) return false;
    put_lit(w->out, "{");
    uint32_t seen = 0, written = 0;
    size_t count = 0;
    jscan_str_t key;
    int r;
    while ((r = jscan_next_member(w->s, &key)) == 1) {
        int i = -1;
        const vrule_t *rule = key.escaped ? NULL : rule_for(rules, key.raw, key.len, &i);
        if (!rule) {
            if (!jscan_skip(w->s, false)) return false;
            continue;
        }
        if (seen & (1u << i)) return w->s->error = "duplicate object key", false;
        seen |= 1u << i;
        bool stayed;
        if (!text_member(w, &key, rule, &count, &stayed)) return false;
        if (stayed) written |= 1u << i;
    }
    if (r < 0) return false;
    put_lit(w->out, "}");
    *kept = count;
    if (written_rules) *written_rules = written;
    return true;
}

/* Appends `"key":"value"` to the object just written, before its closing
 * brace. value is a JSON-safe literal (kapi's tables). */
static void append_member(sbuf_t *out, const char *key, const char *value, size_t *count)
{
    sbuf_truncate(out, out->len - 1);
    if ((*count)++) put_lit(out, ",");
    put_lit(out, "\"");
    put_lit(out, key);
    put_lit(out, "\":\"");
    put_lit(out, value);
    put_lit(out, "\"}");
}

const char *view_span_string(const view_span_t *span, char *out, size_t cap)
{
    if (!span->p || span->len < 2 || span->p[0] != '"' || span->p[span->len - 1] != '"') return NULL;
    jscan_str_t str = { .raw = span->p + 1, .len = span->len - 2 };
    str.escaped = memchr(str.raw, '\\', str.len) != NULL;
    return jscan_str_decode(&str, out, cap) ? out : NULL;
}

/* Indexes into pod_rules, for the type meta list items come without. */
#define POD_RULE_API_VERSION 0
#define POD_RULE_KIND 1

int view_project_text(const char *resource, jscan_t *s, const char *kind, const char *api_version, sbuf_t *out,
                      view_meta_t *meta, const char **why)
{
    memset(meta, 0, sizeof *meta);
    *why = NULL;
    if (view_version(resource) != VIEW_POD_VERSION) {
        *why = "resource has no view";
        return jscan_skip(s, false) ? 0 : -1;
    }
    if (jscan_peek(s) != '{') {
        *why = "object is not a JSON object";
        return jscan_skip(s, false) ? 0 : -1;
    }
    walk_t w = { .s = s, .out = out, .meta = meta };
    size_t count = 0;
    uint32_t written = 0;
    if (!text_cut(&w, pod_rules, &count, &written)) return -1;
    /* as the tree path does: kind first, then apiVersion, at the end */
    if (!(written & (1u << POD_RULE_KIND)) && kind) append_member(out, "kind", kind, &count);
    if (!(written & (1u << POD_RULE_API_VERSION)) && api_version) append_member(out, "apiVersion", api_version, &count);
    if (out->failed) {
        *why = "out of memory";
        return 0;
    }
    return 1;
}
