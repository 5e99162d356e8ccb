/* ds_node.c - node eligibility and node binding of daemon pods (see ds_node.h). */
#include "ds_node.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/kobj.h"

static const char *str_of(const json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

/* ---- tolerations ------------------------------------------------------------ */

/* upstream MatchToleration: same key, operator, value and effect. */
static bool same_toleration(const json_t *a, const json_t *b)
{
    static const char *const f[] = { "key", "operator", "value", "effect" };
    for (size_t i = 0; i < sizeof f / sizeof *f; i++)
        if (strcmp(str_of(a, f[i]), str_of(b, f[i])) != 0) return false;
    return true;
}

static int add_or_update_toleration(json_t *tols, const char *key, const char *effect)
{
    json_t *t = json_pack("{s:s, s:s, s:s}", "key", key, "operator", "Exists", "effect", effect);
    if (!t) return -1;
    size_t i;
    json_t *cur;
    bool replaced = false;
    json_array_foreach(tols, i, cur) {
        if (!same_toleration(t, cur)) continue;
        if (json_equal(t, cur)) { json_decref(t); return 0; }
        if (json_array_set(tols, i, t) < 0) { json_decref(t); return -1; }
        replaced = true;
    }
    if (replaced) { json_decref(t); return 0; }
    return json_array_append_new(tols, t);
}

int ds_add_default_tolerations(json_t *podspec)
{
    if (!json_is_object(podspec)) return -1;
    json_t *tols = json_object_get(podspec, "tolerations");
    if (!json_is_array(tols)) {
        tols = json_array();
        if (!tols || json_object_set_new(podspec, "tolerations", tols) < 0) return -1;
    }
    static const char *const defaults[][2] = {
        { "node.kubernetes.io/not-ready", "NoExecute" },
        { "node.kubernetes.io/unreachable", "NoExecute" },
        { "node.kubernetes.io/disk-pressure", "NoSchedule" },
        { "node.kubernetes.io/memory-pressure", "NoSchedule" },
        { "node.kubernetes.io/pid-pressure", "NoSchedule" },
        { "node.kubernetes.io/unschedulable", "NoSchedule" },
    };
    for (size_t i = 0; i < sizeof defaults / sizeof *defaults; i++)
        if (add_or_update_toleration(tols, defaults[i][0], defaults[i][1]) < 0) return -1;
    if (json_is_true(json_object_get(podspec, "hostNetwork")) &&
        add_or_update_toleration(tols, "node.kubernetes.io/network-unavailable", "NoSchedule") < 0)
        return -1;
    return 0;
}

bool ds_toleration_tolerates(const json_t *tol, const json_t *taint)
{
    const char *te = str_of(tol, "effect"), *tk = str_of(tol, "key");
    if (*te && strcmp(te, str_of(taint, "effect")) != 0) return false;
    if (*tk && strcmp(tk, str_of(taint, "key")) != 0) return false;
    const char *op = str_of(tol, "operator");
    if (!*op || strcmp(op, "Equal") == 0) return strcmp(str_of(tol, "value"), str_of(taint, "value")) == 0;
    /* Lt/Gt exist only behind an alpha gate upstream: unknown operators tolerate nothing */
    return strcmp(op, "Exists") == 0;
}

/* Is some NoSchedule/NoExecute taint (NoExecute only when no_execute_only)
 * of node tolerated by none of tols? */
static bool has_untolerated_taint(const json_t *node, const json_t *tols, bool no_execute_only)
{
    size_t i, j;
    json_t *taint, *tol;
    json_array_foreach(kobj_get(node, "spec.taints"), i, taint) {
        const char *eff = str_of(taint, "effect");
        bool relevant = strcmp(eff, "NoExecute") == 0 || (!no_execute_only && strcmp(eff, "NoSchedule") == 0);
        if (!relevant) continue;
        bool tolerated = false;
        json_array_foreach(tols, j, tol) {
            if (ds_toleration_tolerates(tol, taint)) { tolerated = true; break; }
        }
        if (!tolerated) return true;
    }
    return false;
}

/* ---- node affinity ------------------------------------------------------------ */

static bool parse_i64(const char *s, long long *out)
{
    if (!s || !*s) return false;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || !end || *end) return false;
    *out = v;
    return true;
}

static bool in_values(const json_t *values, const char *v)
{
    size_t i;
    json_t *x;
    json_array_foreach(values, i, x) {
        if (json_is_string(x) && strcmp(json_string_value(x), v) == 0) return true;
    }
    return false;
}

/* One NodeSelectorRequirement against a value (NULL: absent). *valid is
 * cleared when the requirement cannot be parsed. */
static bool requirement_matches(const json_t *req, const char *value, bool *valid)
{
    const char *op = str_of(req, "operator");
    json_t *values = json_object_get(req, "values");
    size_t nv = json_is_array(values) ? json_array_size(values) : 0;
    if (strcmp(op, "In") == 0 || strcmp(op, "NotIn") == 0) {
        if (nv == 0) { *valid = false; return false; }
        bool in = value && in_values(values, value);
        return strcmp(op, "In") == 0 ? in : !in;
    }
    if (strcmp(op, "Exists") == 0 || strcmp(op, "DoesNotExist") == 0) {
        if (nv != 0) { *valid = false; return false; }
        return strcmp(op, "Exists") == 0 ? value != NULL : value == NULL;
    }
    if (strcmp(op, "Gt") == 0 || strcmp(op, "Lt") == 0) {
        long long want, have;
        if (nv != 1 || !parse_i64(json_string_value(json_array_get(values, 0)), &want)) {
            *valid = false;
            return false;
        }
        if (!value || !parse_i64(value, &have)) return false;
        return strcmp(op, "Gt") == 0 ? have > want : have < want;
    }
    *valid = false;
    return false;
}

static bool term_matches(const json_t *term, const json_t *node)
{
    json_t *exprs = json_object_get(term, "matchExpressions");
    json_t *fields = json_object_get(term, "matchFields");
    size_t ne = json_is_array(exprs) ? json_array_size(exprs) : 0;
    size_t nf = json_is_array(fields) ? json_array_size(fields) : 0;
    if (ne == 0 && nf == 0) return false;   /* an empty term selects nothing */
    bool valid = true, ok = true;
    size_t i;
    json_t *r;
    json_t *labels = kobj_labels(node);
    json_array_foreach(exprs, i, r) {
        const char *v = json_string_value(json_object_get(labels, str_of(r, "key")));
        if (!requirement_matches(r, v, &valid)) ok = false;
    }
    json_array_foreach(fields, i, r) {
        const char *op = str_of(r, "operator");
        /* only metadata.name with In/NotIn is a valid field requirement */
        if (strcmp(str_of(r, "key"), "metadata.name") != 0 || (strcmp(op, "In") != 0 && strcmp(op, "NotIn") != 0)) {
            valid = false;
            continue;
        }
        if (!requirement_matches(r, kobj_name(node), &valid)) ok = false;
    }
    return valid && ok;
}

bool ds_node_affinity_matches(const json_t *podspec, const json_t *node)
{
    const char *k;
    json_t *v;
    json_t *labels = kobj_labels(node);
    json_object_foreach(json_object_get(podspec, "nodeSelector"), k, v) {
        const char *have = json_string_value(json_object_get(labels, k));
        if (!json_is_string(v) || !have || strcmp(have, json_string_value(v)) != 0) return false;
    }
    json_t *req = kobj_get(podspec, "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution");
    if (!json_is_object(req)) return true;
    size_t i;
    json_t *term;
    json_array_foreach(json_object_get(req, "nodeSelectorTerms"), i, term) {
        if (term_matches(term, node)) return true;
    }
    return false;
}

void ds_node_should_run(const json_t *podspec, const json_t *node, bool *should_run, bool *should_continue)
{
    *should_run = *should_continue = false;
    const char *want = str_of(podspec, "nodeName");
    if (*want && strcmp(want, kobj_name(node)) != 0) return;
    if (!ds_node_affinity_matches(podspec, node)) return;
    json_t *tols = json_object_get(podspec, "tolerations");
    if (has_untolerated_taint(node, tols, false)) {
        /* a running pod may stay unless a NoExecute taint evicts it */
        *should_continue = !has_untolerated_taint(node, tols, true);
        return;
    }
    *should_run = *should_continue = true;
}

/* ---- binding ------------------------------------------------------------------ */

/* obj[key] as an object, created when absent or not an object. */
static json_t *child_object(json_t *obj, const char *key)
{
    json_t *c = json_object_get(obj, key);
    if (json_is_object(c)) return c;
    c = json_object();
    if (!c || json_object_set_new(obj, key, c) < 0) return NULL;
    return c;
}

int ds_bind_to_node(json_t *podspec, const char *node)
{
    if (!json_is_object(podspec) || !node) return -1;
    json_t *aff = child_object(podspec, "affinity");
    json_t *na = aff ? child_object(aff, "nodeAffinity") : NULL;
    json_t *req = na ? child_object(na, "requiredDuringSchedulingIgnoredDuringExecution") : NULL;
    if (!req) return -1;
    json_t *terms = json_pack("[{s:[{s:s, s:s, s:[s]}]}]", "matchFields", "key", "metadata.name", "operator", "In",
                              "values", node);
    if (!terms) return -1;
    return json_object_set_new(req, "nodeSelectorTerms", terms);
}

const char *ds_pod_target_node(const json_t *pod)
{
    const char *n = kpod_node_name(pod);
    if (*n) return n;
    json_t *req = kobj_get(pod, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution");
    size_t i, j;
    json_t *term, *r;
    json_array_foreach(json_object_get(req, "nodeSelectorTerms"), i, term) {
        json_array_foreach(json_object_get(term, "matchFields"), j, r) {
            json_t *values = json_object_get(r, "values");
            if (strcmp(str_of(r, "key"), "metadata.name") == 0 && strcmp(str_of(r, "operator"), "In") == 0 &&
                json_array_size(values) == 1 && json_is_string(json_array_get(values, 0)))
                return json_string_value(json_array_get(values, 0));
        }
    }
    return NULL;
}
