/* SPDX-License-Identifier: MIT */
/* The hub (see hub.h): its life, its clocks and randomness, delivery to sessions and the
 * counters. It runs on one thread (the event loop), which gives each room a single order of
 * events (chat `seq`) without a lock; sends only queue, so nothing here waits on a socket.
 * Sessions are in session.c, rooms in room.c, the passcode guard in passguard.c and the
 * protocol table with its handlers in dispatch.c. */
#include "hubint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "clock.h"
#include "log.h"
#include "thread.h"

int64_t hub_now_ms(struct hub *h)
{
    return h->ops.now_ms ? h->ops.now_ms() : clock_real_ms();
}

/* Clock for rates and the resume window: monotonic, or the test's clock when it gives one. */
int64_t hub_mono_ms(struct hub *h)
{
    return h->ops.now_ms ? h->ops.now_ms() : clock_mono_ms();
}

/* n bytes from the kernel's CSPRNG. Returns 0 or -errno. */
int hub_random(void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom((char *)buf + got, n - got, 0);
        if (r < 0 && errno != EINTR)
            return -errno;
        if (r > 0)
            got += (size_t)r;
    }
    return 0;
}

struct hub *hub_new(const struct hub_config *cfg, const struct hub_ops *ops)
{
    struct hub *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->cfg = *cfg;
    h->cfg.greeting = strdup(cfg->greeting ? cfg->greeting : "hello!");
    if (!h->cfg.greeting) {
        free(h);
        return NULL;
    }
    if (h->cfg.max_room_members < 1)
        h->cfg.max_room_members = 1;
    if (h->cfg.max_rooms < 1)
        h->cfg.max_rooms = 1;
    h->ops = *ops;
    h->next_id = 1;
    list_init(&h->sessions);
    list_init(&h->detached);
    list_init(&h->listed);
    list_init(&h->pw_addrs);
    return h;
}

/* Queues m for s; on refusal marks s gone and remembers it for kick processing. */
void hub_deliver(struct hub *h, struct hub_session *s, struct msg *m)
{
    if (s->gone || !s->sink || !m)
        return;
    if (h->ops.send(s->sink, m))
        return;
    h->stats.overflows++;
    log_warn(s->id, "connection refused a message (queue full or closing): dropping it from %s",
             s->room ? "its room" : "the lobby");
    hub_mark_gone(h, s);
}

/* s gets nothing more and leaves its room when the current operation ends (process_kicks). */
void hub_mark_gone(struct hub *h, struct hub_session *s)
{
    s->gone = true;
    if (h->nkicked == h->capkicked) {
        size_t cap = h->capkicked ? h->capkicked * 2 : 8;
        struct hub_session **k = realloc(h->kicked, cap * sizeof(*k));
        if (!k)
            return; /* it stays in its room but receives nothing; removed at disconnect */
        h->kicked = k;
        h->capkicked = cap;
    }
    h->kicked[h->nkicked++] = s;
}

void hub_broadcast(struct hub *h, struct room *r, struct msg *m, const struct hub_session *skip)
{
    for (unsigned i = 0; i < r->count; i++)
        if (r->members[i] != skip)
            hub_deliver(h, r->members[i], m);
}

void hub_send_error(struct hub *h, struct hub_session *s, enum proto_error err, const char *detail)
{
    struct msg *m = proto_error(err, detail);
    h->stats.errors++;
    if ((unsigned)err < sizeof(h->stats.error_by_code) / sizeof(h->stats.error_by_code[0]))
        h->stats.error_by_code[err]++;
    hub_deliver(h, s, m);
    msg_unref(m);
}

/* Removes every session that went gone during this operation from its room. Leaving may make
 * further sessions gone (their queues overflow on the `bye`), so loop until none is left. */
void hub_process_kicks(struct hub *h)
{
    while (h->nkicked) {
        struct hub_session *s = h->kicked[--h->nkicked];
        room_leave(h, s);
    }
}

void hub_get_stats(struct hub *h, struct hub_stats *st)
{
    THREAD_ASSERT_OWNER(h->cfg.owner);
    *st = h->stats;
    st->sessions = h->nsessions;
    st->rooms = h->nrooms;
    st->members = h->nmembers;
    st->gone = st->detached = 0;
    struct list *n;
    list_foreach (n, &h->sessions) {
        struct hub_session *s = list_entry(n, struct hub_session, node);
        st->gone += s->gone;
        st->detached += !s->sink;
    }
}

void hub_free(struct hub *h)
{
    if (!h)
        return;
    /* detached sessions wait for no connection: they go with the hub (no messages) */
    while (!list_empty(&h->sessions)) {
        struct hub_session *s = list_entry(list_first(&h->sessions), struct hub_session, node);
        list_remove(&s->node);
        if (s->room) {
            struct room *r = s->room;
            for (unsigned i = 0; i < r->count; i++)
                r->members[i]->room = NULL;
            room_destroy(h, r);
        }
        session_free(s);
    }
    passguard_free(h);
    free((char *)h->cfg.greeting);
    free(h->kicked);
    free(h);
}
