/* flags.c - flag scanning and value checks. See flags.h. */
#include "flags.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "errfmt.h"

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

char *flags_trim(char *s)
{
    while (is_space(*s)) s++;
    char *e = s + strlen(s);
    while (e > s && is_space(e[-1])) *--e = '\0';
    return s;
}

void flags_iter_init(flags_iter_t *it, int argc, char **argv, int first)
{
    it->argc = argc;
    it->argv = argv;
    it->next = first;
}

int flags_iter_next(flags_iter_t *it, flags_arg_t *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    if (it->next >= it->argc) return 0;
    const char *arg = it->argv[it->next++];
    a->arg = arg;
    if (!arg || arg[0] != '-' || arg[1] == '\0')
        return errfmt(err, errlen, "unexpected argument \"%s\" (flags start with --)", arg ? arg : "");
    const char *name = arg + (arg[1] == '-' ? 2 : 1);
    const char *eq = strchr(name, '=');
    size_t n = eq ? (size_t)(eq - name) : strlen(name);
    if (n == 0 || name[0] == '-')
        return errfmt(err, errlen, "malformed flag \"%s\"", arg);
    if (n >= sizeof a->name) return errfmt(err, errlen, "unknown flag \"%s\"", arg);
    /* Upstream's commands normalize '_' to '-' (--concurrent_rc_syncs). */
    for (size_t i = 0; i < n; i++) a->name[i] = name[i] == '_' ? '-' : name[i];
    a->name[n] = '\0';
    if (eq) {
        a->value = eq + 1;
        a->inline_value = true;
    } else if (it->next < it->argc) {
        a->value = it->argv[it->next];
    }
    return 1;
}

void flags_iter_took_value(flags_iter_t *it, const flags_arg_t *a)
{
    if (!a->inline_value && a->value && it->next < it->argc) it->next++;
}

int flags_need_value(const flags_arg_t *a, char *err, size_t errlen)
{
    if (!a->value) return errfmt(err, errlen, "--%s needs a value", a->name);
    return 0;
}

int flags_long(const char *flag, const char *value, long min, long max, long *out,
               char *err, size_t errlen)
{
    if (!value || !*value) return errfmt(err, errlen, "--%s needs an integer value", flag);
    char *end = NULL;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || !end || *end)
        return errfmt(err, errlen, "--%s=%s: not an integer", flag, value);
    if (v < min || v > max)
        return errfmt(err, errlen, "--%s=%s: must be between %ld and %ld", flag, value, min, max);
    *out = v;
    return 0;
}

int flags_double(const char *flag, const char *value, double min, double max, double *out,
                 char *err, size_t errlen)
{
    if (!value || !*value) return errfmt(err, errlen, "--%s needs a numeric value", flag);
    char *end = NULL;
    errno = 0;
    double v = strtod(value, &end);
    if (errno || !end || *end || !isfinite(v))
        return errfmt(err, errlen, "--%s=%s: not a number", flag, value);
    if (v < min || v > max)
        return errfmt(err, errlen, "--%s=%s: must be between %g and %g", flag, value, min, max);
    *out = v;
    return 0;
}

int flags_bool(const char *flag, const char *value, bool *out, char *err, size_t errlen)
{
    if (!value) { *out = true; return 0; }
    static const char *yes[] = { "true", "1", "yes", "on" };
    static const char *no[] = { "false", "0", "no", "off" };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(value, yes[i]) == 0) { *out = true; return 0; }
        if (strcasecmp(value, no[i]) == 0) { *out = false; return 0; }
    }
    return errfmt(err, errlen, "--%s=%s: not a boolean (true or false)", flag, value);
}

/* Milliseconds per Go duration unit at s; *len: the unit's bytes. 0: none. */
static double unit_ms(const char *s, size_t *len)
{
    static const struct { const char *unit; double ms; } units[] = {
        { "ns", 1e-6 }, { "us", 1e-3 }, { "\xc2\xb5s", 1e-3 }, { "\xce\xbcs", 1e-3 },
        { "ms", 1.0 }, { "s", 1000.0 }, { "m", 60000.0 }, { "h", 3600000.0 },
    };
    double best = 0;
    *len = 0;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        size_t n = strlen(units[i].unit);
        /* Longest match first: "ms" before "m". */
        if (n > *len && strncmp(s, units[i].unit, n) == 0) {
            *len = n;
            best = units[i].ms;
        }
    }
    return best;
}

/* One "number unit" pair at *s; adds its milliseconds to *ms. */
static int duration_pair(const char **s, double *ms)
{
    const char *p = *s;
    size_t digits = 0;
    while (*p >= '0' && *p <= '9') p++, digits++;
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') p++, digits++;
    }
    if (digits == 0) return -1;
    char num[64];
    size_t n = (size_t)(p - *s);
    if (n >= sizeof num) return -1;
    memcpy(num, *s, n);
    num[n] = '\0';
    size_t ulen = 0;
    double per = unit_ms(p, &ulen);
    if (per == 0) return -1;
    *ms += strtod(num, NULL) * per;
    *s = p + ulen;
    return 0;
}

int flags_go_duration(const char *flag, const char *value, double *ms, char *err, size_t errlen)
{
    if (!value || !*value) return errfmt(err, errlen, "--%s needs a duration (e.g. 10s)", flag);
    const char *s = value;
    bool neg = *s == '-';
    if (*s == '-' || *s == '+') s++;
    double total = 0;
    if (strcmp(s, "0") == 0) {
        *ms = 0;
        return 0;
    }
    do {
        if (duration_pair(&s, &total) < 0)
            return errfmt(err, errlen, "--%s=%s: not a duration (use e.g. 500ms, 10s, 1m30s)",
                              flag, value);
    } while (*s);
    if (!isfinite(total))
        return errfmt(err, errlen, "--%s=%s: duration out of range", flag, value);
    *ms = neg ? -total : total;
    return 0;
}

int flags_duration_ms(const char *flag, const char *value, uint64_t min_ms, uint64_t max_ms,
                      uint64_t *out, char *err, size_t errlen)
{
    if (!value || !*value) return errfmt(err, errlen, "--%s needs a duration (e.g. 10s)", flag);
    char *end = NULL;
    errno = 0;
    double ms = strtod(value, &end) * 1000.0; /* a bare number: seconds */
    bool bare = !errno && end != value && *end == '\0' && isfinite(ms);
    if (!bare && flags_go_duration(flag, value, &ms, err, errlen) < 0) return -1;
    if (ms < (double)min_ms || ms > (double)max_ms)
        return errfmt(err, errlen, "--%s=%s: must be between %llums and %llums", flag, value,
                      (unsigned long long)min_ms, (unsigned long long)max_ms);
    *out = (uint64_t)ms;
    return 0;
}

int flags_string(const char *flag, const char *value, char *out, size_t outlen, bool allow_empty,
                 char *err, size_t errlen)
{
    if (!value) return errfmt(err, errlen, "--%s needs a value", flag);
    if (!allow_empty && !*value) return errfmt(err, errlen, "--%s: empty value", flag);
    size_t n = strlen(value);
    if (n >= outlen)
        return errfmt(err, errlen, "--%s: value of %zu bytes is too long (limit %zu)", flag, n,
                      outlen - 1);
    memcpy(out, value, n + 1);
    return 0;
}
