/* promtext.c - Prometheus text format: writing and merging. See promtext.h. */
#include "promtext.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

void prom_hist_init(prom_hist_t *h, const double *bounds, size_t n)
{
    memset(h, 0, sizeof *h);
    h->bounds = bounds;
    h->n = n > PROM_BUCKETS_MAX ? PROM_BUCKETS_MAX : n;
}

void prom_hist_observe(prom_hist_t *h, double v)
{
    for (size_t i = 0; i < h->n; i++) {
        if (v <= h->bounds[i]) {
            h->counts[i]++;
            break;
        }
    }
    h->count++;
    h->sum += v;
}

/* Fewest significant digits (1..17) that read back as v. */
static int shortest_digits(double v)
{
    char buf[40];
    for (int p = 1; p < 17; p++) {
        snprintf(buf, sizeof buf, "%.*e", p - 1, v);
        if (strtod(buf, NULL) == v) return p;
    }
    return 17;
}

void prom_float(char *out, size_t len, double v)
{
    if (isnan(v)) { snprintf(out, len, "NaN"); return; }
    if (isinf(v)) { snprintf(out, len, v > 0 ? "+Inf" : "-Inf"); return; }
    if (v == 0) { snprintf(out, len, "0"); return; }
    int p = shortest_digits(v);
    char e[40];
    snprintf(e, sizeof e, "%.*e", p - 1, v);
    const char *x = strchr(e, 'e');
    int exp = x ? atoi(x + 1) : 0;
    /* Go's 'g' with the shortest precision: exponent form below 1e-4 and from 1e6 */
    if (exp < -4 || exp >= 6)
        snprintf(out, len, "%s", e);
    else
        snprintf(out, len, "%.*f", p - 1 - exp > 0 ? p - 1 - exp : 0, v);
}

void prom_family(sbuf_t *b, const char *name, const char *type, const char *help)
{
    sbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void prom_sample(sbuf_t *b, const char *name, const char *labels, double v)
{
    char f[40];
    prom_float(f, sizeof f, v);
    if (labels && *labels)
        sbuf_printf(b, "%s{%s} %s\n", name, labels, f);
    else
        sbuf_printf(b, "%s %s\n", name, f);
}

void prom_histogram(sbuf_t *b, const char *name, const char *labels, const prom_hist_t *h)
{
    const char *sep = labels && *labels ? "," : "";
    const char *l = labels ? labels : "";
    uint64_t cum = 0;
    char f[40];
    for (size_t i = 0; i < h->n; i++) {
        cum += h->counts[i];
        prom_float(f, sizeof f, h->bounds[i]);
        sbuf_printf(b, "%s_bucket{%s%sle=\"%s\"} %llu\n", name, l, sep, f, (unsigned long long)cum);
    }
    sbuf_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, l, sep, (unsigned long long)h->count);
    char n[300];
    snprintf(n, sizeof n, "%s_sum", name);
    prom_sample(b, n, labels, h->sum);
    snprintf(n, sizeof n, "%s_count", name);
    prom_sample(b, n, labels, (double)h->count);
}

void prom_label_value(char *out, size_t len, const char *v)
{
    if (!len) return;
    size_t o = 0;
    for (const char *s = v ? v : ""; *s; s++) {
        const char *esc = *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : *s == '\n' ? "\\n" : NULL;
        size_t need = esc ? 2 : 1;
        if (o + need >= len) break;
        if (esc) { out[o++] = esc[0]; out[o++] = esc[1]; }
        else out[o++] = *s;
    }
    out[o] = '\0';
}

/* ---- merging ---------------------------------------------------------------- */

#define LINE_MAX_BYTES 4096
#define NAME_MAX_BYTES 256

typedef struct {
    char *name;
    char *help, *type;   /* whole lines, without the newline; NULL if none yet */
    sbuf_t samples;
} family_t;

typedef struct {
    family_t *f;
    size_t n, cap;
    strmap_t *index;     /* name -> (index + 1) */
    bool failed;
} merge_t;

static bool name_char(char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && c >= '0' && c <= '9');
}

/* Copies the metric name at s into out; its length, or 0 if none. */
static size_t read_name(const char *s, size_t len, char *out)
{
    size_t i = 0;
    while (i < len && i < NAME_MAX_BYTES - 1 && name_char(s[i], i == 0)) {
        out[i] = s[i];
        i++;
    }
    out[i] = '\0';
    return i;
}

static family_t *family_for(merge_t *m, const char *name)
{
    uintptr_t at = (uintptr_t)strmap_get(m->index, name);
    if (at) return &m->f[at - 1];
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 32;
        family_t *f = realloc(m->f, cap * sizeof *f);
        if (!f) return NULL;
        m->f = f;
        m->cap = cap;
    }
    family_t *f = &m->f[m->n];
    memset(f, 0, sizeof *f);
    f->name = strdup(name);
    if (!f->name) return NULL;
    if (strmap_put(m->index, name, (void *)(uintptr_t)(m->n + 1)) < 0) {
        free(f->name);
        return NULL;
    }
    m->n++;
    return f;
}

/* A "# HELP name ..." or "# TYPE name ..." line: the family it names. */
static family_t *comment_line(merge_t *m, const char *s, size_t len)
{
    bool help = len > 7 && strncmp(s, "# HELP ", 7) == 0;
    bool type = len > 7 && strncmp(s, "# TYPE ", 7) == 0;
    if (!help && !type) return NULL;
    char name[NAME_MAX_BYTES];
    size_t n = read_name(s + 7, len - 7, name);
    if (!n || (7 + n < len && s[7 + n] != ' ')) return NULL;
    family_t *f = family_for(m, name);
    if (!f) { m->failed = true; return NULL; }
    char **slot = help ? &f->help : &f->type;
    if (!*slot) {
        *slot = strndup(s, len);
        if (!*slot) m->failed = true;
    }
    return f;
}

static bool printable(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f) return false;
    return true;
}

/* Is the sample name `name` one of family fam's (fam, fam_bucket, ...)? */
static bool of_family(const char *name, const char *fam)
{
    size_t fl = strlen(fam);
    if (strncmp(name, fam, fl) != 0) return false;
    const char *rest = name + fl;
    return !*rest || !strcmp(rest, "_bucket") || !strcmp(rest, "_sum") || !strcmp(rest, "_count");
}

static void merge_text(merge_t *m, const char *text)
{
    size_t cur = 0;   /* 1 + the index of the family of the last HELP/TYPE line */
    for (const char *s = text; *s && !m->failed;) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        if (len && len <= LINE_MAX_BYTES && printable(s, len)) {
            if (s[0] == '#') {
                family_t *f = comment_line(m, s, len);
                if (f) cur = (size_t)(f - m->f) + 1;
            } else if (cur) {
                family_t *f = &m->f[cur - 1];
                char name[NAME_MAX_BYTES];
                size_t n = read_name(s, len, name);
                if (n && n < len && (s[n] == '{' || s[n] == ' ') && of_family(name, f->name)) {
                    sbuf_put(&f->samples, s, len);
                    sbuf_put(&f->samples, "\n", 1);
                }
            }
        }
        s = nl ? nl + 1 : s + len;
    }
}

char *prom_merge(const char *const *texts, size_t n)
{
    merge_t m = { 0 };
    m.index = strmap_new(NULL);
    if (!m.index) return NULL;
    for (size_t i = 0; i < n; i++)
        if (texts[i]) merge_text(&m, texts[i]);
    sbuf_t out = { 0 };
    for (size_t i = 0; i < m.n; i++) {
        family_t *f = &m.f[i];
        if (f->help) sbuf_printf(&out, "%s\n", f->help);
        if (f->type) sbuf_printf(&out, "%s\n", f->type);
        char *s = sbuf_take(&f->samples);
        if (s) sbuf_put(&out, s, strlen(s));
        else m.failed = true;
        free(s);
        free(f->name);
        free(f->help);
        free(f->type);
    }
    free(m.f);
    strmap_destroy(&m.index);
    char *r = sbuf_take(&out);
    if (m.failed) {
        free(r);
        return NULL;
    }
    return r;
}
