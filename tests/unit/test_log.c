/* Unit tests for lib/log.c, lib/vmodule.c and lib/logcfg.c: the JSON lines
 * as component-base's JSON logger writes them (parsed back with jansson),
 * the unchanged klog text lines, which stream each line goes to, and
 * --vmodule. Output is captured by pointing fds 1 and 2 at temp files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "log.h"
#include "logcfg.h"
#include "vmodule.h"

/* ---- capturing stdout and stderr ---- */

typedef struct {
    int saved[2];
    FILE *file[2];
    char text[2][3 * LOG_LINE_MAX];
} capture_t;

static void capture_begin(capture_t *c)
{
    fflush(stdout);
    fflush(stderr);
    for (int i = 0; i < 2; i++) {
        c->file[i] = tmpfile();
        assert_non_null(c->file[i]);
        c->saved[i] = dup(i + 1);
        assert_true(c->saved[i] >= 0);
        assert_true(dup2(fileno(c->file[i]), i + 1) >= 0);
    }
}

/* Restores fds 1 and 2; text[0] is what went to stdout, text[1] stderr. */
static void capture_end(capture_t *c)
{
    for (int i = 0; i < 2; i++) {
        assert_true(dup2(c->saved[i], i + 1) >= 0);
        close(c->saved[i]);
        rewind(c->file[i]);
        size_t n = fread(c->text[i], 1, sizeof c->text[i] - 1, c->file[i]);
        c->text[i][n] = '\0';
        fclose(c->file[i]);
    }
}

static json_t *parse_line(const char *text)
{
    json_error_t e;
    size_t n = strlen(text);
    assert_true(n > 0 && text[n - 1] == '\n');
    assert_null(memchr(text, '\n', n - 1)); /* one line */
    json_t *j = json_loadb(text, n - 1, 0, &e);
    if (!j) fail_msg("not JSON (%s): %s", e.text, text);
    return j;
}

/* The keys of a line's object, in the order they were written. */
static void expect_keys(const char *line, const char *const *keys, size_t n)
{
    const char *at = line;
    for (size_t i = 0; i < n; i++) {
        char quoted[64];
        snprintf(quoted, sizeof quoted, "\"%s\":", keys[i]);
        const char *p = strstr(at, quoted);
        if (!p) fail_msg("key %s missing or out of order in %s", keys[i], line);
        at = p + strlen(quoted);
    }
}

/* Ends text after its first line; that line's copy of the rest goes to second. */
static void split_first_line(char *text, char *second, size_t len)
{
    char *nl = strchr(text, '\n');
    assert_non_null(nl);
    snprintf(second, len, "%s", nl + 1);
    nl[1] = '\0';
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void setup_json(const char *name)
{
    log_init(name, 0, LOG_FORMAT_JSON);
    log_set_split_stream(false);
    assert_int_equal(log_vmodule_set("", NULL, 0), 0);
}

/* ---- JSON ---- */

static void test_json_info(void **state)
{
    (void)state;
    setup_json("");
    capture_t c;
    double before = now_ms();
    capture_begin(&c);
    int line = __LINE__ + 1;
    LOGI("worker started", "worker", "broker", "pid", "42");
    capture_end(&c);
    double after = now_ms();
    assert_string_equal(c.text[0], ""); /* upstream: everything on stderr by default */
    static const char *const keys[] = { "ts", "caller", "msg", "v", "worker", "pid" };
    expect_keys(c.text[1], keys, 6);
    assert_null(strstr(c.text[1], "\"logger\""));
    assert_null(strstr(c.text[1], "\"err\""));
    json_t *j = parse_line(c.text[1]);
    json_t *ts = json_object_get(j, "ts");
    assert_true(json_is_number(ts));
    assert_true(json_number_value(ts) >= before - 1 && json_number_value(ts) <= after + 1);
    char caller[64];
    snprintf(caller, sizeof caller, "unit/test_log.c:%d", line);
    assert_string_equal(json_string_value(json_object_get(j, "caller")), caller);
    assert_string_equal(json_string_value(json_object_get(j, "msg")), "worker started");
    assert_int_equal(json_integer_value(json_object_get(j, "v")), 0);
    assert_string_equal(json_string_value(json_object_get(j, "worker")), "broker");
    assert_string_equal(json_string_value(json_object_get(j, "pid")), "42");
    assert_int_equal(json_object_size(j), 6);
    json_decref(j);
}

/* ts: milliseconds with the fewest decimals that read back as the same
 * double, as Go's strconv 'f' with precision -1 prints them. */
static void test_json_ts_shortest(void **state)
{
    (void)state;
    setup_json("");
    for (int i = 0; i < 20; i++) {
        capture_t c;
        capture_begin(&c);
        LOGI("tick");
        capture_end(&c);
        const char *p = strstr(c.text[1], "{\"ts\":");
        assert_non_null(p);
        p += 6;
        char *end = NULL;
        double ts = strtod(p, &end);
        assert_true(*end == ',');
        assert_null(memchr(p, 'e', (size_t)(end - p)));
        const char *dot = memchr(p, '.', (size_t)(end - p));
        if (!dot) continue;
        int decimals = (int)(end - dot - 1);
        assert_true(decimals > 0 && end[-1] != '0');
        char shorter[64];
        snprintf(shorter, sizeof shorter, "%.*f", decimals - 1, ts);
        assert_true(strtod(shorter, NULL) != ts);
    }
}

static void test_json_error_and_warning(void **state)
{
    (void)state;
    setup_json("replicaset-controller");
    capture_t c;
    capture_begin(&c);
    LOGE("cannot write the journal", "error", "No space left on device", "path", "/j");
    LOGW("slow", "error", "not an error on a warning");
    capture_end(&c);
    char second[LOG_LINE_MAX + 2];
    split_first_line(c.text[1], second, sizeof second);
    /* Error lines: no "v"; the error is last, as "err" (klog.ErrorS). */
    static const char *const ekeys[] = { "ts", "logger", "caller", "msg", "path", "err" };
    expect_keys(c.text[1], ekeys, 6);
    json_t *e = parse_line(c.text[1]);
    assert_null(json_object_get(e, "v"));
    assert_null(json_object_get(e, "error"));
    assert_string_equal(json_string_value(json_object_get(e, "err")), "No space left on device");
    assert_string_equal(json_string_value(json_object_get(e, "logger")), "replicaset-controller");
    json_decref(e);
    /* Warnings are info lines at v 0 (klog's Warning through logr). */
    json_t *w = parse_line(second);
    assert_int_equal(json_integer_value(json_object_get(w, "v")), 0);
    assert_string_equal(json_string_value(json_object_get(w, "error")), "not an error on a warning");
    assert_null(json_object_get(w, "err"));
    json_decref(w);
    capture_begin(&c);
    LOGE("no error text");
    capture_end(&c);
    e = parse_line(c.text[1]);
    assert_null(json_object_get(e, "err"));
    json_decref(e);
}

static void test_json_verbosity_field(void **state)
{
    (void)state;
    setup_json("");
    log_init("", 3, LOG_FORMAT_JSON);
    capture_t c;
    capture_begin(&c);
    LOGV(3, "detail", "k", "v");
    LOGV(4, "too detailed");
    capture_end(&c);
    json_t *j = parse_line(c.text[1]);
    assert_int_equal(json_integer_value(json_object_get(j, "v")), 3);
    json_decref(j);
    assert_null(strstr(c.text[1], "too detailed"));
}

static void test_json_escaping(void **state)
{
    (void)state;
    setup_json("");
    capture_t c;
    capture_begin(&c);
    LOGI("say \"hi\"\\\n\t\x01", "bad-utf8", "a\xff" "b", "utf8", "\xc3\xa9t\xc3\xa9", "nil", NULL);
    capture_end(&c);
    assert_non_null(strstr(c.text[1], "\\u0001"));
    assert_non_null(strstr(c.text[1], "a\\ufffdb"));
    json_t *j = parse_line(c.text[1]);
    assert_string_equal(json_string_value(json_object_get(j, "msg")), "say \"hi\"\\\n\t\x01");
    assert_string_equal(json_string_value(json_object_get(j, "bad-utf8")), "a\xef\xbf\xbd" "b");
    assert_string_equal(json_string_value(json_object_get(j, "utf8")), "\xc3\xa9t\xc3\xa9");
    assert_string_equal(json_string_value(json_object_get(j, "nil")), "<nil>");
    json_decref(j);
}

/* A line longer than the buffer is cut, and still one JSON object. */
static void test_json_cut(void **state)
{
    (void)state;
    setup_json("");
    static char big[3 * LOG_LINE_MAX];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    capture_t c;
    capture_begin(&c);
    LOGI("long", "a", "short", "b", big, "c", "never");
    LOGE("long error", "k", big, "error", "boom");
    capture_end(&c);
    char second[LOG_LINE_MAX + 2];
    split_first_line(c.text[1], second, sizeof second);
    assert_true(strlen(c.text[1]) <= LOG_LINE_MAX);
    json_t *j = parse_line(c.text[1]);
    const char *b = json_string_value(json_object_get(j, "b"));
    assert_non_null(b);
    assert_true(strlen(b) > 1000 && strcmp(b + strlen(b) - 3, "...") == 0);
    assert_string_equal(json_string_value(json_object_get(j, "a")), "short");
    assert_null(json_object_get(j, "c"));
    json_decref(j);
    j = parse_line(second);
    assert_non_null(json_object_get(j, "k"));
    json_decref(j);
}

/* ---- streams ---- */

static void test_split_streams(void **state)
{
    (void)state;
    setup_json("");
    log_set_split_stream(true);
    capture_t c;
    capture_begin(&c);
    LOGI("info");
    LOGW("warning");
    LOGE("error");
    capture_end(&c);
    /* JSON: errors on stderr, info and warnings on stdout. */
    assert_non_null(strstr(c.text[0], "\"msg\":\"info\""));
    assert_non_null(strstr(c.text[0], "\"msg\":\"warning\""));
    assert_null(strstr(c.text[0], "\"msg\":\"error\""));
    assert_non_null(strstr(c.text[1], "\"msg\":\"error\""));
    assert_null(strstr(c.text[1], "\"msg\":\"info\""));
    /* Text: 'I' lines on stdout, the others on stderr. */
    log_init("", 0, LOG_FORMAT_TEXT);
    capture_begin(&c);
    LOGI("info");
    LOGW("warning");
    LOGE("error");
    capture_end(&c);
    assert_true(c.text[0][0] == 'I' && strstr(c.text[0], "\"info\""));
    assert_null(strstr(c.text[0], "warning"));
    assert_true(c.text[1][0] == 'W' && strstr(c.text[1], "\"error\""));
    log_set_split_stream(false);
}

/* ---- text: unchanged ---- */

static void test_text_line(void **state)
{
    (void)state;
    log_init("ignored-in-text", 0, LOG_FORMAT_TEXT);
    log_set_split_stream(false);
    capture_t c;
    capture_begin(&c);
    int line = __LINE__ + 1;
    LOGE("cannot", "error", "boom", "path", "/p");
    capture_end(&c);
    assert_string_equal(c.text[0], "");
    assert_true(c.text[1][0] == 'E');
    char want[128];
    snprintf(want, sizeof want, " test_log.c:%d] \"cannot\" error=\"boom\" path=\"/p\"\n", line);
    assert_non_null(strstr(c.text[1], want));
    assert_null(strstr(c.text[1], "ignored-in-text"));
}

/* ---- --vmodule ---- */

static void test_vmodule_parse(void **state)
{
    (void)state;
    vmodule_t m;
    char err[256] = "";
    assert_int_equal(vmodule_parse("config=2,sup*=3,,x=0,config=5", &m, err, sizeof err), 0);
    assert_int_equal(m.n, 3); /* the 0 is dropped, as klog drops it */
    assert_int_equal(vmodule_level(&m, "/src/supervisor/config.c"), 2); /* first match wins */
    assert_int_equal(vmodule_level(&m, "supervisor/supervise.c"), 3);
    assert_int_equal(vmodule_level(&m, "lib/log.h"), -1);
    assert_int_equal(vmodule_level(&m, "x.c"), -1);
    static const struct { const char *spec, *want; } bad[] = {
        { "config", "\"config\" does not have the pattern=N format" },
        { "=2", "\"=2\" does not have the pattern=N format" },
        { "a=", "\"a=\" does not have the pattern=N format" },
        { "a=1=2", "\"a=1=2\" does not have the pattern=N format" },
        { "a=-1", "parsing verbosity in \"a=-1\"" },
        { "a=b", "parsing verbosity in \"a=b\"" },
        { "a=2147483648", "parsing verbosity in \"a=2147483648\"" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(vmodule_parse(bad[i].spec, &m, err, sizeof err), -1);
        if (!strstr(err, bad[i].want)) fail_msg("%s: \"%s\" lacks \"%s\"", bad[i].spec, err, bad[i].want);
        assert_int_equal(m.n, 0);
    }
    char many[VMODULE_MAX * 8 + 16] = "";
    for (int i = 0; i <= VMODULE_MAX; i++) snprintf(many + strlen(many), sizeof many - strlen(many), "f%d=1,", i);
    assert_int_equal(vmodule_parse(many, &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "more than"));
}

static void test_vmodule_applied(void **state)
{
    (void)state;
    log_init("", 1, LOG_FORMAT_TEXT);
    char err[256];
    assert_int_equal(log_vmodule_set("test_lo?=4,other=9", err, sizeof err), 0);
    assert_true(log_v_enabled_at(4, __FILE__));
    assert_false(log_v_enabled_at(5, __FILE__));
    assert_true(log_v_enabled_at(1, "lib/unrelated.c"));  /* -v still applies */
    assert_false(log_v_enabled_at(2, "lib/unrelated.c"));
    capture_t c;
    capture_begin(&c);
    LOGV(4, "wanted here");
    LOGV(5, "not wanted");
    capture_end(&c);
    assert_non_null(strstr(c.text[1], "wanted here"));
    assert_null(strstr(c.text[1], "not wanted"));
    /* A refused list leaves the one in force. */
    assert_int_equal(log_vmodule_set("broken", err, sizeof err), -1);
    assert_true(log_v_enabled_at(4, __FILE__));
    assert_int_equal(log_vmodule_set("", err, sizeof err), 0);
    assert_false(log_v_enabled_at(4, __FILE__));
}

/* logcfg_args gives a worker the same configuration back. */
static int collect(void *ctx, const char *arg)
{
    char *out = ctx;
    size_t n = strlen(out);
    snprintf(out + n, 1024 - n, "%s%s", n ? " " : "", arg);
    return 0;
}

static void test_logcfg_args(void **state)
{
    (void)state;
    logcfg_t c;
    logcfg_defaults(&c);
    char out[1024] = "";
    assert_int_equal(logcfg_args(&c, collect, out), 0);
    assert_string_equal(out, "-v=0 --logging-format=text");
    bool took = false;
    char err[256];
    assert_int_equal(logcfg_flag(&c, "vmodule", "a=1", true, &took, err, sizeof err), 0);
    assert_int_equal(logcfg_flag(&c, "log-text-split-stream", NULL, false, &took, err, sizeof err), 0);
    assert_false(took);
    assert_int_equal(logcfg_flag(&c, "v", "3", false, &took, err, sizeof err), 0);
    assert_true(took);
    assert_int_equal(logcfg_flag(&c, "port", "3", true, &took, err, sizeof err), 1);
    out[0] = '\0';
    assert_int_equal(logcfg_args(&c, collect, out), 0);
    assert_string_equal(out, "-v=3 --logging-format=text --vmodule=a=1 --log-text-split-stream=true");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_info),
        cmocka_unit_test(test_json_ts_shortest),
        cmocka_unit_test(test_json_error_and_warning),
        cmocka_unit_test(test_json_verbosity_field),
        cmocka_unit_test(test_json_escaping),
        cmocka_unit_test(test_json_cut),
        cmocka_unit_test(test_split_streams),
        cmocka_unit_test(test_text_line),
        cmocka_unit_test(test_vmodule_parse),
        cmocka_unit_test(test_vmodule_applied),
        cmocka_unit_test(test_logcfg_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
