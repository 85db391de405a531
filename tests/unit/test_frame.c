/* SPDX-License-Identifier: MIT */
/* Unit tests for the frame assembler: every action and every RFC 6455 failure it reports, fragment
 * reassembly with control frames in between, UTF-8 split across fragments, the size limit and the
 * close code table; the wire side: header parsing at every split point, the checks at the header
 * (frame_asm_begin) and unmasking at every key offset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
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

/* --- frame_header_parse: client frame headers off the wire --- */

static const uint8_t KEY[4] = {0x37, 0xfa, 0x21, 0x3d};

/* Encodes a frame header into buf with the shortest length form unless form forces one (7, 16 or
 * 64 bits); masked adds KEY. Returns its size. */
static size_t put_header(unsigned char *buf, unsigned bits, bool masked, uint64_t len, int form)
{
    size_t n = 0;

    if (!form)
        form = len < 126 ? 7 : len <= 0xffff ? 16 : 64;
    buf[n++] = (unsigned char)bits;
    if (form == 7) {
        buf[n++] = (unsigned char)((masked ? 0x80 : 0) | len);
    } else if (form == 16) {
        buf[n++] = (unsigned char)((masked ? 0x80 : 0) | 126);
        buf[n++] = (unsigned char)(len >> 8);
        buf[n++] = (unsigned char)len;
    } else {
        buf[n++] = (unsigned char)((masked ? 0x80 : 0) | 127);
        for (int i = 7; i >= 0; i--)
            buf[n++] = (unsigned char)(len >> (8 * i));
    }
    if (masked) {
        memcpy(buf + n, KEY, 4);
        n += 4;
    }
    return n;
}

/* Parses the header of len at every split point: 0 until it is whole, then its size, also with
 * payload bytes after it; checks every field. */
static void check_header(unsigned bits, bool masked, uint64_t len, int form, size_t want_size)
{
    unsigned char buf[FRAME_HEADER_MAX + 8];
    struct frame_header h;
    size_t size = put_header(buf, bits, masked, len, form);

    assert_int_equal(size, want_size);
    memset(buf + size, 0xAA, sizeof(buf) - size); /* payload bytes follow */
    for (size_t n = 0; n < size; n++) {
        memset(&h, 0x5c, sizeof(h));
        if (frame_header_parse(buf, n, &h) != 0)
            fail_msg("header of %zu bytes complete after %zu", size, n);
    }
    for (size_t n = size; n <= sizeof(buf); n++) {
        memset(&h, 0x5c, sizeof(h));
        assert_int_equal(frame_header_parse(buf, n, &h), size);
        assert_int_equal(h.size, size);
        assert_int_equal(h.bits, bits);
        assert_int_equal(h.masked, masked);
        assert_true(h.len == len);
        if (masked)
            assert_memory_equal(h.mask, KEY, 4);
        else
            assert_memory_equal(h.mask, "\0\0\0\0", 4);
    }
}

static void test_header_7bit(void **state)
{
    (void)state;
    check_header(FIN | TEXT, true, 0, 0, 6);
    check_header(FIN | TEXT, true, 5, 0, 6);
    check_header(FIN | BINARY, true, 125, 0, 6);
    check_header(FIN | TEXT, false, 0, 0, 2);
    check_header(FIN | TEXT, false, 125, 0, 2);
    check_header(FIN | PING, true, 4, 0, 6);
    check_header(CONT, true, 1, 0, 6);
}

static void test_header_16bit(void **state)
{
    (void)state;
    check_header(FIN | TEXT, true, 126, 0, 8);
    check_header(FIN | TEXT, true, 0xffff, 0, 8);
    check_header(TEXT, false, 126, 0, 4);
    check_header(FIN | BINARY, false, 0x1234, 0, 4);
    /* a longer form than needed still parses (the RFC asks for the shortest; huddle accepts) */
    check_header(FIN | TEXT, true, 5, 16, 8);
}

static void test_header_64bit(void **state)
{
    (void)state;
    check_header(FIN | TEXT, true, 0x10000, 0, 14);
    check_header(FIN | BINARY, false, 0x10000, 0, 10);
    check_header(FIN | TEXT, true, UINT64_C(0x0102030405060708), 0, 14);
    check_header(FIN | TEXT, true, UINT64_MAX >> 1, 0, 14);
    /* the top bit set: parse reports it as it is, frame_asm_begin refuses it */
    check_header(FIN | TEXT, true, UINT64_C(1) << 63, 0, 14);
    check_header(FIN | TEXT, false, UINT64_MAX, 0, 10);
    check_header(FIN | TEXT, true, 7, 64, 14);
}

static void test_header_bits_verbatim(void **state)
{
    (void)state;
    /* every first byte is reported as it is, checks are frame_asm_begin's */
    for (unsigned bits = 0; bits < 256; bits++)
        check_header(bits, true, 3, 0, 6);
}

/* --- frame_asm_begin: the checks at the header --- */

static struct frame_header header(unsigned bits, bool masked, uint64_t len)
{
    struct frame_header h = {.bits = bits, .masked = masked, .len = len, .size = 6};

    if (masked)
        memcpy(h.mask, KEY, 4);
    return h;
}

static enum frame_action begin(struct fixture *f, unsigned bits, bool masked, uint64_t len)
{
    struct frame_header h = header(bits, masked, len);

    memset(&f->o, 0x5c, sizeof(f->o));
    return frame_asm_begin(&f->a, &h, &f->o);
}

static void expect_begin_fail(struct fixture *f, unsigned bits, bool masked, uint64_t len,
                              unsigned code, const char *reason)
{
    assert_int_equal(begin(f, bits, masked, len), FRAME_FAIL);
    assert_int_equal(f->o.code, code);
    assert_string_equal(f->o.reason, reason);
    frame_asm_free(&f->a);
    frame_asm_init(&f->a, TEST_MAX);
}

static void test_begin_accepts(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(begin(f, FIN | TEXT, true, 0), FRAME_NONE);
    assert_int_equal(begin(f, FIN | TEXT, true, TEST_MAX), FRAME_NONE);
    assert_int_equal(begin(f, FIN | BINARY, true, 1), FRAME_NONE);
    assert_int_equal(begin(f, TEXT, true, 3), FRAME_NONE);
    assert_int_equal(begin(f, FIN | PING, true, 125), FRAME_NONE); /* above max_message: fine */
    assert_int_equal(begin(f, FIN | PONG, true, 0), FRAME_NONE);
    assert_int_equal(begin(f, FIN | CLOSE, true, 2), FRAME_NONE);
    /* begin only checks: nothing is stored */
    assert_int_equal(f->a.opcode, 0);
    assert_int_equal(f->a.len, 0);
}

static void test_begin_unmasked(void **state)
{
    struct fixture *f = *state;

    expect_begin_fail(f, FIN | TEXT, false, 1, 1002, "client frame not masked");
    expect_begin_fail(f, FIN | TEXT, false, 0, 1002, "client frame not masked");
    expect_begin_fail(f, FIN | PING, false, 0, 1002, "client frame not masked");
    expect_begin_fail(f, FIN | CLOSE, false, 2, 1002, "client frame not masked");
    /* also in the middle of a fragmented message */
    assert_int_equal(begin(f, TEXT, true, 2), FRAME_NONE);
    assert_int_equal(feed(f, TEXT, S("ab")), FRAME_NONE);
    expect_begin_fail(f, FIN | CONT, false, 1, 1002, "client frame not masked");
}

static void test_begin_length_top_bit(void **state)
{
    struct fixture *f = *state;

    expect_begin_fail(f, FIN | TEXT, true, UINT64_C(1) << 63, 1002, "invalid payload length");
    expect_begin_fail(f, FIN | BINARY, true, UINT64_MAX, 1002, "invalid payload length");
    expect_begin_fail(f, FIN | PING, true, UINT64_C(1) << 63, 1002, "invalid payload length");
    /* without the top bit a huge length is only too big */
    expect_begin_fail(f, FIN | TEXT, true, UINT64_MAX >> 1, 1009, "message too big");
}

static void test_begin_too_big(void **state)
{
    struct fixture *f = *state;

    expect_begin_fail(f, FIN | TEXT, true, TEST_MAX + 1, 1009, "message too big");
    expect_begin_fail(f, TEXT, true, TEST_MAX + 1, 1009, "message too big");
    expect_begin_fail(f, FIN | BINARY, true, 0x10000, 1009, "message too big");
}

/* Runs one fragment through begin and feed as the connection does. */
static void fragment(struct fixture *f, unsigned bits, const char *data, size_t len)
{
    assert_int_equal(begin(f, bits, true, len), FRAME_NONE);
    assert_int_equal(feed(f, bits, data, len), FRAME_NONE);
}

static void test_begin_too_big_summed(void **state)
{
    struct fixture *f = *state;
    char buf[TEST_MAX + 1];

    memset(buf, 'f', sizeof(buf));
    /* fragments summing to exactly the limit pass */
    fragment(f, TEXT, buf, 6);
    fragment(f, CONT, buf, 5);
    assert_int_equal(begin(f, FIN | CONT, true, 5), FRAME_NONE);
    expect_message(f, FIN | CONT, buf, 5, TEXT, buf, TEST_MAX);
    /* one byte over on the final fragment: refused at its header */
    fragment(f, BINARY, buf, 8);
    fragment(f, CONT, buf, 8);
    expect_begin_fail(f, FIN | CONT, true, 1, 1009, "message too big");
    /* over on a middle fragment */
    fragment(f, TEXT, buf, 8);
    expect_begin_fail(f, CONT, true, 9, 1009, "message too big");
    /* an empty first fragment, then one over the limit */
    fragment(f, TEXT, buf, 0);
    expect_begin_fail(f, FIN | CONT, true, TEST_MAX + 1, 1009, "message too big");
    /* a continuation with a huge length does not wrap the sum */
    fragment(f, TEXT, buf, 4);
    expect_begin_fail(f, CONT, true, UINT64_MAX >> 1, 1009, "message too big");
}

static void test_begin_control_rules(void **state)
{
    struct fixture *f = *state;

    expect_begin_fail(f, FIN | PING, true, 126, 1002, "control frame too long");
    expect_begin_fail(f, FIN | PONG, true, 0x10000, 1002, "control frame too long");
    expect_begin_fail(f, FIN | CLOSE, true, 200, 1002, "control frame too long");
    expect_begin_fail(f, PING, true, 0, 1002, "fragmented control frame");
    expect_begin_fail(f, PONG, true, 1, 1002, "fragmented control frame");
    expect_begin_fail(f, CLOSE, true, 2, 1002, "fragmented control frame");
    /* control frames may come between fragments */
    fragment(f, TEXT, S("ab"));
    assert_int_equal(begin(f, FIN | PING, true, 4), FRAME_NONE);
    assert_int_equal(feed(f, FIN | PING, S("ping")), FRAME_PING);
    assert_int_equal(begin(f, FIN | CONT, true, 1), FRAME_NONE);
    expect_message(f, FIN | CONT, S("c"), TEXT, "abc", 3);
}

static void test_begin_reserved(void **state)
{
    struct fixture *f = *state;

    for (unsigned op = 0x3; op <= 0x7; op++)
        expect_begin_fail(f, FIN | op, true, 0, 1002, "reserved opcode");
    for (unsigned op = 0xB; op <= 0xF; op++)
        expect_begin_fail(f, FIN | op, true, 0, 1002, "reserved opcode");
    for (unsigned rsv = 0x10; rsv <= 0x70; rsv += 0x10) {
        expect_begin_fail(f, FIN | rsv | TEXT, true, 1, 1002, "reserved bits set");
        expect_begin_fail(f, FIN | rsv | PING, true, 1, 1002, "reserved bits set");
    }
}

static void test_begin_continuation_order(void **state)
{
    struct fixture *f = *state;

    expect_begin_fail(f, FIN | CONT, true, 1, 1002, "unexpected continuation");
    expect_begin_fail(f, CONT, true, 0, 1002, "unexpected continuation");
    fragment(f, TEXT, S("a"));
    expect_begin_fail(f, FIN | TEXT, true, 1, 1002, "expected continuation");
    fragment(f, BINARY, S("a"));
    expect_begin_fail(f, BINARY, true, 1, 1002, "expected continuation");
    /* after a whole message, a continuation is unexpected again */
    fragment(f, TEXT, S("a"));
    assert_int_equal(begin(f, FIN | CONT, true, 1), FRAME_NONE);
    expect_message(f, FIN | CONT, S("b"), TEXT, "ab", 2);
    expect_begin_fail(f, FIN | CONT, true, 1, 1002, "unexpected continuation");
}

/* --- frame_unmask --- */

static void test_unmask_every_offset_and_length(void **state)
{
    static const uint8_t keys[][4] = {{0x37, 0xfa, 0x21, 0x3d}, {0, 0, 0, 0}, {0xff, 1, 0x80, 7}};
    char store[1 + 8 + 48], want[48];
    (void)state;

    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
        for (uint64_t base = 0; base <= (UINT64_C(1) << 32); base += UINT64_C(1) << 32)
            for (unsigned off = 0; off < 4; off++)
                for (size_t len = 0; len <= 40; len++)
                    for (size_t align = 0; align < 8; align++) {
                        char *data = store + 1 + align;
                        for (size_t i = 0; i < sizeof(store); i++)
                            store[i] = (char)(i * 7 + len + off);
                        for (size_t i = 0; i < len; i++)
                            want[i] = (char)(data[i] ^ keys[k][(off + i) & 3]);
                        char before = data[-1], after = data[len];
                        frame_unmask(data, len, keys[k], base + off);
                        if (len && memcmp(data, want, len) != 0)
                            fail_msg("key %zu offset %u length %zu align %zu: wrong bytes", k, off,
                                     len, align);
                        assert_int_equal(data[len], after);
                        assert_int_equal(data[-1], before);
                    }
}

static void test_unmask_in_pieces(void **state)
{
    char whole[40], pieces[40];
    (void)state;

    for (size_t i = 0; i < sizeof(whole); i++)
        whole[i] = pieces[i] = (char)('a' + i % 26);
    frame_unmask(whole, sizeof(whole), KEY, 0);
    /* the connection unmasks a payload as it arrives, at its offset in the frame */
    for (size_t cut = 0; cut <= sizeof(pieces); cut++) {
        char buf[40];
        memcpy(buf, pieces, sizeof(buf));
        frame_unmask(buf, cut, KEY, 0);
        frame_unmask(buf + cut, sizeof(buf) - cut, KEY, cut);
        assert_memory_equal(buf, whole, sizeof(buf));
    }
    /* twice is the identity */
    frame_unmask(whole, sizeof(whole), KEY, 0);
    assert_memory_equal(whole, pieces, sizeof(whole));
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
        T(test_header_7bit),
        T(test_header_16bit),
        T(test_header_64bit),
        T(test_header_bits_verbatim),
        T(test_begin_accepts),
        T(test_begin_unmasked),
        T(test_begin_length_top_bit),
        T(test_begin_too_big),
        T(test_begin_too_big_summed),
        T(test_begin_control_rules),
        T(test_begin_reserved),
        T(test_begin_continuation_order),
        T(test_unmask_every_offset_and_length),
        T(test_unmask_in_pieces),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
