/* log.h - process-wide logging in klog's text format or as JSON lines.
 *
 * Owns: the log format, the verbosity threshold and stderr output.
 * Text:  I1127 16:52:41.123456    1234 file.c:123] "message" key="value"
 * JSON:  {"ts":1732726361.123456,"caller":"file.c:123","msg":"message","v":0,"key":"value"}
 *
 * Structured pairs are NULL-terminated lists of (const char *key, const char *value).
 * Writes are one write(2) each, so lines from concurrent processes do not interleave.
 */
#ifndef KUBUS_LOG_H
#define KUBUS_LOG_H

#include <stdbool.h>
#include <stdint.h>

typedef enum { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON = 1 } log_format_t;

/* component: short process name added to every JSON line ("component"). */
void log_init(const char *component, int verbosity, log_format_t format);
/* Parses "text" or "json"; returns 0, or -1 for anything else. */
int log_format_parse(const char *name, log_format_t *out);
int log_verbosity(void);
bool log_v_enabled(int level);

/* severity: 'I', 'W', 'E'. msg is printf-free; pairs follow, NULL-terminated. */
void log_kv(char severity, const char *file, int line, int v, const char *msg, ...);
/* printf-style message, no pairs. */
void log_printf(char severity, const char *file, int line, int v, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#define LOGI(...) log_kv('I', __FILE__, __LINE__, 0, __VA_ARGS__, (const char *)0)
#define LOGW(...) log_kv('W', __FILE__, __LINE__, 0, __VA_ARGS__, (const char *)0)
#define LOGE(...) log_kv('E', __FILE__, __LINE__, 0, __VA_ARGS__, (const char *)0)
#define LOGV(lvl, ...) \
    do { if (log_v_enabled(lvl)) log_kv('I', __FILE__, __LINE__, (lvl), __VA_ARGS__, (const char *)0); } while (0)
#define LOGFI(...) log_printf('I', __FILE__, __LINE__, 0, __VA_ARGS__)
#define LOGFW(...) log_printf('W', __FILE__, __LINE__, 0, __VA_ARGS__)
#define LOGFE(...) log_printf('E', __FILE__, __LINE__, 0, __VA_ARGS__)
#define LOGFV(lvl, ...) \
    do { if (log_v_enabled(lvl)) log_printf('I', __FILE__, __LINE__, (lvl), __VA_ARGS__); } while (0)

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
