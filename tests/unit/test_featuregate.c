/* Unit tests for --feature-gates (lib/featuregate.c): the table of known
 * gates, upstream's syntax and refusals, AllAlpha/AllBeta, and the text the
 * supervisor passes to its workers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "featuregate.h"

static void test_table(void **state)
{
    (void)state;
    for (int i = 1; i < FG_GATE_COUNT; i++)
        if (strcmp(fg_gates[i - 1].name, fg_gates[i].name) >= 0)
            fail_msg("not sorted at %s", fg_gates[i].name);
    int g = fg_lookup("MaxUnavailableStatefulSet");
    assert_true(g >= 0);
    /* Upstream v1.36: beta, off by default. */
    assert_int_equal(fg_gates[g].stage, FG_BETA);
    assert_false(fg_gates[g].default_on);
    assert_true(fg_lookup("AllAlpha") >= 0);
    assert_true(fg_lookup("LoggingAlphaOptions") >= 0);
    assert_true(fg_lookup("WatchListClient") >= 0);     /* client-go's gates too */
    assert_int_equal(fg_lookup("maxunavailablestatefulset"), -1);
    assert_int_equal(fg_lookup(""), -1);
}

static void parse_ok(fg_set_t *s, const char *v)
{
    char err[256];
    if (fg_parse(s, v, err, sizeof err) != 0) fail_msg("%s: %s", v, err);
}

static void parse_bad(const char *v, const char *want)
{
    fg_set_t s;
    fg_set_init(&s);
    parse_ok(&s, "WatchListClient=false");
    fg_set_t before = s;
    char err[256] = "";
    assert_int_equal(fg_parse(&s, v, err, sizeof err), -1);
    if (!strstr(err, want)) fail_msg("for %s: error \"%s\" lacks \"%s\"", v, err, want);
    assert_memory_equal(&s, &before, sizeof s); /* all or nothing */
}

static void test_syntax(void **state)
{
    (void)state;
    fg_set_t s;
    fg_set_init(&s);
    assert_false(fg_enabled_name(&s, "MaxUnavailableStatefulSet"));
    assert_true(fg_enabled_name(&s, "WatchListClient"));
    parse_ok(&s, " MaxUnavailableStatefulSet = True ,,WatchListClient=0,");
    assert_true(fg_enabled_name(&s, "MaxUnavailableStatefulSet"));
    assert_false(fg_enabled_name(&s, "WatchListClient"));
    /* A repeated flag adds to the set; the last value of a gate wins. */
    parse_ok(&s, "WatchListClient=t");
    assert_true(fg_enabled_name(&s, "WatchListClient"));
    parse_ok(&s, "");
    fg_set_t k;
    fg_set_init(&k);
    parse_ok(&k, "kube:MaxUnavailableStatefulSet=true,kube:AllBeta=false");
    assert_true(fg_enabled_name(&k, "MaxUnavailableStatefulSet"));
    assert_false(fg_enabled_name(&k, "ALLBETA")); /* unknown names are off */
}

static void test_refusals(void **state)
{
    (void)state;
    parse_bad("NoSuchGate=true", "--feature-gates: unrecognized feature gate: NoSuchGate");
    parse_bad("MaxUnavailableStatefulSet", "missing bool value for MaxUnavailableStatefulSet");
    parse_bad("MaxUnavailableStatefulSet=yes", "invalid value of MaxUnavailableStatefulSet=yes, err: "
              "strconv.ParseBool: parsing \"yes\": invalid syntax");
    parse_bad("wardle:Foo=true", "component not registered: wardle");
    parse_bad("kube:WatchListClient=true", "do not mix use");
    /* Locked at its default (GA in 1.36): only that value may be set. */
    int g = fg_lookup("InOrderInformers");
    assert_true(g >= 0 && fg_gates[g].locked && fg_gates[g].default_on);
    parse_bad("InOrderInformers=false", "cannot set feature gate InOrderInformers to false, feature "
              "is locked to true");
    fg_set_t s;
    fg_set_init(&s);
    parse_ok(&s, "InOrderInformers=true");
    /* The first bad item refuses the whole value. */
    parse_bad("MaxUnavailableStatefulSet=true,Nope=false", "unrecognized feature gate: Nope");
}

static void test_all_alpha_beta(void **state)
{
    (void)state;
    fg_set_t s;
    fg_set_init(&s);
    parse_ok(&s, "AllAlpha=true,LoggingAlphaOptions=false");
    assert_true(fg_enabled_name(&s, "NativeHistograms"));      /* alpha, unset: AllAlpha */
    assert_false(fg_enabled_name(&s, "LoggingAlphaOptions"));  /* set by name: wins */
    assert_false(fg_enabled_name(&s, "MaxUnavailableStatefulSet")); /* beta: not AllAlpha's */
    parse_ok(&s, "AllBeta=true");
    assert_true(fg_enabled_name(&s, "MaxUnavailableStatefulSet"));
    fg_set_t off;
    fg_set_init(&off);
    parse_ok(&off, "AllBeta=false");
    assert_false(fg_enabled_name(&off, "WatchListClient"));   /* beta, on by default */
    assert_true(fg_enabled_name(&off, "InOrderInformers"));   /* GA: not AllBeta's */
}

static void test_format(void **state)
{
    (void)state;
    fg_set_t s;
    fg_set_init(&s);
    char out[FG_FORMAT_MAX];
    assert_int_equal(fg_format(&s, out, sizeof out), 0);
    assert_string_equal(out, "");
    parse_ok(&s, "WatchListClient=false,MaxUnavailableStatefulSet=true");
    assert_int_equal(fg_format(&s, out, sizeof out), 0);
    assert_string_equal(out, "MaxUnavailableStatefulSet=true,WatchListClient=false");
    /* What a worker reads back is what was set. */
    fg_set_t again;
    fg_set_init(&again);
    parse_ok(&again, out);
    assert_memory_equal(again.value, s.value, sizeof s.value);
    char small[10];
    assert_int_equal(fg_format(&s, small, sizeof small), -1);
    /* Every gate set still fits. */
    fg_set_t all;
    fg_set_init(&all);
    for (int i = 0; i < FG_GATE_COUNT; i++) all.value[i] = (int8_t)fg_gates[i].default_on;
    assert_int_equal(fg_format(&all, out, sizeof out), 0);
    assert_string_equal(fg_stage_label(FG_GA), "");
    assert_string_equal(fg_stage_label(FG_DEPRECATED), "DEPRECATED");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_syntax),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_all_alpha_beta),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
