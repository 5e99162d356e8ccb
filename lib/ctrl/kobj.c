/* kobj.c - Kubernetes object accessors over jansson. See kobj.h. */
#include "ctrl/kobj.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- paths ---------------------------------------------------------------- */

json_t *kobj_get(const json_t *obj, const char *path)
{
    if (!obj || !path) return NULL;
    const json_t *cur = obj;
    const char *p = path;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (!json_is_object(cur) || n == 0) return NULL;
        cur = json_object_getn(cur, p, n);
        if (!cur) return NULL;
        p += n;
        if (*p == '.') p++;
    }
    return (json_t *)cur;
}

const char *kobj_str(const json_t *obj, const char *path)
{
    json_t *v = kobj_get(obj, path);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int64_t kobj_int(const json_t *obj, const char *path, int64_t def)
{
    json_t *v = kobj_get(obj, path);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

static const char *meta_str(const json_t *obj, const char *field)
{
    json_t *md = json_is_object(obj) ? json_object_get(obj, "metadata") : NULL;
    json_t *v = json_is_object(md) ? json_object_get(md, field) : NULL;
    return json_is_string(v) ? json_string_value(v) : "";
}

/* ---- metadata ------------------------------------------------------------- */

const char *kobj_namespace(const json_t *obj) { return meta_str(obj, "namespace"); }
const char *kobj_name(const json_t *obj) { return meta_str(obj, "name"); }
const char *kobj_generate_name(const json_t *obj) { return meta_str(obj, "generateName"); }
const char *kobj_uid(const json_t *obj) { return meta_str(obj, "uid"); }
const char *kobj_resource_version(const json_t *obj) { return meta_str(obj, "resourceVersion"); }
int64_t kobj_generation(const json_t *obj) { return kobj_int(obj, "metadata.generation", 0); }

json_t *kobj_labels(const json_t *obj)
{
    json_t *v = kobj_get(obj, "metadata.labels");
    return json_is_object(v) ? v : NULL;
}

json_t *kobj_annotations(const json_t *obj)
{
    json_t *v = kobj_get(obj, "metadata.annotations");
    return json_is_object(v) ? v : NULL;
}

const char *kobj_label(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(kobj_labels(obj), key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *kobj_annotation(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(kobj_annotations(obj), key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

bool kobj_being_deleted(const json_t *obj)
{
    json_t *v = kobj_get(obj, "metadata.deletionTimestamp");
    return v != NULL && !json_is_null(v);
}

int64_t kobj_creation_time(const json_t *obj)
{
    int64_t t = 0;
    if (kobj_time_parse(meta_str(obj, "creationTimestamp"), &t) < 0) return 0;
    return t;
}

int kobj_key(const json_t *obj, char *out, size_t outlen)
{
    const char *name = kobj_name(obj), *ns = kobj_namespace(obj);
    if (!*name) return -1;
    int n = *ns ? snprintf(out, outlen, "%s/%s", ns, name) : snprintf(out, outlen, "%s", name);
    return n < 0 || (size_t)n >= outlen ? -1 : n;
}

int kobj_split_key(const char *key, char *ns, size_t nslen, char *name, size_t namelen)
{
    if (!key || !*key || nslen == 0 || namelen == 0) return -1;
    const char *slash = strchr(key, '/');
    const char *nm = slash ? slash + 1 : key;
    size_t nsl = slash ? (size_t)(slash - key) : 0;
    if (slash && (nsl == 0 || strchr(nm, '/'))) return -1;
    if (!*nm || nsl >= nslen || strlen(nm) >= namelen) return -1;
    memcpy(ns, key, nsl);
    ns[nsl] = '\0';
    memcpy(name, nm, strlen(nm) + 1);
    return 0;
}

/* ---- ownerReferences ------------------------------------------------------ */

static json_t *ownerrefs(const json_t *obj)
{
    json_t *v = kobj_get(obj, "metadata.ownerReferences");
    return json_is_array(v) ? v : NULL;
}

size_t kobj_ownerref_count(const json_t *obj) { return json_array_size(ownerrefs(obj)); }

static const char *field_str(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int kobj_ownerref_at(const json_t *obj, size_t i, kobj_ownerref_t *out)
{
    json_t *ref = json_array_get(ownerrefs(obj), i);
    if (!json_is_object(ref)) return -1;
    out->api_version = field_str(ref, "apiVersion");
    out->kind = field_str(ref, "kind");
    out->name = field_str(ref, "name");
    out->uid = field_str(ref, "uid");
    if (!out->api_version || !out->kind || !out->name || !out->uid || !*out->uid) return -1;
    out->controller = json_is_true(json_object_get(ref, "controller"));
    out->block_owner_deletion = json_is_true(json_object_get(ref, "blockOwnerDeletion"));
    return 0;
}

int kobj_controller_ref(const json_t *obj, kobj_ownerref_t *out)
{
    size_t n = kobj_ownerref_count(obj);
    for (size_t i = 0; i < n; i++) {
        kobj_ownerref_t r;
        if (kobj_ownerref_at(obj, i, &r) == 0 && r.controller) {
            *out = r;
            return 0;
        }
    }
    return -1;
}

const char *kobj_controller_uid(const json_t *obj)
{
    kobj_ownerref_t r;
    return kobj_controller_ref(obj, &r) == 0 ? r.uid : NULL;
}

json_t *kobj_new_controller_ref(const char *api_version, const char *kind, const json_t *owner)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "apiVersion", api_version, "kind", kind,
                     "name", kobj_name(owner), "uid", kobj_uid(owner), "controller", 1,
                     "blockOwnerDeletion", 1);
}

/* ---- time ----------------------------------------------------------------- */

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil), so no timegm/TZ dependence. */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

int kobj_time_parse_us(const char *s, int64_t *out)
{
    int Y, M, D, h, mi, se;
    if (!s || strlen(s) < 20) return -1;
    if (digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' ||
        digits(s + 8, 2, &D) || (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) ||
        s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se))
        return -1;
    if (M < 1 || M > 12 || D < 1 || D > days_in_month(Y, M) || h > 23 || mi > 59 || se > 60)
        return -1;
    const char *p = s + 19;
    int64_t us = 0;
    if (*p == '.') {
        int nd = 0;
        p++;
        while (isdigit((unsigned char)*p)) {
            if (nd < 6) us = us * 10 + (*p - '0');
            nd++;
            p++;
        }
        if (nd == 0) return -1;
        for (int i = nd; i < 6; i++) us *= 10;
    }
    int64_t off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return -1;
        off = (int64_t)(oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p) return -1;
    int64_t secs = days_from_civil(Y, M, D) * 86400 + h * 3600 + mi * 60 + se - off;
    *out = secs * 1000000 + us;
    return 0;
}

int kobj_time_parse(const char *s, int64_t *out)
{
    int64_t us;
    if (kobj_time_parse_us(s, &us) < 0) return -1;
    /* floor division so pre-1970 fractions stay consistent */
    *out = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
    return 0;
}

int kobj_time_format(int64_t unix_sec, char *out, size_t outlen)
{
    if (outlen < 21) return -1;
    time_t t = (time_t)unix_sec;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) return -1;
    size_t n = strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return n == 0 ? -1 : (int)n;
}

/* ---- pods ----------------------------------------------------------------- */

const char *kpod_phase(const json_t *pod)
{
    const char *p = kobj_str(pod, "status.phase");
    return p ? p : "";
}

bool kpod_is_active(const json_t *pod)
{
    const char *ph = kpod_phase(pod);
    return strcmp(ph, "Succeeded") != 0 && strcmp(ph, "Failed") != 0 && !kobj_being_deleted(pod);
}

static json_t *ready_condition(const json_t *pod)
{
    json_t *conds = kobj_get(pod, "status.conditions");
    size_t i;
    json_t *c;
    if (!json_is_array(conds)) return NULL;
    json_array_foreach(conds, i, c) {
        const char *type = field_str(c, "type");
        if (type && strcmp(type, "Ready") == 0) return c;
    }
    return NULL;
}

bool kpod_is_ready(const json_t *pod)
{
    const char *st = field_str(ready_condition(pod), "status");
    return st && strcmp(st, "True") == 0;
}

int64_t kpod_ready_since(const json_t *pod)
{
    if (!kpod_is_ready(pod)) return 0;
    int64_t t = 0;
    const char *ltt = field_str(ready_condition(pod), "lastTransitionTime");
    return ltt && kobj_time_parse(ltt, &t) == 0 ? t : 0;
}

bool kpod_is_available(const json_t *pod, int32_t min_ready_seconds, int64_t now_sec)
{
    if (!kpod_is_ready(pod)) return false;
    if (min_ready_seconds <= 0) return true;
    int64_t since = kpod_ready_since(pod);
    /* upstream: lastTransitionTime + minReadySeconds strictly before now */
    return since != 0 && since + min_ready_seconds < now_sec;
}

int32_t kpod_max_restarts(const json_t *pod)
{
    json_t *cs = kobj_get(pod, "status.containerStatuses");
    size_t i;
    json_t *c;
    int64_t max = 0;
    if (!json_is_array(cs)) return 0;
    json_array_foreach(cs, i, c) {
        json_t *rc = json_object_get(c, "restartCount");
        if (json_is_integer(rc) && json_integer_value(rc) > max) max = json_integer_value(rc);
    }
    return max > INT32_MAX ? INT32_MAX : (int32_t)max;
}

const char *kpod_node_name(const json_t *pod)
{
    const char *n = kobj_str(pod, "spec.nodeName");
    return n ? n : "";
}

static int parse_int32(const char *s, int32_t *out)
{
    if (!s || !*s) return -1;
    const char *p = s;
    if (*p == '+' || *p == '-') p++;
    if (!*p) return -1;
    for (; *p; p++)
        if (!isdigit((unsigned char)*p)) return -1;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno || v < INT32_MIN || v > INT32_MAX) return -1;
    *out = (int32_t)v;
    return 0;
}

int kpod_deletion_cost(const json_t *pod, int32_t *out)
{
    *out = 0;
    const char *v = kobj_annotation(pod, KPOD_DELETION_COST_ANNOTATION);
    if (!v) return 0;
    int32_t c;
    if (parse_int32(v, &c) < 0) return -1;
    *out = c;
    return 0;
}

/* ---- IntOrString ---------------------------------------------------------- */

int kobj_intstr_parse(const json_t *v, kobj_intstr_t *out, char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    if (!v || json_is_null(v)) {
        if (err && errlen) snprintf(err, errlen, "missing IntOrString value");
        return -1;
    }
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < INT32_MIN || i > INT32_MAX) {
            if (err && errlen) snprintf(err, errlen, "IntOrString value %lld out of int32 range", (long long)i);
            return -1;
        }
        out->is_percent = false;
        out->value = (int32_t)i;
        return 0;
    }
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    if (s) {
        size_t n = strlen(s);
        char num[32];
        if (n == 0 || s[n - 1] != '%') {
            if (err && errlen)
                snprintf(err, errlen, "invalid value for IntOrString: invalid type: string is not a percentage");
            return -1;
        }
        int32_t val;
        if (n - 1 > 0 && n - 1 < sizeof num) {
            memcpy(num, s, n - 1);
            num[n - 1] = '\0';
            if (parse_int32(num, &val) == 0) {
                out->is_percent = true;
                out->value = val;
                return 0;
            }
        }
        if (err && errlen) snprintf(err, errlen, "invalid value for IntOrString: invalid value \"%.64s\"", s);
        return -1;
    }
    if (err && errlen) snprintf(err, errlen, "invalid type for IntOrString: want integer or string");
    return -1;
}

int kobj_intstr_scaled(const kobj_intstr_t *v, int32_t total, bool round_up, int32_t *out)
{
    if (!v->is_percent) {
        *out = v->value;
        return 0;
    }
    if (total < 0) return -1;
    int64_t prod = (int64_t)v->value * total;
    int64_t r;
    if (round_up)
        r = prod >= 0 ? (prod + 99) / 100 : -((-prod) / 100);
    else
        r = prod >= 0 ? prod / 100 : -((-prod + 99) / 100);
    if (r < INT32_MIN || r > INT32_MAX) return -1;
    *out = (int32_t)r;
    return 0;
}
