/* SPDX-License-Identifier: MIT */
/* Bounded per-session outgoing queue (bytes and messages) between the threads that fan messages
 * out and the one writer thread that owns the socket. Pushing never blocks: a full queue is an
 * overflow, and the session is then closed with 1008 rather than silently losing messages. */
#ifndef HUDDLE_OUTQ_H
#define HUDDLE_OUTQ_H

#include <stdbool.h>
#include <stddef.h>
#include "msg.h"

struct outq;

/* New empty queue limited to max_bytes of payload and max_msgs messages. NULL on OOM.
 * Freed with outq_free, which drops any queued messages. */
struct outq *outq_new(size_t max_bytes, size_t max_msgs);
void outq_free(struct outq *q);

/* Queues m (takes its own reference). Returns 0; -EPIPE when the queue no longer accepts messages
 * (closing or stopped); -ENOBUFS when this push would exceed a limit: the queue then drops
 * everything pending, queues `overflow_close` (a close frame, reference taken) as its last message
 * and refuses further pushes (also when the ring cannot grow for lack of memory). Thread-safe,
 * never blocks on I/O. */
int outq_push(struct outq *q, struct msg *m, struct msg *overflow_close);

/* Queues a final message (e.g. close 1001) after everything pending, ignoring the limits, and
 * refuses further pushes. Returns 0, -EPIPE if the queue was already closed or stopped, or -ENOMEM.
 */
int outq_push_final(struct outq *q, struct msg *m);

/* Blocks until a message is available and returns it (the caller owns the reference), or returns
 * NULL once the queue is stopped, or when it is closed and drained. */
struct msg *outq_pop(struct outq *q);

/* Like outq_pop, but takes up to max messages at once (at least one, then more only while their
 * frames total at most max_bytes), so a busy writer sends a burst in one write, and waits at most
 * timeout_ms (-1: no limit). Returns how many it stored in out (the caller owns those
 * references); 0 when stopped, or closed and drained; -ETIMEDOUT when nothing came in time. */
int outq_pop_batch(struct outq *q, struct msg **out, size_t max, size_t max_bytes, int timeout_ms);

/* Stops the queue: wakes the writer, drops pending messages, refuses pushes. Idempotent. */
void outq_stop(struct outq *q);

/* True once the queue overflowed. */
bool outq_overflowed(struct outq *q);

/* Messages and bytes currently queued (for metrics and tests). */
void outq_stats(struct outq *q, size_t *msgs, size_t *bytes);

#endif
