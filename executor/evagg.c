/* evagg.c - Event aggregation: spec parsing, the keyed LRU, request bodies.
 * See evagg.h.
 *
 * Invariants: every entry is in the hash chain of its key and in the LRU
 * list (most recent first); `busy` entries are never evicted (the request in
 * flight refers to them by key), so the table may exceed capacity by at most
 * the number of requests in flight. */
#include "evagg.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hash.h"

#define MAX_FIELD 1024          /* names, kinds, reasons: far below this in practice */
#define MAX_MESSAGE (32 * 1024) /* the API server itself truncates long messages */
#define MAX_EVENT_NAME 253
#define NAME_SUFFIX_LEN 17      /* ".%016llx" */

struct evagg_spec {
    json_t *involved;  /* the validated involvedObject, string fields only */
    char *type, *reason, *message, *component, *host, *namespace_;
    char *key;         /* identical events: source, object, type, reason, message */
    char *similar_key; /* similar events: the same without the message */
    char *spam_key;    /* source and object only */
};

typedef struct ev_entry {
    char *key, *namespace_, *name;
    uint64_t count;          /* count of the Event as the server has it */
    uint64_t pending_count;  /* count the request in flight sets */
    bool pending_post, busy;
    uint64_t last_ms;        /* when the server last took a request for it */
    struct ev_entry *hnext, *prev, *next;
} ev_entry_t;

struct evagg {
    size_t capacity, size, nbuckets;
    uint64_t window_ms;
    ev_entry_t **buckets;
    ev_entry_t *head, *tail; /* LRU: head most recent */
};

/* ---- spec ---------------------------------------------------------------- */

static int fail(char *err, size_t errlen, const char *msg)
{
    if (err && errlen) snprintf(err, errlen, "event spec: %s", msg);
    return -1;
}

/* A string member: NULL when absent; *bad set when present but not a short string. */
static const char *str_member(json_t *obj, const char *name, size_t max, bool *bad)
{
    json_t *v = json_object_get(obj, name);
    if (!v || json_is_null(v)) return NULL;
    if (!json_is_string(v) || json_string_length(v) > max) { *bad = true; return NULL; }
    return json_string_value(v);
}

static const char *const involved_fields[] = { "kind", "namespace", "name", "uid", "apiVersion",
                                               "resourceVersion", "fieldPath", NULL };

static int parse_involved(json_t *root, evagg_spec_t *s, char *err, size_t errlen)
{
    json_t *io = json_object_get(root, "involvedObject");
    if (!json_is_object(io)) return fail(err, errlen, "involvedObject must be an object");
    s->involved = json_object();
    if (!s->involved) return fail(err, errlen, "out of memory");
    for (int i = 0; involved_fields[i]; i++) {
        bool bad = false;
        const char *v = str_member(io, involved_fields[i], MAX_FIELD, &bad);
        if (bad) return fail(err, errlen, "involvedObject fields must be short strings");
        if (v && *v && json_object_set_new(s->involved, involved_fields[i], json_string(v)) < 0)
            return fail(err, errlen, "out of memory");
    }
    if (!json_object_get(s->involved, "name") || !json_object_get(s->involved, "kind"))
        return fail(err, errlen, "involvedObject needs kind and name");
    return 0;
}

static int dup_field(char **dst, const char *v)
{
    *dst = strdup(v ? v : "");
    return *dst ? 0 : -1;
}

static const char *involved(const evagg_spec_t *s, const char *f)
{
    const char *v = json_string_value(json_object_get(s->involved, f));
    return v ? v : "";
}

/* Fields joined by \x1f, which cannot appear in a Kubernetes name, kind or uid. */
static char *join_fields(const char *const *parts, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) len += strlen(parts[i]) + 1;
    char *key = malloc(len ? len : 1), *p = key;
    if (!key) return NULL;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(parts[i]);
        memcpy(p, parts[i], l);
        p += l;
        *p++ = i + 1 < n ? '\x1f' : '\0';
    }
    return key;
}

/* The three keys share their leading fields: spam = source + object,
 * similar = spam + type + reason, identical = similar + message. */
static int build_keys(evagg_spec_t *s)
{
    const char *parts[] = { s->component, s->host, involved(s, "kind"), involved(s, "namespace"),
                            involved(s, "name"), involved(s, "uid"), involved(s, "apiVersion"),
                            involved(s, "fieldPath"), s->type, s->reason, s->message };
    size_t n = sizeof parts / sizeof parts[0];
    s->spam_key = join_fields(parts, 7);
    s->similar_key = join_fields(parts, n - 1);
    s->key = join_fields(parts, n);
    return s->spam_key && s->similar_key && s->key ? 0 : -1;
}

static int parse_fields(json_t *root, evagg_spec_t *s, const char *action_ns, char *err, size_t errlen)
{
    bool bad = false;
    const char *type = str_member(root, "type", MAX_FIELD, &bad);
    const char *reason = str_member(root, "reason", MAX_FIELD, &bad);
    const char *message = str_member(root, "message", MAX_MESSAGE, &bad);
    json_t *src = json_object_get(root, "source");
    const char *component = json_is_object(src) ? str_member(src, "component", MAX_FIELD, &bad) : NULL;
    const char *host = json_is_object(src) ? str_member(src, "host", MAX_FIELD, &bad) : NULL;
    if (bad) return fail(err, errlen, "type, reason, message and source fields must be strings");
    if (!type || (strcmp(type, "Normal") != 0 && strcmp(type, "Warning") != 0))
        return fail(err, errlen, "type must be Normal or Warning");
    if (!reason || !*reason) return fail(err, errlen, "reason is required");
    if (!component || !*component) return fail(err, errlen, "source.component is required");
    const char *ns = involved(s, "namespace");
    if (!*ns) ns = action_ns && *action_ns ? action_ns : "default";
    if (dup_field(&s->type, type) || dup_field(&s->reason, reason) || dup_field(&s->message, message) ||
        dup_field(&s->component, component) || dup_field(&s->host, host) || dup_field(&s->namespace_, ns) ||
        build_keys(s) < 0)
        return fail(err, errlen, "out of memory");
    return 0;
}

evagg_spec_t *evagg_spec_parse(const void *json, size_t len, const char *action_ns, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root || !json_is_object(root)) {
        fail(err, errlen, "not a JSON object");
        json_decref(root);
        return NULL;
    }
    evagg_spec_t *s = calloc(1, sizeof *s);
    if (!s) fail(err, errlen, "out of memory");
    if (s && (parse_involved(root, s, err, errlen) < 0 || parse_fields(root, s, action_ns, err, errlen) < 0))
        evagg_spec_free(&s);
    json_decref(root);
    return s;
}

void evagg_spec_free(evagg_spec_t **sp)
{
    if (!sp || !*sp) return;
    evagg_spec_t *s = *sp;
    json_decref(s->involved);
    free(s->type); free(s->reason); free(s->message);
    free(s->component); free(s->host); free(s->namespace_);
    free(s->key); free(s->similar_key); free(s->spam_key);
    free(s);
    *sp = NULL;
}

const char *evagg_spec_key(const evagg_spec_t *s) { return s->key; }
const char *evagg_spec_namespace(const evagg_spec_t *s) { return s->namespace_; }
const char *evagg_spec_similar_key(const evagg_spec_t *s) { return s->similar_key; }
const char *evagg_spec_spam_key(const evagg_spec_t *s) { return s->spam_key; }
const char *evagg_spec_message(const evagg_spec_t *s) { return s->message; }

int evagg_spec_combine(evagg_spec_t *s)
{
    static const char prefix[] = EVAGG_COMBINED_PREFIX;
    size_t ml = strnlen(s->message, MAX_MESSAGE);
    char *msg = malloc(sizeof prefix + ml), *key = strdup(s->similar_key);
    if (!msg || !key) { free(msg); free(key); return -1; }
    memcpy(msg, prefix, sizeof prefix - 1);
    memcpy(msg + sizeof prefix - 1, s->message, ml);
    msg[sizeof prefix - 1 + ml] = '\0';
    free(s->message);
    s->message = msg;
    free(s->key);
    s->key = key;   /* every combined event bumps the one aggregate Event */
    return 0;
}

/* ---- table ----------------------------------------------------------------- */

evagg_t *evagg_new(size_t capacity, uint64_t window_ms)
{
    evagg_t *ea = calloc(1, sizeof *ea);
    if (!ea) return NULL;
    ea->capacity = capacity ? capacity : 1;
    ea->window_ms = window_ms;
    ea->nbuckets = 2 * ea->capacity;
    ea->buckets = calloc(ea->nbuckets, sizeof *ea->buckets);
    if (!ea->buckets) { free(ea); return NULL; }
    return ea;
}

static void entry_free(ev_entry_t *e)
{
    free(e->key); free(e->namespace_); free(e->name);
    free(e);
}

void evagg_destroy(evagg_t **eap)
{
    if (!eap || !*eap) return;
    evagg_t *ea = *eap;
    for (ev_entry_t *e = ea->head, *next; e; e = next) {
        next = e->next;
        entry_free(e);
    }
    free(ea->buckets);
    free(ea);
    *eap = NULL;
}

size_t evagg_size(const evagg_t *ea) { return ea->size; }

static ev_entry_t **slot_of(evagg_t *ea, const char *key)
{
    ev_entry_t **p = &ea->buckets[fnv1a64_str(key) % ea->nbuckets];
    while (*p && strcmp((*p)->key, key) != 0) p = &(*p)->hnext;
    return p;
}

static void lru_unlink(evagg_t *ea, ev_entry_t *e)
{
    if (e->prev) e->prev->next = e->next; else ea->head = e->next;
    if (e->next) e->next->prev = e->prev; else ea->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_front(evagg_t *ea, ev_entry_t *e)
{
    e->next = ea->head;
    e->prev = NULL;
    if (ea->head) ea->head->prev = e; else ea->tail = e;
    ea->head = e;
}

static void remove_entry(evagg_t *ea, ev_entry_t *e)
{
    ev_entry_t **p = slot_of(ea, e->key);
    if (*p == e) *p = e->hnext;
    lru_unlink(ea, e);
    entry_free(e);
    ea->size--;
}

static void evict_one(evagg_t *ea)
{
    for (ev_entry_t *e = ea->tail; e; e = e->prev)
        if (!e->busy) { remove_entry(ea, e); return; }
}

static ev_entry_t *add_entry(evagg_t *ea, const evagg_spec_t *s)
{
    if (ea->size >= ea->capacity) evict_one(ea);
    ev_entry_t *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->key = strdup(s->key);
    e->namespace_ = strdup(s->namespace_);
    if (!e->key || !e->namespace_) { entry_free(e); return NULL; }
    ev_entry_t **slot = slot_of(ea, e->key);
    e->hnext = *slot;
    *slot = e;
    lru_front(ea, e);
    ea->size++;
    return e;
}

/* ---- requests ----------------------------------------------------------- */

static void rfc3339(uint64_t unix_ns, char out[32])
{
    time_t t = (time_t)(unix_ns / 1000000000ull);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, 32, "1970-01-01T00:00:00Z");
}

static char *new_event_name(const evagg_spec_t *s, uint64_t unix_ns)
{
    const char *obj = involved(s, "name");
    int keep = (int)strnlen(obj, MAX_EVENT_NAME - NAME_SUFFIX_LEN);
    char *name = malloc((size_t)keep + NAME_SUFFIX_LEN + 1);
    if (name) snprintf(name, (size_t)keep + NAME_SUFFIX_LEN + 1, "%.*s.%016llx", keep, obj,
                       (unsigned long long)unix_ns);
    return name;
}

static char *post_body(const evagg_spec_t *s, const char *name, uint64_t unix_ns)
{
    char ts[32];
    rfc3339(unix_ns, ts);
    json_t *src = json_pack("{s:s}", "component", s->component);
    if (src && *s->host) json_object_set_new(src, "host", json_string(s->host));
    json_t *ev = json_pack("{s:s, s:s, s:{s:s, s:s}, s:O, s:s, s:s, s:o, s:s, s:s, s:i, s:s, s:s}",
                           "apiVersion", "v1", "kind", "Event",
                           "metadata", "name", name, "namespace", s->namespace_,
                           "involvedObject", s->involved, "reason", s->reason, "message", s->message,
                           "source", src, "firstTimestamp", ts, "lastTimestamp", ts,
                           "count", (json_int_t)1, "type", s->type,
                           "reportingComponent", s->component);
    char *body = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
    json_decref(ev);
    return body;
}

static char *patch_body(const evagg_spec_t *s, uint64_t count, uint64_t unix_ns)
{
    char ts[32];
    rfc3339(unix_ns, ts);
    json_t *p = json_pack("{s:I, s:s, s:s}", "count", (json_int_t)count, "lastTimestamp", ts,
                          "message", s->message);
    char *body = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    return body;
}

static int fill_plan(evagg_plan_t *out, const ev_entry_t *e, bool patch, char *body)
{
    memset(out, 0, sizeof *out);
    out->patch = patch;
    out->count = e->pending_count;
    out->body = body;
    out->name = strdup(e->name);
    out->namespace_ = strdup(e->namespace_);
    if (!out->body || !out->name || !out->namespace_) { evagg_plan_clear(out); return -1; }
    return 0;
}

int evagg_plan(evagg_t *ea, const evagg_spec_t *s, uint64_t now_ms, uint64_t unix_ns, evagg_plan_t *out)
{
    ev_entry_t *e = *slot_of(ea, s->key);
    if (e && e->busy) return EVAGG_BUSY;
    bool patch = e && e->count > 0 && e->name && now_ms - e->last_ms <= ea->window_ms;
    if (!e && !(e = add_entry(ea, s))) return -1;
    lru_unlink(ea, e);
    lru_front(ea, e);
    if (!patch) {
        char *name = new_event_name(s, unix_ns);
        if (!name) return -1;
        free(e->name);
        e->name = name;
        e->count = 0;
    }
    e->pending_count = e->count + 1;
    e->pending_post = !patch;
    char *body = patch ? patch_body(s, e->pending_count, unix_ns) : post_body(s, e->name, unix_ns);
    if (fill_plan(out, e, patch, body) < 0) return -1;
    e->busy = true;
    return 0;
}

void evagg_plan_clear(evagg_plan_t *p)
{
    free(p->namespace_); free(p->name); free(p->body);
    memset(p, 0, sizeof *p);
}

void evagg_done(evagg_t *ea, const char *key, evagg_outcome_t outcome, uint64_t now_ms)
{
    ev_entry_t *e = *slot_of(ea, key);
    if (!e) return;
    e->busy = false;
    if (outcome == EVAGG_OK) {
        e->count = e->pending_count;
        e->last_ms = now_ms;
    } else if (outcome == EVAGG_GONE || e->pending_post || e->count == 0) {
        remove_entry(ea, e); /* no Event on the server to bump: start afresh */
    }
}
