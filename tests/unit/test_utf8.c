/* SPDX-License-Identifier: MIT */
/* Unit tests for the incremental UTF-8 validator: one case per rejection class of RFC 3629, the
 * valid edge code points, feeding split at every position, fail-fast detection, and an exhaustive
 * cross-check against an independent bit-pattern decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "utf8.h"

#define S(lit) (lit), (sizeof(lit) - 1)

/* Feeds s byte by byte and returns the index of the byte at which utf8_feed first said INVALID, or
 * n when it never did. Also checks that INVALID is sticky and that one-shot feeding agrees. */
static size_t first_bad(const char *s, size_t n)
{
    struct utf8_state st;
    struct utf8_state whole;
    size_t bad = n;

    utf8_init(&st);
    for (size_t i = 0; i < n; i++) {
        enum utf8_result r = utf8_feed(&st, s + i, 1);

        if (bad == n && r == UTF8_INVALID)
            bad = i;
        if (bad != n)
            assert_int_equal(r, UTF8_INVALID);
    }
    utf8_init(&whole);
    assert_int_equal(utf8_feed(&whole, s, n) == UTF8_INVALID, bad != n);
    return bad;
}

/* Asserts s is rejected exactly at byte index at (fail fast), and not valid as a whole. */
static void reject_at(const char *s, size_t n, size_t at)
{
    assert_int_equal(first_bad(s, n), at);
    assert_false(utf8_valid(s, n));
}

static void accept_all(const char *s, size_t n)
{
    struct utf8_state st;

    assert_int_equal(first_bad(s, n), n);
    utf8_init(&st);
    assert_int_equal(utf8_feed(&st, s, n), UTF8_COMPLETE);
    assert_true(utf8_valid(s, n));
}

static void test_stray_continuation(void **state)
{
    (void)state;
    reject_at(S("\x80"), 0);
    reject_at(S("\xBF"), 0);
    reject_at(S("\x80\xBF"), 0);
    reject_at(S("abc\x80"), 3);
    reject_at(S("\xC3\xA9\x80"), 2); /* one continuation too many after a 2-byte sequence */
    reject_at(S("\xE2\x82\xAC\xBF"), 3);
    reject_at(S("\xF0\x9F\x98\x80\x80"), 4);
}

static void test_lead_then_non_continuation(void **state)
{
    (void)state;
    reject_at(S("\xC3 "), 1);
    reject_at(S("\xC3\xC3\xA9"), 1);
    reject_at(S("\xE2 "), 1);
    reject_at(S("\xE2\x82 "), 2);
    reject_at(S("\xF0\x9F "), 2);
    reject_at(S("\xF0\x9F\x98 "), 3);
    reject_at(S("\xF1\x80\x80\xC2\x80"), 3);
}

static void test_truncated_at_end(void **state)
{
    static const char *const cases[] = {"\xC3",     "\xE2",         "\xE2\x82",      "\xF0",
                                        "\xF0\x9F", "\xF0\x9F\x98", "ok\xF4\x8F\xBF"};
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct utf8_state st;
        size_t n = strlen(cases[i]);

        utf8_init(&st);
        assert_int_equal(utf8_feed(&st, cases[i], n), UTF8_PARTIAL);
        assert_int_equal(first_bad(cases[i], n), n);
        assert_false(utf8_valid(cases[i], n));
    }
}

static void test_impossible_bytes(void **state)
{
    (void)state;
    reject_at(S("\xFE"), 0);
    reject_at(S("\xFF"), 0);
    reject_at(S("a\xFE\xFE\xFF\xFF"), 1);
    reject_at(S("\xF8\x88\x80\x80\x80"), 0);     /* old 5-byte form */
    reject_at(S("\xFC\x84\x80\x80\x80\x80"), 0); /* old 6-byte form */
}

static void test_overlong_two_byte(void **state)
{
    (void)state;
    reject_at(S("\xC0\x80"), 0); /* U+0000 */
    reject_at(S("\xC0\xAF"), 0); /* '/' */
    reject_at(S("\xC1\xBF"), 0); /* U+007F, the largest 2-byte overlong */
}

static void test_overlong_three_byte(void **state)
{
    (void)state;
    reject_at(S("\xE0\x80\x80"), 1);
    reject_at(S("\xE0\x80\xAF"), 1);
    reject_at(S("\xE0\x9F\xBF"), 1); /* U+07FF, the largest 3-byte overlong */
}

static void test_overlong_four_byte(void **state)
{
    (void)state;
    reject_at(S("\xF0\x80\x80\x80"), 1);
    reject_at(S("\xF0\x80\x80\xAF"), 1);
    reject_at(S("\xF0\x8F\xBF\xBF"), 1); /* U+FFFF, the largest 4-byte overlong */
}

static void test_surrogates(void **state)
{
    (void)state;
    reject_at(S("\xED\xA0\x80"), 1);             /* U+D800 */
    reject_at(S("\xED\xAD\xBF"), 1);             /* U+DB7F */
    reject_at(S("\xED\xAE\x80"), 1);             /* U+DB80 */
    reject_at(S("\xED\xB0\x80"), 1);             /* U+DC00 */
    reject_at(S("\xED\xBF\xBF"), 1);             /* U+DFFF */
    reject_at(S("\xED\xA0\x80\xED\xB0\x80"), 1); /* a CESU-8 pair */
}

static void test_above_max(void **state)
{
    (void)state;
    reject_at(S("\xF4\x90\x80\x80"), 1); /* U+110000 */
    reject_at(S("\xF4\xBF\xBF\xBF"), 1);
    reject_at(S("\xF5\x80\x80\x80"), 0);
    reject_at(S("\xF7\xBF\xBF\xBF"), 0);
}

static void test_valid_edges(void **state)
{
    (void)state;
    accept_all(S("\x00"));             /* U+0000 */
    accept_all(S("\x7F"));             /* U+007F */
    accept_all(S("\xC2\x80"));         /* U+0080 */
    accept_all(S("\xDF\xBF"));         /* U+07FF */
    accept_all(S("\xE0\xA0\x80"));     /* U+0800 */
    accept_all(S("\xED\x9F\xBF"));     /* U+D7FF, just below the surrogates */
    accept_all(S("\xEE\x80\x80"));     /* U+E000, just above them */
    accept_all(S("\xEF\xB7\x90"));     /* U+FDD0 noncharacter */
    accept_all(S("\xEF\xBF\xBE"));     /* U+FFFE noncharacter */
    accept_all(S("\xEF\xBF\xBF"));     /* U+FFFF */
    accept_all(S("\xF0\x90\x80\x80")); /* U+10000 */
    accept_all(S("\xF4\x8F\xBF\xBF")); /* U+10FFFF */
    accept_all("", 0);
    accept_all(NULL, 0);
    accept_all(S("Gr\xC3\xBC\xC3\x9F"
                 "e \xE2\x82\xAC \xF0\x9F\x98\x80 \xE6\x97\xA5\xE6\x9C\xAC"));
}

static void test_long_ascii_then_bad(void **state)
{
    char buf[300];

    (void)state;
    /* exercises the 8-bytes-at-a-time path, with the bad byte at every offset past it */
    for (size_t at = 0; at < 40; at++) {
        memset(buf, 'x', sizeof(buf));
        buf[at] = (char)0xC0;
        reject_at(buf, sizeof(buf), at);
        memset(buf, 'x', sizeof(buf));
        assert_true(utf8_valid(buf, sizeof(buf)));
        memcpy(buf + at, "\xF0\x9F\x98\x80", 4);
        assert_true(utf8_valid(buf, sizeof(buf)));
    }
}

/* Splitting a string at any two positions gives the verdict of one-shot feeding. */
static void check_splits(const char *s, size_t n)
{
    struct utf8_state st;
    enum utf8_result whole;

    utf8_init(&st);
    whole = utf8_feed(&st, s, n);
    for (size_t i = 0; i <= n; i++) {
        for (size_t j = i; j <= n; j++) {
            enum utf8_result r;

            utf8_init(&st);
            r = utf8_feed(&st, s, i);
            if (r != UTF8_INVALID)
                r = utf8_feed(&st, s + i, j - i);
            if (r != UTF8_INVALID)
                r = utf8_feed(&st, s + j, n - j);
            assert_int_equal(r, whole);
        }
    }
}

static void test_split_everywhere(void **state)
{
    (void)state;
    check_splits(S("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\xF4\x8F\xBF\xBFz"));
    check_splits(S("\xE2\x82\xAC\xF0\x9F\x98"));  /* ends truncated: PARTIAL */
    check_splits(S("\xE2\x82\xAC\xED\xA0\x80x")); /* surrogate: INVALID */
    check_splits(S("\xF0\x9F\x98\x80\xF4\x90\x80\x80"));
}

static void test_partial_state_reported(void **state)
{
    struct utf8_state st;

    (void)state;
    utf8_init(&st);
    assert_int_equal(utf8_feed(&st, S("\xF0")), UTF8_PARTIAL);
    assert_int_equal(utf8_feed(&st, S("\x9F")), UTF8_PARTIAL);
    assert_int_equal(utf8_feed(&st, S("\x98")), UTF8_PARTIAL);
    assert_int_equal(utf8_feed(&st, "", 0), UTF8_PARTIAL);
    assert_int_equal(utf8_feed(&st, S("\x80")), UTF8_COMPLETE);
    assert_int_equal(utf8_feed(&st, "", 0), UTF8_COMPLETE);
}

static void test_fail_fast_across_fragments(void **state)
{
    struct utf8_state st;

    (void)state;
    /* a valid start, then the fragment where it goes bad, then more valid text */
    utf8_init(&st);
    assert_int_equal(utf8_feed(&st, S("hello \xE2\x82")), UTF8_PARTIAL);
    assert_int_equal(utf8_feed(&st, S("\xAC ok \xED")), UTF8_PARTIAL);
    assert_int_equal(utf8_feed(&st, S("\xA0")), UTF8_INVALID);
    assert_int_equal(utf8_feed(&st, S("\x80 plain ascii")), UTF8_INVALID);
    assert_int_equal(utf8_feed(&st, "", 0), UTF8_INVALID);
    utf8_init(&st);
    assert_int_equal(utf8_feed(&st, S("plain")), UTF8_COMPLETE);
}

static void test_count(void **state)
{
    (void)state;
    assert_int_equal(utf8_count("", 0), 0);
    assert_int_equal(utf8_count(S("abc")), 3);
    assert_int_equal(utf8_count(S("\xC3\xA9t\xC3\xA9")), 3);
    assert_int_equal(utf8_count(S("\xE2\x82\xAC\xF0\x9F\x98\x80")), 2);
    assert_int_equal(utf8_count(S("\x00\x00")), 2);
}

static void test_decode(void **state)
{
    static const struct {
        const char *s;
        size_t len;
        uint32_t cp;
    } cases[] = {
        {S("\x00"), 0x0},
        {S("A"), 0x41},
        {S("\x7F"), 0x7F},
        {S("\xC2\x80"), 0x80},
        {S("\xC3\xA9"), 0xE9},
        {S("\xDF\xBF"), 0x7FF},
        {S("\xE0\xA0\x80"), 0x800},
        {S("\xE2\x82\xAC"), 0x20AC},
        {S("\xEF\xB7\x90"), 0xFDD0},
        {S("\xEF\xBF\xBF"), 0xFFFF},
        {S("\xF0\x90\x80\x80"), 0x10000},
        {S("\xF0\x9F\x98\x80"), 0x1F600},
        {S("\xF4\x8F\xBF\xBF"), 0x10FFFF},
    };
    size_t n;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        n = 99;
        assert_int_equal(utf8_decode(cases[i].s, cases[i].len, &n), cases[i].cp);
        assert_int_equal(n, cases[i].len);
    }
    /* only the first code point is consumed */
    assert_int_equal(utf8_decode(S("\xC3\xA9xyz"), &n), 0xE9);
    assert_int_equal(n, 2);
    /* not valid after all: U+FFFD, one byte, so loops still advance */
    assert_int_equal(utf8_decode(S("\xC0\x80"), &n), 0xFFFD);
    assert_int_equal(n, 1);
    assert_int_equal(utf8_decode(S("\xE2\x82"), &n), 0xFFFD);
    assert_int_equal(n, 1);
}

/* Independent oracle: reads each sequence length from the lead byte's bit pattern, decodes, then
 * applies the rules (shortest form, no surrogates, <= U+10FFFF). Returns whether s[0..n) is valid;
 * *count and *cp receive the number of code points and the last one. */
static bool oracle_valid(const unsigned char *s, size_t n, size_t *count, uint32_t *cp)
{
    static const uint32_t min_for_len[5] = {0, 0, 0x80, 0x800, 0x10000};

    *count = 0;
    for (size_t i = 0; i < n;) {
        size_t want;
        uint32_t v;

        if (s[i] < 0x80) {
            want = 1;
            v = s[i];
        } else if ((s[i] & 0xE0) == 0xC0) {
            want = 2;
            v = s[i] & 0x1F;
        } else if ((s[i] & 0xF0) == 0xE0) {
            want = 3;
            v = s[i] & 0x0F;
        } else if ((s[i] & 0xF8) == 0xF0) {
            want = 4;
            v = s[i] & 0x07;
        } else {
            return false;
        }
        if (n - i < want)
            return false;
        for (size_t k = 1; k < want; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            v = (v << 6) | (s[i + k] & 0x3F);
        }
        if (v < min_for_len[want] || (v >= 0xD800 && v <= 0xDFFF) || v > 0x10FFFF)
            return false;
        *cp = v;
        ++*count;
        i += want;
    }
    return true;
}

static void check_against_oracle(const unsigned char *s, size_t n)
{
    uint32_t want_cp = 0;
    size_t count;
    bool want = oracle_valid(s, n, &count, &want_cp);

    if (utf8_valid(s, n) != want)
        fail_msg("bytes %02x %02x %02x %02x (len %zu): validator says %d, oracle %d", s[0],
                 n > 1 ? s[1] : 0, n > 2 ? s[2] : 0, n > 3 ? s[3] : 0, n, !want, want);
    if (want) {
        assert_int_equal(utf8_count((const char *)s, n), count);
        if (count == 1) {
            size_t used;

            assert_int_equal(utf8_decode((const char *)s, n, &used), want_cp);
            assert_int_equal(used, n);
        }
    }
}

static void test_exhaustive_short_sequences(void **state)
{
    unsigned char s[4];

    (void)state;
    for (unsigned a = 0; a < 256; a++) {
        s[0] = (unsigned char)a;
        check_against_oracle(s, 1);
        for (unsigned b = 0; b < 256; b++) {
            s[1] = (unsigned char)b;
            check_against_oracle(s, 2);
            for (unsigned c = 0; c < 256; c++) {
                s[2] = (unsigned char)c;
                check_against_oracle(s, 3);
            }
        }
    }
}

static void test_exhaustive_four_byte(void **state)
{
    unsigned char s[4];

    (void)state;
    /* every 4-byte lead with every continuation byte plus two neighbours of the continuation range
     */
    for (unsigned a = 0xF0; a < 0x100; a++) {
        s[0] = (unsigned char)a;
        for (unsigned b = 0x7F; b <= 0xC0; b++) {
            s[1] = (unsigned char)b;
            for (unsigned c = 0x7F; c <= 0xC0; c++) {
                s[2] = (unsigned char)c;
                for (unsigned d = 0x7F; d <= 0xC0; d++) {
                    s[3] = (unsigned char)d;
                    check_against_oracle(s, 4);
                }
            }
        }
    }
}

static void test_every_code_point_round_trips(void **state)
{
    unsigned char s[4];
    size_t n;

    (void)state;
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        if (cp < 0x80) {
            s[0] = (unsigned char)cp;
            n = 1;
        } else if (cp < 0x800) {
            s[0] = (unsigned char)(0xC0 | (cp >> 6));
            s[1] = (unsigned char)(0x80 | (cp & 0x3F));
            n = 2;
        } else if (cp < 0x10000) {
            s[0] = (unsigned char)(0xE0 | (cp >> 12));
            s[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
            s[2] = (unsigned char)(0x80 | (cp & 0x3F));
            n = 3;
        } else {
            s[0] = (unsigned char)(0xF0 | (cp >> 18));
            s[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
            s[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
            s[3] = (unsigned char)(0x80 | (cp & 0x3F));
            n = 4;
        }
        if (utf8_valid(s, n) != !(cp >= 0xD800 && cp <= 0xDFFF))
            fail_msg("U+%04X: wrong verdict", (unsigned)cp);
        if (cp < 0xD800 || cp > 0xDFFF) {
            size_t used;

            if (utf8_decode((const char *)s, n, &used) != cp || used != n)
                fail_msg("U+%04X: decode mismatch", (unsigned)cp);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stray_continuation),
        cmocka_unit_test(test_lead_then_non_continuation),
        cmocka_unit_test(test_truncated_at_end),
        cmocka_unit_test(test_impossible_bytes),
        cmocka_unit_test(test_overlong_two_byte),
        cmocka_unit_test(test_overlong_three_byte),
        cmocka_unit_test(test_overlong_four_byte),
        cmocka_unit_test(test_surrogates),
        cmocka_unit_test(test_above_max),
        cmocka_unit_test(test_valid_edges),
        cmocka_unit_test(test_long_ascii_then_bad),
        cmocka_unit_test(test_split_everywhere),
        cmocka_unit_test(test_partial_state_reported),
        cmocka_unit_test(test_fail_fast_across_fragments),
        cmocka_unit_test(test_count),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_exhaustive_short_sequences),
        cmocka_unit_test(test_exhaustive_four_byte),
        cmocka_unit_test(test_every_code_point_round_trips),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
