/* healthz.c - apiserver-style health responses. See healthz.h. */
#include "healthz.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"

void sup_checks_add(sup_checks_t *l, const char *name, bool ok, const char *reason_fmt, ...)
{
    if (l->n == SUP_CHECKS_MAX) return;
    sup_check_t *c = &l->c[l->n++];
    snprintf(c->name, sizeof c->name, "%s", name);
    c->ok = ok;
    va_list ap;
    va_start(ap, reason_fmt);
    vsnprintf(c->reason, sizeof c->reason, reason_fmt, ap);
    va_end(ap);
}

const sup_check_t *sup_checks_find(const sup_checks_t *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->c[i].name, name) == 0) return &l->c[i];
    return NULL;
}

static bool excluded(const sup_healthz_query_t *q, const char *name)
{
    for (size_t i = 0; i < q->nexclude; i++)
        if (strcmp(q->exclude[i], name) == 0) return true;
    return false;
}

/* Go's %q for a name from the query string: quotes, backslash escapes,
 * \xNN for other bytes outside printable ASCII. */
static void go_quote(sbuf_t *b, const char *s)
{
    sbuf_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') sbuf_printf(b, "\\%c", *p);
        else if (*p == '\n') sbuf_put(b, "\\n", 2);
        else if (*p == '\t') sbuf_put(b, "\\t", 2);
        else if (*p == '\r') sbuf_put(b, "\\r", 2);
        else if (*p < 0x20 || *p >= 0x7f) sbuf_printf(b, "\\x%02x", *p);
        else sbuf_put(b, (const char *)p, 1);
    }
    sbuf_put(b, "\"", 1);
}

static int by_string(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Upstream's warning for excluded names no check has: sorted, once each. */
static void warn_unknown_excludes(sbuf_t *b, const sup_checks_t *l, const sup_healthz_query_t *q)
{
    const char *unknown[SUP_HEALTHZ_EXCLUDE_MAX];
    size_t n = 0;
    for (size_t i = 0; i < q->nexclude; i++)
        if (!sup_checks_find(l, q->exclude[i])) unknown[n++] = q->exclude[i];
    if (n == 0) return;
    qsort(unknown, n, sizeof unknown[0], by_string);
    sbuf_printf(b, "warn: some health checks cannot be excluded: no matches for ");
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(unknown[i], unknown[i - 1]) == 0) continue;
        if (i > 0) sbuf_put(b, ",", 1);
        go_quote(b, unknown[i]);
    }
    sbuf_put(b, "\n", 1);
}

sup_healthz_reply_t sup_healthz_root(const sup_checks_t *l, const char *endpoint,
                                     const sup_healthz_query_t *q)
{
    sbuf_t lines = { 0 };
    bool failed = false;
    for (size_t i = 0; i < l->n; i++) {
        const sup_check_t *c = &l->c[i];
        if (excluded(q, c->name)) {
            sbuf_printf(&lines, "[+]%s excluded: ok\n", c->name);
        } else if (c->ok) {
            sbuf_printf(&lines, "[+]%s ok\n", c->name);
        } else {
            sbuf_printf(&lines, "[-]%s failed: reason withheld\n", c->name);
            failed = true;
        }
    }
    warn_unknown_excludes(&lines, l, q);
    sup_healthz_reply_t r = { failed ? 500 : 200, NULL };
    if (failed) {
        /* http.Error: the text and a newline. */
        sbuf_printf(&lines, "%s check failed\n", endpoint);
    } else if (!q->verbose) {
        free(sbuf_take(&lines));
        sbuf_printf(&lines, "ok");
    } else {
        sbuf_printf(&lines, "%s check passed\n", endpoint);
    }
    r.body = sbuf_take(&lines);
    return r;
}

sup_healthz_reply_t sup_healthz_one(const sup_checks_t *l, const char *name)
{
    const sup_check_t *c = sup_checks_find(l, name);
    sbuf_t b = { 0 };
    sup_healthz_reply_t r = { 200, NULL };
    if (!c) {
        r.status = 404;
        sbuf_printf(&b, "404 page not found\n");
    } else if (!c->ok) {
        r.status = 500;
        sbuf_printf(&b, "internal server error: %s\n", c->reason);
    } else {
        sbuf_printf(&b, "ok");
    }
    r.body = sbuf_take(&b);
    return r;
}
