/* Unit tests for informer/jarena.c: trees built inside the window parse,
 * project and serialise as usual, the dump is the caller's (malloc'd,
 * outlives the window), objects made outside the window are untouched by
 * it, and windows repeat (chunks given back each time). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "jarena.h"

static void test_window_dump_outlives(void **state)
{
    (void)state;
    json_t *outside = json_pack("{s:s}", "kept", "yes");
    char *dump = NULL;
    size_t len = 0;
    for (int round = 0; round < 3; round++) {
        free(dump);
        jarena_begin();
        json_error_t jerr;
        json_t *t = json_loads("{\"metadata\":{\"name\":\"p\",\"managedFields\":[1,2,3]},\"spec\":{\"x\":[true,null]}}",
                               0, &jerr);
        assert_non_null(t);
        json_object_del(json_object_get(t, "metadata"), "managedFields");
        json_object_set_new(t, "kind", json_string("Pod"));
        for (int i = 0; i < 20000; i++)   /* past one chunk: a second one is taken */
            json_array_append_new(json_object_get(json_object_get(t, "spec"), "x"), json_integer(i));
        dump = jarena_dump(t, &len);
        json_decref(t);
        jarena_end();
        assert_non_null(dump);
        assert_int_equal(strlen(dump), len);
    }
    assert_true(strncmp(dump, "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"x\":[true,null,0,1,", 48) == 0);
    assert_non_null(strstr(dump, ",19999]},\"kind\":\"Pod\"}"));
    free(dump);
    assert_string_equal(json_string_value(json_object_get(outside, "kept")), "yes");
    json_decref(outside);   /* made with malloc, freed with free: the window is closed */
}

static void test_dump_outside_window(void **state)
{
    (void)state;
    json_t *t = json_pack("{s:i}", "a", 1);
    size_t len = 0;
    char *d = jarena_dump(t, &len);
    assert_string_equal(d, "{\"a\":1}");
    assert_int_equal(len, 7);
    free(d);
    json_decref(t);
    jarena_end();   /* without a window: nothing happens */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_dump_outlives),
        cmocka_unit_test(test_dump_outside_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
