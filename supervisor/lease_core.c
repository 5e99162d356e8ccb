/* lease_core.c - the leader election decisions on a Lease. See lease_core.h. */
#include "lease_core.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "errfmt.h"
#include "worker.h"

/* ---- names and checks ---- */

bool sup_lease_dns_label(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0 && i < n - 1);
        if (!ok) return false;
    }
    return true;
}

bool sup_lease_dns_subdomain(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253) return false;
    char buf[SUP_LEASE_NAME_MAX];
    snprintf(buf, sizeof buf, "%s", s);
    char *save = NULL;
    size_t parts = 0;
    if (s[0] == '.' || s[n - 1] == '.' || strstr(s, "..")) return false;
    for (char *p = strtok_r(buf, ".", &save); p; p = strtok_r(NULL, ".", &save), parts++)
        if (!sup_lease_dns_label(p)) return false;
    return parts > 0;
}

int sup_lease_config_check(const sup_lease_config_t *c, char *err, size_t errlen)
{
    if (c->lease_ms < 1000)
        return errfmt(err, errlen, "--leader-elect-lease-duration: must be at least 1s");
    if (c->renew_deadline_ms == 0 || c->retry_ms == 0)
        return errfmt(err, errlen, "--leader-elect-renew-deadline and --leader-elect-retry-period "
                      "must be greater than zero");
    if (c->lease_ms <= c->renew_deadline_ms)
        return errfmt(err, errlen, "--leader-elect-lease-duration (%llums) must be greater than "
                      "--leader-elect-renew-deadline (%llums)", (unsigned long long)c->lease_ms,
                      (unsigned long long)c->renew_deadline_ms);
    if ((double)c->renew_deadline_ms <= SUP_LEASE_JITTER * (double)c->retry_ms)
        return errfmt(err, errlen, "--leader-elect-renew-deadline (%llums) must be greater than "
                      "--leader-elect-retry-period (%llums) * %.1f",
                      (unsigned long long)c->renew_deadline_ms, (unsigned long long)c->retry_ms,
                      SUP_LEASE_JITTER);
    if (!sup_lease_dns_label(c->ns))
        return errfmt(err, errlen, "--leader-elect-resource-namespace=%s: not a valid namespace name",
                      c->ns);
    if (!sup_lease_dns_subdomain(c->name))
        return errfmt(err, errlen, "--leader-elect-resource-name=%s: not a valid object name",
                      c->name);
    if (!c->identity[0]) return errfmt(err, errlen, "leader election identity is empty");
    return 0;
}

/* ---- time and identity ---- */

int sup_lease_format_time(int64_t wall_us, char *out, size_t len)
{
    if (wall_us < 0) return -1;
    time_t secs = (time_t)(wall_us / 1000000);
    struct tm tm;
    if (!gmtime_r(&secs, &tm)) return -1;
    int n = snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(wall_us % 1000000));
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

int sup_lease_identity(char *out, size_t len)
{
    char host[128];
    if (gethostname(host, sizeof host) < 0) return -1;
    host[sizeof host - 1] = '\0';
    uint8_t r[16];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) return -1;
    r[6] = (uint8_t)((r[6] & 0x0f) | 0x40); /* version 4 */
    r[8] = (uint8_t)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    int n = snprintf(out, len,
                     "%s_%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", host,
                     r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
                     r[13], r[14], r[15]);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* ---- parsing a Lease ---- */

static int copy_opt_string(const json_t *spec, const char *key, char *out, size_t outlen, char *err,
                           size_t errlen)
{
    const json_t *v = json_object_get(spec, key);
    out[0] = '\0';
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v)) return errfmt(err, errlen, "spec.%s is not a string", key);
    if (json_string_length(v) >= outlen) return errfmt(err, errlen, "spec.%s is too long", key);
    snprintf(out, outlen, "%s", json_string_value(v));
    return 0;
}

static int get_opt_count(const json_t *spec, const char *key, long long max, long long *out,
                         char *err, size_t errlen)
{
    const json_t *v = json_object_get(spec, key);
    *out = 0;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_integer(v)) return errfmt(err, errlen, "spec.%s is not an integer", key);
    long long n = json_integer_value(v);
    if (n < 0 || n > max) return errfmt(err, errlen, "spec.%s=%lld is out of range", key, n);
    *out = n;
    return 0;
}

static int check_metadata(const json_t *o, const char *ns, const char *name, char *err, size_t errlen)
{
    const json_t *kind = json_object_get(o, "kind");
    if (kind && (!json_is_string(kind) || strcmp(json_string_value(kind), "Lease") != 0))
        return errfmt(err, errlen, "not a Lease (kind)");
    const json_t *md = json_object_get(o, "metadata");
    if (!json_is_object(md)) return errfmt(err, errlen, "no metadata");
    const json_t *n = json_object_get(md, "name");
    if (!json_is_string(n) || strcmp(json_string_value(n), name) != 0)
        return errfmt(err, errlen, "metadata.name is not %s", name);
    const json_t *s = json_object_get(md, "namespace");
    if (s && (!json_is_string(s) || strcmp(json_string_value(s), ns) != 0))
        return errfmt(err, errlen, "metadata.namespace is not %s", ns);
    const json_t *rv = json_object_get(md, "resourceVersion");
    if (!json_is_string(rv) || json_string_length(rv) == 0 || json_string_length(rv) > 64)
        return errfmt(err, errlen, "metadata.resourceVersion missing or invalid");
    return 0;
}

static int parse_record(const json_t *o, sup_lease_record_t *rec, char *err, size_t errlen)
{
    memset(rec, 0, sizeof *rec);
    const json_t *spec = json_object_get(o, "spec");
    if (!spec || json_is_null(spec)) return 0;
    if (!json_is_object(spec)) return errfmt(err, errlen, "spec is not an object");
    if (copy_opt_string(spec, "holderIdentity", rec->holder, sizeof rec->holder, err, errlen) < 0 ||
        copy_opt_string(spec, "acquireTime", rec->acquire_time, sizeof rec->acquire_time, err, errlen) < 0 ||
        copy_opt_string(spec, "renewTime", rec->renew_time, sizeof rec->renew_time, err, errlen) < 0 ||
        get_opt_count(spec, "leaseDurationSeconds", 0x7fffffff, &rec->duration_s, err, errlen) < 0 ||
        get_opt_count(spec, "leaseTransitions", 0x7fffffff, &rec->transitions, err, errlen) < 0)
        return -1;
    return 0;
}

int sup_lease_parse(const char *body, size_t len, const char *ns, const char *name, json_t **obj,
                    sup_lease_record_t *rec, char *err, size_t errlen)
{
    if (obj) *obj = NULL;
    if (!body || len == 0) return errfmt(err, errlen, "empty body");
    json_error_t je;
    json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!o) return errfmt(err, errlen, "bad JSON: %s", je.text);
    if (!json_is_object(o) || check_metadata(o, ns, name, err, errlen) < 0 ||
        parse_record(o, rec, err, errlen) < 0) {
        if (!json_is_object(o)) errfmt(err, errlen, "not a JSON object");
        json_decref(o);
        return -1;
    }
    if (obj)
        *obj = o;
    else
        json_decref(o);
    return 0;
}

/* ---- small helpers ---- */

static void set_error(sup_elector_t *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_error(sup_elector_t *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->last_error, sizeof e->last_error, fmt, ap);
    va_end(ap);
}

static bool same_record(const sup_lease_record_t *a, const sup_lease_record_t *b)
{
    return strcmp(a->holder, b->holder) == 0 && a->duration_s == b->duration_s &&
           strcmp(a->acquire_time, b->acquire_time) == 0 && strcmp(a->renew_time, b->renew_time) == 0 &&
           a->transitions == b->transitions;
}

static bool observed_is_ours(const sup_elector_t *e)
{
    return e->have_observed && strcmp(e->observed.holder, e->cfg.identity) == 0;
}

static bool observed_valid(const sup_elector_t *e, uint64_t now)
{
    return e->have_observed &&
           e->observed_ms + (uint64_t)e->observed.duration_s * 1000u > now;
}

/* Records what the server holds now; the expiry clock restarts only when
 * the record differs from the one seen before. */
static void observe(sup_elector_t *e, const sup_lease_record_t *rec, json_t **obj, uint64_t now)
{
    if (!e->have_observed || !same_record(&e->observed, rec)) {
        e->observed = *rec;
        e->observed_ms = now;
        e->have_observed = true;
    }
    if (obj && *obj) {
        json_decref(e->cached);
        e->cached = *obj;
        *obj = NULL;
    }
}

static uint64_t next_random(sup_elector_t *e)
{
    /* xorshift64*: enough for jitter */
    e->rng ^= e->rng >> 12;
    e->rng ^= e->rng << 25;
    e->rng ^= e->rng >> 27;
    return e->rng * 2685821657736338717ull;
}

static uint64_t jittered(sup_elector_t *e, uint64_t base)
{
    double f = (double)(next_random(e) >> 11) / (double)(1ull << 53);
    return base + (uint64_t)((double)base * SUP_LEASE_JITTER * f);
}

/* How long one API call may take: a leader must hear back before its
 * renew deadline; 0 means there is no time left. */
static uint64_t call_timeout(const sup_elector_t *e)
{
    uint64_t base = e->cfg.renew_deadline_ms / 2;
    if (base < 1000) base = 1000;
    if (!e->leading) return base;
    uint64_t now = e->ops.mono_ms(e->ops.ctx);
    uint64_t end = e->renewed_ms + e->cfg.renew_deadline_ms;
    uint64_t left = ms_until(end, now);
    return left < base ? left : base;
}

static int api(sup_elector_t *e, sup_lease_verb_t verb, const char *body, sup_lease_resp_t *r)
{
    memset(r, 0, sizeof *r);
    uint64_t timeout = call_timeout(e);
    if (timeout == 0) {
        set_error(e, "renew deadline passed");
        return -1;
    }
    if (e->ops.call(e->ops.ctx, verb, body, timeout, r) < 0) {
        set_error(e, "request not sent");
        return -1;
    }
    return 0;
}

static void resp_free(sup_lease_resp_t *r)
{
    free(r->body);
    r->body = NULL;
}

/* ---- building bodies ---- */

static json_t *record_json(const sup_lease_record_t *r)
{
    json_t *spec = json_object();
    if (!spec) return NULL;
    int rc = 0;
    /* Like client-go, an empty holder is written as "" (a release). */
    rc |= json_object_set_new(spec, "holderIdentity", json_string(r->holder));
    rc |= json_object_set_new(spec, "leaseDurationSeconds", json_integer(r->duration_s));
    if (r->acquire_time[0]) rc |= json_object_set_new(spec, "acquireTime", json_string(r->acquire_time));
    if (r->renew_time[0]) rc |= json_object_set_new(spec, "renewTime", json_string(r->renew_time));
    rc |= json_object_set_new(spec, "leaseTransitions", json_integer(r->transitions));
    if (rc) {
        json_decref(spec);
        return NULL;
    }
    return spec;
}

static char *create_body(const sup_elector_t *e, const sup_lease_record_t *r)
{
    json_t *spec = record_json(r);
    if (!spec) return NULL;
    json_t *o = json_pack("{s:s, s:s, s:{s:s, s:s}, s:o}", "apiVersion", "coordination.k8s.io/v1",
                          "kind", "Lease", "metadata", "name", e->cfg.name, "namespace", e->cfg.ns,
                          "spec", spec);
    if (!o) return NULL;
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* The object last seen with its spec replaced: its resourceVersion makes
 * the PUT fail with 409 if anyone wrote the Lease since. */
static char *update_body(const sup_elector_t *e, const sup_lease_record_t *r)
{
    if (!e->cached) return NULL;
    json_t *o = json_deep_copy(e->cached);
    json_t *spec = record_json(r);
    if (!o || !spec || json_object_set_new(o, "spec", spec) < 0) {
        json_decref(o);
        return NULL;
    }
    json_object_del(o, "status");
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* ---- one write ---- */

/* Sends a create or update and takes in the answer. 0 on success; 1 on a
 * 409 (someone else wrote first); -1 otherwise. */
static int write_lease(sup_elector_t *e, sup_lease_verb_t verb, const sup_lease_record_t *r,
                       uint64_t now)
{
    char *body = verb == SUP_LEASE_CREATE ? create_body(e, r) : update_body(e, r);
    if (!body) {
        set_error(e, "cannot build the Lease body");
        return -1;
    }
    sup_lease_resp_t resp;
    int rc = api(e, verb, body, &resp);
    free(body);
    if (rc < 0) return -1;
    const char *what = verb == SUP_LEASE_CREATE ? "create" : "update";
    if (resp.code == 409) {
        set_error(e, "%s: conflict (another candidate wrote the Lease first)", what);
        resp_free(&resp);
        return 1;
    }
    if (resp.code != 200 && resp.code != 201) {
        set_error(e, "%s: HTTP %ld", what, resp.code);
        resp_free(&resp);
        return -1;
    }
    sup_lease_record_t got;
    json_t *obj = NULL;
    char why[160];
    int prc = sup_lease_parse(resp.body, resp.len, e->cfg.ns, e->cfg.name, &obj, &got, why, sizeof why);
    resp_free(&resp);
    if (prc < 0) {
        /* The write happened but we cannot trust our copy: forget it, so
         * the next try reads the Lease again. */
        e->bad_answers++;
        json_decref(e->cached);
        e->cached = NULL;
        set_error(e, "%s: bad answer: %s", what, why);
        return -1;
    }
    observe(e, &got, &obj, now);
    if (strcmp(got.holder, r->holder) != 0) {
        set_error(e, "%s: answer names holder \"%s\"", what, got.holder);
        return -1;
    }
    return 0;
}

/* ---- try: acquire or renew ---- */

static void fill_new_record(const sup_elector_t *e, sup_lease_record_t *r, int64_t wall_us)
{
    memset(r, 0, sizeof *r);
    snprintf(r->holder, sizeof r->holder, "%s", e->cfg.identity);
    r->duration_s = (long long)(e->cfg.lease_ms / 1000);
    if (sup_lease_format_time(wall_us, r->acquire_time, sizeof r->acquire_time) < 0)
        r->acquire_time[0] = '\0';
    snprintf(r->renew_time, sizeof r->renew_time, "%s", r->acquire_time);
}

static void keep_term(sup_lease_record_t *r, const sup_lease_record_t *old)
{
    snprintf(r->acquire_time, sizeof r->acquire_time, "%s", old->acquire_time);
    r->transitions = old->transitions;
}

/* GET the Lease. 0 read (observed/cached updated); 1 not found; -1 error. */
static int read_lease(sup_elector_t *e, uint64_t now)
{
    sup_lease_resp_t resp;
    if (api(e, SUP_LEASE_GET, NULL, &resp) < 0) return -1;
    if (resp.code == 404) {
        resp_free(&resp);
        return 1;
    }
    if (resp.code != 200) {
        set_error(e, "get: HTTP %ld", resp.code);
        resp_free(&resp);
        return -1;
    }
    sup_lease_record_t got;
    json_t *obj = NULL;
    char why[160];
    int prc = sup_lease_parse(resp.body, resp.len, e->cfg.ns, e->cfg.name, &obj, &got, why, sizeof why);
    resp_free(&resp);
    if (prc < 0) {
        e->bad_answers++;
        set_error(e, "get: bad answer: %s", why);
        return -1;
    }
    observe(e, &got, &obj, now);
    return 0;
}

static bool try_acquire_or_renew(sup_elector_t *e)
{
    uint64_t now = e->ops.mono_ms(e->ops.ctx);
    sup_lease_record_t want;
    fill_new_record(e, &want, e->ops.wall_us(e->ops.ctx));
    /* Fast path: we lead and nobody can have taken the lease: renew on the
     * object we have (one request). */
    if (observed_is_ours(e) && observed_valid(e, now) && e->cached) {
        sup_lease_record_t r = want;
        keep_term(&r, &e->observed);
        if (write_lease(e, SUP_LEASE_UPDATE, &r, now) == 0) return true;
    }
    int rd = read_lease(e, now);
    if (rd < 0) return false;
    if (rd == 1) return write_lease(e, SUP_LEASE_CREATE, &want, now) == 0;
    if (e->observed.holder[0] && observed_valid(e, now) && !observed_is_ours(e)) {
        set_error(e, "held by %s and not expired", e->observed.holder);
        return false;
    }
    if (observed_is_ours(e))
        keep_term(&want, &e->observed);
    else
        want.transitions = e->observed.transitions + 1;
    return write_lease(e, SUP_LEASE_UPDATE, &want, now) == 0;
}

/* ---- the elector ---- */

void sup_elector_init(sup_elector_t *e, const sup_lease_config_t *c, const sup_lease_ops_t *ops,
                      uint64_t seed)
{
    memset(e, 0, sizeof *e);
    e->cfg = *c;
    e->ops = *ops;
    e->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
    e->next_try_ms = ops->mono_ms(ops->ctx);
}

void sup_elector_free(sup_elector_t *e)
{
    json_decref(e->cached);
    e->cached = NULL;
}

static sup_lease_event_t stop_leading(sup_elector_t *e)
{
    e->leading = false;
    e->next_try_ms = e->ops.mono_ms(e->ops.ctx) + jittered(e, e->cfg.retry_ms);
    return SUP_LEASE_STOPPED;
}

static bool deadline_passed(const sup_elector_t *e, uint64_t now)
{
    return now >= e->renewed_ms + e->cfg.renew_deadline_ms;
}

sup_lease_event_t sup_elector_step(sup_elector_t *e)
{
    uint64_t start = e->ops.mono_ms(e->ops.ctx);
    if (e->leading && deadline_passed(e, start)) {
        set_error(e, "no successful renewal within the renew deadline");
        return stop_leading(e);
    }
    if (start < e->next_try_ms) return SUP_LEASE_NOCHANGE;
    bool ok = try_acquire_or_renew(e);
    uint64_t now = e->ops.mono_ms(e->ops.ctx);
    if (ok) {
        e->renewed_ms = start;
        e->last_error[0] = '\0';
        e->next_try_ms = now + e->cfg.retry_ms;
        if (e->leading) return SUP_LEASE_NOCHANGE;
        e->leading = true;
        return SUP_LEASE_STARTED;
    }
    e->failed_tries++;
    if (!e->leading) {
        e->next_try_ms = now + jittered(e, e->cfg.retry_ms);
        return SUP_LEASE_NOCHANGE;
    }
    /* Another holder in the Lease: somebody took it; stop at once rather
     * than act alongside them until our deadline. */
    if ((e->have_observed && !observed_is_ours(e) && e->observed.holder[0]) || deadline_passed(e, now))
        return stop_leading(e);
    e->next_try_ms = now + e->cfg.retry_ms;
    return SUP_LEASE_NOCHANGE;
}

uint64_t sup_elector_next_ms(const sup_elector_t *e)
{
    uint64_t next = e->next_try_ms;
    if (e->leading) {
        uint64_t dl = e->renewed_ms + e->cfg.renew_deadline_ms;
        if (dl < next) next = dl;
    }
    return next;
}

int sup_elector_release(sup_elector_t *e)
{
    e->leading = false;
    if (!observed_is_ours(e) || !e->cached) return 0;
    sup_lease_record_t r;
    memset(&r, 0, sizeof r);
    r.duration_s = 1;
    if (sup_lease_format_time(e->ops.wall_us(e->ops.ctx), r.acquire_time, sizeof r.acquire_time) < 0)
        r.acquire_time[0] = '\0';
    snprintf(r.renew_time, sizeof r.renew_time, "%s", r.acquire_time);
    r.transitions = e->observed.transitions;
    uint64_t now = e->ops.mono_ms(e->ops.ctx);
    return write_lease(e, SUP_LEASE_UPDATE, &r, now) == 0 ? 1 : -1;
}

/* A core/v1 Event about the Lease, as client-go's resource lock records
 * it: reason LeaderElection, message "<identity> <what>", from the
 * component kube-controller-manager, involved object the Lease as last seen. */
static char *event_body(const sup_elector_t *e, const char *what, int64_t wall_us)
{
    char ts[SUP_LEASE_TIME_MAX], name[SUP_LEASE_NAME_MAX + 20], msg[SUP_LEASE_IDENTITY_MAX + 64];
    if (sup_lease_format_time(wall_us - wall_us % 1000000, ts, sizeof ts) < 0) return NULL;
    memcpy(ts + 19, "Z", 2); /* Event timestamps are whole seconds */
    snprintf(name, sizeof name, "%s.%016llx", e->cfg.name, (unsigned long long)wall_us * 1000ull);
    snprintf(msg, sizeof msg, "%s %s", e->cfg.identity, what);
    json_t *ref = json_pack("{s:s, s:s, s:s, s:s}", "kind", "Lease", "apiVersion", "coordination.k8s.io/v1",
                            "namespace", e->cfg.ns, "name", e->cfg.name);
    const json_t *md = e->cached ? json_object_get(e->cached, "metadata") : NULL;
    const json_t *uid = json_object_get(md, "uid"), *rv = json_object_get(md, "resourceVersion");
    if (ref && json_is_string(uid)) json_object_set(ref, "uid", (json_t *)uid);
    if (ref && json_is_string(rv)) json_object_set(ref, "resourceVersion", (json_t *)rv);
    json_t *ev = ref ? json_pack("{s:s, s:s, s:{s:s, s:s}, s:o, s:s, s:s, s:{s:s}, s:s, s:s, s:i, s:s, s:s}",
                                 "apiVersion", "v1", "kind", "Event", "metadata", "name", name,
                                 "namespace", e->cfg.ns, "involvedObject", ref, "reason", "LeaderElection",
                                 "message", msg, "source", "component", "kube-controller-manager",
                                 "firstTimestamp", ts, "lastTimestamp", ts, "count", 1, "type", "Normal",
                                 "reportingComponent", "kube-controller-manager")
                     : NULL;
    char *body = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
    json_decref(ev);
    return body;
}

int sup_elector_record_event(sup_elector_t *e, const char *what)
{
    char *body = event_body(e, what, e->ops.wall_us(e->ops.ctx));
    if (!body) return -1;
    sup_lease_resp_t resp;
    memset(&resp, 0, sizeof resp);
    int rc = e->ops.call(e->ops.ctx, SUP_LEASE_EVENT, body, e->cfg.retry_ms, &resp);
    free(body);
    long code = resp.code;
    free(resp.body);
    return rc == 0 && (code == 200 || code == 201) ? 0 : -1;
}

const char *sup_elector_holder(const sup_elector_t *e)
{
    return e->have_observed ? e->observed.holder : "";
}
