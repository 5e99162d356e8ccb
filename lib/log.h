/* log.h - process-wide logging in klog's text format or component-base's JSON.
 *
 * Owns: the log line formats, the verbosity threshold with its per-file
 * --vmodule overrides, and which stream a line goes to.
 *
 * Text (klog):  I1127 16:52:41.123456    1234 file.c:123] "message" key="value"
 * JSON (k8s.io/component-base/logs/json, zap's encoder as upstream sets it up):
 *   {"ts":1732726361123.4563,"logger":"replicaset-controller","caller":"dir/file.c:123",
 *    "msg":"message","v":0,"key":"value"}
 *   - ts: milliseconds since the epoch as a float, shortest decimal form
 *   - logger: only when a name was set (log_set_name), as upstream's
 *     controllers carry their controller name
 *   - caller: the last directory and the file, as zap's short caller
 *   - v: the verbosity of info and warning lines; error lines have none
 *   - error lines: the pair keyed "error" is the error (klog.ErrorS's err):
 *     it is written last, as "err"; without one there is no "err"
 *   - strings escaped as zap does; invalid UTF-8 becomes \ufffd
 * Streams, as component-base routes them: everything on stderr; with split
 * streams (--log-text-split-stream / --log-json-split-stream), JSON error
 * lines on stderr and the others on stdout, text 'I' lines on stdout and the
 * others on stderr.
 *
 * Structured pairs are NULL-terminated lists of (const char *key, const char *value).
 * Writes are one write(2) each, so lines from concurrent processes do not interleave.
 * Lines longer than LOG_LINE_MAX are cut (text: "..." at the end; JSON: the
 * cut string ends in "..." and the object is still closed).
 */
#ifndef KUBUS_LOG_H
#define KUBUS_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOG_LINE_MAX 8192

typedef enum { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON = 1 } log_format_t;

/* name: the JSON "logger" field ("" or NULL: none). */
void log_init(const char *name, int verbosity, log_format_t format);
/* Replaces the logger name only (a controller names itself after init). */
void log_set_name(const char *name);
/* Split streams on or off (see above). */
void log_set_split_stream(bool split);
/* Parses "text" or "json"; returns 0, or -1 for anything else. */
int log_format_parse(const char *name, log_format_t *out);
int log_verbosity(void);
/* The global threshold only (-v); code that guards its own V-level work
 * should ask log_v_enabled_at, so --vmodule reaches it. */
bool log_v_enabled(int level);
/* With --vmodule: file is __FILE__ of the call site. */
bool log_v_enabled_at(int level, const char *file);

/* --vmodule, klog's "pattern=N,...": pattern is matched against the source
 * file's base name without its extension ("config" for supervisor/config.c),
 * literally or as a glob (* ? [...]); the first matching pattern gives that
 * file's level, and a line is written when its level is within -v or that
 * level. Empty items are skipped; "" clears. Checked as component-base
 * checks the flag: each item must be pattern=N with a non-empty pattern and
 * N an integer in 0..2^31-1. 0, or -1 with the reason in err. */
int log_vmodule_check(const char *spec, char *err, size_t errlen);
int log_vmodule_set(const char *spec, char *err, size_t errlen);

/* severity: 'I', 'W', 'E'. msg is printf-free; pairs follow, NULL-terminated. */
void log_kv(char severity, const char *file, int line, int v, const char *msg, ...);
/* printf-style message, no pairs. */
void log_printf(char severity, const char *file, int line, int v, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#define LOGI(...) log_kv('I', __FILE__, __LINE__, 0, __VA_ARGS__, (const char *)0)
#define LOGW(...) log_kv('W', __FILE__, __LINE__, 0, __VA_ARGS__, (const char *)0)
#define LOGE(...) log_kv('E', __FILE__, __LINE__, 0, __VA_ARGS__, (const char *)0)
#define LOGV(lvl, ...) \
    do { if (log_v_enabled_at((lvl), __FILE__)) log_kv('I', __FILE__, __LINE__, (lvl), __VA_ARGS__, (const char *)0); } while (0)
#define LOGFI(...) log_printf('I', __FILE__, __LINE__, 0, __VA_ARGS__)
#define LOGFW(...) log_printf('W', __FILE__, __LINE__, 0, __VA_ARGS__)
#define LOGFE(...) log_printf('E', __FILE__, __LINE__, 0, __VA_ARGS__)
#define LOGFV(lvl, ...) \
    do { if (log_v_enabled_at((lvl), __FILE__)) log_printf('I', __FILE__, __LINE__, (lvl), __VA_ARGS__); } while (0)

/* A token bucket for noisy logs (bad input): allows `burst` lines, then one
 * per `per_sec`-th of a second. Counts what it suppressed. */
typedef struct {
    double tokens;
    double rate;      /* tokens per second */
    double burst;
    uint64_t last_ns;
    uint64_t suppressed;
} log_limit_t;
#define LOG_LIMIT_INIT(rate_, burst_) { (burst_), (rate_), (burst_), 0, 0 }
bool log_limit_allow(log_limit_t *l);

#endif
