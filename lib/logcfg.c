/* logcfg.c - the logging flags, their checks and their use. See logcfg.h. */
#include "logcfg.h"
#include "errfmt.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"

static const char *const format_names[2] = { "text", "json" };

void logcfg_defaults(logcfg_t *c)
{
    memset(c, 0, sizeof *c);
    c->format = LOG_FORMAT_TEXT;
}

/* A Kubernetes quantity as the buffer size flags take it: a decimal number
 * with an optional suffix (SI, binary or an exponent). *nonzero: not 0. */
static int parse_quantity(const char *v, bool *nonzero)
{
    static const char *const suffixes[] = { "", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m",
                                            "k", "M", "G", "T", "P", "E" };
    char *end = NULL;
    if (!(*v >= '0' && *v <= '9') && *v != '+' && *v != '.') return -1;
    double d = strtod(v, &end);
    if (end == v || strchr(v, 'x') || strchr(v, 'X')) return -1; /* no hex floats */
    *nonzero = d != 0.0; /* strtod took any exponent ("1e3") */
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
        if (strcmp(end, suffixes[i]) == 0) return 0;
    return -1;
}

static int set_vmodule(logcfg_t *c, const char *v, char *err, size_t errlen)
{
    if (log_vmodule_check(v, err, errlen) < 0) return -1;
    size_t have = strlen(c->vmodule), n = strlen(v);
    /* Like component-base's flag value: a repeated --vmodule adds to the list. */
    if (have + (have ? 1 : 0) + n >= sizeof c->vmodule)
        return errfmt(err, errlen, "--vmodule: list too long (limit %zu bytes)", sizeof c->vmodule - 1);
    if (have && n) c->vmodule[have++] = ',';
    memcpy(c->vmodule + have, v, n + 1);
    return 0;
}

static int set_format(logcfg_t *c, const char *v, char *err, size_t errlen)
{
    if (log_format_parse(v, &c->format) < 0)
        return errfmt(err, errlen, "--logging-format=%s: must be text or json", v);
    return 0;
}

static int set_buffer(logcfg_t *c, int fmt, const char *name, const char *v, char *err, size_t errlen)
{
    bool nonzero = false;
    if (parse_quantity(v, &nonzero) < 0)
        return errfmt(err, errlen, "--%s=%s: not a quantity (e.g. 512, 1K, 2Ki, 3M)", name, v);
    c->buffered[fmt] = nonzero;
    return 0;
}

/* The split stream and buffer size flags of one format. */
static int set_per_format(logcfg_t *c, const char *name, const char *value, bool inline_value,
                          bool *took, char *err, size_t errlen)
{
    for (int fmt = 0; fmt < 2; fmt++) {
        char split[40], buffer[40];
        snprintf(split, sizeof split, "log-%s-split-stream", format_names[fmt]);
        snprintf(buffer, sizeof buffer, "log-%s-info-buffer-size", format_names[fmt]);
        if (strcmp(name, split) == 0) {
            *took = inline_value && value;
            return flags_bool(name, inline_value ? value : NULL, &c->split[fmt], err, errlen);
        }
        if (strcmp(name, buffer) == 0) {
            if (!value) return errfmt(err, errlen, "--%s needs a value", name);
            *took = true;
            return set_buffer(c, fmt, name, value, err, errlen);
        }
    }
    return 1;
}

int logcfg_flag(logcfg_t *c, const char *name, const char *value, bool inline_value, bool *took,
                char *err, size_t errlen)
{
    *took = false;
    bool v = strcmp(name, "v") == 0, fmt = strcmp(name, "logging-format") == 0,
         vmod = strcmp(name, "vmodule") == 0;
    if (!v && !fmt && !vmod) return set_per_format(c, name, value, inline_value, took, err, errlen);
    if (!value) return errfmt(err, errlen, "--%s needs a value", name);
    *took = true;
    if (fmt) return set_format(c, value, err, errlen);
    if (vmod) return set_vmodule(c, value, err, errlen);
    long l = 0;
    if (flags_long(name, value, 0, INT32_MAX, &l, err, errlen) < 0) return -1;
    c->verbosity = (int)l;
    return 0;
}

int logcfg_check(const logcfg_t *c, const fg_set_t *gates, char *err, size_t errlen)
{
    if (c->vmodule[0] && c->format != LOG_FORMAT_TEXT)
        return errfmt(err, errlen, "--vmodule: only supported for the text log format");
    if (c->format == LOG_FORMAT_JSON && !fg_enabled_name(gates, "LoggingBetaOptions"))
        return errfmt(err, errlen, "--logging-format=json: log format json is disabled, see "
                          "LoggingBetaOptions feature");
    bool alpha = fg_enabled_name(gates, "LoggingAlphaOptions");
    for (int fmt = 0; fmt < 2 && !alpha; fmt++) {
        if (c->split[fmt])
            return errfmt(err, errlen, "--log-%s-split-stream: feature LoggingAlphaOptions is "
                              "disabled", format_names[fmt]);
        if (c->buffered[fmt])
            return errfmt(err, errlen, "--log-%s-info-buffer-size: feature LoggingAlphaOptions "
                              "is disabled", format_names[fmt]);
    }
    return 0;
}

void logcfg_apply(const logcfg_t *c, const char *name)
{
    log_init(name, c->verbosity, c->format);
    log_set_split_stream(c->split[c->format]);
    char err[256];
    /* Checked when the flag was parsed: this cannot fail. */
    if (log_vmodule_set(c->vmodule, err, sizeof err) < 0) LOGE("--vmodule refused", "error", err);
}

int logcfg_args(const logcfg_t *c, int (*add)(void *ctx, const char *arg), void *ctx)
{
    char arg[LOGCFG_VMODULE_MAX + 16];
    int rc;
    snprintf(arg, sizeof arg, "-v=%d", c->verbosity);
    if ((rc = add(ctx, arg)) != 0) return rc;
    snprintf(arg, sizeof arg, "--logging-format=%s", format_names[c->format]);
    if ((rc = add(ctx, arg)) != 0) return rc;
    if (c->vmodule[0]) {
        snprintf(arg, sizeof arg, "--vmodule=%s", c->vmodule);
        if ((rc = add(ctx, arg)) != 0) return rc;
    }
    for (int fmt = 0; fmt < 2; fmt++) {
        if (!c->split[fmt]) continue;
        snprintf(arg, sizeof arg, "--log-%s-split-stream=true", format_names[fmt]);
        if ((rc = add(ctx, arg)) != 0) return rc;
    }
    return 0;
}
