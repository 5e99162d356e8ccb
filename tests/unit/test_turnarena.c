/* Unit tests for lib/turnarena.c: trees parsed in a window are counted
 * and reset with the turn; a node still held at the turn's end pins its
 * generation, keeps its value while later turns reuse the arena, and frees
 * the generation when it goes; objects made outside a window (before or
 * after install) are plain malloc'd ones; a window that is not installed
 * changes nothing. A page's window as the informer has it (parse, project,
 * serialise with turn_arena_dump, drop) leaves nothing live, and its dump is
 * malloc'd: it outlives later windows that reuse the arena, and free()
 * takes it. Run under ASan too: a read of a dead arena node would be
 * reported there (poisoned), and so would free() of an arena block. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "turnarena.h"

static const char POD[] = "{\"metadata\":{\"name\":\"p\",\"labels\":{\"app\":\"web\",\"tier\":\"front\"}},"
                          "\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}";

static json_t *parse_in_window(const char *text)
{
    turn_arena_open();
    json_t *t = json_loadb(text, strlen(text), 0, NULL);
    turn_arena_close();
    return t;
}

/* The state before install: a window allocates nothing from the arena. */
static void test_not_installed(void **state)
{
    (void)state;
    json_t *t = parse_in_window(POD);
    assert_non_null(t);
    assert_int_equal(turn_arena_live(), 0);
    json_decref(t);
}

static void test_turn_resets(void **state)
{
    (void)state;
    json_t *before = json_pack("{s:s}", "made", "before install");   /* malloc'd */
    turn_arena_install();
    turn_arena_install();   /* idempotent */
    json_t *t = parse_in_window(POD);
    assert_non_null(t);
    assert_true(turn_arena_live() > 10);   /* every node of the tree */
    assert_string_equal(json_string_value(json_object_get(json_object_get(t, "status"), "phase")), "Running");
    json_decref(t);
    assert_int_equal(turn_arena_live(), 0);
    turn_arena_rotate();
    assert_int_equal(turn_arena_pinned(), 0);
    json_decref(before);   /* not an arena pointer: freed by free() */

    json_t *outside = json_object();   /* no window: malloc */
    assert_int_equal(turn_arena_live(), 0);
    json_decref(outside);
}

static void test_held_node_pins_generation(void **state)
{
    (void)state;
    turn_arena_install();
    json_t *t = parse_in_window(POD);
    json_t *labels = json_incref(json_object_get(json_object_get(t, "metadata"), "labels"));
    json_decref(t);   /* the tree goes, its labels stay */
    assert_true(turn_arena_live() > 0);
    turn_arena_rotate();
    assert_int_equal(turn_arena_pinned(), 1);
    assert_int_equal(turn_arena_live(), 0);   /* a fresh generation */

    for (int turn = 0; turn < 50; turn++) {   /* later turns write over a reused arena, never over labels */
        json_t *u = parse_in_window("{\"metadata\":{\"labels\":{\"app\":\"XXXXXXXX\",\"tier\":\"YYYYYYYY\"}}}");
        assert_non_null(u);
        json_decref(u);
        turn_arena_rotate();
    }
    assert_string_equal(json_string_value(json_object_get(labels, "app")), "web");
    assert_string_equal(json_string_value(json_object_get(labels, "tier")), "front");
    assert_int_equal(turn_arena_pinned(), 1);
    json_decref(labels);   /* its last node: the pinned generation is freed */
    assert_int_equal(turn_arena_pinned(), 0);
}

static void test_big_and_many(void **state)
{
    (void)state;
    turn_arena_install();
    /* a string larger than a chunk, and more trees than one chunk holds */
    size_t n = 200 * 1024;
    char *big = malloc(n + 5);
    assert_non_null(big);
    memcpy(big, "[\"", 2);
    memset(big + 2, 'a', n);
    memcpy(big + n + 2, "\"]", 3);
    json_t *s = parse_in_window(big);
    assert_non_null(s);
    assert_int_equal(json_string_length(json_array_get(s, 0)), n);
    json_t *trees[400];
    for (int i = 0; i < 400; i++) assert_non_null(trees[i] = parse_in_window(POD));
    for (int i = 0; i < 400; i++)
        assert_string_equal(json_string_value(json_object_get(json_object_get(trees[i], "metadata"), "name")), "p");
    for (int i = 0; i < 400; i++) json_decref(trees[i]);
    json_decref(s);
    assert_int_equal(turn_arena_live(), 0);
    turn_arena_rotate();
    assert_int_equal(turn_arena_pinned(), 0);
    free(big);
}

/* Many chunks, big blocks among them, and two generations: every free
 * finds its block's generation (the chunk registry), whatever the order,
 * and a malloc'd tree freed meanwhile goes to free(). Under ASan a block
 * sent to the wrong place would be reported. */
static void test_many_chunks_two_generations(void **state)
{
    (void)state;
    turn_arena_install();
    enum { N = 3000 };   /* ~1 KiB of nodes each: about fifty 64 KiB chunks */
    static json_t *trees[N];
    char big[100 * 1024 + 8];
    memcpy(big, "[\"", 2);
    memset(big + 2, 'b', sizeof big - 8);
    memcpy(big + sizeof big - 6, "\"]", 3);
    json_t *outside = json_loadb(POD, strlen(POD), 0, NULL);   /* plain malloc */
    for (int i = 0; i < N; i++) assert_non_null(trees[i] = parse_in_window(i % 1000 == 500 ? big : POD));
    json_t *held = json_incref(trees[7]);
    for (int i = 0; i < N; i += 2) json_decref(trees[i]);
    turn_arena_rotate();   /* odd trees and the held one still live: pinned */
    assert_int_equal(turn_arena_pinned(), 1);
    for (int i = 0; i < N; i++) assert_non_null(trees[i] = i % 2 ? trees[i] : parse_in_window(POD));
    assert_true(turn_arena_live() > 0);   /* the new generation's nodes */
    json_decref(outside);
    for (int i = N - 1; i >= 0; i--) {
        if (i % 2) assert_string_equal(json_string_value(json_object_get(json_object_get(trees[i], "metadata"), "name")), "p");
        json_decref(trees[i]);
    }
    assert_int_equal(turn_arena_live(), 0);
    assert_int_equal(turn_arena_pinned(), 1);   /* the held tree */
    assert_string_equal(json_string_value(json_object_get(json_object_get(held, "metadata"), "name")), "p");
    json_decref(held);
    assert_int_equal(turn_arena_pinned(), 0);
    turn_arena_rotate();
}

/* A malformed text in a window: the partial tree is freed, nothing lives. */
static void test_parse_error(void **state)
{
    (void)state;
    turn_arena_install();
    json_error_t jerr;
    turn_arena_open();
    json_t *t = json_loads("{\"a\":[1,2,{\"b\":", 0, &jerr);
    turn_arena_close();
    assert_null(t);
    assert_int_equal(turn_arena_live(), 0);
}

/* One window of the informer's: managedFields dropped, kind added, an
 * array grown past a chunk (a second one is taken), then serialised. */
static char *page_window(int round, size_t *len)
{
    turn_arena_open();
    json_error_t jerr;
    json_t *t = json_loads("{\"metadata\":{\"name\":\"p\",\"managedFields\":[1,2,3]},\"spec\":{\"x\":[true,null]}}",
                           0, &jerr);
    assert_non_null(t);
    json_object_del(json_object_get(t, "metadata"), "managedFields");
    json_object_set_new(t, "kind", json_string("Pod"));
    json_object_set_new(t, "round", json_integer(round));
    json_t *x = json_object_get(json_object_get(t, "spec"), "x");
    for (int i = 0; i < 20000; i++) json_array_append_new(x, json_integer(i));
    assert_true(turn_arena_live() > 20000);
    char *dump = turn_arena_dump(t, len);
    json_decref(t);
    turn_arena_close();
    return dump;
}

static void test_window_dump_outlives(void **state)
{
    (void)state;
    turn_arena_install();
    json_t *outside = json_pack("{s:s}", "kept", "yes");   /* no window: malloc */
    char *dumps[3];
    size_t lens[3];
    for (int round = 0; round < 3; round++) {   /* each window writes over the last one's memory */
        dumps[round] = page_window(round, &lens[round]);
        assert_int_equal(turn_arena_live(), 0);
        turn_arena_rotate();
        assert_int_equal(turn_arena_pinned(), 0);
    }
    for (int round = 0; round < 3; round++) {
        assert_non_null(dumps[round]);
        assert_int_equal(strlen(dumps[round]), lens[round]);
        assert_true(strncmp(dumps[round], "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"x\":[true,null,0,1,", 48) == 0);
        char tail[64];
        snprintf(tail, sizeof tail, ",19999]},\"kind\":\"Pod\",\"round\":%d}", round);
        assert_non_null(strstr(dumps[round], tail));
        free(dumps[round]);   /* malloc'd, not an arena block */
    }
    assert_string_equal(json_string_value(json_object_get(outside, "kept")), "yes");
    json_decref(outside);
}

/* Outside a window the dump is the same; what jansson cannot serialise
 * without JSON_ENCODE_ANY is NULL; a close or a rotate with no window
 * open changes nothing. */
static void test_dump_outside_window(void **state)
{
    (void)state;
    turn_arena_install();
    json_t *t = json_pack("{s:i}", "a", 1);
    size_t len = 0;
    char *d = turn_arena_dump(t, &len);
    assert_non_null(d);
    assert_string_equal(d, "{\"a\":1}");
    assert_int_equal(len, 7);
    free(d);
    json_decref(t);
    json_t *n = json_integer(1);
    len = 99;
    assert_null(turn_arena_dump(n, &len));
    assert_null(turn_arena_dump(NULL, &len));
    assert_int_equal(len, 99);
    json_decref(n);
    turn_arena_close();
    turn_arena_rotate();
    assert_int_equal(turn_arena_live(), 0);
    assert_int_equal(turn_arena_pinned(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_installed),   /* first: before any install */
        cmocka_unit_test(test_turn_resets),
        cmocka_unit_test(test_held_node_pins_generation),
        cmocka_unit_test(test_big_and_many),
        cmocka_unit_test(test_many_chunks_two_generations),
        cmocka_unit_test(test_parse_error),
        cmocka_unit_test(test_window_dump_outlives),
        cmocka_unit_test(test_dump_outside_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
