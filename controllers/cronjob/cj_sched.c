/* cj_sched.c - cron schedule parsing and next-time search. See cj_sched.h. */
#include "cj_sched.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define STAR_BIT (1ull << 63)

typedef struct {
    int min, max;
    const char *const *names;   /* names[i] means min + i; NULL: numbers only */
} cj_bounds_t;

static const char *const MONTH_NAMES[] = { "jan", "feb", "mar", "apr", "may", "jun",
                                           "jul", "aug", "sep", "oct", "nov", "dec", NULL };
static const char *const DOW_NAMES[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL };

static const cj_bounds_t B_MINUTE = { 0, 59, NULL }, B_HOUR = { 0, 23, NULL }, B_DOM = { 1, 31, NULL },
                         B_MONTH = { 1, 12, MONTH_NAMES }, B_DOW = { 0, 6, DOW_NAMES };

static uint64_t bits_between(int lo, int hi, int step)
{
    uint64_t b = 0;
    for (int i = lo; i <= hi; i += step) b |= 1ull << i;
    return b;
}

static uint64_t all_of(const cj_bounds_t *r) { return bits_between(r->min, r->max, 1) | STAR_BIT; }

/* ---- parsing ------------------------------------------------------------------ */

/* Go's strconv.Atoi plus robfig's "no negatives". */
static int parse_int(const char *s, int *out, char *err, size_t errlen)
{
    char *end = NULL;
    errno = 0;
    long v = *s ? strtol(s, &end, 10) : 0;
    if (!*s || *end || errno || isspace((unsigned char)*s) || v > INT_MAX || v < INT_MIN) {
        snprintf(err, errlen, "failed to parse int from %s: strconv.Atoi: parsing \"%s\": invalid syntax", s, s);
        return -1;
    }
    if (v < 0) {
        snprintf(err, errlen, "negative number (%ld) not allowed: %s", v, s);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int parse_int_or_name(const char *s, const cj_bounds_t *r, int *out, char *err, size_t errlen)
{
    if (r->names) {
        for (int i = 0; r->names[i]; i++)
            if (strcasecmp(s, r->names[i]) == 0) {
                *out = r->min + i;
                return 0;
            }
    }
    return parse_int(s, out, err, errlen);
}

/* One comma-separated part: "*", "?", "a", "a-b", each with an optional "/step". */
static int parse_range(const char *expr, const cj_bounds_t *r, uint64_t *bits, char *err, size_t errlen)
{
    char buf[128];
    if (strlen(expr) >= sizeof buf) {
        snprintf(err, errlen, "field too long: %.40s...", expr);
        return -1;
    }
    snprintf(buf, sizeof buf, "%s", expr);
    char *slash = strchr(buf, '/');
    char *step_s = NULL;
    if (slash) {
        *slash = '\0';
        step_s = slash + 1;
        if (strchr(step_s, '/')) {
            snprintf(err, errlen, "too many slashes: %s", expr);
            return -1;
        }
    }
    int start, end, step = 1;
    uint64_t extra = 0;
    char *dash = strchr(buf, '-');
    bool single = dash == NULL;
    if (strcmp(buf, "*") == 0 || strcmp(buf, "?") == 0) {
        start = r->min;
        end = r->max;
        extra = STAR_BIT;
    } else {
        if (dash) *dash = '\0';
        if (dash && strchr(dash + 1, '-')) {
            snprintf(err, errlen, "too many hyphens: %s", expr);
            return -1;
        }
        if (parse_int_or_name(buf, r, &start, err, errlen) < 0) return -1;
        end = start;
        if (dash && parse_int_or_name(dash + 1, r, &end, err, errlen) < 0) return -1;
    }
    if (step_s) {
        if (parse_int(step_s, &step, err, errlen) < 0) return -1;
        if (single) end = r->max;   /* "n/step" means n-max/step */
        if (step > 1) extra = 0;
    }
    if (start < r->min) {
        snprintf(err, errlen, "beginning of range (%d) below minimum (%d): %s", start, r->min, expr);
        return -1;
    }
    if (end > r->max) {
        snprintf(err, errlen, "end of range (%d) above maximum (%d): %s", end, r->max, expr);
        return -1;
    }
    if (start > end) {
        snprintf(err, errlen, "beginning of range (%d) beyond end of range (%d): %s", start, end, expr);
        return -1;
    }
    if (step == 0) {
        snprintf(err, errlen, "step of range should be a positive number: %s", expr);
        return -1;
    }
    *bits |= bits_between(start, end, step) | extra;
    return 0;
}

static int parse_field(const char *field, const cj_bounds_t *r, uint64_t *bits, char *err, size_t errlen)
{
    *bits = 0;
    const char *p = field;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char part[128];
        if (n >= sizeof part) {
            snprintf(err, errlen, "field too long: %.40s...", p);
            return -1;
        }
        memcpy(part, p, n);
        part[n] = '\0';
        if (parse_range(part, r, bits, err, errlen) < 0) return -1;
        if (!comma) return 0;
        p = comma + 1;
    }
}

/* Go's time.ParseDuration, in nanoseconds (saturating far beyond any use). */
static int parse_go_duration(const char *s, double *ns_out)
{
    static const struct { const char *unit; double ns; } UNITS[] = {
        { "ns", 1 }, { "us", 1e3 }, { "\xc2\xb5s", 1e3 }, { "\xce\xbcs", 1e3 }, { "ms", 1e6 },
        { "s", 1e9 }, { "m", 60e9 }, { "h", 3600e9 },
    };
    double sign = 1, total = 0;
    if (*s == '-' || *s == '+') sign = *s++ == '-' ? -1 : 1;
    if (strcmp(s, "0") == 0) { *ns_out = 0; return 0; }
    if (!*s) return -1;
    while (*s) {
        if (!isdigit((unsigned char)*s) && *s != '.') return -1;
        char *end = NULL;
        double v = strtod(s, &end);
        if (end == s) return -1;
        s = end;
        size_t best = 0;
        double mul = 0;
        for (size_t i = 0; i < sizeof UNITS / sizeof UNITS[0]; i++) {
            size_t ul = strlen(UNITS[i].unit);
            if (strncmp(s, UNITS[i].unit, ul) == 0 && ul > best) { best = ul; mul = UNITS[i].ns; }
        }
        if (!best) return -1;
        s += best;
        total += v * mul;
    }
    *ns_out = sign * total;
    return 0;
}

static int parse_descriptor(const char *spec, cj_sched_t *out, char *err, size_t errlen)
{
    out->minute = 1;         /* minute 0 */
    out->hour = 1;           /* hour 0 */
    out->dom = all_of(&B_DOM);
    out->month = all_of(&B_MONTH);
    out->dow = all_of(&B_DOW);
    if (strcmp(spec, "@yearly") == 0 || strcmp(spec, "@annually") == 0) {
        out->dom = 1ull << 1;
        out->month = 1ull << 1;
    } else if (strcmp(spec, "@monthly") == 0) {
        out->dom = 1ull << 1;
    } else if (strcmp(spec, "@weekly") == 0) {
        out->dow = 1ull << 0;
    } else if (strcmp(spec, "@daily") == 0 || strcmp(spec, "@midnight") == 0) {
        /* as initialised */
    } else if (strcmp(spec, "@hourly") == 0) {
        out->hour = all_of(&B_HOUR);
    } else if (strncmp(spec, "@every ", 7) == 0) {
        double ns;
        if (parse_go_duration(spec + 7, &ns) < 0) {
            snprintf(err, errlen, "failed to parse duration %s: time: invalid duration \"%s\"", spec, spec + 7);
            return -1;
        }
        int64_t secs = ns < 1e9 ? 1 : (ns > 1e17 ? (int64_t)1e8 : (int64_t)(ns / 1e9));
        out->every = secs;   /* robfig: at least 1 s, whole seconds */
    } else {
        snprintf(err, errlen, "unrecognized descriptor: %s", spec);
        return -1;
    }
    return 0;
}

/* Splits spec on runs of white space into at most max fields; the count. */
static int split_fields(char *spec, char **fields, int max)
{
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(spec, " \t\n\r\v\f", &save); tok; tok = strtok_r(NULL, " \t\n\r\v\f", &save)) {
        if (n < max) fields[n] = tok;
        n++;
    }
    return n;
}

static const char *skip_space(const char *s)
{
    while (isspace((unsigned char)*s)) s++;
    return s;
}

/* "TZ=zone rest" / "CRON_TZ=zone rest": sets out->zone, returns rest (NULL on error). */
static const char *parse_zone_prefix(const char *spec, cj_sched_t *out, char *err, size_t errlen)
{
    const char *eq = strchr(spec, '=');
    const char *sp = spec;
    while (*sp && !isspace((unsigned char)*sp)) sp++;
    size_t n = (size_t)(sp - (eq + 1));
    char zone[CJ_ZONE_MAX];
    if (n >= sizeof zone) {
        snprintf(err, errlen, "provided bad location %.*s: unknown time zone", (int)(n > 60 ? 60 : n), eq + 1);
        return NULL;
    }
    memcpy(zone, eq + 1, n);
    zone[n] = '\0';
    char why[160];
    if (cj_zone_check(zone, why, sizeof why) < 0) {
        snprintf(err, errlen, "provided bad location %s: %s", zone, why);
        return NULL;
    }
    snprintf(out->zone, sizeof out->zone, "%s", strcmp(zone, "UTC") == 0 ? "" : zone);
    return skip_space(sp);
}

int cj_sched_parse(const char *spec, const char *zone_default, cj_sched_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!spec || !*spec) {
        snprintf(err, errlen, "empty spec string");
        return -1;
    }
    /* no spec.timeZone: robfig's default, time.Local (the zone of the
     * process, as in kube-controller-manager) */
    const char *zone = zone_default ? zone_default : "Local";
    if (*zone && strcmp(zone, "UTC") != 0) {
        if (strlen(zone) >= sizeof out->zone) {
            snprintf(err, errlen, "unknown time zone %.60s", zone);
            return -1;
        }
        snprintf(out->zone, sizeof out->zone, "%s", zone);
    }
    if (strncmp(spec, "TZ=", 3) == 0 || strncmp(spec, "CRON_TZ=", 8) == 0) {
        spec = parse_zone_prefix(spec, out, err, errlen);
        if (!spec) return -1;
    }
    if (spec[0] == '@') return parse_descriptor(spec, out, err, errlen);
    size_t len = strlen(spec);
    char *copy = malloc(len + 1);
    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(copy, spec, len + 1);
    char *f[5];
    int n = split_fields(copy, f, 5);
    int rc = -1;
    if (n != 5) snprintf(err, errlen, "expected exactly 5 fields, found %d: [%s]", n, spec);
    else if (parse_field(f[0], &B_MINUTE, &out->minute, err, errlen) == 0 &&
             parse_field(f[1], &B_HOUR, &out->hour, err, errlen) == 0 &&
             parse_field(f[2], &B_DOM, &out->dom, err, errlen) == 0 &&
             parse_field(f[3], &B_MONTH, &out->month, err, errlen) == 0 &&
             parse_field(f[4], &B_DOW, &out->dow, err, errlen) == 0)
        rc = 0;
    free(copy);
    return rc;
}

/* ---- next time ------------------------------------------------------------------- */

static bool has_bit(uint64_t bits, int i) { return (bits >> i) & 1u; }

static bool day_matches(const cj_sched_t *s, const struct tm *tm)
{
    bool dom = has_bit(s->dom, tm->tm_mday), dow = has_bit(s->dow, tm->tm_wday);
    if ((s->dom & STAR_BIT) || (s->dow & STAR_BIT)) return dom && dow;
    return dom || dow;
}

/* robfig SpecSchedule.Next, field by field, restarting at WRAP whenever a
 * field rolls over into the next larger unit. */
static int64_t next_spec(const cj_sched_t *s, const cj_zone_ctx_t *z, int64_t t)
{
    struct tm tm;
    t += 1;
    cj_zone_civil(z, t, &tm);
    bool added = false;
    int year_limit = tm.tm_year + 1900 + 5;
wrap:
    cj_zone_civil(z, t, &tm);
    if (tm.tm_year + 1900 > year_limit) return CJ_NEVER;
    while (!has_bit(s->month, tm.tm_mon + 1)) {
        if (!added) {
            added = true;
            t = cj_zone_date(z, tm.tm_year + 1900, tm.tm_mon, 1, 0, 0, 0);
            cj_zone_civil(z, t, &tm);
        }
        t = cj_zone_date(z, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        cj_zone_civil(z, t, &tm);
        if (tm.tm_mon == 0) goto wrap;
    }
    while (!day_matches(s, &tm)) {
        if (!added) {
            added = true;
            t = cj_zone_date(z, tm.tm_year + 1900, tm.tm_mon, tm.tm_mday, 0, 0, 0);
            cj_zone_civil(z, t, &tm);
        }
        t = cj_zone_date(z, tm.tm_year + 1900, tm.tm_mon, tm.tm_mday + 1, tm.tm_hour, tm.tm_min, tm.tm_sec);
        cj_zone_civil(z, t, &tm);
        if (tm.tm_hour != 0) {   /* DST moved midnight: back to it */
            t += tm.tm_hour > 12 ? (int64_t)(24 - tm.tm_hour) * 3600 : -(int64_t)tm.tm_hour * 3600;
            cj_zone_civil(z, t, &tm);
        }
        if (tm.tm_mday == 1) goto wrap;
    }
    while (!has_bit(s->hour, tm.tm_hour)) {
        if (!added) {
            added = true;
            t = cj_zone_date(z, tm.tm_year + 1900, tm.tm_mon, tm.tm_mday, tm.tm_hour, 0, 0);
        }
        t += 3600;
        cj_zone_civil(z, t, &tm);
        if (tm.tm_hour == 0) goto wrap;
    }
    while (!has_bit(s->minute, tm.tm_min)) {
        if (!added) {
            added = true;
            t -= ((t % 60) + 60) % 60;
        }
        t += 60;
        cj_zone_civil(z, t, &tm);
        if (tm.tm_min == 0) goto wrap;
    }
    if (tm.tm_sec != 0) {   /* the second field is always "0" */
        added = true;
        t += 60 - tm.tm_sec;
        goto wrap;
    }
    return t;
}

int64_t cj_sched_next(const cj_sched_t *s, int64_t t)
{
    if (!s || t <= CJ_NEVER) return CJ_NEVER;
    if (s->every > 0) return t + s->every;
    cj_zone_ctx_t z;
    cj_zone_enter(&z, s->zone);
    int64_t r = next_spec(s, &z, t);
    cj_zone_leave(&z);
    return r;
}

/* ---- formatting -------------------------------------------------------------------- */

int cj_format_rfc3339(int64_t t, const char *zone, char *out, size_t outlen)
{
    cj_zone_ctx_t z;
    cj_zone_enter(&z, zone);
    struct tm tm;
    cj_zone_civil(&z, t, &tm);
    cj_zone_leave(&z);
    long off = z.utc ? 0 : tm.tm_gmtoff;
    /* real offsets are within +-26 h; clamping keeps the text within "+hh:mm" */
    int aoff = (int)(labs(off) > 99 * 3600 ? 99 * 3600 : labs(off));
    char tail[8];
    if (off == 0) snprintf(tail, sizeof tail, "Z");
    else snprintf(tail, sizeof tail, "%c%02d:%02d", off < 0 ? '-' : '+', aoff / 3600, (aoff % 3600) / 60);
    int n = snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d%s", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, tail);
    return n < 0 || (size_t)n >= outlen ? -1 : n;
}

int cj_format_rfc1123z(int64_t t, char *out, size_t outlen)
{
    static const char *const DAYS[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char *const MONS[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) return -1;
    int n = snprintf(out, outlen, "%s, %02d %s %04d %02d:%02d:%02d +0000", DAYS[tm.tm_wday], tm.tm_mday,
                     MONS[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return n < 0 || (size_t)n >= outlen ? -1 : n;
}
