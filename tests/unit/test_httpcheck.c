/* SPDX-License-Identifier: MIT */
/* Unit tests for the request checks CivetWeb 1.15 does not make: Range values against a size,
 * and the shape of Sec-WebSocket-Key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <cmocka.h>

#include "httpcheck.h"

static void test_ranges(void **state)
{
    (void)state;
    const long long size = 100;
    assert_int_equal(httpcheck_range("bytes=0-9", size), HTTPCHECK_RANGE_OK);
    assert_int_equal(httpcheck_range("bytes=10-", size), HTTPCHECK_RANGE_OK);
    assert_int_equal(httpcheck_range("bytes=-10", size), HTTPCHECK_RANGE_OK);
    assert_int_equal(httpcheck_range("bytes=99-99", size), HTTPCHECK_RANGE_OK);
    assert_int_equal(httpcheck_range("bytes=90-500", size), HTTPCHECK_RANGE_OK); /* clipped */
    assert_int_equal(httpcheck_range(" bytes = 0-9 ", size), HTTPCHECK_RANGE_OK);
    assert_int_equal(httpcheck_range("bytes=100-", size), HTTPCHECK_RANGE_UNSATISFY);
    assert_int_equal(httpcheck_range("bytes=999999999-", size), HTTPCHECK_RANGE_UNSATISFY);
    assert_int_equal(httpcheck_range("bytes=-0", size), HTTPCHECK_RANGE_UNSATISFY);
    assert_int_equal(httpcheck_range("bytes=0-0", 0), HTTPCHECK_RANGE_UNSATISFY);
    assert_int_equal(httpcheck_range("bytes=5-3", size), HTTPCHECK_RANGE_BAD);
    assert_int_equal(httpcheck_range("bytes=abc", size), HTTPCHECK_RANGE_BAD);
    assert_int_equal(httpcheck_range("bytes=0-1,5-6", size), HTTPCHECK_RANGE_BAD);
    assert_int_equal(httpcheck_range("items=0-1", size), HTTPCHECK_RANGE_BAD);
    assert_int_equal(httpcheck_range("bytes 0-1", size), HTTPCHECK_RANGE_BAD);
    assert_int_equal(httpcheck_range("bytes=-", size), HTTPCHECK_RANGE_BAD);
    assert_int_equal(httpcheck_range("bytes=99999999999999999999-", size), HTTPCHECK_RANGE_BAD);
}

static void test_websocket_keys(void **state)
{
    (void)state;
    assert_true(httpcheck_ws_key("dGhlIHNhbXBsZSBub25jZQ==")); /* RFC 6455's example */
    assert_true(httpcheck_ws_key("AAAAAAAAAAAAAAAAAAAAAA=="));
    assert_false(httpcheck_ws_key(NULL));
    assert_false(httpcheck_ws_key(""));
    assert_false(httpcheck_ws_key("dGhlIHNhbXBsZSBub25jZQ="));    /* 23 characters */
    assert_false(httpcheck_ws_key("dGhlIHNhbXBsZSBub25jZQ=== ")); /* too long */
    assert_false(httpcheck_ws_key("dGhlIHNhbXBsZSBub25j!Q=="));   /* not base64 */
    assert_false(httpcheck_ws_key("dGhlIHNhbXBsZSBub25jZR=="));   /* stray bits in the last digit */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_websocket_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
