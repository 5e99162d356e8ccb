/* Unit tests for cron schedules (cj_sched.c): the five-field language with
 * ranges, steps, lists and names, the @ macros and @every, robfig's
 * day-of-month / day-of-week rule, TZ= prefixes and spec.timeZone through
 * the system tz database (DST gaps and repeats as robfig/cron handles
 * them), schedules that never fire, and the error wording. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_minute_and_steps),
        cmocka_unit_test(test_names_and_day_rule),
        cmocka_unit_test(test_macros),
        cmocka_unit_test(test_never_and_leap),
        cmocka_unit_test(test_time_zones),
        cmocka_unit_test(test_zone_check),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
