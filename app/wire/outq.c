/* SPDX-License-Identifier: MIT */
/* Bounded outgoing queue with one consumer (see outq.h): a ring of message pointers under a mutex
 * and a condition variable. */
#include "outq.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "ring.h"

#define OUTQ_INITIAL_SLOTS 16

struct outq {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct ring ring; /* grows by doubling up to max_msgs + 1 slots (room for the final close) */
    size_t max_bytes, max_msgs;
    bool closed;  /* no more pushes; pending messages are still delivered */
    bool stopped; /* no more pops either */
    bool overflowed;
    bool waiting; /* the consumer sleeps on cond: a push must signal (after unlocking) */
};

struct outq *outq_new(size_t max_bytes, size_t max_msgs)
{
    struct outq *q = calloc(1, sizeof(*q));
    if (!q)
        return NULL;
    ring_init(&q->ring, OUTQ_INITIAL_SLOTS, max_msgs + 1);
    if (!ring_reserve(&q->ring)) { /* up front: an overflow's close frame always fits */
        free(q);
        return NULL;
    }
    q->max_bytes = max_bytes;
    q->max_msgs = max_msgs;
    pthread_mutex_init(&q->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* timed pops ignore wall-clock jumps */
    pthread_cond_init(&q->cond, &attr);
    pthread_condattr_destroy(&attr);
    return q;
}

void outq_free(struct outq *q)
{
    if (!q)
        return;
    ring_cleanup(&q->ring);
    pthread_cond_destroy(&q->cond);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

int outq_push(struct outq *q, struct msg *m, struct msg *overflow_close)
{
    int rc = 0;
    pthread_mutex_lock(&q->lock);
    if (q->closed || q->stopped) {
        rc = -EPIPE;
    } else if (ring_count(&q->ring) + 1 > q->max_msgs ||
               ring_bytes(&q->ring) + m->len > q->max_bytes || !ring_reserve(&q->ring)) {
        q->overflowed = true;
        q->closed = true;
        ring_clear(&q->ring);
        if (overflow_close)
            ring_push(&q->ring, msg_ref(overflow_close)); /* fits: clearing kept the slots */
        rc = -ENOBUFS;
    } else {
        ring_push(&q->ring, msg_ref(m)); /* fits: reserved above */
    }
    bool wake = rc != -EPIPE && q->waiting;
    pthread_mutex_unlock(&q->lock);
    /* signalled outside the lock, so the woken writer does not block on it at once */
    if (wake)
        pthread_cond_signal(&q->cond);
    return rc;
}

int outq_push_final(struct outq *q, struct msg *m)
{
    int rc = 0;
    pthread_mutex_lock(&q->lock);
    if (q->closed || q->stopped) {
        rc = -EPIPE;
    } else if (!ring_reserve(&q->ring)) {
        rc = -ENOMEM;
    } else {
        q->closed = true;
        ring_push(&q->ring, msg_ref(m)); /* fits: reserved above */
    }
    bool wake = rc == 0 && q->waiting;
    pthread_mutex_unlock(&q->lock);
    if (wake)
        pthread_cond_signal(&q->cond);
    return rc;
}

struct msg *outq_pop(struct outq *q)
{
    struct msg *m = NULL;
    pthread_mutex_lock(&q->lock);
    while (!q->stopped && ring_count(&q->ring) == 0 && !q->closed) {
        q->waiting = true;
        pthread_cond_wait(&q->cond, &q->lock);
        q->waiting = false;
    }
    if (!q->stopped && ring_count(&q->ring))
        m = ring_pop(&q->ring);
    pthread_mutex_unlock(&q->lock);
    return m;
}

int outq_pop_batch(struct outq *q, struct msg **out, size_t max, size_t max_bytes, int timeout_ms)
{
    int n = 0;
    size_t bytes = 0;
    struct timespec until;
    if (timeout_ms >= 0) {
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += timeout_ms / 1000;
        until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&q->lock);
    while (!q->stopped && ring_count(&q->ring) == 0 && !q->closed) {
        q->waiting = true;
        int rc = timeout_ms >= 0 ? pthread_cond_timedwait(&q->cond, &q->lock, &until)
                                 : pthread_cond_wait(&q->cond, &q->lock);
        q->waiting = false;
        if (rc == ETIMEDOUT && !q->stopped && ring_count(&q->ring) == 0 && !q->closed) {
            pthread_mutex_unlock(&q->lock);
            return -ETIMEDOUT;
        }
    }
    while (!q->stopped && ring_count(&q->ring) && (size_t)n < max) {
        const struct msg *m = ring_at(&q->ring, 0);
        if (n && bytes + m->frame_len > max_bytes)
            break;
        bytes += m->frame_len;
        out[n++] = ring_pop(&q->ring);
    }
    pthread_mutex_unlock(&q->lock);
    return n;
}

void outq_stop(struct outq *q)
{
    pthread_mutex_lock(&q->lock);
    q->stopped = true;
    q->closed = true;
    ring_clear(&q->ring);
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

bool outq_overflowed(struct outq *q)
{
    pthread_mutex_lock(&q->lock);
    bool o = q->overflowed;
    pthread_mutex_unlock(&q->lock);
    return o;
}

void outq_stats(struct outq *q, size_t *msgs, size_t *bytes)
{
    pthread_mutex_lock(&q->lock);
    if (msgs)
        *msgs = ring_count(&q->ring);
    if (bytes)
        *bytes = ring_bytes(&q->ring);
    pthread_mutex_unlock(&q->lock);
}
