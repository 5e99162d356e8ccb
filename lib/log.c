/* log.c - klog-style text and component-base JSON log lines. See log.h. */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "vmodule.h"

static struct {
    char name[64];
    int verbosity;
    log_format_t format;
    bool split;
} g_log = { "", 0, LOG_FORMAT_TEXT, false };

/* --vmodule in force. Other threads (the supervisor's HTTP and election
 * threads) log too, and SIGHUP may replace the list: the mutex guards it;
 * the count lets the common case (no --vmodule) skip the lock. */
static pthread_mutex_t g_vmodule_mu = PTHREAD_MUTEX_INITIALIZER;
static vmodule_t g_vmodule;
static atomic_size_t g_vmodule_n;

void log_init(const char *name, int verbosity, log_format_t format)
{
    log_set_name(name);
    g_log.verbosity = verbosity;
    g_log.format = format;
}

void log_set_name(const char *name) { snprintf(g_log.name, sizeof g_log.name, "%s", name ? name : ""); }
void log_set_split_stream(bool split) { g_log.split = split; }

int log_format_parse(const char *name, log_format_t *out)
{
    if (!name) return -1;
    if (strcmp(name, "text") == 0) { *out = LOG_FORMAT_TEXT; return 0; }
    if (strcmp(name, "json") == 0) { *out = LOG_FORMAT_JSON; return 0; }
    return -1;
}

int log_verbosity(void) { return g_log.verbosity; }
bool log_v_enabled(int level) { return level <= g_log.verbosity; }

/* klog's V(): the global level first, then the file's --vmodule level. */
bool log_v_enabled_at(int level, const char *file)
{
    if (level <= g_log.verbosity) return true;
    if (atomic_load(&g_vmodule_n) == 0) return false;
    pthread_mutex_lock(&g_vmodule_mu);
    int v = vmodule_level(&g_vmodule, file);
    pthread_mutex_unlock(&g_vmodule_mu);
    return level <= v;
}

int log_vmodule_check(const char *spec, char *err, size_t errlen)
{
    static vmodule_t scratch; /* large; parse only */
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&mu);
    int rc = vmodule_parse(spec, &scratch, err, errlen);
    pthread_mutex_unlock(&mu);
    return rc;
}

int log_vmodule_set(const char *spec, char *err, size_t errlen)
{
    pthread_mutex_lock(&g_vmodule_mu);
    vmodule_t prev = g_vmodule;
    int rc = vmodule_parse(spec, &g_vmodule, err, errlen);
    if (rc < 0) g_vmodule = prev; /* a refused list changes nothing */
    atomic_store(&g_vmodule_n, g_vmodule.n);
    pthread_mutex_unlock(&g_vmodule_mu);
    return rc;
}

/* ---- the line buffer ---- */

/* A fixed line buffer. Pieces go in whole or not at all; once one did not
 * fit, nothing more goes in (so a cut line never skips a middle part), but
 * the closing bytes always fit in the reserve. */
#define LINE_RESERVE 16
typedef struct { char buf[LOG_LINE_MAX]; size_t len; bool cut; } line_t;

static bool line_put(line_t *l, const char *s, size_t n)
{
    if (l->cut || l->len + n > sizeof l->buf - LINE_RESERVE) {
        l->cut = true;
        return false;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
    return true;
}

static bool line_puts(line_t *l, const char *s) { return line_put(l, s, strlen(s)); }

/* Into the reserve: the closing quote, brace, "..." and newline. */
static void line_close(line_t *l, const char *s)
{
    size_t n = strlen(s);
    if (l->len + n > sizeof l->buf) n = sizeof l->buf - l->len;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

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

/* ---- quoting ---- */

/* klog text: backslash escapes, \uXXXX for other controls, bytes as given. */
static void text_quoted(line_t *l, const char *s)
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
    if (l->cut) return;
    line_put(l, "\"", 1);
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 if it is not one. */
static size_t utf8_len(const unsigned char *p)
{
    size_t n;
    unsigned min;
    unsigned c = p[0];
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) { n = 2; min = 0x80; c &= 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { n = 3; min = 0x800; c &= 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 4; min = 0x10000; c &= 0x07; }
    else return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        c = c << 6 | (p[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return 0;
    return n;
}

/* One JSON string unit as zap writes it: the escape of an ASCII byte. */
static bool json_ascii(line_t *l, unsigned char c)
{
    char esc[8];
    switch (c) {
    case '"': return line_put(l, "\\\"", 2);
    case '\\': return line_put(l, "\\\\", 2);
    case '\n': return line_put(l, "\\n", 2);
    case '\r': return line_put(l, "\\r", 2);
    case '\t': return line_put(l, "\\t", 2);
    default:
        if (c >= 0x20) return line_put(l, (const char *)&c, 1);
        snprintf(esc, sizeof esc, "\\u%04x", c);
        return line_puts(l, esc);
    }
}

/* A JSON string. 0: written whole; 1: cut, but ending in "..." and closed;
 * -1: nothing written (not even the opening quote fitted). */
static int json_quoted(line_t *l, const char *s)
{
    if (!line_put(l, "\"", 1)) return -1;
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        size_t n = utf8_len(p);
        bool ok;
        if (n == 1) ok = json_ascii(l, *p);
        else if (n > 1) ok = line_put(l, (const char *)p, n);
        else ok = line_puts(l, "\\ufffd");
        if (!ok) {
            line_close(l, "...\"");
            return 1;
        }
        p += n ? n : 1;
    }
    return line_put(l, "\"", 1) ? 0 : (line_close(l, "\""), 1);
}

/* ---- headers ---- */

/* zap's ShortCallerEncoder: the last directory and the file. */
static const char *short_caller(const char *path)
{
    const char *last = strrchr(path, '/');
    if (!last) return path;
    for (const char *p = last - 1; p >= path; p--)
        if (*p == '/') return p + 1;
    return path;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Milliseconds since the epoch the way component-base computes them
 * (nanoseconds as a float, divided by 1e6) and Go prints a float64 with
 * 'f' and precision -1: the fewest decimals that read back as the same
 * number. */
static void json_ts(line_t *l)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double ms = (double)((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec) / 1e6;
    char buf[64];
    for (int prec = 0; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*f", prec, ms);
        if (strtod(buf, NULL) == ms) break;
    }
    line_puts(l, buf);
}

static void json_header(line_t *l, const char *file, int line)
{
    line_puts(l, "{\"ts\":");
    json_ts(l);
    if (g_log.name[0]) {
        line_puts(l, ",\"logger\":");
        json_quoted(l, g_log.name);
    }
    line_printf(l, ",\"caller\":\"%s:%d\",\"msg\":", short_caller(file), line);
}

static void text_header(line_t *l, char severity, const char *file, int line)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    line_printf(l, "%c%02d%02d %02d:%02d:%02d.%06ld %7d %s:%d] ", severity, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)tv.tv_usec, (int)getpid(),
                base_name(file), line);
}

/* ---- one line ---- */

/* component-base's routing, see log.h. */
static int line_fd(char severity)
{
    if (!g_log.split) return STDERR_FILENO;
    bool to_err = g_log.format == LOG_FORMAT_JSON ? severity == 'E' : severity != 'I';
    return to_err ? STDERR_FILENO : STDOUT_FILENO;
}

static void line_emit(line_t *l, char severity)
{
    if (g_log.format == LOG_FORMAT_JSON) line_close(l, "}");
    else if (l->cut) line_close(l, "...");
    line_close(l, "\n");
    /* One write per line; a short write to a log stream is not worth retrying. */
    ssize_t w = write(line_fd(severity), l->buf, l->len);
    (void)w;
}

static void text_pair(line_t *l, const char *key, const char *val)
{
    line_puts(l, " ");
    line_puts(l, key);
    line_puts(l, "=");
    text_quoted(l, val ? val : "<nil>");
}

/* A pair goes in with its whole key or not at all, so the object stays
 * valid JSON when the line is cut. */
static void json_pair(line_t *l, const char *key, const char *val)
{
    size_t start = l->len;
    if (!line_puts(l, ",") || json_quoted(l, key) != 0 || !line_puts(l, ":") ||
        json_quoted(l, val ? val : "<nil>") < 0) {
        l->len = start;
        l->cut = true;
    }
}

static void log_kv_va(char severity, const char *file, int line, int v, const char *msg, va_list ap)
{
    line_t l;
    bool json = g_log.format == LOG_FORMAT_JSON;
    const char *err_text = NULL;
    l.len = 0;
    l.cut = false;
    if (json) {
        json_header(&l, file, line);
        json_quoted(&l, msg);
        if (severity != 'E') line_printf(&l, ",\"v\":%d", v);
    } else {
        text_header(&l, severity, file, line);
        text_quoted(&l, msg);
    }
    for (;;) {
        const char *key = va_arg(ap, const char *);
        if (!key) break;
        const char *val = va_arg(ap, const char *);
        if (json && severity == 'E' && !err_text && strcmp(key, "error") == 0) {
            err_text = val ? val : "<nil>"; /* ErrorS's err: written last */
            continue;
        }
        if (json) json_pair(&l, key, val);
        else text_pair(&l, key, val);
    }
    if (err_text) json_pair(&l, "err", err_text);
    line_emit(&l, severity);
}

void log_kv(char severity, const char *file, int line, int v, const char *msg, ...)
{
    va_list ap;
    va_start(ap, msg);
    log_kv_va(severity, file, line, v, msg, ap);
    va_end(ap);
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
