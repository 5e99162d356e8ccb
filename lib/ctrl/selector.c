/* selector.c - compiled metav1.LabelSelector. See selector.h. */
#include "ctrl/selector.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errfmt.h"

typedef enum { OP_IN, OP_NOT_IN, OP_EXISTS, OP_DOES_NOT_EXIST } op_t;

typedef struct {
    char *key;
    op_t op;
    char **values;
    size_t n_values;
} requirement_t;

struct selector {
    bool nothing;
    requirement_t *reqs;
    size_t n;
};

/* ---- validation (apimachinery validation.IsQualifiedName / IsValidLabelValue) */

static bool name_char(char c) { return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.'; }

static bool valid_name_part(const char *s, size_t n)
{
    if (n == 0 || n > 63) return false;
    if (!isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1])) return false;
    for (size_t i = 0; i < n; i++)
        if (!name_char(s[i])) return false;
    return true;
}

static bool valid_dns_subdomain(const char *s, size_t n)
{
    if (n == 0 || n > 253) return false;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            size_t l = i - start;   /* each label: [a-z0-9]([-a-z0-9]*[a-z0-9])? */
            if (l == 0 || l > 63) return false;
            if (!isalnum((unsigned char)s[start]) || !isalnum((unsigned char)s[i - 1])) return false;
            for (size_t j = start; j < i; j++) {
                char c = s[j];
                if (!(islower((unsigned char)c) || isdigit((unsigned char)c) || c == '-')) return false;
            }
            start = i + 1;
        }
    }
    return true;
}

bool selector_valid_key(const char *key)
{
    if (!key) return false;
    const char *slash = strchr(key, '/');
    if (!slash) return valid_name_part(key, strlen(key));
    if (strchr(slash + 1, '/')) return false;
    return valid_dns_subdomain(key, (size_t)(slash - key)) && valid_name_part(slash + 1, strlen(slash + 1));
}

bool selector_valid_value(const char *value)
{
    if (!value) return false;
    size_t n = strlen(value);
    return n == 0 || valid_name_part(value, n);
}

/* ---- building ------------------------------------------------------------ */

static void req_free(requirement_t *r)
{
    free(r->key);
    for (size_t i = 0; i < r->n_values; i++) free(r->values[i]);
    free(r->values);
}

void selector_destroy(selector_t **sp)
{
    if (!sp || !*sp) return;
    selector_t *s = *sp;
    for (size_t i = 0; i < s->n; i++) req_free(&s->reqs[i]);
    free(s->reqs);
    free(s);
    *sp = NULL;
}

static requirement_t *add_req(selector_t *s, const char *key, op_t op)
{
    requirement_t *nr = realloc(s->reqs, (s->n + 1) * sizeof *nr);
    if (!nr) return NULL;
    s->reqs = nr;
    requirement_t *r = &s->reqs[s->n];
    memset(r, 0, sizeof *r);
    r->key = strdup(key);
    if (!r->key) return NULL;
    r->op = op;
    s->n++;
    return r;
}

static int add_value(requirement_t *r, const char *v)
{
    char **nv = realloc(r->values, (r->n_values + 1) * sizeof *nv);
    if (!nv) return -1;
    r->values = nv;
    r->values[r->n_values] = strdup(v);
    if (!r->values[r->n_values]) return -1;
    r->n_values++;
    return 0;
}

static int add_match_labels(selector_t *s, const json_t *ml, char *err, size_t errlen)
{
    if (!ml || json_is_null(ml)) return 0;
    if (!json_is_object(ml)) { errfmt(err, errlen, "selector.matchLabels: must be an object"); return -1; }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)ml, k, v) {
        if (!selector_valid_key(k)) { errfmt(err, errlen, "selector.matchLabels: invalid key %.80s", k); return -1; }
        if (!json_is_string(v) || !selector_valid_value(json_string_value(v))) {
            errfmt(err, errlen, "selector.matchLabels[%.80s]: invalid value", k);
            return -1;
        }
        requirement_t *r = add_req(s, k, OP_IN);
        if (!r || add_value(r, json_string_value(v)) < 0) { errfmt(err, errlen, "out of memory"); return -1; }
    }
    return 0;
}

static int parse_op(const char *op, op_t *out)
{
    static const struct { const char *name; op_t op; } ops[] = {
        { "In", OP_IN }, { "NotIn", OP_NOT_IN }, { "Exists", OP_EXISTS }, { "DoesNotExist", OP_DOES_NOT_EXIST },
    };
    for (size_t i = 0; op && i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(op, ops[i].name) == 0) { *out = ops[i].op; return 0; }
    return -1;
}

static int add_expression(selector_t *s, size_t idx, const json_t *e, char *err, size_t errlen)
{
    if (!json_is_object(e)) { errfmt(err, errlen, "selector.matchExpressions[%zu]: must be an object", idx); return -1; }
    json_t *jk = json_object_get(e, "key"), *jo = json_object_get(e, "operator");
    json_t *jv = json_object_get(e, "values");
    const char *key = json_is_string(jk) ? json_string_value(jk) : NULL;
    if (!selector_valid_key(key)) { errfmt(err, errlen, "selector.matchExpressions[%zu].key: invalid", idx); return -1; }
    op_t op;
    if (parse_op(json_is_string(jo) ? json_string_value(jo) : NULL, &op) < 0) {
        errfmt(err, errlen, "selector.matchExpressions[%zu].operator: \"%.40s\" is not a valid label selector operator",
               idx, json_is_string(jo) ? json_string_value(jo) : "");
        return -1;
    }
    if (jv && !json_is_null(jv) && !json_is_array(jv)) {
        errfmt(err, errlen, "selector.matchExpressions[%zu].values: must be an array", idx);
        return -1;
    }
    size_t nv = json_array_size(jv);
    if ((op == OP_IN || op == OP_NOT_IN) && nv == 0) {
        errfmt(err, errlen, "selector.matchExpressions[%zu].values: must be non-empty for In/NotIn", idx);
        return -1;
    }
    if ((op == OP_EXISTS || op == OP_DOES_NOT_EXIST) && nv != 0) {
        errfmt(err, errlen, "selector.matchExpressions[%zu].values: must be empty for Exists/DoesNotExist", idx);
        return -1;
    }
    requirement_t *r = add_req(s, key, op);
    if (!r) { errfmt(err, errlen, "out of memory"); return -1; }
    for (size_t i = 0; i < nv; i++) {
        json_t *v = json_array_get(jv, i);
        if (!json_is_string(v) || !selector_valid_value(json_string_value(v))) {
            errfmt(err, errlen, "selector.matchExpressions[%zu].values[%zu]: invalid label value", idx, i);
            return -1;
        }
        if (add_value(r, json_string_value(v)) < 0) { errfmt(err, errlen, "out of memory"); return -1; }
    }
    return 0;
}

selector_t *selector_compile(const json_t *spec, char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    selector_t *s = calloc(1, sizeof *s);
    if (!s) { errfmt(err, errlen, "out of memory"); return NULL; }
    if (!spec || json_is_null(spec)) {
        s->nothing = true;
        return s;
    }
    if (!json_is_object(spec)) {
        errfmt(err, errlen, "selector: must be an object");
        selector_destroy(&s);
        return NULL;
    }
    if (add_match_labels(s, json_object_get(spec, "matchLabels"), err, errlen) < 0) {
        selector_destroy(&s);
        return NULL;
    }
    json_t *exprs = json_object_get(spec, "matchExpressions");
    if (exprs && !json_is_null(exprs) && !json_is_array(exprs)) {
        errfmt(err, errlen, "selector.matchExpressions: must be an array");
        selector_destroy(&s);
        return NULL;
    }
    for (size_t i = 0; i < json_array_size(exprs); i++) {
        if (add_expression(s, i, json_array_get(exprs, i), err, errlen) < 0) {
            selector_destroy(&s);
            return NULL;
        }
    }
    return s;
}

selector_t *selector_from_labels(const json_t *labels, char *err, size_t errlen)
{
    if (err && errlen) err[0] = '\0';
    selector_t *s = calloc(1, sizeof *s);
    if (!s) { errfmt(err, errlen, "out of memory"); return NULL; }
    if (add_match_labels(s, labels, err, errlen) < 0) selector_destroy(&s);
    return s;
}

/* ---- matching -------------------------------------------------------------- */

static const char *label_value(const json_t *labels, const char *key)
{
    json_t *v = json_is_object(labels) ? json_object_get(labels, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool has_value(const requirement_t *r, const char *v)
{
    for (size_t i = 0; i < r->n_values; i++)
        if (strcmp(r->values[i], v) == 0) return true;
    return false;
}

static bool req_matches(const requirement_t *r, const json_t *labels)
{
    const char *v = label_value(labels, r->key);
    switch (r->op) {
    case OP_IN: return v && has_value(r, v);
    case OP_NOT_IN: return !v || !has_value(r, v);
    case OP_EXISTS: return v != NULL;
    case OP_DOES_NOT_EXIST: return v == NULL;
    }
    return false;
}

bool selector_matches(const selector_t *sel, const json_t *labels)
{
    if (!sel || sel->nothing) return false;
    for (size_t i = 0; i < sel->n; i++)
        if (!req_matches(&sel->reqs[i], labels)) return false;
    return true;
}

bool selector_is_empty(const selector_t *sel) { return sel && !sel->nothing && sel->n == 0; }
bool selector_is_nothing(const selector_t *sel) { return !sel || sel->nothing; }

static void append(char *out, size_t outlen, size_t *pos, const char *s)
{
    size_t n = strlen(s);
    if (*pos + 1 >= outlen) { *pos += n; return; }
    size_t room = outlen - 1 - *pos;
    memcpy(out + *pos, s, n < room ? n : room);
    out[*pos + (n < room ? n : room)] = '\0';
    *pos += n;
}

int selector_string(const selector_t *sel, char *out, size_t outlen)
{
    size_t pos = 0;
    if (!out || !outlen) return 0;
    out[0] = '\0';
    if (!sel || sel->nothing) return 0;
    for (size_t i = 0; i < sel->n; i++) {
        const requirement_t *r = &sel->reqs[i];
        if (i) append(out, outlen, &pos, ",");
        if (r->op == OP_DOES_NOT_EXIST) append(out, outlen, &pos, "!");
        append(out, outlen, &pos, r->key);
        if (r->op == OP_IN && r->n_values == 1) {
            append(out, outlen, &pos, "=");
            append(out, outlen, &pos, r->values[0]);
        } else if (r->op == OP_IN || r->op == OP_NOT_IN) {
            append(out, outlen, &pos, r->op == OP_IN ? " in (" : " notin (");
            for (size_t j = 0; j < r->n_values; j++) {
                if (j) append(out, outlen, &pos, ",");
                append(out, outlen, &pos, r->values[j]);
            }
            append(out, outlen, &pos, ")");
        }
    }
    return (int)(pos < outlen ? pos : outlen - 1);
}
