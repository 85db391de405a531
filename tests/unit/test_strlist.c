/* SPDX-License-Identifier: MIT */
/* Unit tests for the comma-list walker: items in order, spaces and tabs trimmed around items (not
 * inside them), empty items and trailing commas skipped, empty lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "strlist.h"

/* Walks list and checks it yields exactly the NULL-terminated want[], then keeps returning false
 * with the cursor at the end. */
static void expect_items(const char *list, const char *const *want)
{
    const char *cur = list, *item = NULL;
    size_t len = 0, n = 0;

    while (strlist_next(&cur, &item, &len)) {
        if (!want[n])
            fail_msg("'%s': extra item '%.*s'", list, (int)len, item);
        if (len != strlen(want[n]) || memcmp(item, want[n], len) != 0)
            fail_msg("'%s': item %zu is '%.*s', want '%s'", list, n, (int)len, item, want[n]);
        /* the item points into the list */
        assert_true(item >= list && item + len <= list + strlen(list));
        assert_true(cur >= item + len && cur <= list + strlen(list));
        n++;
    }
    if (want[n])
        fail_msg("'%s': %zu items, want '%s' next", list, n, want[n]);
    assert_ptr_equal(cur, list + strlen(list));
    assert_false(strlist_next(&cur, &item, &len));
    assert_ptr_equal(cur, list + strlen(list));
}

#define ITEMS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NONE       ((const char *const[]){NULL})

static void test_items(void **state)
{
    (void)state;
    expect_items("a", ITEMS("a"));
    expect_items("a,b,c", ITEMS("a", "b", "c"));
    expect_items("stun:a.example:3478,turn:b.example?transport=tcp",
                 ITEMS("stun:a.example:3478", "turn:b.example?transport=tcp"));
    expect_items("https://a.example,http://b.example:8080",
                 ITEMS("https://a.example", "http://b.example:8080"));
}

static void test_spaces(void **state)
{
    (void)state;
    expect_items("a, b ,c", ITEMS("a", "b", "c"));
    expect_items("  a  ,\tb\t,  c  ", ITEMS("a", "b", "c"));
    /* spaces inside an item stay */
    expect_items(" two words , x y z", ITEMS("two words", "x y z"));
}

static void test_empty_items(void **state)
{
    (void)state;
    expect_items("a,,b", ITEMS("a", "b"));
    expect_items(",a", ITEMS("a"));
    expect_items(",, ,\t, a , ,b", ITEMS("a", "b"));
}

static void test_trailing_comma(void **state)
{
    (void)state;
    expect_items("a,", ITEMS("a"));
    expect_items("a, b ,  ", ITEMS("a", "b"));
    expect_items("a,,,", ITEMS("a"));
}

static void test_empty_list(void **state)
{
    (void)state;
    expect_items("", NONE);
    expect_items(" ", NONE);
    expect_items(",", NONE);
    expect_items(" , ,\t,", NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_items),       cmocka_unit_test(test_spaces),
        cmocka_unit_test(test_empty_items), cmocka_unit_test(test_trailing_comma),
        cmocka_unit_test(test_empty_list),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
