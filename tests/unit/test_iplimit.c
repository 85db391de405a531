/* SPDX-License-Identifier: MIT */
/* Unit tests for the per-address counts: caps per kind, release, 0 = no cap, refusals, trusted
 * proxies and the client address taken from X-Forwarded-For. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "iplimit.h"

static uint32_t ip(const char *s)
{
    uint32_t v = 0;
    assert_true(iplimit_parse(s, &v));
    return v;
}

static void test_caps_per_kind_and_address(void **state)
{
    (void)state;
    struct iplimit *l = iplimit_new(2, 3, "");
    uint32_t a = ip("10.0.0.1"), b = ip("10.0.0.2");
    assert_non_null(l);
    assert_true(iplimit_take(l, IPLIMIT_HTTP, a));
    assert_true(iplimit_take(l, IPLIMIT_HTTP, a));
    assert_false(iplimit_take(l, IPLIMIT_HTTP, a)); /* the third from a */
    assert_true(iplimit_take(l, IPLIMIT_HTTP, b));  /* another address is not affected */
    for (int i = 0; i < 3; i++)
        assert_true(iplimit_take(l, IPLIMIT_WS, a)); /* the kinds count apart */
    assert_false(iplimit_take(l, IPLIMIT_WS, a));
    assert_int_equal(iplimit_count(l, IPLIMIT_HTTP, a), 2);
    assert_int_equal(iplimit_total(l, IPLIMIT_HTTP), 3);
    iplimit_release(l, IPLIMIT_HTTP, a);
    assert_true(iplimit_take(l, IPLIMIT_HTTP, a)); /* a slot came back */
    iplimit_note_refusal(l, IPLIMIT_HTTP);
    assert_int_equal(iplimit_refused(l, IPLIMIT_HTTP), 1);
    iplimit_free(l);
}

static void test_release_to_zero(void **state)
{
    (void)state;
    struct iplimit *l = iplimit_new(2, 0, NULL);
    uint32_t a = ip("192.168.1.7");
    assert_true(iplimit_take(l, IPLIMIT_HTTP, a));
    assert_true(iplimit_take(l, IPLIMIT_HTTP, a));
    assert_int_equal(iplimit_count(l, IPLIMIT_HTTP, a), 2);
    iplimit_release(l, IPLIMIT_HTTP, a);
    iplimit_release(l, IPLIMIT_HTTP, a);
    iplimit_release(l, IPLIMIT_HTTP, a); /* one too many: harmless */
    assert_int_equal(iplimit_count(l, IPLIMIT_HTTP, a), 0);
    assert_int_equal(iplimit_total(l, IPLIMIT_HTTP), 0);
    for (int i = 0; i < 1000; i++) /* cap 0: no limit */
        assert_true(iplimit_take(l, IPLIMIT_WS, a));
    iplimit_free(l); /* frees entries still counted */
}

static void test_trusted_proxies_and_forwarded_for(void **state)
{
    (void)state;
    uint32_t proxy = ip("127.0.0.1"), other = ip("10.9.9.9");
    assert_null(iplimit_new(1, 1, "127.0.0.1, nonsense"));
    struct iplimit *l = iplimit_new(1, 1, "127.0.0.1, 10.0.0.254");
    assert_non_null(l);
    assert_true(iplimit_trusted(l, proxy));
    assert_false(iplimit_trusted(l, other));
    /* from an untrusted peer the header is ignored */
    assert_int_equal(iplimit_client(l, other, "1.2.3.4"), other);
    /* from a proxy: the right-most address that is not a proxy */
    assert_int_equal(iplimit_client(l, proxy, "1.2.3.4"), ip("1.2.3.4"));
    assert_int_equal(iplimit_client(l, proxy, "6.6.6.6, 1.2.3.4"), ip("1.2.3.4"));
    assert_int_equal(iplimit_client(l, proxy, "1.2.3.4, 10.0.0.254"), ip("1.2.3.4"));
    assert_int_equal(iplimit_client(l, proxy, NULL), proxy);
    assert_int_equal(iplimit_client(l, proxy, "garbage"), proxy);
    assert_int_equal(iplimit_client(l, proxy, "1.2.3.4, garbage"), proxy);
    iplimit_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_caps_per_kind_and_address),
        cmocka_unit_test(test_release_to_zero),
        cmocka_unit_test(test_trusted_proxies_and_forwarded_for),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
