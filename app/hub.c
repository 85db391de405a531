/* SPDX-License-Identifier: MIT */
/* The hub (see hub.h). It runs on one thread (the event loop), which gives each room a single
 * order of events (chat `seq`) without a lock; sends only queue, so nothing here waits on a
 * socket. */
#include "hub.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "proto.h"

struct room {
    char *name;
    struct hub_session **members; /* join order */
    unsigned count, cap;
    uint64_t seq; /* last chat sequence number sent in this room */
    struct room *next;
};

struct hub_session {
    uint64_t id;
    void *sink;
    char *nickname;
    struct room *room;
    bool gone; /* its connection refused a message: it gets nothing more */
    double tokens;
    int64_t refill_ms;
    struct hub_session *prev, *next;
};

struct hub {
    struct hub_config cfg;
    struct hub_ops ops;
    struct hub_session *sessions;
    struct room *rooms; /* sorted by name */
    unsigned nsessions, nrooms, nmembers;
    uint64_t next_id;
    bool rooms_dirty;
    struct hub_session **kicked; /* sessions that went gone during the current operation */
    size_t nkicked, capkicked;
    struct hub_stats stats;
};

static int64_t now_ms(struct hub *h)
{
    return h->ops.now_ms ? h->ops.now_ms() : clock_real_ms();
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
    return h;
}

void hub_free(struct hub *h)
{
    if (!h)
        return;
    free((char *)h->cfg.greeting);
    free(h->kicked);
    free(h);
}

bool hub_session_in_room(const struct hub_session *s)
{
    return s->room != NULL;
}

uint64_t hub_session_id(const struct hub_session *s)
{
    return s->id;
}

/* Queues m for s; on refusal marks s gone and remembers it for kick processing. */
static void deliver(struct hub *h, struct hub_session *s, struct msg *m)
{
    if (s->gone || !m)
        return;
    if (h->ops.send(s->sink, m))
        return;
    s->gone = true;
    h->stats.overflows++;
    log_warn(s->id, "connection refused a message (queue full or closing): dropping it from %s",
             s->room ? "its room" : "the lobby");
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

static void broadcast(struct hub *h, struct room *r, struct msg *m, const struct hub_session *skip)
{
    for (unsigned i = 0; i < r->count; i++)
        if (r->members[i] != skip)
            deliver(h, r->members[i], m);
}

static void send_error(struct hub *h, struct hub_session *s, enum proto_error err,
                       const char *detail)
{
    struct msg *m = proto_error(err, detail);
    h->stats.errors++;
    if ((unsigned)err < sizeof(h->stats.error_by_code) / sizeof(h->stats.error_by_code[0]))
        h->stats.error_by_code[err]++;
    deliver(h, s, m);
    msg_unref(m);
}

static struct room *room_find(struct hub *h, const char *name)
{
    for (struct room *r = h->rooms; r; r = r->next) {
        int c = strcmp(r->name, name);
        if (c == 0)
            return r;
        if (c > 0)
            break;
    }
    return NULL;
}

static struct room *room_create(struct hub *h, const char *name)
{
    struct room *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->name = strdup(name);
    r->cap = 4;
    r->members = calloc(r->cap, sizeof(*r->members));
    if (!r->name || !r->members) {
        free(r->name);
        free(r->members);
        free(r);
        return NULL;
    }
    struct room **pp = &h->rooms;
    while (*pp && strcmp((*pp)->name, name) < 0)
        pp = &(*pp)->next;
    r->next = *pp;
    *pp = r;
    h->nrooms++;
    return r;
}

static void room_destroy(struct hub *h, struct room *r)
{
    struct room **pp = &h->rooms;
    while (*pp != r)
        pp = &(*pp)->next;
    *pp = r->next;
    h->nrooms--;
    free(r->name);
    free(r->members);
    free(r);
}

/* Takes s out of its room; the others get `bye`. The room disappears when empty. */
static void room_leave(struct hub *h, struct hub_session *s)
{
    struct room *r = s->room;
    if (!r)
        return;
    for (unsigned i = 0; i < r->count; i++) {
        if (r->members[i] == s) {
            memmove(&r->members[i], &r->members[i + 1], (r->count - i - 1) * sizeof(*r->members));
            r->count--;
            break;
        }
    }
    s->room = NULL;
    h->nmembers--;
    h->rooms_dirty = true;
    log_info(s->id, "left room '%s' (%u left)", r->name, r->count);
    if (r->count == 0) {
        room_destroy(h, r);
        return;
    }
    struct msg *m = proto_presence("bye", r->name, s->id, s->nickname, r->count);
    broadcast(h, r, m, NULL);
    msg_unref(m);
}

static int room_add(struct hub *h, struct room *r, struct hub_session *s)
{
    if (r->count == r->cap) {
        unsigned cap = r->cap * 2;
        struct hub_session **mm = realloc(r->members, cap * sizeof(*mm));
        if (!mm)
            return -1;
        r->members = mm;
        r->cap = cap;
    }
    r->members[r->count++] = s;
    s->room = r;
    h->nmembers++;
    h->rooms_dirty = true;
    return 0;
}

/* Removes every session that went gone during this operation from its room. Leaving may make
 * further sessions gone (their queues overflow on the `bye`), so loop until none is left. */
static void process_kicks(struct hub *h)
{
    while (h->nkicked) {
        struct hub_session *s = h->kicked[--h->nkicked];
        room_leave(h, s);
    }
}

static void send_joined(struct hub *h, struct hub_session *s)
{
    struct room *r = s->room;
    struct proto_member *members = calloc(r->count ? r->count : 1, sizeof(*members));
    size_t n = 0;
    if (!members)
        return;
    for (unsigned i = 0; i < r->count; i++) {
        if (r->members[i] == s)
            continue;
        members[n].id = r->members[i]->id;
        members[n].nickname = r->members[i]->nickname;
        n++;
    }
    struct msg *m = proto_joined(r->name, s->id, members, n, r->count);
    free(members);
    deliver(h, s, m);
    msg_unref(m);
}

static struct proto_room_info *room_infos(struct hub *h, size_t *n)
{
    struct proto_room_info *infos = calloc(h->nrooms ? h->nrooms : 1, sizeof(*infos));
    size_t i = 0;
    if (!infos)
        return NULL;
    for (struct room *r = h->rooms; r; r = r->next) {
        infos[i].name = r->name;
        infos[i].count = r->count;
        i++;
    }
    *n = i;
    return infos;
}

static struct msg *rooms_msg(struct hub *h)
{
    size_t n = 0;
    struct proto_room_info *infos = room_infos(h, &n);
    struct msg *m = infos ? proto_rooms(infos, n) : NULL;
    free(infos);
    return m;
}

struct hub_session *hub_connect(struct hub *h, void *sink)
{
    struct hub_session *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->nickname = strdup(PROTO_DEFAULT_NICK);
    if (!s->nickname) {
        free(s);
        return NULL;
    }
    s->sink = sink;
    s->id = h->next_id++;
    s->tokens = h->cfg.rate_burst;
    s->refill_ms = now_ms(h);
    s->next = h->sessions;
    if (h->sessions)
        h->sessions->prev = s;
    h->sessions = s;
    h->nsessions++;
    size_t n = 0;
    struct proto_room_info *infos = room_infos(h, &n);
    struct msg *m = infos ? proto_hello(h->cfg.greeting, s->id, s->nickname, infos, n) : NULL;
    free(infos);
    deliver(h, s, m);
    msg_unref(m);
    process_kicks(h);
    return s;
}

void hub_disconnect(struct hub *h, struct hub_session *s)
{
    if (!s)
        return;
    /* it may still be on the kick list of no operation: kicks are processed before unlocking */
    s->gone = true;
    room_leave(h, s);
    process_kicks(h);
    if (s->prev)
        s->prev->next = s->next;
    else
        h->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    h->nsessions--;
    free(s->nickname);
    free(s);
}

/* Token bucket: true when s may send one more message now. */
static bool rate_ok(struct hub *h, struct hub_session *s)
{
    if (!h->cfg.rate_per_sec)
        return true;
    int64_t now = now_ms(h);
    if (now > s->refill_ms) {
        s->tokens += (double)(now - s->refill_ms) * h->cfg.rate_per_sec / 1000.0;
        if (s->tokens > h->cfg.rate_burst)
            s->tokens = h->cfg.rate_burst;
    }
    s->refill_ms = now;
    if (s->tokens < 1.0)
        return false;
    s->tokens -= 1.0;
    return true;
}

static void do_chat(struct hub *h, struct hub_session *s, const char *text)
{
    struct room *r = s->room;
    struct msg *m = proto_chat(r->name, s->id, s->nickname, text, r->seq + 1, now_ms(h));
    if (!m) {
        send_error(h, s, PROTO_ERR_BAD_FIELD, "out of memory");
        return;
    }
    r->seq++;
    h->stats.chats++;
    broadcast(h, r, m, NULL);
    msg_unref(m);
}

static void do_nickname(struct hub *h, struct hub_session *s, char **nick)
{
    char *old = s->nickname;
    s->nickname = *nick;
    *nick = NULL;
    struct msg *m = proto_nickname(s->nickname);
    deliver(h, s, m);
    msg_unref(m);
    if (s->room) {
        m = proto_renamed(s->id, old, s->nickname);
        broadcast(h, s->room, m, s);
        msg_unref(m);
    }
    free(old);
}

static void do_join(struct hub *h, struct hub_session *s, const char *name)
{
    struct room *cur = s->room;
    if (cur && !strcmp(cur->name, name)) {
        send_joined(h, s);
        return;
    }
    struct room *r = room_find(h, name);
    if (r && r->count >= h->cfg.max_room_members) {
        send_error(h, s, PROTO_ERR_ROOM_FULL, "the room is full");
        return;
    }
    bool frees_one = cur && cur->count == 1;
    if (!r && h->nrooms - (frees_one ? 1 : 0) >= h->cfg.max_rooms) {
        send_error(h, s, PROTO_ERR_ROOM_FULL, "the server has no room for another room");
        return;
    }
    room_leave(h, s);
    if (!r)
        r = room_create(h, name);
    if (!r || room_add(h, r, s) < 0) {
        if (r && r->count == 0)
            room_destroy(h, r);
        send_error(h, s, PROTO_ERR_ROOM_FULL, "out of memory");
        return;
    }
    log_info(s->id, "joined room '%s' (%u members)", r->name, r->count);
    send_joined(h, s);
    struct msg *m = proto_presence("welcome", r->name, s->id, s->nickname, r->count);
    broadcast(h, r, m, s);
    msg_unref(m);
}

static void do_leave(struct hub *h, struct hub_session *s)
{
    if (!s->room) {
        send_error(h, s, PROTO_ERR_NOT_IN_ROOM, "you are not in a room");
        return;
    }
    struct msg *m = proto_left(s->room->name);
    room_leave(h, s);
    deliver(h, s, m);
    msg_unref(m);
}

static void do_signal(struct hub *h, struct hub_session *s, uint64_t to, const char *data)
{
    struct hub_session *peer = NULL;
    if (s->room)
        for (unsigned i = 0; i < s->room->count; i++)
            if (s->room->members[i]->id == to)
                peer = s->room->members[i];
    if (!peer || peer == s) {
        send_error(h, s, PROTO_ERR_NO_SUCH_PEER, "no such peer in your room");
        return;
    }
    struct msg *m = proto_signal(s->id, data);
    h->stats.signals++;
    deliver(h, peer, m);
    msg_unref(m);
}

static void do_list(struct hub *h, struct hub_session *s)
{
    struct msg *m = rooms_msg(h);
    deliver(h, s, m);
    msg_unref(m);
}

void hub_handle(struct hub *h, struct hub_session *s, const char *buf, size_t len)
{
    struct proto_request req;
    const char *detail = "";
    char *text = NULL;
    int rc = proto_parse(buf, len, &req, &detail);
    int text_rc = rc < 0 ? proto_chat_text(buf, len, &text, &detail) : PROTO_OK;

    if (s->gone)
        goto out_free;
    if (!rate_ok(h, s)) {
        send_error(h, s, PROTO_ERR_RATE_LIMITED, "too many messages: slow down");
        goto out_kicks;
    }
    if (rc < 0) {
        /* plain text: a chat message inside a room, only logged outside */
        if (!s->room)
            goto out_kicks;
        if (text_rc != PROTO_OK)
            send_error(h, s, text_rc, detail);
        else
            do_chat(h, s, text);
        goto out_kicks;
    }
    if (rc != PROTO_OK) {
        send_error(h, s, rc, detail);
        goto out_kicks;
    }
    switch (req.type) {
    case PROTO_NICKNAME:
        do_nickname(h, s, &req.text);
        break;
    case PROTO_JOIN:
        do_join(h, s, req.text);
        break;
    case PROTO_LEAVE:
        do_leave(h, s);
        break;
    case PROTO_CHAT:
        if (s->room)
            do_chat(h, s, req.text);
        else
            send_error(h, s, PROTO_ERR_NOT_IN_ROOM, "join a room to chat");
        break;
    case PROTO_SIGNAL:
        do_signal(h, s, req.to, req.data);
        break;
    case PROTO_LIST:
        do_list(h, s);
        break;
    }
out_kicks:
    process_kicks(h);
out_free:
    proto_request_clear(&req);
    free(text);
}

bool hub_flush_rooms(struct hub *h)
{
    bool sent = false;
    if (h->rooms_dirty) {
        h->rooms_dirty = false;
        struct msg *m = rooms_msg(h);
        for (struct hub_session *s = h->sessions; m && s; s = s->next) {
            if (!s->room && !s->gone) {
                deliver(h, s, m);
                sent = true;
            }
        }
        msg_unref(m);
        process_kicks(h);
    }
    return sent;
}

char *hub_rooms_json(struct hub *h)
{
    size_t n = 0;
    struct proto_room_info *infos = room_infos(h, &n);
    char *s = infos ? proto_rooms_json(infos, n) : NULL;
    free(infos);
    return s;
}

void hub_get_stats(struct hub *h, struct hub_stats *st)
{
    *st = h->stats;
    st->sessions = h->nsessions;
    st->rooms = h->nrooms;
    st->members = h->nmembers;
    st->gone = 0;
    for (struct hub_session *s = h->sessions; s; s = s->next)
        st->gone += s->gone;
}
