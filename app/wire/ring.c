/* SPDX-License-Identifier: MIT */
/* The growable message ring (see ring.h): its slow paths, growth and dropping. */
#include "ring.h"

#include <stdlib.h>

void ring_init(struct ring *r, size_t first, size_t max)
{
    assert(first >= 1 && max >= 1 && max <= RING_SLOTS_MAX);
    *r = (struct ring){.first = first, .max = max};
}

void ring_cleanup(struct ring *r)
{
    ring_clear(r);
    free(r->slot);
    r->slot = NULL;
    r->cap = 0;
}

bool ring_reserve(struct ring *r)
{
    if (r->count < r->cap)
        return true;
    size_t cap = r->cap == 0 ? r->first : r->cap > r->max / 2 ? r->max : r->cap * 2;
    if (cap > r->max)
        cap = r->max;
    if (cap <= r->cap)
        return false;
    struct msg **slot = malloc(cap * sizeof(*slot));
    if (!slot)
        return false;
    for (size_t i = 0; i < r->count; i++)
        slot[i] = r->slot[ring_slot(r, i)];
    free(r->slot);
    r->slot = slot;
    r->cap = cap;
    r->head = 0;
    return true;
}

void ring_truncate(struct ring *r, size_t keep)
{
    while (r->count > keep) {
        struct msg *m = r->slot[ring_slot(r, r->count - 1)];
        r->bytes -= m->len;
        r->count--;
        msg_unref(m);
    }
}

void ring_clear(struct ring *r)
{
    while (r->count)
        msg_unref(ring_pop(r));
}
