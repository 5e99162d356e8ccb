/* logcfg.h - the logging flags every kubus program takes.
 *
 * Owns: component-base's logging flags (its LoggingConfiguration) as kubus
 * has them: -v, --logging-format, --vmodule, --log-text-split-stream,
 * --log-json-split-stream, --log-text-info-buffer-size and
 * --log-json-info-buffer-size; their checks against each other and against
 * the feature gates (as component-base validates them); applying them to
 * lib/log; and the arguments that pass them on to a worker. Shared by the
 * supervisor (config.c) and worker_main, so both refuse the same things.
 *
 * kubus writes every line with one write(2): the info buffer sizes are
 * checked and accepted, and change nothing.
 */
#ifndef KUBUS_LOGCFG_H
#define KUBUS_LOGCFG_H

#include <stdbool.h>
#include <stddef.h>

#include "featuregate.h"
#include "log.h"

#define LOGCFG_VMODULE_MAX 1024

typedef struct {
    int verbosity;                       /* -v */
    log_format_t format;                 /* --logging-format */
    char vmodule[LOGCFG_VMODULE_MAX];    /* --vmodule, as given (repeats joined by ",") */
    bool split[2];                       /* by format: --log-text/json-split-stream */
    bool buffered[2];                    /* by format: a non-zero --log-*-info-buffer-size */
} logcfg_t;

void logcfg_defaults(logcfg_t *c);
/* One flag (name without dashes). 1: not a logging flag; 0: set (*took:
 * value was used); -1: bad value, err names the flag. Booleans take only
 * an inline value ("--log-json-split-stream=false"): bare means true. */
int logcfg_flag(logcfg_t *c, const char *name, const char *value, bool inline_value, bool *took,
                char *err, size_t errlen);
/* component-base's checks: --vmodule only with the text format; split
 * streams and info buffer sizes only with LoggingAlphaOptions; the json
 * format only with LoggingBetaOptions (on by default). 0 or -1. */
int logcfg_check(const logcfg_t *c, const fg_set_t *gates, char *err, size_t errlen);
/* log_init(name, ...), the split streams and the --vmodule list. */
void logcfg_apply(const logcfg_t *c, const char *name);
/* The flags that give a worker this configuration, one add() call each
 * (-v, --logging-format, and --vmodule / --log-*-split-stream when set).
 * 0, or the first non-zero add() result. */
int logcfg_args(const logcfg_t *c, int (*add)(void *ctx, const char *arg), void *ctx);

#endif
