/* watchparse.c - watch stream line splitting and event classification. See watchparse.h.
 *
 * Invariant: buf holds at most max_line bytes, always the start of the
 * current (unfinished) line; `skipping` is set while the rest of an over-long
 * line is being thrown away.
 */
#include "watchparse.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct watchparse {
    watchparse_cb cb;
    void *ctx;
    size_t max_line;
    char *buf;
    size_t len, cap;
    bool skipping;
};

watchparse_t *watchparse_new(size_t max_line, watchparse_cb cb, void *ctx)
{
    watchparse_t *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->cb = cb;
    p->ctx = ctx;
    p->max_line = max_line ? max_line : WATCHPARSE_MAX_LINE;
    return p;
}

void watchparse_destroy(watchparse_t **pp)
{
    if (!pp || !*pp) return;
    free((*pp)->buf);
    free(*pp);
    *pp = NULL;
}

void watchparse_reset(watchparse_t *p)
{
    p->len = 0;
    p->skipping = false;
}

size_t watchparse_pending(const watchparse_t *p) { return p->len; }

const char *watchparse_kind_name(watchparse_kind_t kind)
{
    switch (kind) {
    case WATCHPARSE_ADDED: return "ADDED";
    case WATCHPARSE_MODIFIED: return "MODIFIED";
    case WATCHPARSE_DELETED: return "DELETED";
    case WATCHPARSE_BOOKMARK: return "BOOKMARK";
    case WATCHPARSE_STATUS: return "STATUS";
    case WATCHPARSE_EXPIRED: return "EXPIRED";
    case WATCHPARSE_BAD_LINE: return "BAD_LINE";
    case WATCHPARSE_UNKNOWN_TYPE: return "UNKNOWN_TYPE";
    case WATCHPARSE_TOO_LONG: return "TOO_LONG";
    }
    return "?";
}

static int append(watchparse_t *p, const char *data, size_t n)
{
    if (p->len + n > p->cap) {
        size_t cap = p->cap ? p->cap : 16384;
        while (cap < p->len + n) cap *= 2;
        char *b = realloc(p->buf, cap);
        if (!b) return -1;
        p->buf = b;
        p->cap = cap;
    }
    memcpy(p->buf + p->len, data, n);
    p->len += n;
    return 0;
}

static int report_error(watchparse_t *p, watchparse_kind_t kind, const char *why, size_t line_len)
{
    watchparse_event_t ev = { .kind = kind, .error = why, .line_len = line_len };
    return p->cb(p->ctx, &ev);
}

/* A Status says the resourceVersion we asked from is gone: relist. */
static bool status_is_expired(const khttp_status_t *st)
{
    return st->code == 410 || strcmp(st->reason, "Expired") == 0 || strcmp(st->reason, "Gone") == 0;
}

static int report_status(watchparse_t *p, const json_t *obj, size_t line_len)
{
    watchparse_event_t ev = { .line_len = line_len };
    if (khttp_parse_status_json(obj, &ev.status) < 0)
        return report_error(p, WATCHPARSE_BAD_LINE, "ERROR event whose object is not a Status", line_len);
    ev.kind = status_is_expired(&ev.status) ? WATCHPARSE_EXPIRED : WATCHPARSE_STATUS;
    return p->cb(p->ctx, &ev);
}

static watchparse_kind_t type_kind(const char *type)
{
    if (strcmp(type, "ADDED") == 0) return WATCHPARSE_ADDED;
    if (strcmp(type, "MODIFIED") == 0) return WATCHPARSE_MODIFIED;
    if (strcmp(type, "DELETED") == 0) return WATCHPARSE_DELETED;
    if (strcmp(type, "BOOKMARK") == 0) return WATCHPARSE_BOOKMARK;
    if (strcmp(type, "ERROR") == 0) return WATCHPARSE_STATUS;
    return WATCHPARSE_UNKNOWN_TYPE;
}

static int classify(watchparse_t *p, json_t *root, size_t line_len)
{
    if (!json_is_object(root)) return report_error(p, WATCHPARSE_BAD_LINE, "line is not a JSON object", line_len);
    json_t *type = json_object_get(root, "type"), *obj = json_object_get(root, "object");
    if (!type) {
        /* A bare Status instead of an event: some failures answer that way. */
        const json_t *kind = json_object_get(root, "kind");
        if (json_is_string(kind) && strcmp(json_string_value(kind), "Status") == 0)
            return report_status(p, root, line_len);
        return report_error(p, WATCHPARSE_BAD_LINE, "event without \"type\"", line_len);
    }
    if (!json_is_string(type)) return report_error(p, WATCHPARSE_BAD_LINE, "\"type\" is not a string", line_len);
    if (!json_is_object(obj)) return report_error(p, WATCHPARSE_BAD_LINE, "event without an \"object\" object", line_len);
    watchparse_kind_t kind = type_kind(json_string_value(type));
    if (kind == WATCHPARSE_UNKNOWN_TYPE) return report_error(p, kind, "unknown event type", line_len);
    if (kind == WATCHPARSE_STATUS) return report_status(p, obj, line_len);
    watchparse_event_t ev = { .kind = kind, .object = obj, .line_len = line_len };
    return p->cb(p->ctx, &ev);
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return false;
    return true;
}

static int handle_line(watchparse_t *p, const char *line, size_t n)
{
    if (blank(line, n)) return 0;
    json_error_t jerr;
    json_t *root = json_loadb(line, n, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) return report_error(p, WATCHPARSE_BAD_LINE, "line is not JSON", n);
    int rc = classify(p, root, n);
    json_decref(root);
    return rc;
}

/* Consumes data up to and including the next newline while skipping an
 * over-long line. Returns bytes consumed. */
static size_t skip_to_newline(watchparse_t *p, const char *data, size_t len)
{
    const char *nl = memchr(data, '\n', len);
    if (!nl) return len;
    p->skipping = false;
    return (size_t)(nl - data) + 1;
}

int watchparse_feed(watchparse_t *p, const void *data_, size_t len)
{
    const char *data = data_;
    while (len > 0) {
        if (p->skipping) {
            size_t used = skip_to_newline(p, data, len);
            data += used;
            len -= used;
            continue;
        }
        const char *nl = memchr(data, '\n', len);
        size_t seg = nl ? (size_t)(nl - data) : len;
        size_t used = nl ? seg + 1 : seg;
        int rc = 0;
        if (p->len + seg > p->max_line) {
            size_t seen = p->len + seg;
            p->len = 0;
            p->skipping = nl == NULL;
            rc = report_error(p, WATCHPARSE_TOO_LONG, "line longer than the limit (dropped)", seen);
        } else if (!nl) {
            if (append(p, data, seg) < 0) {
                p->len = 0;
                p->skipping = true;
                rc = report_error(p, WATCHPARSE_TOO_LONG, "out of memory for line (dropped)", seg);
            }
        } else if (p->len == 0) {
            rc = handle_line(p, data, seg); /* whole line in this chunk: parse in place */
        } else if (append(p, data, seg) < 0) {
            p->len = 0;
            rc = report_error(p, WATCHPARSE_TOO_LONG, "out of memory for line (dropped)", seg);
        } else {
            size_t n = p->len;
            p->len = 0;
            rc = handle_line(p, p->buf, n);
        }
        if (rc != 0) {
            watchparse_reset(p);
            return rc;
        }
        data += used;
        len -= used;
    }
    return 0;
}
