/* cj_zone.c - time zones as Go's time package has them. See cj_zone.h. */
#include "cj_zone.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool zone_is_utc(const char *name)
{
    return !name || !*name || strcmp(name, "UTC") == 0;
}

void cj_zone_enter(cj_zone_ctx_t *z, const char *name)
{
    memset(z, 0, sizeof *z);
    if (name && strcmp(name, "Local") == 0) name = cj_local_zone();   /* before TZ changes below */
    z->utc = zone_is_utc(name);
    if (z->utc) return;
    const char *cur = getenv("TZ");
    if (cur && strlen(cur) < sizeof z->saved) {
        z->had_tz = true;
        snprintf(z->saved, sizeof z->saved, "%s", cur);
    }
    char tz[CJ_ZONE_MAX + 2];
    snprintf(tz, sizeof tz, ":%s", name);   /* ':' makes the C library read the TZif file */
    if (setenv("TZ", tz, 1) == 0) tzset();
}

void cj_zone_leave(cj_zone_ctx_t *z)
{
    if (z->utc) return;
    if (z->had_tz) setenv("TZ", z->saved, 1);
    else unsetenv("TZ");
    tzset();
}

void cj_zone_civil(const cj_zone_ctx_t *z, int64_t t, struct tm *tm)
{
    time_t tt = (time_t)t;
    memset(tm, 0, sizeof *tm);
    if (z->utc) gmtime_r(&tt, tm);
    else localtime_r(&tt, tm);
}

/* Seconds east of UTC in force at instant t. */
static long offset_at(const cj_zone_ctx_t *z, int64_t t)
{
    struct tm tm;
    cj_zone_civil(z, t, &tm);
    return z->utc ? 0 : tm.tm_gmtoff;
}

int64_t cj_zone_date(const cj_zone_ctx_t *z, int year, int mon0, int mday, int hour, int min, int sec)
{
    struct tm tm = { .tm_year = year - 1900, .tm_mon = mon0, .tm_mday = mday, .tm_hour = hour,
                     .tm_min = min, .tm_sec = sec };
    int64_t wall = (int64_t)timegm(&tm);   /* the wall clock read as UTC, normalised */
    /* Go looks the offset up at `wall` as if it were an instant; if that
     * offset is not in force at wall - offset, it takes the one that is
     * there. Both cases come to the offset at wall - guess. */
    long guess = offset_at(z, wall);
    return wall - offset_at(z, wall - guess);
}

static const char *zoneinfo_dir(void)
{
    const char *d = getenv("TZDIR");
    return d && *d ? d : "/usr/share/zoneinfo";
}

/* A regular file starting with the TZif magic? */
static bool is_tzif(const char *path)
{
    char magic[4];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ssize_t got = read(fd, magic, sizeof magic);
    close(fd);
    return got == (ssize_t)sizeof magic && memcmp(magic, "TZif", 4) == 0;
}

int cj_zone_check(const char *name, char *err, size_t errlen)
{
    if (zone_is_utc(name) || strcmp(name, "Local") == 0) return 0;
    size_t n = strlen(name);
    if (n >= CJ_ZONE_MAX || name[0] == '/' || name[0] == '\\' || strstr(name, "..")) {
        snprintf(err, errlen, "time: invalid location name");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!isalnum(c) && c != '/' && c != '_' && c != '-' && c != '+') {
            snprintf(err, errlen, "unknown time zone %s", name);
            return -1;
        }
    }
    char path[512];
    snprintf(path, sizeof path, "%s/%s", zoneinfo_dir(), name);
    if (!is_tzif(path)) {
        snprintf(err, errlen, "unknown time zone %s", name);
        return -1;
    }
    return 0;
}

void cj_local_zone_resolve(const char *tz, const char *localtime_path, char *out, size_t outlen)
{
    char why[160];
    if (!outlen) return;
    out[0] = '\0';
    if (!tz) {   /* unset: the system's default */
        if (localtime_path && strlen(localtime_path) < CJ_ZONE_MAX && is_tzif(localtime_path))
            snprintf(out, outlen, "%s", localtime_path);
        return;
    }
    if (*tz == ':') tz++;
    if (strlen(tz) >= CJ_ZONE_MAX || strcmp(tz, "Local") == 0) return;   /* UTC */
    if (*tz == '/') {
        if (is_tzif(tz)) snprintf(out, outlen, "%s", tz);
        return;
    }
    if (!zone_is_utc(tz) && cj_zone_check(tz, why, sizeof why) == 0) snprintf(out, outlen, "%s", tz);
}

const char *cj_local_zone(void)
{
    static char zone[CJ_ZONE_MAX], for_tz[CJ_ZONE_MAX + 1];
    static bool resolved, for_unset;
    const char *tz = getenv("TZ");
    bool same = resolved && (tz ? !for_unset && strcmp(for_tz, tz) == 0 : for_unset);
    if (same) return zone;
    cj_local_zone_resolve(tz, "/etc/localtime", zone, sizeof zone);
    /* a TZ too long to remember is resolved again next time */
    resolved = !tz || strlen(tz) < sizeof for_tz;
    for_unset = !tz;
    snprintf(for_tz, sizeof for_tz, "%s", tz && resolved ? tz : "");
    return zone;
}
