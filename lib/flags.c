/* flags.c - flag scanning and value checks. See flags.h. */
#include "flags.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "errfmt.h"

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
    memcpy(a->name, name, n);
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

/* Milliseconds per unit suffix; 0 for an unknown suffix. */
static double unit_ms(const char *unit)
{
    if (*unit == '\0' || strcmp(unit, "s") == 0) return 1000.0;
    if (strcmp(unit, "ms") == 0) return 1.0;
    if (strcmp(unit, "m") == 0) return 60000.0;
    if (strcmp(unit, "h") == 0) return 3600000.0;
    return 0.0;
}

int flags_duration_ms(const char *flag, const char *value, uint64_t min_ms, uint64_t max_ms,
                      uint64_t *out, char *err, size_t errlen)
{
    if (!value || !*value) return errfmt(err, errlen, "--%s needs a duration (e.g. 10s)", flag);
    char *end = NULL;
    errno = 0;
    double v = strtod(value, &end);
    double per = end ? unit_ms(end) : 0.0;
    if (errno || end == value || per == 0.0 || !isfinite(v) || v < 0)
        return errfmt(err, errlen, "--%s=%s: not a duration (use e.g. 500ms, 10s, 2m)", flag, value);
    double ms = v * per;
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
