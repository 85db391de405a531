/* SPDX-License-Identifier: MIT */
/* msg: payload copy, reference counting and the RFC 6455 frame header built in front of it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "msg.h"

/* Decodes the frame header of m and checks it describes m's payload, FIN set, unmasked. */
static void check_frame(const struct msg *m, int opcode, size_t header_len)
{
    const unsigned char *h = (const unsigned char *)m->frame;
    assert_int_equal(m->frame_len, header_len + m->len);
    assert_ptr_equal(m->frame + header_len, m->data);
    assert_int_equal(h[0], 0x80 | opcode);
    assert_int_equal(h[1] & 0x80, 0); /* servers never mask */
    uint64_t len = h[1] & 0x7f;
    if (len == 126)
        len = ((uint64_t)h[2] << 8) | h[3];
    else if (len == 127)
        for (int i = 0; i < 8; i++)
            len = (i ? len << 8 : 0) | h[2 + i];
    assert_int_equal(len, m->len);
}

static void test_header_sizes(void **state)
{
    static const struct {
        size_t len, header;
    } cases[] = {{0, 2},   {1, 2},     {125, 2},    {126, 4},
                 {127, 4}, {65535, 4}, {65536, 10}, {70000, 10}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *payload = malloc(cases[i].len + 1);
        assert_non_null(payload);
        memset(payload, 'x', cases[i].len);
        struct msg *m = msg_new(0x1, payload, cases[i].len);
        assert_non_null(m);
        assert_memory_equal(m->data, payload, cases[i].len);
        assert_int_equal(m->data[cases[i].len], '\0');
        check_frame(m, 0x1, cases[i].header);
        msg_unref(m);
        free(payload);
    }
}

static void test_text_and_close(void **state)
{
    struct msg *t = msg_text("héllo");
    assert_int_equal(t->len, strlen("héllo"));
    assert_string_equal(t->data, "héllo");
    check_frame(t, 0x1, 2);
    msg_unref(t);

    struct msg *c = msg_close(1008, "send queue overflow");
    assert_int_equal(c->opcode, 0x8);
    assert_int_equal((unsigned char)c->data[0], 1008 >> 8);
    assert_int_equal((unsigned char)c->data[1], 1008 & 0xff);
    assert_memory_equal(c->data + 2, "send queue overflow", c->len - 2);
    check_frame(c, 0x8, 2);
    msg_unref(c);

    struct msg *empty = msg_close(0, NULL);
    assert_int_equal(empty->len, 0);
    check_frame(empty, 0x8, 2);
    msg_unref(empty);

    /* a close reason is cut so the payload stays within 125 bytes */
    char long_reason[300];
    memset(long_reason, 'r', sizeof(long_reason) - 1);
    long_reason[sizeof(long_reason) - 1] = '\0';
    struct msg *capped = msg_close(1000, long_reason);
    assert_true(capped->len <= 125);
    check_frame(capped, 0x8, 2);
    msg_unref(capped);
}

static void test_refcount(void **state)
{
    struct msg *m = msg_text("shared");
    assert_ptr_equal(msg_ref(m), m);
    assert_int_equal(atomic_load(&m->refs), 2);
    msg_unref(m);
    assert_int_equal(atomic_load(&m->refs), 1);
    msg_unref(m); /* freed: ASan reports a leak or double free otherwise */
    msg_unref(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_sizes),
        cmocka_unit_test(test_text_and_close),
        cmocka_unit_test(test_refcount),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
