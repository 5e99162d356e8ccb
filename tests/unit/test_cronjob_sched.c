/* Unit tests for cron schedules (cj_sched.c): the five-field language with
 * ranges, steps, lists and names, the @ macros and @every, robfig's
 * day-of-month / day-of-week rule, TZ= prefixes and spec.timeZone through
 * the system tz database (DST gaps and repeats as robfig/cron handles
 * them, New York, Berlin and Santiago 2026), schedules without a zone in
 * the process's local zone (Go's time.Local), schedules that never fire,
 * and the error wording. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "cj_sched.h"

static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s };
    return (int64_t)timegm(&tm);
}

static cj_sched_t parse_ok(const char *spec, const char *zone)
{
    cj_sched_t s;
    char err[256] = "";
    int rc = cj_sched_parse(spec, zone, &s, err, sizeof err);
    if (rc != 0) fail_msg("parse of \"%s\" failed: %s", spec, err);
    return s;
}

static void expect_next(const char *spec, const char *zone, int64_t from, int64_t want)
{
    cj_sched_t s = parse_ok(spec, zone);
    int64_t got = cj_sched_next(&s, from);
    if (got != want) fail_msg("\"%s\" after %lld: got %lld, want %lld", spec, (long long)from, (long long)got, (long long)want);
}

static void expect_error(const char *spec, const char *needle)
{
    cj_sched_t s;
    char err[256] = "";
    assert_int_equal(cj_sched_parse(spec, NULL, &s, err, sizeof err), -1);
    if (!strstr(err, needle)) fail_msg("\"%s\": error \"%s\" lacks \"%s\"", spec, err, needle);
}

static void test_every_minute_and_steps(void **state)
{
    (void)state;
    expect_next("*/1 * * * *", NULL, utc(2024, 1, 15, 10, 0, 30), utc(2024, 1, 15, 10, 1, 0));
    expect_next("*/1 * * * *", NULL, utc(2024, 1, 15, 10, 1, 0), utc(2024, 1, 15, 10, 2, 0));   /* strictly after */
    expect_next("* * * * *", NULL, utc(2024, 12, 31, 23, 59, 59), utc(2025, 1, 1, 0, 0, 0));
    expect_next("*/15 * * * *", NULL, utc(2024, 1, 15, 10, 7, 13), utc(2024, 1, 15, 10, 15, 0));
    expect_next("5 * * * *", NULL, utc(2024, 1, 15, 10, 5, 0), utc(2024, 1, 15, 11, 5, 0));
    expect_next("10/20 * * * *", NULL, utc(2024, 1, 15, 10, 31, 0), utc(2024, 1, 15, 10, 50, 0));   /* n/step = n-59/step */
    expect_next("0,30 9-17 * * *", NULL, utc(2024, 1, 15, 17, 30, 0), utc(2024, 1, 16, 9, 0, 0));
    /* 30 6-16/4: 6:30, 10:30, 14:30 on weekdays */
    expect_next("30 6-16/4 * * 1-5", NULL, utc(2024, 1, 15, 11, 0, 0), utc(2024, 1, 15, 14, 30, 0));
    expect_next("30 6-16/4 * * 1-5", NULL, utc(2024, 1, 15, 15, 0, 0), utc(2024, 1, 16, 6, 30, 0));
    expect_next("30 6-16/4 * * 1-5", NULL, utc(2024, 1, 19, 15, 0, 0), utc(2024, 1, 22, 6, 30, 0));
}

static void test_names_and_day_rule(void **state)
{
    (void)state;
    expect_next("0 12 * JAN-MAR mon,Wed", NULL, utc(2024, 3, 29, 13, 0, 0), utc(2025, 1, 1, 12, 0, 0));
    expect_next("0 0 1 jun *", NULL, utc(2024, 1, 1, 0, 0, 0), utc(2024, 6, 1, 0, 0, 0));
    expect_next("0 0 * * SUN", NULL, utc(2024, 1, 15, 0, 0, 0), utc(2024, 1, 21, 0, 0, 0));
    /* both day fields restricted: the 13th OR a Friday */
    int64_t t = utc(2024, 2, 1, 0, 0, 0);
    const int64_t want[] = { utc(2024, 2, 2, 0, 0, 0), utc(2024, 2, 9, 0, 0, 0), utc(2024, 2, 13, 0, 0, 0),
                             utc(2024, 2, 16, 0, 0, 0) };
    cj_sched_t s = parse_ok("0 0 13 * 5", NULL);
    for (int i = 0; i < 4; i++) {
        t = cj_sched_next(&s, t);
        assert_int_equal(t, want[i]);
    }
    /* day-of-week "*" : the 13th AND any day = the 13th */
    expect_next("0 0 13 * *", NULL, utc(2024, 2, 1, 0, 0, 0), utc(2024, 2, 13, 0, 0, 0));
    /* "*\/2" in day-of-week is not a star: OR with the 13th */
    expect_next("0 0 13 * */2", NULL, utc(2024, 2, 1, 0, 0, 0), utc(2024, 2, 3, 0, 0, 0));
    /* "?" works like "*" */
    expect_next("0 0 ? * 1", NULL, utc(2024, 1, 16, 0, 0, 0), utc(2024, 1, 22, 0, 0, 0));
}

static void test_macros(void **state)
{
    (void)state;
    int64_t from = utc(2024, 1, 15, 10, 15, 0);
    expect_next("@yearly", NULL, from, utc(2025, 1, 1, 0, 0, 0));
    expect_next("@annually", NULL, from, utc(2025, 1, 1, 0, 0, 0));
    expect_next("@monthly", NULL, from, utc(2024, 2, 1, 0, 0, 0));
    expect_next("@weekly", NULL, from, utc(2024, 1, 21, 0, 0, 0));
    expect_next("@daily", NULL, from, utc(2024, 1, 16, 0, 0, 0));
    expect_next("@midnight", NULL, from, utc(2024, 1, 16, 0, 0, 0));
    expect_next("@hourly", NULL, from, utc(2024, 1, 15, 11, 0, 0));
    expect_next("@every 90s", NULL, from, from + 90);
    expect_next("@every 1m30s", NULL, from, from + 90);
    expect_next("@every 1h", NULL, from, from + 3600);
    expect_next("@every 500ms", NULL, from, from + 1);   /* at least a second */
}

static void test_never_and_leap(void **state)
{
    (void)state;
    cj_sched_t s = parse_ok("0 0 30 2 *", NULL);
    assert_int_equal(cj_sched_next(&s, utc(2024, 1, 1, 0, 0, 0)), CJ_NEVER);
    assert_int_equal(cj_sched_next(&s, CJ_NEVER), CJ_NEVER);
    expect_next("0 0 29 2 *", NULL, utc(2024, 3, 1, 0, 0, 0), utc(2028, 2, 29, 0, 0, 0));
    expect_next("0 0 31 * *", NULL, utc(2024, 4, 1, 0, 0, 0), utc(2024, 5, 31, 0, 0, 0));
}

static void test_time_zones(void **state)
{
    (void)state;
    /* spec.timeZone and the TZ= / CRON_TZ= prefix */
    expect_next("0 9 * * *", "America/New_York", utc(2024, 1, 15, 0, 0, 0), utc(2024, 1, 15, 14, 0, 0));
    expect_next("0 9 * * *", "America/New_York", utc(2024, 7, 15, 0, 0, 0), utc(2024, 7, 15, 13, 0, 0));
    expect_next("TZ=Asia/Tokyo 0 9 * * *", NULL, utc(2024, 1, 15, 1, 0, 0), utc(2024, 1, 16, 0, 0, 0));
    expect_next("CRON_TZ=Asia/Tokyo 0 9 * * *", "America/New_York", utc(2024, 1, 15, 1, 0, 0), utc(2024, 1, 16, 0, 0, 0));
    expect_next("0 0 * * *", "UTC", utc(2024, 1, 15, 1, 0, 0), utc(2024, 1, 16, 0, 0, 0));
    /* spring forward: 02:30 does not exist in Berlin on 2024-03-31 (skipped, as robfig does) */
    expect_next("30 2 * * *", "Europe/Berlin", utc(2024, 3, 30, 12, 0, 0), utc(2024, 4, 1, 0, 30, 0));
    /* fall back: 02:30 happens twice on 2024-10-27, robfig fires at both */
    expect_next("30 2 * * *", "Europe/Berlin", utc(2024, 10, 26, 12, 0, 0), utc(2024, 10, 27, 0, 30, 0));
    expect_next("30 2 * * *", "Europe/Berlin", utc(2024, 10, 27, 0, 30, 0), utc(2024, 10, 27, 1, 30, 0));
    /* daily at midnight across the DST change stays at local midnight */
    expect_next("0 0 * * *", "Europe/Berlin", utc(2024, 3, 30, 23, 30, 0), utc(2024, 3, 31, 22, 0, 0));
    /* the process' own TZ is left as it was */
    expect_next("0 0 * * *", NULL, utc(2024, 1, 15, 1, 0, 0), utc(2024, 1, 16, 0, 0, 0));
}

/* Go's time.Date inside DST gaps and overlaps: the offset in force at
 * "wall clock minus the offset at the wall clock read as UTC". */
static void test_go_date_in_gaps(void **state)
{
    (void)state;
    cj_zone_ctx_t z;
    cj_zone_enter(&z, "America/New_York");
    assert_int_equal(cj_zone_date(&z, 2026, 2, 8, 2, 30, 0), utc(2026, 3, 8, 6, 30, 0));    /* gap: 01:30 EST */
    assert_int_equal(cj_zone_date(&z, 2026, 10, 1, 1, 30, 0), utc(2026, 11, 1, 5, 30, 0));  /* overlap: the EDT one */
    assert_int_equal(cj_zone_date(&z, 2026, 0, 32, 0, 0, 0), utc(2026, 2, 1, 5, 0, 0));     /* normalised */
    cj_zone_leave(&z);
    cj_zone_enter(&z, "Europe/Berlin");
    assert_int_equal(cj_zone_date(&z, 2026, 2, 29, 2, 30, 0), utc(2026, 3, 29, 1, 30, 0));  /* gap: 03:30 CEST */
    assert_int_equal(cj_zone_date(&z, 2026, 9, 25, 2, 30, 0), utc(2026, 10, 25, 1, 30, 0)); /* overlap: the CET one */
    cj_zone_leave(&z);
}

/* America/New_York 2026: 02:00 EST -> 03:00 EDT on 8 March (07:00 UTC),
 * 02:00 EDT -> 01:00 EST on 1 November (06:00 UTC). */
static void test_dst_new_york_2026(void **state)
{
    (void)state;
    const char *ny = "America/New_York";
    /* spring: 02:30 does not exist on the 8th, robfig skips that day */
    expect_next("30 2 * * *", ny, utc(2026, 3, 7, 12, 0, 0), utc(2026, 3, 9, 6, 30, 0));
    expect_next("0 2 * * *", ny, utc(2026, 3, 8, 5, 0, 0), utc(2026, 3, 9, 6, 0, 0));
    expect_next("0 3 * * *", ny, utc(2026, 3, 8, 5, 0, 0), utc(2026, 3, 8, 7, 0, 0));
    /* hourly keeps to absolute hours: 01:00 EST, then 03:00 EDT */
    expect_next("0 * * * *", ny, utc(2026, 3, 8, 6, 0, 0), utc(2026, 3, 8, 7, 0, 0));
    /* midnight stays local midnight: 05:00 UTC, then 04:00 UTC */
    expect_next("0 0 * * *", ny, utc(2026, 3, 7, 6, 0, 0), utc(2026, 3, 8, 5, 0, 0));
    expect_next("0 0 * * *", ny, utc(2026, 3, 8, 5, 0, 0), utc(2026, 3, 9, 4, 0, 0));
    /* autumn: 01:30 happens twice and fires twice (EDT, then EST) */
    expect_next("30 1 * * *", ny, utc(2026, 10, 31, 12, 0, 0), utc(2026, 11, 1, 5, 30, 0));
    expect_next("30 1 * * *", ny, utc(2026, 11, 1, 5, 30, 0), utc(2026, 11, 1, 6, 30, 0));
    expect_next("30 1 * * *", ny, utc(2026, 11, 1, 6, 30, 0), utc(2026, 11, 2, 6, 30, 0));
    /* 02:00 exists once, in EST */
    expect_next("0 2 * * *", ny, utc(2026, 10, 31, 12, 0, 0), utc(2026, 11, 1, 7, 0, 0));
    /* hourly through the repeated hour: 01:00 EDT, 01:00 EST, 02:00 EST */
    expect_next("0 * * * *", ny, utc(2026, 11, 1, 5, 0, 0), utc(2026, 11, 1, 6, 0, 0));
    expect_next("0 * * * *", ny, utc(2026, 11, 1, 6, 0, 0), utc(2026, 11, 1, 7, 0, 0));
}

/* Europe/Berlin 2026: 02:00 CET -> 03:00 CEST on 29 March (01:00 UTC),
 * 03:00 CEST -> 02:00 CET on 25 October (01:00 UTC). */
static void test_dst_berlin_2026(void **state)
{
    (void)state;
    const char *be = "Europe/Berlin";
    expect_next("30 2 * * *", be, utc(2026, 3, 28, 12, 0, 0), utc(2026, 3, 30, 0, 30, 0));
    expect_next("0 3 * * *", be, utc(2026, 3, 28, 12, 0, 0), utc(2026, 3, 29, 1, 0, 0));
    expect_next("*/30 * * * *", be, utc(2026, 3, 29, 0, 30, 0), utc(2026, 3, 29, 1, 0, 0));   /* 01:30 CET -> 03:00 CEST */
    expect_next("30 2 * * *", be, utc(2026, 10, 24, 12, 0, 0), utc(2026, 10, 25, 0, 30, 0));
    expect_next("30 2 * * *", be, utc(2026, 10, 25, 0, 30, 0), utc(2026, 10, 25, 1, 30, 0));
    expect_next("30 2 * * *", be, utc(2026, 10, 25, 1, 30, 0), utc(2026, 10, 26, 1, 30, 0));
    expect_next("*/30 * * * *", be, utc(2026, 10, 25, 0, 30, 0), utc(2026, 10, 25, 1, 0, 0)); /* 02:30 CEST -> 02:00 CET */
    expect_next("0 0 * * *", be, utc(2026, 10, 24, 12, 0, 0), utc(2026, 10, 24, 22, 0, 0));
    expect_next("0 0 * * *", be, utc(2026, 10, 24, 22, 0, 0), utc(2026, 10, 25, 23, 0, 0));
}

/* America/Santiago moves from -04 to -03 at midnight: 6 September 2026
 * starts at 01:00. Go's time.Date puts that midnight at 23:00 the day
 * before and robfig moves it on an hour, so 01:00 on the 6th is found. */
static void test_dst_midnight_gap(void **state)
{
    (void)state;
    const char *sc = "America/Santiago";
    expect_next("0 1 6 9 *", sc, utc(2026, 9, 1, 12, 0, 0), utc(2026, 9, 6, 4, 0, 0));
    expect_next("0 0 * * *", sc, utc(2026, 9, 5, 12, 0, 0), utc(2026, 9, 7, 3, 0, 0));   /* no midnight on the 6th */
}

/* No spec.timeZone: the process's zone, as Go's time.Local decides it. */
static void test_local_zone(void **state)
{
    (void)state;
    const char *ny_0900 = "0 9 * * *";
    setenv("TZ", "America/New_York", 1);
    expect_next(ny_0900, NULL, utc(2026, 1, 15, 0, 0, 0), utc(2026, 1, 15, 14, 0, 0));
    expect_next("30 2 * * *", NULL, utc(2026, 3, 7, 12, 0, 0), utc(2026, 3, 9, 6, 30, 0));
    expect_next(ny_0900, "UTC", utc(2026, 1, 15, 0, 0, 0), utc(2026, 1, 15, 9, 0, 0));   /* spec.timeZone wins */
    expect_next("TZ=Asia/Tokyo 0 9 * * *", NULL, utc(2026, 1, 15, 1, 0, 0), utc(2026, 1, 16, 0, 0, 0));
    setenv("TZ", "Asia/Tokyo", 1);
    expect_next("TZ=Local 0 9 * * *", "UTC", utc(2026, 1, 15, 1, 0, 0), utc(2026, 1, 16, 0, 0, 0));
    setenv("TZ", ":Europe/Berlin", 1);
    expect_next("30 2 * * *", NULL, utc(2026, 3, 28, 12, 0, 0), utc(2026, 3, 30, 0, 30, 0));
    /* UTC: TZ empty, a zone that does not load, a POSIX rule Go ignores */
    const char *utc_tz[] = { "", "Nowhere/Zone", "CET-1CEST,M3.5.0,M10.5.0/3", "UTC", ":" };
    for (size_t i = 0; i < sizeof utc_tz / sizeof utc_tz[0]; i++) {
        setenv("TZ", utc_tz[i], 1);
        expect_next(ny_0900, NULL, utc(2026, 1, 15, 0, 0, 0), utc(2026, 1, 15, 9, 0, 0));
    }
    setenv("TZ", "UTC", 1);
    /* TZ unset: /etc/localtime, UTC without it */
    char out[CJ_ZONE_MAX] = "x";
    cj_local_zone_resolve(NULL, "/nonexistent/localtime", out, sizeof out);
    assert_string_equal(out, "");
    cj_local_zone_resolve(NULL, "/usr/share/zoneinfo/Asia/Tokyo", out, sizeof out);
    assert_string_equal(out, "/usr/share/zoneinfo/Asia/Tokyo");
    cj_local_zone_resolve("/usr/share/zoneinfo/Europe/Berlin", NULL, out, sizeof out);
    assert_string_equal(out, "/usr/share/zoneinfo/Europe/Berlin");
    cj_local_zone_resolve("/etc/passwd", NULL, out, sizeof out);   /* not a TZif file */
    assert_string_equal(out, "");
    /* a path as the zone works like its name */
    cj_sched_t s = parse_ok(ny_0900, "UTC");
    snprintf(s.zone, sizeof s.zone, "%s", "/usr/share/zoneinfo/Asia/Tokyo");
    assert_int_equal(cj_sched_next(&s, utc(2026, 1, 15, 1, 0, 0)), utc(2026, 1, 16, 0, 0, 0));
}

static void test_zone_check(void **state)
{
    (void)state;
    char err[160];
    assert_int_equal(cj_zone_check("America/New_York", err, sizeof err), 0);
    assert_int_equal(cj_zone_check("UTC", err, sizeof err), 0);
    assert_int_equal(cj_zone_check("", err, sizeof err), 0);
    assert_int_equal(cj_zone_check("Nowhere/Zone", err, sizeof err), -1);
    assert_string_equal(err, "unknown time zone Nowhere/Zone");
    assert_int_equal(cj_zone_check("../../etc/passwd", err, sizeof err), -1);
    assert_int_equal(cj_zone_check("/etc/localtime", err, sizeof err), -1);
    assert_string_equal(err, "time: invalid location name");
    assert_int_equal(cj_zone_check("America", err, sizeof err), -1);   /* a directory, not a TZif file */
    assert_int_equal(cj_zone_check("Local", err, sizeof err), 0);      /* Go's LoadLocation knows it */
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("", "empty spec string");
    expect_error("* * * *", "expected exactly 5 fields, found 4");
    expect_error("* * * * * *", "expected exactly 5 fields, found 6");
    expect_error("60 * * * *", "end of range (60) above maximum (59)");
    expect_error("0 24 * * *", "end of range (24) above maximum (23)");
    expect_error("0 0 0 * *", "beginning of range (0) below minimum (1)");
    expect_error("0 0 * 13 *", "end of range (13) above maximum (12)");
    expect_error("0 0 * * 7", "end of range (7) above maximum (6)");
    expect_error("5-2 * * * *", "beginning of range (5) beyond end of range (2)");
    expect_error("*/0 * * * *", "step of range should be a positive number");
    expect_error("x * * * *", "failed to parse int from x");
    expect_error("1-2-3 * * * *", "too many hyphens");
    expect_error("*/2/3 * * * *", "too many slashes");
    expect_error("0 0 * foo *", "failed to parse int from foo");
    expect_error("@foo", "unrecognized descriptor: @foo");
    expect_error("@every x", "failed to parse duration");
    expect_error("TZ=Nowhere/Zone 0 0 * * *", "provided bad location Nowhere/Zone");
}

static void test_formats(void **state)
{
    (void)state;
    char buf[64];
    int64_t t = utc(2024, 1, 15, 10, 0, 0);
    assert_true(cj_format_rfc3339(t, NULL, buf, sizeof buf) > 0);
    assert_string_equal(buf, "2024-01-15T10:00:00Z");
    assert_true(cj_format_rfc3339(t, "Asia/Tokyo", buf, sizeof buf) > 0);
    assert_string_equal(buf, "2024-01-15T19:00:00+09:00");
    assert_true(cj_format_rfc3339(t, "America/New_York", buf, sizeof buf) > 0);
    assert_string_equal(buf, "2024-01-15T05:00:00-05:00");
    assert_true(cj_format_rfc3339(t, "Europe/London", buf, sizeof buf) > 0);
    assert_string_equal(buf, "2024-01-15T10:00:00Z");   /* Go writes Z for any zero offset */
    assert_true(cj_format_rfc1123z(t, buf, sizeof buf) > 0);
    assert_string_equal(buf, "Mon, 15 Jan 2024 10:00:00 +0000");
    assert_int_equal(cj_format_rfc3339(t, NULL, buf, 10), -1);
}

int main(void)
{
    /* schedules without a zone run in the process's zone: pin it */
    setenv("TZ", "UTC", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_minute_and_steps),
        cmocka_unit_test(test_names_and_day_rule),
        cmocka_unit_test(test_macros),
        cmocka_unit_test(test_never_and_leap),
        cmocka_unit_test(test_time_zones),
        cmocka_unit_test(test_go_date_in_gaps),
        cmocka_unit_test(test_dst_new_york_2026),
        cmocka_unit_test(test_dst_berlin_2026),
        cmocka_unit_test(test_dst_midnight_gap),
        cmocka_unit_test(test_local_zone),
        cmocka_unit_test(test_zone_check),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
