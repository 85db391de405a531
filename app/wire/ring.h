/* SPDX-License-Identifier: MIT */
/* A growable FIFO of outgoing messages that keeps their count and payload bytes: the write queue
 * of a loop connection (conn.c) and the queue to a TLS writer thread (outq.c). Not thread-safe:
 * one owner uses it (the loop thread for a connection; outq only under its mutex). Ownership: a
 * pushed message's reference moves into the ring, ring_pop moves it back out to the caller, and
 * ring_truncate, ring_clear and ring_cleanup drop the references they remove. */
#ifndef HUDDLE_RING_H
#define HUDDLE_RING_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "msg.h"

#define RING_SLOTS_MAX (SIZE_MAX / sizeof(struct msg *)) /* the largest max for ring_init */

/* The fields are read only through the functions below; they are here for inlining. */
struct ring {
    struct msg **slot; /* cap slots; the queue is slot[head], slot[head + 1], ... wrapping */
    size_t cap, head, count;
    size_t bytes;      /* sum of m->len over the queued messages */
    size_t first, max; /* slots of the first allocation; the most slots it grows to */
};

/* Empty ring; allocates nothing. Its first growth allocates min(first, max) slots, every later
 * one doubles the slots, never past max. 1 <= first; 1 <= max <= RING_SLOTS_MAX. */
void ring_init(struct ring *r, size_t first, size_t max);

/* Drops every queued reference and frees the slots. r may be initialised again. */
void ring_cleanup(struct ring *r);

/* Makes room for one more message, growing r when it is full (the slow path of ring_push; an
 * owner may also call it to allocate up front). Returns false, r unchanged, when it is full at
 * max slots or on OOM. */
bool ring_reserve(struct ring *r);

/* Drops the queued messages after the first keep (the newest first), with their references. */
void ring_truncate(struct ring *r, size_t keep);

/* Drops every queued message with its reference; keeps the slots, so a push of one message
 * cannot fail right after. */
void ring_clear(struct ring *r);

static inline size_t ring_count(const struct ring *r)
{
    return r->count;
}

/* Payload bytes (m->len) of the queued messages. */
static inline size_t ring_bytes(const struct ring *r)
{
    return r->bytes;
}

/* Slot index of the i-th message from the head (i <= count <= cap, head < cap: one subtraction
 * wraps it, no division). */
static inline size_t ring_slot(const struct ring *r, size_t i)
{
    size_t j = r->head + i;
    return j < r->cap ? j : j - r->cap;
}

/* The i-th queued message from the head (i < ring_count); the ring keeps its reference. */
static inline struct msg *ring_at(const struct ring *r, size_t i)
{
    assert(i < r->count);
    return r->slot[ring_slot(r, i)];
}

/* Queues m at the tail, taking over the caller's reference. Returns false when r cannot grow
 * (see ring_reserve): m then stays the caller's. */
static inline bool ring_push(struct ring *r, struct msg *m)
{
    if (r->count == r->cap && !ring_reserve(r))
        return false;
    r->slot[ring_slot(r, r->count)] = m;
    r->count++;
    r->bytes += m->len;
    return true;
}

/* Takes the head message out (ring_count > 0); its reference goes to the caller. */
static inline struct msg *ring_pop(struct ring *r)
{
    assert(r->count > 0);
    struct msg *m = r->slot[r->head];
    r->head = r->head + 1 == r->cap ? 0 : r->head + 1;
    r->count--;
    r->bytes -= m->len;
    return m;
}

#endif
