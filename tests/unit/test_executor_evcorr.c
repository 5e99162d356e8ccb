/* Unit tests for executor/evcorr.c: combining similar events and the
 * per-object spam budget, as client-go's recorder does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "evcorr.h"

static evagg_spec_t *spec(const char *rs, const char *reason, const char *msg)
{
    char json[1024], err[256];
    snprintf(json, sizeof json,
             "{\"involvedObject\":{\"kind\":\"ReplicaSet\",\"namespace\":\"ns1\",\"name\":\"%s\",\"uid\":\"u-%s\","
             "\"apiVersion\":\"apps/v1\"},\"type\":\"Normal\",\"reason\":\"%s\",\"message\":\"%s\","
             "\"source\":{\"component\":\"replicaset-controller\"}}",
             rs, rs, reason, msg);
    evagg_spec_t *s = evagg_spec_parse(json, strlen(json), "", err, sizeof err);
    if (!s) fail_msg("parse: %s", err);
    return s;
}

/* Admits one event; returns the verdict and, for sent ones, copies the
 * message and key as they will be sent. */
static evcorr_verdict_t admit(evcorr_t *c, const char *rs, const char *msg, uint64_t now_ms, char *msg_out,
                              char *key_out)
{
    evagg_spec_t *s = spec(rs, "SuccessfulCreate", msg);
    evcorr_verdict_t v = evcorr_admit(c, s, now_ms);
    if (msg_out) snprintf(msg_out, 256, "%s", evagg_spec_message(s));
    if (key_out) snprintf(key_out, 512, "%s", evagg_spec_key(s));
    evagg_spec_free(&s);
    return v;
}

/* The first 9 distinct messages go as they are; from the 10th on, one
 * combined Event (same aggregation key every time) carries them. */
static void test_similar_events_combine_from_the_tenth(void **state)
{
    (void)state;
    evcorr_t *c = evcorr_new(EVCORR_CAPACITY);
    char msg[256], key[512], first_key[512] = "";
    for (int i = 1; i <= 12; i++) {
        char m[64];
        snprintf(m, sizeof m, "Created pod: web-%05d", i);
        evcorr_verdict_t v = admit(c, "web", m, 1000 + (uint64_t)i, msg, key);
        if (i < EVCORR_SIMILAR_MAX) {
            assert_int_equal(v, EVCORR_SEND);
            assert_string_equal(msg, m);
        } else {
            assert_int_equal(v, EVCORR_COMBINED);
            char want[128];
            snprintf(want, sizeof want, "%s%s", EVAGG_COMBINED_PREFIX, m);
            assert_string_equal(msg, want);
            if (!*first_key) snprintf(first_key, sizeof first_key, "%s", key);
            assert_string_equal(key, first_key);   /* one Event for all of them */
        }
    }
    /* a repeat of a message already seen is still combined once past the limit */
    assert_int_equal(admit(c, "web", "Created pod: web-00001", 2000, NULL, NULL), EVCORR_COMBINED);
    /* another object, or the same one after the window, starts afresh */
    assert_int_equal(admit(c, "api", "Created pod: api-1", 2000, NULL, NULL), EVCORR_SEND);
    evcorr_destroy(&c);
}

static void test_similar_window_expires(void **state)
{
    (void)state;
    evcorr_t *c = evcorr_new(EVCORR_CAPACITY);
    for (int i = 0; i < EVCORR_SIMILAR_MAX; i++) {
        char m[64];
        snprintf(m, sizeof m, "Deleted pod: web-%d", i);
        admit(c, "web", m, 1000, NULL, NULL);
    }
    assert_int_equal(admit(c, "web", "Deleted pod: web-x", 1000 + EVCORR_SIMILAR_WINDOW_MS + 1, NULL, NULL),
                     EVCORR_SEND);
    evcorr_destroy(&c);
}

/* 25 events per object, then one more per 5 minutes; other objects keep
 * their own budget. */
static void test_spam_budget_per_object(void **state)
{
    (void)state;
    evcorr_t *c = evcorr_new(EVCORR_CAPACITY);
    uint64_t t = 5000;
    int sent = 0;
    for (int i = 0; i < 200; i++) {
        char m[64];
        snprintf(m, sizeof m, "Created pod: web-%d", i);
        if (admit(c, "web", m, t + (uint64_t)i, NULL, NULL) != EVCORR_DROP) sent++;
    }
    assert_int_equal(sent, EVCORR_SPAM_BURST);
    assert_int_not_equal(admit(c, "other", "Created pod: other-1", t + 300, NULL, NULL), EVCORR_DROP);
    assert_int_equal(admit(c, "web", "late", t + EVCORR_SPAM_REFILL_MS / 2, NULL, NULL), EVCORR_DROP);
    assert_int_not_equal(admit(c, "web", "later", t + 200 + EVCORR_SPAM_REFILL_MS, NULL, NULL), EVCORR_DROP);
    assert_int_equal(admit(c, "web", "right after", t + 201 + EVCORR_SPAM_REFILL_MS, NULL, NULL), EVCORR_DROP);
    evcorr_destroy(&c);
}

/* A full table makes room instead of refusing: every new object still gets
 * its burst. */
static void test_capacity_bounded(void **state)
{
    (void)state;
    evcorr_t *c = evcorr_new(8);
    for (int i = 0; i < 100; i++) {
        char rs[32];
        snprintf(rs, sizeof rs, "rs-%d", i);
        assert_int_equal(admit(c, rs, "Created pod: x", 1000 + (uint64_t)i, NULL, NULL), EVCORR_SEND);
    }
    evcorr_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_similar_events_combine_from_the_tenth),
        cmocka_unit_test(test_similar_window_expires),
        cmocka_unit_test(test_spam_budget_per_object),
        cmocka_unit_test(test_capacity_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
