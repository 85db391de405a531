/* SPDX-License-Identifier: MIT */
/* Who may enter a room (see hubint.h): the passcode compared in constant time, wrong passcodes
 * limited per session and per client address (so reconnecting buys no guesses), then the lock and
 * the size. */
#include "hubint.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

/* The wrong passcodes from one client address in the last window (a ring of their times). */
struct pw_addr {
    uint32_t addr;
    int64_t fail[HUB_PW_ADDR_TRIES];
    unsigned next;    /* the ring's oldest entry */
    struct list node; /* hub.pw_addrs, by last failure: the first is the stalest */
};

/* Compares a given passcode with a room's without an early exit: the time depends on neither
 * where they differ nor the stored passcode's content (both are at most
 * PROTO_PASSCODE_MAX_BYTES, validated by proto). */
static bool passcode_equal(const char *stored, const char *given)
{
    size_t ls = strlen(stored), lg = strlen(given);
    unsigned char diff = ls != lg;
    for (size_t i = 0; i < PROTO_PASSCODE_MAX_BYTES; i++) {
        unsigned char a = i < ls ? (unsigned char)stored[i] : 0;
        unsigned char b = i < lg ? (unsigned char)given[i] : 0;
        diff |= a ^ b;
    }
    return diff == 0;
}

static struct pw_addr *pw_addr_find(struct hub *h, uint32_t addr)
{
    struct list *n;
    if (!addr)
        return NULL;
    list_foreach (n, &h->pw_addrs) {
        struct pw_addr *a = list_entry(n, struct pw_addr, node);
        if (a->addr == addr)
            return a;
    }
    return NULL;
}

/* Forgets the addresses whose last wrong passcode is older than the window. */
void passguard_expire(struct hub *h, int64_t now)
{
    while (!list_empty(&h->pw_addrs)) {
        struct pw_addr *a = list_entry(list_first(&h->pw_addrs), struct pw_addr, node);
        unsigned last = (a->next + HUB_PW_ADDR_TRIES - 1) % HUB_PW_ADDR_TRIES;
        if (now - a->fail[last] < HUB_PW_WINDOW_MS)
            break;
        list_remove(&a->node);
        h->npw_addrs--;
        free(a);
    }
}

/* A ring of the times of the last n wrong passcodes (0: an empty slot); next is its oldest
 * entry. Full when even the oldest is within HUB_PW_WINDOW_MS of now. */
static bool ring_full(const int64_t *ring, unsigned next, int64_t now)
{
    return ring[next] && now - ring[next] < HUB_PW_WINDOW_MS;
}

static void ring_note(int64_t *ring, unsigned n, unsigned *next, int64_t now)
{
    ring[*next] = now ? now : 1;
    *next = (*next + 1) % n;
}

/* True when s, or its client address, gave the most wrong passcodes allowed within the last
 * HUB_PW_WINDOW_MS. */
static bool pw_limited(struct hub *h, const struct hub_session *s)
{
    int64_t now = hub_mono_ms(h);
    struct pw_addr *a = pw_addr_find(h, s->addr);
    return ring_full(s->pw_fail, s->pw_next, now) || (a && ring_full(a->fail, a->next, now));
}

/* Counts a wrong passcode for s and its address. Addresses whose window passed are forgotten by
 * hub_tick; one met again before that just has only old entries in its ring. */
static void pw_failed(struct hub *h, struct hub_session *s)
{
    int64_t now = hub_mono_ms(h);
    ring_note(s->pw_fail, HUB_PW_TRIES, &s->pw_next, now);
    if (!s->addr)
        return;
    struct pw_addr *a = pw_addr_find(h, s->addr);
    if (a) {
        list_remove(&a->node);
    } else {
        if (h->npw_addrs >= HUB_PW_ADDRS) { /* full: the stalest goes */
            a = list_entry(list_first(&h->pw_addrs), struct pw_addr, node);
            list_remove(&a->node);
            memset(a, 0, sizeof(*a));
        } else if ((a = calloc(1, sizeof(*a)))) {
            h->npw_addrs++;
        } else {
            return; /* out of memory: the per-session limit still holds */
        }
        a->addr = s->addr;
    }
    ring_note(a->fail, HUB_PW_ADDR_TRIES, &a->next, now);
    list_insert_tail(&h->pw_addrs, &a->node);
}

/* May s enter the existing room r? Checked so that nobody without the passcode learns anything
 * about the room: the passcode first (its attempts rate-limited), then the lock, then the size.
 * Sends the error and returns false when not. */
bool passguard_may_enter(struct hub *h, struct hub_session *s, struct room *r,
                         const struct proto_request *req)
{
    if (r->passcode) {
        if (pw_limited(h, s)) {
            hub_send_error(h, s, PROTO_ERR_RATE_LIMITED,
                           "too many wrong passcodes: try again in a minute");
            return false;
        }
        if (!req->passcode || !passcode_equal(r->passcode, req->passcode)) {
            pw_failed(h, s);
            log_info(s->id, "wrong or missing passcode for room %s", r->label);
            hub_send_error(h, s, PROTO_ERR_BAD_PASSCODE, "wrong or missing passcode");
            return false;
        }
    }
    if (r->locked) {
        hub_send_error(h, s, PROTO_ERR_ROOM_LOCKED, "the host has locked this meeting");
        return false;
    }
    if (r->count >= h->cfg.max_room_members) {
        hub_send_error(h, s, PROTO_ERR_ROOM_FULL, "the room is full");
        return false;
    }
    return true;
}

void passguard_free(struct hub *h)
{
    while (!list_empty(&h->pw_addrs)) {
        struct pw_addr *a = list_entry(list_first(&h->pw_addrs), struct pw_addr, node);
        list_remove(&a->node);
        free(a);
    }
}
