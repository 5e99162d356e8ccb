/* log.c - klog-style text and JSON log lines on stderr. See log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static struct {
    char component[64];
    int verbosity;
    log_format_t format;
} g_log = { "kubus", 0, LOG_FORMAT_TEXT };

void log_init(const char *component, int verbosity, log_format_t format)
{
    snprintf(g_log.component, sizeof g_log.component, "%s", component ? component : "kubus");
    g_log.verbosity = verbosity;
    g_log.format = format;
}

int log_format_parse(const char *name, log_format_t *out)
{
    if (!name) return -1;
    if (strcmp(name, "text") == 0) { *out = LOG_FORMAT_TEXT; return 0; }
    if (strcmp(name, "json") == 0) { *out = LOG_FORMAT_JSON; return 0; }
    return -1;
}

int log_verbosity(void) { return g_log.verbosity; }
bool log_v_enabled(int level) { return level <= g_log.verbosity; }

/* A fixed line buffer; lines longer than this are cut (with "...") rather
 * than split, so one event stays one line. */
typedef struct { char buf[8192]; size_t len; bool cut; } line_t;

static void line_put(line_t *l, const char *s, size_t n)
{
    size_t room = sizeof l->buf - 5 - l->len; /* keep room for "...\n" */
    if (n > room) { n = room; l->cut = true; }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void line_puts(line_t *l, const char *s) { line_put(l, s, strlen(s)); }

static void line_printf(line_t *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void line_printf(line_t *l, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    line_put(l, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Quotes a string the way klog/JSON do: backslash escapes, \uXXXX for controls. */
static void line_quoted(line_t *l, const char *s)
{
    line_put(l, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        char esc[8];
        switch (*p) {
        case '"': line_put(l, "\\\"", 2); break;
        case '\\': line_put(l, "\\\\", 2); break;
        case '\n': line_put(l, "\\n", 2); break;
        case '\t': line_put(l, "\\t", 2); break;
        case '\r': line_put(l, "\\r", 2); break;
        default:
            if (*p < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", *p);
                line_puts(l, esc);
            } else {
                line_put(l, (const char *)p, 1);
            }
        }
    }
    line_put(l, "\"", 1);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static void line_header(line_t *l, char severity, const char *file, int line, int v)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    if (g_log.format == LOG_FORMAT_JSON) {
        line_printf(l, "{\"ts\":%lld.%06ld,\"caller\":\"%s:%d\",",
                    (long long)tv.tv_sec, (long)tv.tv_usec, base_name(file), line);
        if (severity == 'E') line_puts(l, "\"err\":true,");
        line_printf(l, "\"v\":%d,\"component\":", v);
        line_quoted(l, g_log.component);
        line_puts(l, ",\"msg\":");
        return;
    }
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    line_printf(l, "%c%02d%02d %02d:%02d:%02d.%06ld %7d %s:%d] ", severity, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)tv.tv_usec, (int)getpid(),
                base_name(file), line);
}

static void line_emit(line_t *l)
{
    if (g_log.format == LOG_FORMAT_JSON) line_put(l, "}", 1);
    if (l->cut) { memcpy(l->buf + l->len, "...", 3); l->len += 3; }
    l->buf[l->len++] = '\n';
    /* One write per line; a short write to stderr is not worth retrying. */
    ssize_t w = write(STDERR_FILENO, l->buf, l->len);
    (void)w;
}

void log_kv(char severity, const char *file, int line, int v, const char *msg, ...)
{
    line_t l = { .len = 0, .cut = false };
    line_header(&l, severity, file, line, v);
    line_quoted(&l, msg);
    va_list ap;
    va_start(ap, msg);
    for (;;) {
        const char *key = va_arg(ap, const char *);
        if (!key) break;
        const char *val = va_arg(ap, const char *);
        if (g_log.format == LOG_FORMAT_JSON) {
            line_puts(&l, ",");
            line_quoted(&l, key);
            line_puts(&l, ":");
        } else {
            line_puts(&l, " ");
            line_puts(&l, key);
            line_puts(&l, "=");
        }
        line_quoted(&l, val ? val : "<nil>");
    }
    va_end(ap);
    line_emit(&l);
}

void log_printf(char severity, const char *file, int line, int v, const char *fmt, ...)
{
    char msg[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_kv(severity, file, line, v, msg, (const char *)0);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

bool log_limit_allow(log_limit_t *lim)
{
    uint64_t now = mono_ns();
    if (lim->last_ns) {
        lim->tokens += (double)(now - lim->last_ns) / 1e9 * lim->rate;
        if (lim->tokens > lim->burst) lim->tokens = lim->burst;
    }
    lim->last_ns = now;
    if (lim->tokens >= 1.0) { lim->tokens -= 1.0; return true; }
    lim->suppressed++;
    return false;
}
