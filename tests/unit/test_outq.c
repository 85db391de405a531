/* SPDX-License-Identifier: MIT */
/* Unit tests for the bounded outgoing queue: order, the byte and message limits (exactly at the
 * limit, one over), what an overflow leaves behind, the final message, stopping a blocked writer,
 * reference counting, and producers and a consumer on separate threads losing nothing. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "outq.h"

#define GIVE_UP_S 30 /* bound on any wait, never asserted as a duration */

static struct msg *text_of_len(size_t len)
{
    char *buf = malloc(len + 1);
    struct msg *m;

    assert_non_null(buf);
    memset(buf, 'x', len);
    m = msg_new(0x1, buf, len);
    free(buf);
    assert_non_null(m);
    return m;
}

static int refs(struct msg *m)
{
    return atomic_load(&m->refs);
}

static void assert_stats(struct outq *q, size_t msgs, size_t bytes)
{
    size_t n = 99, b = 99;

    outq_stats(q, &n, &b);
    assert_int_equal(n, msgs);
    assert_int_equal(b, bytes);
}

/* Pops one message (the queue must not block here) and checks it is m; drops the reference. */
static void pop_is(struct outq *q, struct msg *m)
{
    struct msg *got = outq_pop(q);

    assert_ptr_equal(got, m);
    msg_unref(got);
}

static void test_order_and_refs(void **state)
{
    struct outq *q = outq_new(1000, 10);
    struct msg *a = msg_text("a"), *b = msg_text("bb"), *c = msg_text("ccc");
    (void)state;

    assert_non_null(q);
    assert_stats(q, 0, 0);
    assert_int_equal(outq_push(q, a, NULL), 0);
    assert_int_equal(outq_push(q, b, NULL), 0);
    assert_int_equal(outq_push(q, c, NULL), 0);
    /* the same message may be queued twice (a queue takes one reference per push) */
    assert_int_equal(outq_push(q, a, NULL), 0);
    assert_int_equal(refs(a), 3);
    assert_int_equal(refs(b), 2);
    assert_stats(q, 4, 7);
    pop_is(q, a);
    assert_stats(q, 3, 6);
    pop_is(q, b);
    pop_is(q, c);
    pop_is(q, a);
    assert_stats(q, 0, 0);
    assert_int_equal(refs(a), 1);
    assert_int_equal(refs(b), 1);
    assert_int_equal(refs(c), 1);
    assert_false(outq_overflowed(q));
    outq_free(q);
    msg_unref(a);
    msg_unref(b);
    msg_unref(c);
}

static void test_free_drops_pending(void **state)
{
    struct outq *q = outq_new(1000, 10);
    struct msg *a = msg_text("a");
    (void)state;

    assert_int_equal(outq_push(q, a, NULL), 0);
    assert_int_equal(outq_push(q, a, NULL), 0);
    assert_int_equal(refs(a), 3);
    outq_free(q);
    assert_int_equal(refs(a), 1);
    msg_unref(a);
    outq_free(NULL);
}

static void test_ring_wraps(void **state)
{
    struct outq *q = outq_new(100, 3);
    struct msg *m[7];
    (void)state;

    for (size_t i = 0; i < 7; i++)
        m[i] = text_of_len(i + 1);
    /* keep two or three queued while cycling far past the ring's capacity */
    for (size_t round = 0; round < 50; round++) {
        assert_int_equal(outq_push(q, m[round % 7], NULL), 0);
        assert_int_equal(outq_push(q, m[(round + 1) % 7], NULL), 0);
        pop_is(q, m[round % 7]);
        pop_is(q, m[(round + 1) % 7]);
    }
    assert_int_equal(outq_push(q, m[0], NULL), 0);
    assert_int_equal(outq_push(q, m[1], NULL), 0);
    assert_int_equal(outq_push(q, m[2], NULL), 0);
    assert_stats(q, 3, 6);
    pop_is(q, m[0]);
    assert_int_equal(outq_push(q, m[3], NULL), 0);
    pop_is(q, m[1]);
    pop_is(q, m[2]);
    pop_is(q, m[3]);
    assert_stats(q, 0, 0);
    assert_false(outq_overflowed(q));
    outq_free(q);
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(refs(m[i]), 1);
        msg_unref(m[i]);
    }
}

/* After an overflow the close is the only and last message, then pop says the queue is done. */
static void check_overflowed(struct outq *q, struct msg *close)
{
    struct msg *x = msg_text("late");

    assert_true(outq_overflowed(q));
    assert_stats(q, 1, close->len);
    assert_int_equal(outq_push(q, x, close), -EPIPE);
    assert_int_equal(outq_push_final(q, x), -EPIPE);
    assert_int_equal(refs(x), 1);
    pop_is(q, close);
    assert_null(outq_pop(q));
    assert_null(outq_pop(q));
    assert_int_equal(outq_push(q, x, close), -EPIPE);
    assert_stats(q, 0, 0);
    msg_unref(x);
}

static void test_byte_limit(void **state)
{
    struct outq *q = outq_new(10, 100);
    struct msg *a = text_of_len(3), *b = text_of_len(7), *one = text_of_len(1);
    struct msg *close = msg_close(1008, "too slow");
    (void)state;

    assert_int_equal(outq_push(q, a, close), 0);
    assert_int_equal(outq_push(q, b, close), 0);
    /* exactly at the limit: accepted */
    assert_stats(q, 2, 10);
    assert_false(outq_overflowed(q));
    /* one byte over: refused, everything pending dropped, close queued */
    assert_int_equal(outq_push(q, one, close), -ENOBUFS);
    assert_int_equal(refs(a), 1);
    assert_int_equal(refs(b), 1);
    assert_int_equal(refs(one), 1);
    assert_int_equal(refs(close), 2);
    check_overflowed(q, close);
    outq_free(q);
    assert_int_equal(refs(close), 1);
    msg_unref(a);
    msg_unref(b);
    msg_unref(one);
    msg_unref(close);
}

static void test_single_message_over_bytes(void **state)
{
    struct outq *q = outq_new(10, 100);
    struct msg *ok = text_of_len(10), *big = text_of_len(11);
    struct msg *close = msg_close(1008, NULL);
    (void)state;

    /* a message of exactly max_bytes fits an empty queue, one byte more never does */
    assert_int_equal(outq_push(q, ok, close), 0);
    pop_is(q, ok);
    assert_int_equal(outq_push(q, big, close), -ENOBUFS);
    check_overflowed(q, close);
    outq_free(q);
    msg_unref(ok);
    msg_unref(big);
    msg_unref(close);
}

static void test_message_limit(void **state)
{
    struct outq *q = outq_new(1 << 20, 3);
    struct msg *m = text_of_len(5), *empty = msg_new(0x1, "", 0);
    struct msg *close = msg_close(1008, "queue full");
    (void)state;

    assert_int_equal(outq_push(q, m, close), 0);
    assert_int_equal(outq_push(q, empty, close), 0);
    assert_int_equal(outq_push(q, m, close), 0);
    assert_stats(q, 3, 10);
    assert_int_equal(outq_push(q, empty, close), -ENOBUFS);
    assert_int_equal(refs(m), 1);
    assert_int_equal(refs(empty), 1);
    check_overflowed(q, close);
    outq_free(q);
    msg_unref(m);
    msg_unref(empty);
    msg_unref(close);
}

static void test_overflow_without_close(void **state)
{
    struct outq *q = outq_new(100, 1);
    struct msg *m = msg_text("m");
    (void)state;

    assert_int_equal(outq_push(q, m, NULL), 0);
    assert_int_equal(outq_push(q, m, NULL), -ENOBUFS);
    assert_true(outq_overflowed(q));
    assert_stats(q, 0, 0);
    assert_null(outq_pop(q));
    assert_int_equal(outq_push(q, m, NULL), -EPIPE);
    outq_free(q);
    assert_int_equal(refs(m), 1);
    msg_unref(m);
}

static void test_push_final(void **state)
{
    struct outq *q = outq_new(10, 2);
    struct msg *a = text_of_len(5), *b = text_of_len(5), *bye = msg_close(1001, "going away");
    (void)state;

    /* the queue is full by both limits: the final message still goes in after the pending ones */
    assert_int_equal(outq_push(q, a, NULL), 0);
    assert_int_equal(outq_push(q, b, NULL), 0);
    assert_int_equal(outq_push_final(q, bye), 0);
    assert_false(outq_overflowed(q));
    assert_stats(q, 3, 10 + bye->len);
    assert_int_equal(outq_push(q, a, NULL), -EPIPE);
    assert_int_equal(outq_push_final(q, bye), -EPIPE);
    pop_is(q, a);
    pop_is(q, b);
    pop_is(q, bye);
    assert_null(outq_pop(q));
    assert_false(outq_overflowed(q));
    outq_free(q);
    assert_int_equal(refs(bye), 1);
    msg_unref(a);
    msg_unref(b);
    msg_unref(bye);
}

static void test_stop_drops_and_refuses(void **state)
{
    struct outq *q = outq_new(100, 10);
    struct msg *a = msg_text("a");
    (void)state;

    assert_int_equal(outq_push(q, a, NULL), 0);
    assert_int_equal(outq_push_final(q, a), 0);
    outq_stop(q);
    assert_int_equal(refs(a), 1);
    assert_stats(q, 0, 0);
    assert_null(outq_pop(q));
    assert_int_equal(outq_push(q, a, NULL), -EPIPE);
    assert_int_equal(outq_push_final(q, a), -EPIPE);
    outq_stop(q);
    assert_null(outq_pop(q));
    assert_false(outq_overflowed(q));
    outq_free(q);
    msg_unref(a);
}

struct popper {
    struct outq *q;
    struct msg *got;
    atomic_int started;
};

static void *pop_thread(void *arg)
{
    struct popper *p = arg;

    atomic_store(&p->started, 1);
    p->got = outq_pop(p->q);
    return NULL;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* Joins t, giving up after a generous GIVE_UP_S seconds so a lost wake-up fails instead of
 * hanging the suite. */
static void join_bounded(pthread_t t)
{
    struct timespec deadline;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += GIVE_UP_S;
    if (pthread_timedjoin_np(t, NULL, &deadline) != 0)
        fail_msg("a thread blocked in outq_pop was not woken within %d s", GIVE_UP_S);
}

static void test_stop_wakes_blocked_popper(void **state)
{
    struct popper p = {.q = outq_new(100, 10), .got = NULL};
    pthread_t t;
    (void)state;

    atomic_init(&p.started, 0);
    p.got = (struct msg *)&p; /* anything but NULL */
    assert_int_equal(pthread_create(&t, NULL, pop_thread, &p), 0);
    while (!atomic_load(&p.started))
        sched_yield();
    /* give it time to block in the wait; correctness does not depend on it having done so */
    sleep_ms(50);
    outq_stop(p.q);
    join_bounded(t);
    assert_null(p.got);
    outq_free(p.q);
}

static void test_push_wakes_blocked_popper(void **state)
{
    struct popper p = {.q = outq_new(100, 10), .got = NULL};
    struct msg *m = msg_text("wake up");
    pthread_t t;
    (void)state;

    atomic_init(&p.started, 0);
    assert_int_equal(pthread_create(&t, NULL, pop_thread, &p), 0);
    while (!atomic_load(&p.started))
        sched_yield();
    sleep_ms(50);
    assert_int_equal(outq_push(p.q, m, NULL), 0);
    join_bounded(t);
    assert_ptr_equal(p.got, m);
    msg_unref(p.got);

    /* and a final message on an empty queue wakes it too, then the queue reports the end */
    atomic_store(&p.started, 0);
    assert_int_equal(pthread_create(&t, NULL, pop_thread, &p), 0);
    while (!atomic_load(&p.started))
        sched_yield();
    sleep_ms(50);
    assert_int_equal(outq_push_final(p.q, m), 0);
    join_bounded(t);
    assert_ptr_equal(p.got, m);
    msg_unref(p.got);
    assert_null(outq_pop(p.q));
    outq_free(p.q);
    assert_int_equal(refs(m), 1);
    msg_unref(m);
}

#define PRODUCERS    4
#define PER_PRODUCER 20000
#define SMALL_MSGS   16
#define SMALL_BYTES  (SMALL_MSGS * 16)

struct prod {
    struct outq *q;
    int id;
    bool single; /* the only producer: may wait for room before pushing */
    int failures;
};

static void *produce(void *arg)
{
    struct prod *p = arg;
    char buf[32];

    for (int i = 0; i < PER_PRODUCER; i++) {
        int len = snprintf(buf, sizeof(buf), "%d:%d", p->id, i);
        struct msg *m = msg_new(0x1, buf, (size_t)len);

        if (!m) {
            p->failures++;
            break;
        }
        if (p->single) {
            /* one producer: room seen here cannot be taken by anyone else */
            size_t n, b;
            struct timespec now, deadline;
            clock_gettime(CLOCK_MONOTONIC, &deadline);
            deadline.tv_sec += GIVE_UP_S;
            for (;;) {
                outq_stats(p->q, &n, &b);
                if (n < SMALL_MSGS && b + (size_t)len <= SMALL_BYTES)
                    break;
                clock_gettime(CLOCK_MONOTONIC, &now);
                if (now.tv_sec > deadline.tv_sec)
                    break; /* the push below then overflows and the test fails */
                sched_yield();
            }
        }
        if (outq_push(p->q, m, NULL) != 0)
            p->failures++;
        msg_unref(m);
    }
    return NULL;
}

/* Pops until the queue ends; checks every producer's messages arrive complete and in order. */
static void consume_all(struct outq *q, int producers, int *next, size_t *total)
{
    struct msg *m;

    while ((m = outq_pop(q)) != NULL) {
        int id = -1, i = -1;
        if (m->opcode == 0x8) {
            msg_unref(m);
            continue;
        }
        assert_int_equal(sscanf(m->data, "%d:%d", &id, &i), 2);
        assert_true(id >= 0 && id < producers);
        assert_int_equal(i, next[id]);
        next[id]++;
        (*total)++;
        msg_unref(m);
    }
}

struct closer {
    pthread_t *producers;
    int n;
    struct outq *q;
    struct msg *bye;
    int rc;
};

/* Waits for every producer, then ends the queue with a final close. */
static void *close_after_producers(void *arg)
{
    struct closer *c = arg;

    for (int k = 0; k < c->n; k++)
        pthread_join(c->producers[k], NULL);
    c->rc = outq_push_final(c->q, c->bye);
    return NULL;
}

/* n producers push PER_PRODUCER messages each while this thread consumes; nothing may be lost. */
static void run_producers_consumer(struct outq *q, int n)
{
    struct prod p[PRODUCERS];
    pthread_t t[PRODUCERS], ct;
    int next[PRODUCERS] = {0};
    size_t total = 0;
    struct closer c = {.producers = t, .n = n, .q = q, .bye = msg_close(1001, NULL), .rc = -1};

    assert_non_null(q);
    assert_true(n >= 1 && n <= PRODUCERS);
    for (int k = 0; k < n; k++) {
        p[k] = (struct prod){.q = q, .id = k, .single = n == 1};
        assert_int_equal(pthread_create(&t[k], NULL, produce, &p[k]), 0);
    }
    assert_int_equal(pthread_create(&ct, NULL, close_after_producers, &c), 0);
    consume_all(q, n, next, &total);
    assert_int_equal(pthread_join(ct, NULL), 0);
    assert_int_equal(c.rc, 0);
    for (int k = 0; k < n; k++) {
        assert_int_equal(p[k].failures, 0);
        assert_int_equal(next[k], PER_PRODUCER);
    }
    assert_int_equal(total, (size_t)n * PER_PRODUCER);
    assert_false(outq_overflowed(q));
    assert_stats(q, 0, 0);
    outq_free(q);
    assert_int_equal(refs(c.bye), 1);
    msg_unref(c.bye);
}

static void test_producers_consumer_no_loss(void **state)
{
    (void)state;
    /* limits large enough that nothing overflows: four producers race the consumer on the lock */
    run_producers_consumer(
        outq_new((size_t)PRODUCERS * PER_PRODUCER * 32, (size_t)PRODUCERS * PER_PRODUCER),
        PRODUCERS);
}

static void test_small_queue_producer_consumer(void **state)
{
    (void)state;
    /* a queue of 16 messages: the one producer waits for room, the ring wraps thousands of times */
    run_producers_consumer(outq_new(SMALL_BYTES, SMALL_MSGS), 1);
}

/* outq_pop_batch: frames batched within the byte budget, the timeout, and the stopped case. */
static void test_pop_batch(void **state)
{
    struct outq *q = outq_new(1 << 20, 100);
    struct msg *out[8];
    assert_int_equal(outq_pop_batch(q, out, 8, 1 << 20, 50), -ETIMEDOUT);

    struct msg *small = text_of_len(10), *big = text_of_len(1000);
    assert_int_equal(outq_push(q, small, NULL), 0);
    assert_int_equal(outq_push(q, small, NULL), 0);
    assert_int_equal(outq_push(q, big, NULL), 0);
    /* budget for the two small frames only (12 bytes each with their headers) */
    int n = outq_pop_batch(q, out, 8, 30, -1);
    assert_int_equal(n, 2);
    assert_ptr_equal(out[0], small);
    assert_ptr_equal(out[1], small);
    msg_unref(out[0]);
    msg_unref(out[1]);
    /* one frame always comes, even over the budget */
    assert_int_equal(outq_pop_batch(q, out, 8, 30, 0), 1);
    assert_ptr_equal(out[0], big);
    msg_unref(out[0]);
    assert_int_equal(outq_pop_batch(q, out, 8, 30, 0), -ETIMEDOUT);

    outq_stop(q);
    assert_int_equal(outq_pop_batch(q, out, 8, 30, 1000), 0);
    msg_unref(small);
    msg_unref(big);
    outq_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_refs),
        cmocka_unit_test(test_pop_batch),
        cmocka_unit_test(test_free_drops_pending),
        cmocka_unit_test(test_ring_wraps),
        cmocka_unit_test(test_byte_limit),
        cmocka_unit_test(test_single_message_over_bytes),
        cmocka_unit_test(test_message_limit),
        cmocka_unit_test(test_overflow_without_close),
        cmocka_unit_test(test_push_final),
        cmocka_unit_test(test_stop_drops_and_refuses),
        cmocka_unit_test(test_stop_wakes_blocked_popper),
        cmocka_unit_test(test_push_wakes_blocked_popper),
        cmocka_unit_test(test_producers_consumer_no_loss),
        cmocka_unit_test(test_small_queue_producer_consumer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
