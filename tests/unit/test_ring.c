/* SPDX-License-Identifier: MIT */
/* Unit tests for the message ring: FIFO order across wrap-around and growth (against a plain array
 * as the model), the growth sizes and limit, payload byte counts, truncate, clear and cleanup
 * dropping exactly the references they remove, and pop handing its reference to the caller. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ring.h"

#define MODEL_MAX 64

/* A text message of len bytes; its length tells messages apart in the byte counts. */
static struct msg *text_of_len(size_t len)
{
    char *buf = malloc(len + 1);
    assert_non_null(buf);
    memset(buf, 'x', len);
    struct msg *m = msg_new(0x1, buf, len);
    free(buf);
    assert_non_null(m);
    return m;
}

static int refs(struct msg *m)
{
    return atomic_load(&m->refs);
}

/* Checks that r holds exactly want[0..n), head first, and counts their payload bytes. */
static void assert_holds(const struct ring *r, struct msg *const *want, size_t n)
{
    size_t bytes = 0;
    assert_int_equal(ring_count(r), n);
    for (size_t i = 0; i < n; i++) {
        assert_ptr_equal(ring_at(r, i), want[i]);
        bytes += want[i]->len;
    }
    assert_int_equal(ring_bytes(r), bytes);
}

static void test_empty_allocates_nothing(void **state)
{
    struct ring r;
    ring_init(&r, 8, 100);
    assert_int_equal(ring_count(&r), 0);
    assert_int_equal(ring_bytes(&r), 0);
    assert_null(r.slot);
    assert_int_equal(r.cap, 0);
    ring_truncate(&r, 0);
    ring_clear(&r);
    ring_cleanup(&r);
    assert_null(r.slot);
}

/* Pushes and pops in a fixed pseudo-random mix, so the head wraps at every capacity and the ring
 * grows while wrapped, comparing everything with an array kept in order. */
static void test_fifo_against_model(void **state)
{
    struct ring r;
    struct msg *model[MODEL_MAX];
    size_t n = 0, pushed = 0, wraps = 0;
    uint32_t seed = 12345;
    ring_init(&r, 2, MODEL_MAX);
    for (int step = 0; step < 20000; step++) {
        seed = seed * 1103515245u + 12345u;
        bool push =
            n == 0 || (n < MODEL_MAX && (seed >> 16) % 100 < (step % 2000 < 1000 ? 60 : 40));
        if (push) {
            size_t head = r.head;
            struct msg *m = text_of_len(pushed++ % 97);
            assert_true(ring_push(&r, m));
            model[n++] = m;
            if (r.head != head)
                assert_int_equal(r.head, 0); /* only growth moves the head, to slot 0 */
        } else {
            size_t head = r.head;
            struct msg *m = ring_pop(&r);
            assert_ptr_equal(m, model[0]);
            assert_int_equal(refs(m), 1); /* the ring's reference, now ours */
            msg_unref(m);
            memmove(model, model + 1, --n * sizeof(model[0]));
            if (r.head < head)
                wraps++;
        }
        assert_true(r.cap >= ring_count(&r) && r.cap <= MODEL_MAX);
        assert_holds(&r, model, n);
    }
    assert_true(wraps > 100);
    assert_int_equal(r.cap, MODEL_MAX);
    ring_cleanup(&r);
}

/* Growth while the queue is wrapped keeps the order: head in the middle of a full ring. */
static void test_grow_while_wrapped(void **state)
{
    struct ring r;
    struct msg *m[7];
    ring_init(&r, 4, 100);
    for (size_t i = 0; i < 7; i++)
        m[i] = text_of_len(i + 1);
    for (size_t i = 0; i < 4; i++)
        assert_true(ring_push(&r, m[i]));
    msg_unref(ring_pop(&r)); /* m[0] */
    msg_unref(ring_pop(&r)); /* m[1] */
    assert_true(ring_push(&r, m[4]));
    assert_true(ring_push(&r, m[5])); /* full again, head at slot 2, tail wrapped */
    assert_int_equal(r.cap, 4);
    assert_int_equal(r.head, 2);
    assert_true(ring_push(&r, m[6])); /* grows */
    assert_int_equal(r.cap, 8);
    assert_holds(&r, m + 2, 5);
    assert_int_equal(ring_bytes(&r), 3 + 4 + 5 + 6 + 7);
    for (size_t i = 2; i < 7; i++) {
        struct msg *got = ring_pop(&r);
        assert_ptr_equal(got, m[i]);
        msg_unref(got);
    }
    assert_int_equal(ring_count(&r), 0);
    assert_int_equal(ring_bytes(&r), 0);
    ring_cleanup(&r);
}

/* Capacities: first, then doubling, the last step clamped to max; first is clamped too. */
static void test_growth_sizes(void **state)
{
    struct ring r;
    ring_init(&r, 3, 13);
    for (size_t count = 1; count <= 13; count++) {
        assert_true(ring_push(&r, text_of_len(1)));
        assert_int_equal(r.cap, count <= 3 ? 3 : count <= 6 ? 6 : count <= 12 ? 12 : 13);
    }
    ring_cleanup(&r);

    ring_init(&r, 16, 5); /* outq: min(16, max_msgs + 1) up front */
    assert_true(ring_reserve(&r));
    assert_int_equal(r.cap, 5);
    assert_int_equal(ring_count(&r), 0);
    ring_cleanup(&r);
}

/* At max slots, a push fails and leaves the ring and the message as they were. */
static void test_growth_limit(void **state)
{
    struct ring r;
    struct msg *m[10];
    ring_init(&r, 4, 10);
    for (size_t i = 0; i < 10; i++) {
        m[i] = text_of_len(i);
        assert_true(ring_push(&r, msg_ref(m[i])));
    }
    struct msg **slot = r.slot;
    struct msg *extra = text_of_len(50);
    assert_false(ring_push(&r, extra));
    assert_false(ring_reserve(&r));
    assert_int_equal(refs(extra), 1);
    assert_ptr_equal(r.slot, slot);
    assert_int_equal(r.cap, 10);
    assert_holds(&r, m, 10);

    msg_unref(ring_pop(&r)); /* room again, without growing */
    assert_true(ring_push(&r, extra));
    assert_ptr_equal(r.slot, slot);
    struct msg *want[10];
    memcpy(want, m + 1, 9 * sizeof(want[0]));
    want[9] = extra;
    assert_holds(&r, want, 10);
    assert_int_equal(ring_bytes(&r), 45 + 50);
    ring_cleanup(&r);
    for (size_t i = 0; i < 10; i++) {
        assert_int_equal(refs(m[i]), 1);
        msg_unref(m[i]);
    }
}

/* ring_truncate keeps the oldest keep messages and drops the references of the others. */
static void test_truncate(void **state)
{
    struct ring r;
    struct msg *m[6];
    ring_init(&r, 4, 8);
    struct msg *old = text_of_len(100);
    assert_true(ring_push(&r, old));
    assert_true(ring_push(&r, text_of_len(100)));
    msg_unref(ring_pop(&r));
    msg_unref(ring_pop(&r)); /* head at slot 2: the tail below wraps */
    for (size_t i = 0; i < 4; i++) {
        m[i] = text_of_len(10 * (i + 1));
        assert_true(ring_push(&r, msg_ref(m[i])));
    }
    assert_int_equal(r.head, 2);
    ring_truncate(&r, 5); /* more than queued: nothing happens */
    assert_holds(&r, m, 4);
    ring_truncate(&r, 2);
    assert_holds(&r, m, 2);
    assert_int_equal(ring_bytes(&r), 30);
    assert_int_equal(refs(m[0]), 2);
    assert_int_equal(refs(m[1]), 2);
    assert_int_equal(refs(m[2]), 1);
    assert_int_equal(refs(m[3]), 1);
    m[4] = text_of_len(7); /* the tail goes on after the kept ones */
    assert_true(ring_push(&r, msg_ref(m[4])));
    struct msg *want[] = {m[0], m[1], m[4]};
    assert_holds(&r, want, 3);
    ring_truncate(&r, 0);
    assert_int_equal(ring_count(&r), 0);
    assert_int_equal(ring_bytes(&r), 0);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(refs(m[i]), 1);
        msg_unref(m[i]);
    }
    ring_cleanup(&r);
}

/* ring_clear drops every reference but keeps the slots; ring_cleanup drops and frees. */
static void test_clear_and_cleanup_drop_refs(void **state)
{
    struct ring r;
    struct msg *m[5];
    ring_init(&r, 2, 8);
    for (size_t i = 0; i < 5; i++) {
        m[i] = text_of_len(i + 1);
        assert_true(ring_push(&r, msg_ref(m[i])));
        assert_int_equal(refs(m[i]), 2);
    }
    size_t cap = r.cap;
    struct msg **slot = r.slot;
    ring_clear(&r);
    assert_int_equal(ring_count(&r), 0);
    assert_int_equal(ring_bytes(&r), 0);
    assert_int_equal(r.cap, cap);
    assert_ptr_equal(r.slot, slot);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(refs(m[i]), 1);

    for (size_t i = 0; i < 5; i++)
        assert_true(ring_push(&r, msg_ref(m[i])));
    assert_ptr_equal(r.slot, slot); /* the kept slots serve again */
    assert_holds(&r, m, 5);
    ring_cleanup(&r);
    assert_null(r.slot);
    assert_int_equal(ring_count(&r), 0);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(refs(m[i]), 1);
        msg_unref(m[i]);
    }
}

/* Push takes over the caller's reference, pop hands it back, and ring_at lends it. */
static void test_reference_moves(void **state)
{
    struct ring r;
    struct msg *m = text_of_len(3);
    ring_init(&r, 1, 1);
    assert_true(ring_push(&r, msg_ref(m)));
    assert_int_equal(refs(m), 2);
    assert_ptr_equal(ring_at(&r, 0), m);
    assert_int_equal(refs(m), 2);
    struct msg *got = ring_pop(&r);
    assert_ptr_equal(got, m);
    assert_int_equal(refs(m), 2);
    msg_unref(got);
    assert_int_equal(refs(m), 1);
    msg_unref(m);
    ring_cleanup(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_allocates_nothing),
        cmocka_unit_test(test_fifo_against_model),
        cmocka_unit_test(test_grow_while_wrapped),
        cmocka_unit_test(test_growth_sizes),
        cmocka_unit_test(test_growth_limit),
        cmocka_unit_test(test_truncate),
        cmocka_unit_test(test_clear_and_cleanup_drop_refs),
        cmocka_unit_test(test_reference_moves),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
