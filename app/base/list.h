/* SPDX-License-Identifier: MIT */
/* Intrusive circular doubly linked list (after libuv's queue.h): a struct list node lives inside
 * each element, the head is a bare node, and list_entry finds the element from its node. */
#ifndef HUDDLE_LIST_H
#define HUDDLE_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct list {
    struct list *prev, *next;
};

#define list_entry(node, type, member) ((type *)((char *)(node)-offsetof(type, member)))

/* Makes n an empty head, or marks an element node as not linked. */
static inline void list_init(struct list *n)
{
    n->prev = n->next = n;
}

static inline bool list_empty(const struct list *h)
{
    return h->next == h;
}

/* True when element node n is on some list (it was list_init'ed when taken off). */
static inline bool list_linked(const struct list *n)
{
    return n->next != n;
}

static inline void list_insert_tail(struct list *h, struct list *n)
{
    n->prev = h->prev;
    n->next = h;
    h->prev->next = n;
    h->prev = n;
}

/* Unlinks n and leaves it unlinked (list_linked false); harmless when it is not linked. */
static inline void list_remove(struct list *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    list_init(n);
}

/* Moves n (linked or not) to the tail of h. */
static inline void list_move_tail(struct list *h, struct list *n)
{
    list_remove(n);
    list_insert_tail(h, n);
}

#define list_first(h) ((h)->next)

/* Walks every node n of list h, first to last. The body must not unlink n (list_foreach_safe
 * allows that: tmp holds the next node). */
#define list_foreach(n, h) for ((n) = (h)->next; (n) != (h); (n) = (n)->next)
#define list_foreach_safe(n, tmp, h)                                                               \
    for ((n) = (h)->next, (tmp) = (n)->next; (n) != (h); (n) = (tmp), (tmp) = (n)->next)

#endif
