/* SPDX-License-Identifier: MIT */
/* Unit tests for the frame assembler: every action and every RFC 6455 failure it reports, fragment
 * reassembly with control frames in between, UTF-8 split across fragments, the size limit and the
 * close code table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "frame.h"

#define S(lit) (lit), (sizeof(lit) - 1)

#define FIN       0x80u
#define TEST_MAX  16u
#define TEXT      FRAME_OP_TEXT
#define BINARY    FRAME_OP_BINARY
#define CONT      FRAME_OP_CONT
#define PING      FRAME_OP_PING
#define PONG      FRAME_OP_PONG
#define CLOSE     FRAME_OP_CLOSE
#define BIG_LIMIT (1024u * 1024u)

struct fixture {
    struct frame_asm a;
    struct frame_out o;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    frame_asm_init(&f->a, TEST_MAX);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    frame_asm_free(&f->a);
    free(f);
    return 0;
}

/* Feeds one frame and checks the invariants that hold after every feed. */
static enum frame_action feed(struct fixture *f, unsigned bits, const char *data, size_t len)
{
    enum frame_action r = frame_asm_feed(&f->a, bits, data, len, &f->o);

    assert_true(f->a.cap <= f->a.max_bytes);
    assert_true(f->a.len <= f->a.max_bytes);
    if (r == FRAME_MESSAGE) {
        assert_non_null(f->o.data);
        assert_true(f->o.len <= f->a.max_bytes);
    }
    if (r == FRAME_FAIL) {
        assert_non_null(f->o.reason);
        assert_true(strlen(f->o.reason) <= 123);
    }
    return r;
}

static void expect_fail(struct fixture *f, unsigned bits, const char *data, size_t len,
                        unsigned code, const char *reason)
{
    assert_int_equal(feed(f, bits, data, len), FRAME_FAIL);
    assert_int_equal(f->o.code, code);
    assert_string_equal(f->o.reason, reason);
    /* the caller drops the connection: continue as a new one */
    frame_asm_free(&f->a);
    frame_asm_init(&f->a, TEST_MAX);
}

static void expect_message(struct fixture *f, unsigned bits, const char *data, size_t len,
                           int opcode, const char *want, size_t want_len)
{
    assert_int_equal(feed(f, bits, data, len), FRAME_MESSAGE);
    assert_int_equal(f->o.opcode, opcode);
    assert_int_equal(f->o.len, want_len);
    assert_memory_equal(f->o.data, want, want_len);
}

static void test_text_unfragmented_no_copy(void **state)
{
    struct fixture *f = *state;
    static const char msg[] = "hello";

    expect_message(f, FIN | TEXT, msg, 5, TEXT, "hello", 5);
    assert_ptr_equal(f->o.data, msg);
    assert_null(f->a.buf);
}

static void test_binary_unfragmented(void **state)
{
    struct fixture *f = *state;

    expect_message(f, FIN | BINARY,
                   S("Gr\xC3\xBC\xC3\x9F"
                     "e \xE2\x82\xAC"),
                   BINARY,
                   "Gr\xC3\xBC\xC3\x9F"
                   "e \xE2\x82\xAC",
                   11);
}

static void test_empty_messages(void **state)
{
    struct fixture *f = *state;

    expect_message(f, FIN | TEXT, "", 0, TEXT, "", 0);
    expect_message(f, FIN | TEXT, NULL, 0, TEXT, "", 0);
    expect_message(f, FIN | BINARY, NULL, 0, BINARY, "", 0);
    assert_int_equal(feed(f, TEXT, NULL, 0), FRAME_NONE);
    assert_int_equal(feed(f, CONT, "", 0), FRAME_NONE);
    expect_message(f, FIN | CONT, NULL, 0, TEXT, "", 0);
}

static void test_invalid_utf8_unfragmented(void **state)
{
    struct fixture *f = *state;

    expect_fail(f, FIN | TEXT, S("ab\xC0\x80"), 1007, "invalid utf-8");
    expect_fail(f, FIN | BINARY, S("\xFF"), 1007, "invalid utf-8");
    expect_fail(f, FIN | TEXT, S("\xED\xA0\x80"), 1007, "invalid utf-8");
    expect_fail(f, FIN | BINARY, S("\xF4\x90\x80\x80"), 1007, "invalid utf-8");
    /* truncated at the end of a whole message */
    expect_fail(f, FIN | TEXT, S("ok\xE2\x82"), 1007, "invalid utf-8");
    expect_fail(f, FIN | BINARY, S("\xF0\x9F\x98"), 1007, "invalid utf-8");
}

static void test_rsv_bits(void **state)
{
    struct fixture *f = *state;
    static const unsigned rsv[] = {0x40, 0x20, 0x10, 0x70};
    static const unsigned ops[] = {FIN | TEXT, TEXT,       FIN | BINARY,
                                   FIN | PING, FIN | PONG, FIN | CLOSE};

    for (size_t i = 0; i < sizeof(rsv) / sizeof(rsv[0]); i++) {
        for (size_t j = 0; j < sizeof(ops) / sizeof(ops[0]); j++)
            expect_fail(f, ops[j] | rsv[i], S("x"), 1002, "reserved bits set");
        /* on a continuation of a message in progress */
        assert_int_equal(feed(f, TEXT, S("a")), FRAME_NONE);
        expect_fail(f, FIN | CONT | rsv[i], S("b"), 1002, "reserved bits set");
    }
}

static void test_reserved_opcodes(void **state)
{
    struct fixture *f = *state;
    static const unsigned ops[] = {3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF};

    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        expect_fail(f, FIN | ops[i], S("x"), 1002, "reserved opcode");
        expect_fail(f, ops[i], NULL, 0, 1002, "reserved opcode");
        assert_int_equal(feed(f, TEXT, S("a")), FRAME_NONE);
        expect_fail(f, FIN | ops[i], S("x"), 1002, "reserved opcode");
    }
}

static void test_ping(void **state)
{
    struct fixture *f = *state;
    static const char payload[] = "are you there?";
    char big[126];

    assert_int_equal(feed(f, FIN | PING, payload, sizeof(payload) - 1), FRAME_PING);
    assert_ptr_equal(f->o.data, payload);
    assert_int_equal(f->o.len, sizeof(payload) - 1);
    /* ping payloads are application data, not text: no UTF-8 rule */
    assert_int_equal(feed(f, FIN | PING, S("\xFF\x00\xC0")), FRAME_PING);
    assert_int_equal(f->o.len, 3);
    assert_memory_equal(f->o.data, "\xFF\x00\xC0", 3);
    assert_int_equal(feed(f, FIN | PING, NULL, 0), FRAME_PING);
    assert_int_equal(f->o.len, 0);
    assert_non_null(f->o.data);
    /* payloads beyond max_bytes are fine for control frames up to 125 */
    memset(big, 'p', sizeof(big));
    assert_int_equal(feed(f, FIN | PING, big, 125), FRAME_PING);
    assert_int_equal(f->o.len, 125);
    expect_fail(f, FIN | PING, big, 126, 1002, "control frame too long");
}

static void test_pong(void **state)
{
    struct fixture *f = *state;
    char big[126];

    assert_int_equal(feed(f, FIN | PONG, S("x")), FRAME_PONG);
    assert_int_equal(feed(f, FIN | PONG, NULL, 0), FRAME_PONG);
    memset(big, 'p', sizeof(big));
    assert_int_equal(feed(f, FIN | PONG, big, 125), FRAME_PONG);
    expect_fail(f, FIN | PONG, big, 126, 1002, "control frame too long");
}

static void test_fragmented_control(void **state)
{
    struct fixture *f = *state;

    expect_fail(f, PING, S("x"), 1002, "fragmented control frame");
    expect_fail(f, PONG, S("x"), 1002, "fragmented control frame");
    expect_fail(f, CLOSE, S("\x03\xE8"), 1002, "fragmented control frame");
    expect_fail(f, CLOSE, NULL, 0, 1002, "fragmented control frame");
}

static void test_close_empty(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(feed(f, FIN | CLOSE, NULL, 0), FRAME_CLOSE);
    assert_int_equal(f->o.code, 0);
}

static void test_close_one_byte(void **state)
{
    struct fixture *f = *state;

    expect_fail(f, FIN | CLOSE, S("\x03"), 1002, "invalid close payload");
}

static void test_close_valid_codes_echoed(void **state)
{
    struct fixture *f = *state;
    static const unsigned codes[] = {1000, 1001, 1002, 1003, 1007, 1008,
                                     1011, 1014, 3000, 4000, 4999};
    char p[8];

    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        p[0] = (char)(codes[i] >> 8);
        p[1] = (char)(codes[i] & 0xFF);
        assert_int_equal(feed(f, FIN | CLOSE, p, 2), FRAME_CLOSE);
        assert_int_equal(f->o.code, codes[i]);
        memcpy(p + 2, "bye", 3);
        assert_int_equal(feed(f, FIN | CLOSE, p, 5), FRAME_CLOSE);
        assert_int_equal(f->o.code, codes[i]);
    }
}

static void test_close_invalid_codes(void **state)
{
    struct fixture *f = *state;
    static const unsigned codes[] = {0,    1,    999,  1004, 1005, 1006,
                                     1015, 1016, 2000, 2999, 5000, 65535};
    char p[2];

    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        p[0] = (char)(codes[i] >> 8);
        p[1] = (char)(codes[i] & 0xFF);
        expect_fail(f, FIN | CLOSE, p, 2, 1002, "invalid close code");
    }
}

static void test_close_reason(void **state)
{
    struct fixture *f = *state;
    char big[126];

    assert_int_equal(feed(f, FIN | CLOSE, S("\x03\xE8\xE2\x82\xAC ciao")), FRAME_CLOSE);
    assert_int_equal(f->o.code, 1000);
    expect_fail(f, FIN | CLOSE, S("\x03\xE8\xC0\xAF"), 1007, "invalid utf-8");
    expect_fail(f, FIN | CLOSE, S("\x03\xE8ok\xE2\x82"), 1007, "invalid utf-8");
    expect_fail(f, FIN | CLOSE, S("\x03\xE8\xED\xB0\x80"), 1007, "invalid utf-8");
    /* the code is checked before the reason */
    expect_fail(f, FIN | CLOSE, S("\x03\xED\xC0\xAF"), 1002, "invalid close code");
    memset(big, 'r', sizeof(big));
    big[0] = 0x03;
    big[1] = (char)0xE8;
    assert_int_equal(feed(f, FIN | CLOSE, big, 125), FRAME_CLOSE);
    assert_int_equal(f->o.code, 1000);
    expect_fail(f, FIN | CLOSE, big, 126, 1002, "control frame too long");
}

static void test_close_code_table(void **state)
{
    (void)state;
    for (unsigned c = 0; c <= 70000; c++) {
        bool want =
            (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);

        if (frame_close_code_valid(c) != want)
            fail_msg("close code %u: got %d", c, !want);
    }
    assert_false(frame_close_code_valid(999));
    assert_true(frame_close_code_valid(1000));
    assert_true(frame_close_code_valid(1003));
    assert_false(frame_close_code_valid(1004));
    assert_false(frame_close_code_valid(1005));
    assert_false(frame_close_code_valid(1006));
    assert_true(frame_close_code_valid(1007));
    assert_true(frame_close_code_valid(1014));
    assert_false(frame_close_code_valid(1015));
    assert_false(frame_close_code_valid(2999));
    assert_true(frame_close_code_valid(3000));
    assert_true(frame_close_code_valid(4999));
    assert_false(frame_close_code_valid(5000));
}

static void test_close_between_fragments(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(feed(f, TEXT, S("abc")), FRAME_NONE);
    assert_int_equal(feed(f, FIN | CLOSE, S("\x03\xE9")), FRAME_CLOSE);
    assert_int_equal(f->o.code, 1001);
}

static void test_unexpected_continuation(void **state)
{
    struct fixture *f = *state;

    expect_fail(f, FIN | CONT, S("x"), 1002, "unexpected continuation");
    expect_fail(f, CONT, S("x"), 1002, "unexpected continuation");
    expect_fail(f, FIN | CONT, NULL, 0, 1002, "unexpected continuation");
    /* also right after a completed fragmented message */
    assert_int_equal(feed(f, TEXT, S("a")), FRAME_NONE);
    expect_message(f, FIN | CONT, S("b"), TEXT, "ab", 2);
    expect_fail(f, FIN | CONT, S("c"), 1002, "unexpected continuation");
}

static void test_expected_continuation(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(feed(f, TEXT, S("a")), FRAME_NONE);
    expect_fail(f, FIN | TEXT, S("b"), 1002, "expected continuation");
    assert_int_equal(feed(f, BINARY, S("a")), FRAME_NONE);
    expect_fail(f, BINARY, S("b"), 1002, "expected continuation");
    assert_int_equal(feed(f, TEXT, S("a")), FRAME_NONE);
    expect_fail(f, FIN | BINARY, S("b"), 1002, "expected continuation");
}

static void test_reassembly(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(feed(f, TEXT, S("Hel")), FRAME_NONE);
    assert_int_equal(feed(f, CONT, S("lo, ")), FRAME_NONE);
    assert_int_equal(feed(f, CONT, S("")), FRAME_NONE);
    assert_int_equal(feed(f, CONT, S("wor")), FRAME_NONE);
    expect_message(f, FIN | CONT, S("ld"), TEXT, "Hello, world", 12);
    assert_ptr_equal(f->o.data, f->a.buf);
}

static void test_reassembly_binary_keeps_opcode(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(feed(f, BINARY, S("\xC3")), FRAME_NONE);
    assert_int_equal(feed(f, CONT, S("\xA9t")), FRAME_NONE);
    expect_message(f, FIN | CONT, S("\xC3\xA9"), BINARY, "\xC3\xA9t\xC3\xA9", 5);
}

static void test_control_between_fragments(void **state)
{
    struct fixture *f = *state;
    static const char ping[] = "\xFFping";

    assert_int_equal(feed(f, TEXT, S("ab\xE2")), FRAME_NONE);
    assert_int_equal(feed(f, FIN | PING, ping, 5), FRAME_PING);
    assert_ptr_equal(f->o.data, ping);
    assert_int_equal(f->o.len, 5);
    assert_int_equal(feed(f, CONT, S("\x82")), FRAME_NONE);
    assert_int_equal(feed(f, FIN | PONG, S("\xC0")), FRAME_PONG);
    assert_int_equal(feed(f, FIN | PING, NULL, 0), FRAME_PING);
    expect_message(f, FIN | CONT,
                   S("\xAC"
                     "cd"),
                   TEXT,
                   "ab\xE2\x82\xAC"
                   "cd",
                   7);
}

static void test_split_code_point_valid(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(feed(f, TEXT, S("\xF0")), FRAME_NONE);
    assert_int_equal(feed(f, CONT, S("\x9F")), FRAME_NONE);
    assert_int_equal(feed(f, CONT, S("\x98")), FRAME_NONE);
    expect_message(f, FIN | CONT, S("\x80"), TEXT, "\xF0\x9F\x98\x80", 4);
    assert_int_equal(feed(f, BINARY, S("x\xE2\x82")), FRAME_NONE);
    expect_message(f, FIN | CONT, S("\xAC"), BINARY, "x\xE2\x82\xAC", 4);
}

static void test_split_code_point_invalid(void **state)
{
    struct fixture *f = *state;

    /* fails at the fragment where it goes bad, before FIN */
    assert_int_equal(feed(f, TEXT, S("ok\xE2")), FRAME_NONE);
    expect_fail(f, CONT, S("(more"), 1007, "invalid utf-8");
    assert_int_equal(feed(f, TEXT, S("\xED")), FRAME_NONE);
    expect_fail(f, CONT, S("\xA0\x80"), 1007, "invalid utf-8");
    assert_int_equal(feed(f, BINARY, S("\xF0")), FRAME_NONE);
    expect_fail(f, CONT, S("\x8F"), 1007, "invalid utf-8");
    assert_int_equal(feed(f, BINARY, S("\xF4")), FRAME_NONE);
    expect_fail(f, CONT, S("\x90"), 1007, "invalid utf-8");
}

static void test_invalid_first_fragment_fails_at_once(void **state)
{
    struct fixture *f = *state;

    expect_fail(f, TEXT, S("a\xC1\xBF"), 1007, "invalid utf-8");
    expect_fail(f, BINARY, S("\x80"), 1007, "invalid utf-8");
    assert_int_equal(feed(f, TEXT, S("fine")), FRAME_NONE);
    assert_int_equal(feed(f, CONT, S("fine")), FRAME_NONE);
    expect_fail(f, CONT, S("\xFE"), 1007, "invalid utf-8");
}

static void test_truncated_at_fin(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(feed(f, TEXT, S("a\xF0")), FRAME_NONE);
    assert_int_equal(feed(f, CONT, S("\x9F")), FRAME_NONE);
    expect_fail(f, FIN | CONT, S("\x98"), 1007, "invalid utf-8");
    assert_int_equal(feed(f, BINARY, S("\xE2")), FRAME_NONE);
    expect_fail(f, FIN | CONT, NULL, 0, 1007, "invalid utf-8");
}

static void test_size_single_frame(void **state)
{
    struct fixture *f = *state;
    char buf[TEST_MAX + 1];

    memset(buf, 'm', sizeof(buf));
    expect_message(f, FIN | TEXT, buf, TEST_MAX, TEXT, buf, TEST_MAX);
    expect_message(f, FIN | BINARY, buf, TEST_MAX, BINARY, buf, TEST_MAX);
    expect_fail(f, FIN | TEXT, buf, TEST_MAX + 1, 1009, "message too big");
    expect_fail(f, FIN | BINARY, buf, TEST_MAX + 1, 1009, "message too big");
    /* a first fragment alone over the limit */
    expect_fail(f, TEXT, buf, TEST_MAX + 1, 1009, "message too big");
    assert_int_equal(feed(f, TEXT, buf, TEST_MAX), FRAME_NONE);
    expect_message(f, FIN | CONT, NULL, 0, TEXT, buf, TEST_MAX);
}

static void test_size_summed_fragments(void **state)
{
    struct fixture *f = *state;
    char buf[TEST_MAX + 1];

    memset(buf, 's', sizeof(buf));
    /* exactly max_bytes in total */
    assert_int_equal(feed(f, TEXT, buf, 6), FRAME_NONE);
    assert_int_equal(feed(f, CONT, buf, 5), FRAME_NONE);
    expect_message(f, FIN | CONT, buf, 5, TEXT, buf, TEST_MAX);
    assert_int_equal(f->a.cap, TEST_MAX);
    /* one byte more, on the final fragment */
    assert_int_equal(feed(f, BINARY, buf, 8), FRAME_NONE);
    assert_int_equal(feed(f, CONT, buf, 8), FRAME_NONE);
    expect_fail(f, FIN | CONT, buf, 1, 1009, "message too big");
    /* one byte more, on a middle fragment */
    assert_int_equal(feed(f, TEXT, buf, 8), FRAME_NONE);
    expect_fail(f, CONT, buf, 9, 1009, "message too big");
    /* the size check comes before the UTF-8 check */
    assert_int_equal(feed(f, TEXT, buf, 8), FRAME_NONE);
    expect_fail(f, CONT, S("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF"), 1009, "message too big");
}

static void test_reset_after_message(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(feed(f, TEXT, S("first ")), FRAME_NONE);
    expect_message(f, FIN | CONT, S("one"), TEXT, "first one", 9);
    expect_message(f, FIN | BINARY, S("whole"), BINARY, "whole", 5);
    assert_int_equal(feed(f, BINARY, S("x")), FRAME_NONE);
    expect_message(f, FIN | CONT, S("y"), BINARY, "xy", 2);
    assert_int_equal(f->a.opcode, 0);
    assert_int_equal(feed(f, TEXT, S("\xE2\x82\xAC")), FRAME_NONE);
    expect_message(f, FIN | CONT, S("z"), TEXT,
                   "\xE2\x82\xAC"
                   "z",
                   4);
}

static void test_large_buffer_released(void **state)
{
    struct frame_asm a;
    struct frame_out o;
    const size_t part = 100 * 1024;
    char *buf = malloc(part);

    (void)state;
    assert_non_null(buf);
    frame_asm_init(&a, BIG_LIMIT);
    memset(buf, 'L', part);
    assert_int_equal(frame_asm_feed(&a, TEXT, buf, part, &o), FRAME_NONE);
    assert_int_equal(frame_asm_feed(&a, CONT, buf, part, &o), FRAME_NONE);
    assert_int_equal(frame_asm_feed(&a, FIN | CONT, buf, part, &o), FRAME_MESSAGE);
    assert_int_equal(o.len, 3 * part);
    assert_true(a.cap >= 3 * part && a.cap <= BIG_LIMIT);
    for (size_t i = 0; i < o.len; i++)
        if (o.data[i] != 'L')
            fail_msg("byte %zu differs", i);
    /* the caller is done with the message at the next feed: the big buffer goes */
    assert_int_equal(frame_asm_feed(&a, FIN | PING, NULL, 0, &o), FRAME_PING);
    assert_null(a.buf);
    assert_int_equal(a.cap, 0);
    /* a small buffer is kept for the next fragmented message */
    assert_int_equal(frame_asm_feed(&a, TEXT, S("ab"), &o), FRAME_NONE);
    assert_int_equal(frame_asm_feed(&a, FIN | CONT, S("cd"), &o), FRAME_MESSAGE);
    assert_int_equal(frame_asm_feed(&a, FIN | PING, NULL, 0, &o), FRAME_PING);
    assert_non_null(a.buf);
    frame_asm_free(&a);
    free(buf);
}

static void test_free_twice_and_reuse(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(feed(f, TEXT, S("ab")), FRAME_NONE);
    frame_asm_free(&f->a);
    frame_asm_free(&f->a);
    assert_null(f->a.buf);
    assert_int_equal(f->a.max_bytes, TEST_MAX);
    assert_int_equal(feed(f, TEXT, S("cd")), FRAME_NONE);
    expect_message(f, FIN | CONT, S("e"), TEXT, "cde", 3);
}

static void test_zero_limit(void **state)
{
    struct frame_asm a;
    struct frame_out o;

    (void)state;
    frame_asm_init(&a, 0);
    assert_int_equal(frame_asm_feed(&a, FIN | TEXT, NULL, 0, &o), FRAME_MESSAGE);
    assert_int_equal(o.len, 0);
    assert_int_equal(frame_asm_feed(&a, FIN | TEXT, S("x"), &o), FRAME_FAIL);
    assert_int_equal(o.code, 1009);
    assert_int_equal(frame_asm_feed(&a, TEXT, NULL, 0, &o), FRAME_NONE);
    assert_int_equal(frame_asm_feed(&a, CONT, S("x"), &o), FRAME_FAIL);
    assert_int_equal(o.code, 1009);
    assert_null(a.buf);
    frame_asm_free(&a);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_text_unfragmented_no_copy),
        T(test_binary_unfragmented),
        T(test_empty_messages),
        T(test_invalid_utf8_unfragmented),
        T(test_rsv_bits),
        T(test_reserved_opcodes),
        T(test_ping),
        T(test_pong),
        T(test_fragmented_control),
        T(test_close_empty),
        T(test_close_one_byte),
        T(test_close_valid_codes_echoed),
        T(test_close_invalid_codes),
        T(test_close_reason),
        T(test_close_code_table),
        T(test_close_between_fragments),
        T(test_unexpected_continuation),
        T(test_expected_continuation),
        T(test_reassembly),
        T(test_reassembly_binary_keeps_opcode),
        T(test_control_between_fragments),
        T(test_split_code_point_valid),
        T(test_split_code_point_invalid),
        T(test_invalid_first_fragment_fails_at_once),
        T(test_truncated_at_fin),
        T(test_size_single_frame),
        T(test_size_summed_fragments),
        T(test_reset_after_message),
        T(test_large_buffer_released),
        T(test_free_twice_and_reuse),
        T(test_zero_limit),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
