/* featuregate.c - parsing --feature-gates and looking gates up. See featuregate.h. */
#include "featuregate.h"
#include "errfmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"

#define SPELL_BARE 1
#define SPELL_KUBE 2

void fg_set_init(fg_set_t *s)
{
    memset(s->value, -1, sizeof s->value);
    s->spelling = 0;
}

static int by_name(const void *key, const void *elem)
{
    return strcmp(key, ((const fg_gate_t *)elem)->name);
}

int fg_lookup(const char *name)
{
    const fg_gate_t *g = bsearch(name, fg_gates, FG_GATE_COUNT, sizeof fg_gates[0], by_name);
    return g ? (int)(g - fg_gates) : -1;
}

/* Go's strconv.ParseBool. */
static int parse_go_bool(const char *v, bool *out)
{
    static const char *yes[] = { "1", "t", "T", "TRUE", "true", "True" };
    static const char *no[] = { "0", "f", "F", "FALSE", "false", "False" };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcmp(v, yes[i]) == 0) { *out = true; return 0; }
        if (strcmp(v, no[i]) == 0) { *out = false; return 0; }
    }
    return -1;
}

/* "Name=BOOL" into s. */
static int set_one(fg_set_t *s, char *item, char *err, size_t errlen)
{
    char *eq = strchr(item, '=');
    if (eq) *eq = '\0';
    const char *k = flags_trim(item);
    if (!eq) return errfmt(err, errlen, "--feature-gates: missing bool value for %s", k);
    const char *v = flags_trim(eq + 1);
    bool on = false;
    if (parse_go_bool(v, &on) < 0)
        return errfmt(err, errlen, "--feature-gates: invalid value of %s=%s, err: "
                          "strconv.ParseBool: parsing \"%s\": invalid syntax", k, v, v);
    int i = fg_lookup(k);
    if (i < 0) return errfmt(err, errlen, "--feature-gates: unrecognized feature gate: %s", k);
    const fg_gate_t *g = &fg_gates[i];
    if (g->locked && on != g->default_on)
        return errfmt(err, errlen, "--feature-gates: cannot set feature gate %s to %s, feature "
                          "is locked to %s", k, on ? "true" : "false", g->default_on ? "true" : "false");
    s->value[i] = on ? 1 : 0;
    return 0;
}

/* One comma item: an optional "component:" and the gate. */
static int parse_item(fg_set_t *s, char *item, char *err, size_t errlen)
{
    char *colon = strchr(item, ':');
    uint8_t spelling = SPELL_BARE;
    if (colon) {
        *colon = '\0';
        const char *comp = flags_trim(item);
        if (strcmp(comp, "kube") != 0)
            return errfmt(err, errlen, "--feature-gates: component not registered: %s", comp);
        spelling = SPELL_KUBE;
        item = colon + 1;
    }
    if (s->spelling && s->spelling != spelling)
        return errfmt(err, errlen, "--feature-gates: set kube feature gates with default empty "
                          "prefix or kube: prefix consistently, do not mix use");
    s->spelling = spelling;
    item = flags_trim(item);
    return *item ? set_one(s, item, err, errlen) : 0;
}

int fg_parse(fg_set_t *s, const char *value, char *err, size_t errlen)
{
    if (!value) return errfmt(err, errlen, "--feature-gates needs a value");
    char *copy = strdup(value);
    if (!copy) return errfmt(err, errlen, "--feature-gates: out of memory");
    fg_set_t next = *s; /* all or nothing */
    int rc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save))
        rc = parse_item(&next, tok, err, errlen);
    free(copy);
    if (rc == 0) *s = next;
    return rc;
}

/* Upstream: a gate set by name wins; else AllAlpha / AllBeta, when set,
 * decide for their stage; else the default. */
bool fg_enabled(const fg_set_t *s, int gate)
{
    if (gate < 0 || gate >= FG_GATE_COUNT) return false;
    if (s->value[gate] >= 0) return s->value[gate] == 1;
    const fg_gate_t *g = &fg_gates[gate];
    bool special = strcmp(g->name, "AllAlpha") == 0 || strcmp(g->name, "AllBeta") == 0;
    const char *all = g->stage == FG_ALPHA ? "AllAlpha" : g->stage == FG_BETA ? "AllBeta" : NULL;
    int a = all && !special ? fg_lookup(all) : -1;
    if (a >= 0 && s->value[a] >= 0) return s->value[a] == 1;
    return g->default_on;
}

bool fg_enabled_name(const fg_set_t *s, const char *name) { return fg_enabled(s, fg_lookup(name)); }

int fg_format(const fg_set_t *s, char *out, size_t outlen)
{
    size_t used = 0;
    if (outlen == 0) return -1;
    out[0] = '\0';
    for (int i = 0; i < FG_GATE_COUNT; i++) {
        if (s->value[i] < 0) continue;
        int n = snprintf(out + used, outlen - used, "%s%s=%s", used ? "," : "", fg_gates[i].name,
                         s->value[i] ? "true" : "false");
        if (n < 0 || (size_t)n >= outlen - used) return -1;
        used += (size_t)n;
    }
    return 0;
}

const char *fg_stage_label(fg_stage_t stage)
{
    switch (stage) {
    case FG_ALPHA: return "ALPHA";
    case FG_BETA: return "BETA";
    case FG_GA: return "";
    case FG_DEPRECATED: return "DEPRECATED";
    }
    return "";
}
