/* Unit tests for lib/turnarena.c: trees parsed in a window are counted
 * and reset with the turn; a node still held at the turn's end pins its
 * generation, keeps its value while later turns reuse the arena, and frees
 * the generation when it goes; objects made outside a window (before or
 * after install) are plain malloc'd ones; a window that is not installed
 * changes nothing. Run under ASan too: a read of a dead arena node would be
 * reported there (poisoned). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_installed),   /* first: before any install */
        cmocka_unit_test(test_turn_resets),
        cmocka_unit_test(test_held_node_pins_generation),
        cmocka_unit_test(test_big_and_many),
        cmocka_unit_test(test_parse_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
