/* SPDX-License-Identifier: MIT */
/* The hub (see hub.h). It runs on one thread (the event loop), which gives each room a single
 * order of events (chat `seq`) without a lock; sends only queue, so nothing here waits on a
 * socket. Rooms are unlisted unless their creator listed them: an unlisted room's name appears in
 * no list and, at INFO, in no log line (a random tag stands for it). */
#include "hub.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "clock.h"
#include "list.h"
#include "log.h"
#include "proto.h"

struct room {
    char *name;
    struct hub_session **members; /* join order: the longest present first */
    unsigned count, cap;
    uint64_t seq; /* last chat sequence number sent in this room */
    struct hub_session *host;
    char *passcode; /* NULL = none */
    bool listed, locked;
    char label[40]; /* how the log names it: 'name' when listed, else a random tag and length */
    struct room *next;
};

#define HUB_TOKEN_BYTES   16    /* 128 random bits per resume token */
#define HUB_PW_TRIES      5     /* wrong passcodes per session ... */
#define HUB_PW_ADDR_TRIES 20    /* ... and per client address (a new connection is cheap) ... */
#define HUB_PW_WINDOW_MS  60000 /* ... within this many ms, then rate_limited */
#define HUB_PW_ADDRS      1024  /* addresses remembered; beyond that the oldest is forgotten */

/* The wrong passcodes from one client address in the last window (a ring of their times). */
struct pw_addr {
    uint32_t addr;
    int64_t fail[HUB_PW_ADDR_TRIES];
    unsigned next;    /* the ring's oldest entry */
    struct list node; /* hub.pw_addrs, by last failure: the first is the stalest */
};
#define HUB_REACT_BURST  5
#define HUB_REACT_PER_MS 3000 /* HUB_REACT_BURST reactions per this many ms */

struct hub_session {
    uint64_t id;
    uint32_t addr; /* the client's address (IPv4, network order; 0 = unknown) */
    void *sink;    /* NULL while detached (its connection dropped; resumable) */
    char *nickname;
    struct room *room;
    bool gone;  /* its connection refused a message: it gets nothing more */
    bool fresh; /* nothing but `resume` handled yet: it may still resume another session */
    bool mic, cam, hand;
    double tokens;
    int64_t refill_ms;
    double react_tokens;
    int64_t react_ms;
    unsigned limited;              /* messages refused in a row by the rate limit */
    int64_t limited_log_ms;        /* when that was last logged (once a minute at most) */
    int64_t detach_deadline;       /* monotonic ms */
    int64_t pw_fail[HUB_PW_TRIES]; /* when its last wrong passcodes were given (ring) */
    unsigned pw_next;              /* the ring's oldest entry */
    char token[2 * HUB_TOKEN_BYTES + 1];
    struct list node;          /* hub.sessions */
    struct list detached_node; /* hub.detached, oldest first */
};

struct hub {
    struct hub_config cfg;
    struct hub_ops ops;
    struct list sessions;
    struct list detached; /* by detach time: the first expires first */
    struct room *rooms;   /* sorted by name */
    struct list pw_addrs; /* struct pw_addr, by last failure */
    unsigned npw_addrs;
    unsigned nsessions, nrooms, nmembers;
    uint64_t next_id;
    bool rooms_dirty;
    struct hub_session **kicked; /* sessions that went gone during the current operation */
    size_t nkicked, capkicked;
    struct hub_stats stats;
};

static void pw_addr_expire(struct hub *h, int64_t now);

static void session_free(struct hub_session *s)
{
    free(s->nickname);
    free(s);
}

static int64_t now_ms(struct hub *h)
{
    return h->ops.now_ms ? h->ops.now_ms() : clock_real_ms();
}

/* Clock for rates and the resume window: monotonic, or the test's clock when it gives one. */
static int64_t mono_ms(struct hub *h)
{
    return h->ops.now_ms ? h->ops.now_ms() : clock_mono_ms();
}

/* n bytes from the kernel's CSPRNG. Returns 0 or -errno. */
static int fill_random(void *buf, size_t n)
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

/* A fresh resume token: 128 bits from the kernel's CSPRNG, as hex. Returns 0 or -errno. */
static int new_token(char out[2 * HUB_TOKEN_BYTES + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[HUB_TOKEN_BYTES];
    int rc = fill_random(b, sizeof(b));
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < sizeof(b); i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * HUB_TOKEN_BYTES] = '\0';
    return 0;
}

/* Compares a token with s's in time independent of where they differ. */
static bool token_equal(const struct hub_session *s, const char *token)
{
    size_t len = strlen(token);
    unsigned char diff = len != 2 * HUB_TOKEN_BYTES;
    for (size_t i = 0; i < 2 * HUB_TOKEN_BYTES; i++)
        diff |= (unsigned char)(s->token[i] ^ (i < len ? token[i] : 0));
    return diff == 0;
}

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
    list_init(&h->pw_addrs);
    return h;
}

bool hub_session_in_room(const struct hub_session *s)
{
    return s->room != NULL;
}

uint64_t hub_session_id(const struct hub_session *s)
{
    return s->id;
}

static void mark_gone(struct hub *h, struct hub_session *s);

/* Queues m for s; on refusal marks s gone and remembers it for kick processing. */
static void deliver(struct hub *h, struct hub_session *s, struct msg *m)
{
    if (s->gone || !s->sink || !m)
        return;
    if (h->ops.send(s->sink, m))
        return;
    h->stats.overflows++;
    log_warn(s->id, "connection refused a message (queue full or closing): dropping it from %s",
             s->room ? "its room" : "the lobby");
    mark_gone(h, s);
}

/* s gets nothing more and leaves its room when the current operation ends (process_kicks). */
static void mark_gone(struct hub *h, struct hub_session *s)
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

static struct room *room_create(struct hub *h, const char *name, bool listed, const char *passcode)
{
    struct room *r = calloc(1, sizeof(*r));
    uint32_t tag = 0;
    if (!r)
        return NULL;
    r->name = strdup(name);
    r->passcode = passcode ? strdup(passcode) : NULL;
    r->cap = 4;
    r->members = calloc(r->cap, sizeof(*r->members));
    if (!r->name || !r->members || (passcode && !r->passcode) ||
        (!listed && fill_random(&tag, sizeof(tag)) < 0)) {
        free(r->name);
        free(r->passcode);
        free(r->members);
        free(r);
        return NULL;
    }
    r->listed = listed;
    if (listed) {
        snprintf(r->label, sizeof(r->label), "'%.*s'", (int)sizeof(r->label) - 3, name);
    } else {
        snprintf(r->label, sizeof(r->label), "#%08x (%zu B)", (unsigned)tag, strlen(name));
        log_debug(0, "room %s is '%s'", r->label, name);
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
    free(r->passcode);
    free(r->members);
    free(r);
}

/* A listed room's entry in the room lists changed (count, lock, passcode). */
static void room_changed(struct hub *h, const struct room *r)
{
    if (r->listed)
        h->rooms_dirty = true;
}

static void room_meta(const struct room *r, bool for_host, struct proto_room_meta *meta)
{
    meta->host = r->host ? r->host->id : 0;
    meta->locked = r->locked;
    meta->listed = r->listed;
    meta->has_passcode = r->passcode != NULL;
    meta->for_host = for_host;
    meta->passcode = for_host ? r->passcode : NULL;
}

/* Tells every member the room's settings and what changed: `room`, the host's copy with the
 * passcode. */
static void send_room(struct hub *h, struct room *r, enum proto_room_change change)
{
    struct proto_room_meta meta;
    room_meta(r, false, &meta);
    struct msg *all = proto_room(r->name, change, &meta);
    room_meta(r, true, &meta);
    struct msg *host = proto_room(r->name, change, &meta);
    for (unsigned i = 0; i < r->count; i++)
        deliver(h, r->members[i], r->members[i] == r->host ? host : all);
    msg_unref(all);
    msg_unref(host);
}

/* Takes s out of its room; the others get `bye` (and `room` when s was the host, who is then
 * the longest-present member). The room disappears when empty. */
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
    room_changed(h, r);
    log_info(s->id, "left room %s (%u left)", r->label, r->count);
    if (r->count == 0) {
        room_destroy(h, r);
        return;
    }
    struct msg *m = proto_presence("bye", r->name, s->id, s->nickname, r->count, NULL);
    broadcast(h, r, m, NULL);
    msg_unref(m);
    if (r->host == s) {
        r->host = r->members[0]; /* the longest present */
        log_info(r->host->id, "is now the host of room %s", r->label);
        send_room(h, r, PROTO_CHANGE_HOST);
    }
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
    room_changed(h, r);
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
        members[n].mic = r->members[i]->mic;
        members[n].cam = r->members[i]->cam;
        members[n].hand = r->members[i]->hand;
        n++;
    }
    struct proto_room_meta meta;
    room_meta(r, r->host == s, &meta);
    struct msg *m = proto_joined(r->name, s->id, members, n, r->count, &meta);
    free(members);
    deliver(h, s, m);
    msg_unref(m);
}

/* The listed rooms, as the room lists show them. */
static struct proto_room_info *room_infos(struct hub *h, size_t *n)
{
    struct proto_room_info *infos = calloc(h->nrooms ? h->nrooms : 1, sizeof(*infos));
    size_t i = 0;
    if (!infos)
        return NULL;
    for (struct room *r = h->rooms; r; r = r->next) {
        if (!r->listed)
            continue;
        infos[i].name = r->name;
        infos[i].count = r->count;
        infos[i].capacity = h->cfg.max_room_members;
        infos[i].locked = r->locked;
        infos[i].has_passcode = r->passcode != NULL;
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

struct hub_session *hub_connect(struct hub *h, void *sink, uint32_t addr)
{
    struct hub_session *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->nickname = strdup(PROTO_DEFAULT_NICK);
    if (!s->nickname) {
        free(s);
        return NULL;
    }
    if (new_token(s->token) < 0) {
        log_error(0, "no random bytes for a session token");
        session_free(s);
        return NULL;
    }
    s->sink = sink;
    s->addr = addr;
    s->id = h->next_id++;
    s->fresh = true;
    s->mic = s->cam = true;
    s->tokens = h->cfg.rate_burst;
    s->refill_ms = mono_ms(h);
    s->react_tokens = HUB_REACT_BURST;
    s->react_ms = s->refill_ms;
    list_init(&s->detached_node);
    list_insert_tail(&h->sessions, &s->node);
    h->nsessions++;
    size_t n = 0;
    struct proto_room_info *infos = room_infos(h, &n);
    struct msg *m =
        infos ? proto_hello(h->cfg.greeting, s->id, s->nickname, s->token, infos, n) : NULL;
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
    /* it is on no kick list: every operation processes its kicks before returning */
    s->gone = true;
    room_leave(h, s);
    process_kicks(h);
    list_remove(&s->node);
    list_remove(&s->detached_node);
    h->nsessions--;
    session_free(s);
}

void hub_detach(struct hub *h, struct hub_session *s)
{
    if (!s)
        return;
    if (!h->cfg.resume_window_ms || s->gone) {
        hub_disconnect(h, s);
        return;
    }
    s->sink = NULL;
    s->detach_deadline = mono_ms(h) + (int64_t)h->cfg.resume_window_ms;
    list_insert_tail(&h->detached, &s->detached_node);
    log_info(s->id, "connection dropped: seat kept for %u s", h->cfg.resume_window_ms / 1000);
}

void hub_tick(struct hub *h)
{
    int64_t now = mono_ms(h);
    pw_addr_expire(h, now);
    while (!list_empty(&h->detached)) {
        struct hub_session *s =
            list_entry(list_first(&h->detached), struct hub_session, detached_node);
        if (s->detach_deadline > now)
            break;
        log_info(s->id, "not resumed in time: ending the session");
        hub_disconnect(h, s);
    }
}

/* Token bucket: true when s may send one more message now. */
static bool rate_ok(struct hub *h, struct hub_session *s)
{
    if (!h->cfg.rate_per_sec)
        return true;
    int64_t now = mono_ms(h);
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

static struct pw_addr *pw_addr_find(struct hub *h, uint32_t addr)
{
    for (struct list *n = h->pw_addrs.next; addr && n != &h->pw_addrs; n = n->next) {
        struct pw_addr *a = list_entry(n, struct pw_addr, node);
        if (a->addr == addr)
            return a;
    }
    return NULL;
}

/* Forgets the addresses whose last wrong passcode is older than the window. */
static void pw_addr_expire(struct hub *h, int64_t now)
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
    int64_t now = mono_ms(h);
    struct pw_addr *a = pw_addr_find(h, s->addr);
    return ring_full(s->pw_fail, s->pw_next, now) || (a && ring_full(a->fail, a->next, now));
}

/* Counts a wrong passcode for s and its address. Addresses whose window passed are forgotten by
 * hub_tick; one met again before that just has only old entries in its ring. */
static void pw_failed(struct hub *h, struct hub_session *s)
{
    int64_t now = mono_ms(h);
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
static bool may_enter(struct hub *h, struct hub_session *s, struct room *r,
                      const struct proto_request *req)
{
    if (r->passcode) {
        if (pw_limited(h, s)) {
            send_error(h, s, PROTO_ERR_RATE_LIMITED,
                       "too many wrong passcodes: try again in a minute");
            return false;
        }
        if (!req->passcode || !passcode_equal(r->passcode, req->passcode)) {
            pw_failed(h, s);
            log_info(s->id, "wrong or missing passcode for room %s", r->label);
            send_error(h, s, PROTO_ERR_BAD_PASSCODE, "wrong or missing passcode");
            return false;
        }
    }
    if (r->locked) {
        send_error(h, s, PROTO_ERR_ROOM_LOCKED, "the host has locked this meeting");
        return false;
    }
    if (r->count >= h->cfg.max_room_members) {
        send_error(h, s, PROTO_ERR_ROOM_FULL, "the room is full");
        return false;
    }
    return true;
}

static void do_join(struct hub *h, struct hub_session *s, const struct proto_request *req)
{
    const char *name = req->text;
    struct room *cur = s->room;
    struct room *r = room_find(h, name);
    if (r && req->create) {
        send_error(h, s, PROTO_ERR_ROOM_EXISTS, "a meeting with this name exists already");
        return;
    }
    if (r && r == cur) {
        send_joined(h, s);
        return;
    }
    if (r && !may_enter(h, s, r, req))
        return;
    bool frees_one = cur && cur->count == 1;
    if (!r && h->nrooms - (frees_one ? 1 : 0) >= h->cfg.max_rooms) {
        send_error(h, s, PROTO_ERR_ROOM_FULL, "the server has no room for another room");
        return;
    }
    room_leave(h, s);
    bool created = !r;
    if (!r)
        r = room_create(h, name, req->listed, req->passcode);
    if (!r || room_add(h, r, s) < 0) {
        if (r && r->count == 0)
            room_destroy(h, r);
        send_error(h, s, PROTO_ERR_ROOM_FULL, "out of memory");
        return;
    }
    if (created) {
        r->host = s;
        log_info(s->id, "created room %s (%s%s)", r->label, r->listed ? "listed" : "unlisted",
                 r->passcode ? ", with a passcode" : "");
    }
    log_info(s->id, "joined room %s (%u members)", r->label, r->count);
    send_joined(h, s);
    struct proto_room_meta meta;
    room_meta(r, false, &meta);
    struct msg *m = proto_presence("welcome", r->name, s->id, s->nickname, r->count, &meta);
    broadcast(h, r, m, s);
    msg_unref(m);
}

/* The room s hosts, or NULL after sending the error (not in a room, not its host). */
static struct room *hosted_room(struct hub *h, struct hub_session *s)
{
    if (!s->room) {
        send_error(h, s, PROTO_ERR_NOT_IN_ROOM, "join a room first");
        return NULL;
    }
    if (s->room->host != s) {
        send_error(h, s, PROTO_ERR_NOT_HOST, "only the host can do that");
        return NULL;
    }
    return s->room;
}

static void do_lock(struct hub *h, struct hub_session *s, bool locked)
{
    struct room *r = hosted_room(h, s);
    if (!r)
        return;
    if (r->locked != locked)
        log_info(s->id, "%s room %s", locked ? "locked" : "unlocked", r->label);
    r->locked = locked;
    room_changed(h, r);
    send_room(h, r, PROTO_CHANGE_LOCK);
}

static void do_passcode(struct hub *h, struct hub_session *s, char **passcode)
{
    struct room *r = hosted_room(h, s);
    if (!r)
        return;
    free(r->passcode);
    r->passcode = *passcode; /* taken over from the request */
    *passcode = NULL;
    log_info(s->id, "%s the passcode of room %s", r->passcode ? "set" : "cleared", r->label);
    room_changed(h, r);
    send_room(h, r, PROTO_CHANGE_PASSCODE);
}

static void do_remove(struct hub *h, struct hub_session *s, uint64_t id)
{
    struct room *r = hosted_room(h, s);
    if (!r)
        return;
    struct hub_session *who = NULL;
    for (unsigned i = 0; i < r->count; i++)
        if (r->members[i]->id == id && r->members[i] != s)
            who = r->members[i];
    if (!who) {
        send_error(h, s, PROTO_ERR_NO_SUCH_PEER, "no such member in your room");
        return;
    }
    log_info(s->id, "removed session %llu from room %s", (unsigned long long)who->id, r->label);
    struct msg *m = proto_removed(r->name);
    deliver(h, who, m);
    msg_unref(m);
    room_leave(h, who);
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

static void do_state(struct hub *h, struct hub_session *s, const struct proto_request *req)
{
    if (!s->room) {
        send_error(h, s, PROTO_ERR_NOT_IN_ROOM, "join a room first");
        return;
    }
    s->mic = req->mic;
    s->cam = req->cam;
    s->hand = req->hand;
    struct msg *m = proto_state(s->id, s->mic, s->cam, s->hand);
    broadcast(h, s->room, m, s);
    msg_unref(m);
}

/* Reactions have their own small bucket (HUB_REACT_BURST per HUB_REACT_PER_MS): they fly over
 * every tile, so a few are fun and a stream is noise. */
static void do_react(struct hub *h, struct hub_session *s, const char *emoji)
{
    if (!s->room) {
        send_error(h, s, PROTO_ERR_NOT_IN_ROOM, "join a room first");
        return;
    }
    int64_t now = mono_ms(h);
    if (now > s->react_ms) {
        s->react_tokens += (double)(now - s->react_ms) * HUB_REACT_BURST / HUB_REACT_PER_MS;
        if (s->react_tokens > HUB_REACT_BURST)
            s->react_tokens = HUB_REACT_BURST;
    }
    s->react_ms = now;
    if (s->react_tokens < 1.0) {
        send_error(h, s, PROTO_ERR_RATE_LIMITED, "too many reactions: slow down");
        return;
    }
    s->react_tokens -= 1.0;
    struct msg *m = proto_react(s->id, emoji);
    broadcast(h, s->room, m, NULL);
    msg_unref(m);
}

/* `resume` as the first message of a new connection (session s) takes over the session whose
 * token it names, with its id, nickname and room: s is dropped without a trace (it is in no
 * room), the old connection (if any is still attached) is evicted, the others see nothing.
 * Returns the session the connection now belongs to. */
static struct hub_session *do_resume(struct hub *h, struct hub_session *s, const char *token)
{
    struct hub_session *old = NULL;
    if (!s->fresh || s->room) {
        send_error(h, s, PROTO_ERR_BAD_TOKEN, "resume must be the first message");
        return s;
    }
    for (struct list *n = h->sessions.next; n != &h->sessions; n = n->next) {
        struct hub_session *o = list_entry(n, struct hub_session, node);
        if (o != s && token_equal(o, token))
            old = o; /* no early exit: the time taken does not depend on the match */
    }
    if (!old || old->gone) {
        send_error(h, s, PROTO_ERR_BAD_TOKEN, "unknown or expired session");
        return s;
    }
    char fresh_token[sizeof(old->token)];
    if (new_token(fresh_token) < 0) {
        send_error(h, s, PROTO_ERR_BAD_TOKEN, "cannot resume now");
        return s;
    }
    if (old->sink) {
        void *prev = old->sink;
        old->sink = NULL;
        if (h->ops.evict)
            h->ops.evict(prev); /* never touches the hub: it only queues a close */
    }
    list_remove(&old->detached_node);
    old->sink = s->sink;
    old->fresh = false; /* one resume per connection: it is not new any more */
    memcpy(old->token, fresh_token, sizeof(old->token));
    log_info(old->id, "resumed (connection of session %llu)", (unsigned long long)s->id);
    /* s is fresh and in no room: it leaves no trace */
    list_remove(&s->node);
    h->nsessions--;
    session_free(s);
    struct msg *m =
        proto_resumed(old->id, old->nickname, old->room ? old->room->name : NULL, old->token);
    deliver(h, old, m);
    msg_unref(m);
    if (old->room)
        send_joined(h, old);
    return old;
}

bool hub_admit(struct hub *h, struct hub_session *s)
{
    if (s->gone)
        return false;
    if (rate_ok(h, s)) {
        s->limited = 0;
        return true;
    }
    s->limited++;
    if (h->cfg.flood_close_after && s->limited > h->cfg.flood_close_after) {
        log_warn(s->id, "still over the rate limit after %u refused messages: closing with 1008",
                 h->cfg.flood_close_after);
        h->stats.floods++;
        if (h->ops.kick && s->sink)
            h->ops.kick(s->sink, 1008, "message flood");
        mark_gone(h, s);
        process_kicks(h);
        return false;
    }
    int64_t now = mono_ms(h);
    if (s->limited == 1 && (!s->limited_log_ms || now - s->limited_log_ms >= 60000)) {
        log_info(s->id, "over the rate limit: refusing its messages");
        s->limited_log_ms = now;
    }
    send_error(h, s, PROTO_ERR_RATE_LIMITED, "too many messages: slow down");
    process_kicks(h);
    return false;
}

struct hub_session *hub_handle(struct hub *h, struct hub_session *s, const char *buf, size_t len)
{
    struct proto_request req;
    const char *detail = "";
    char *text = NULL;
    int rc = proto_parse(buf, len, &req, &detail);
    int text_rc = rc < 0 ? proto_chat_text(buf, len, &text, &detail) : PROTO_OK;

    if (s->gone)
        goto out_free;
    bool fresh = s->fresh;
    s->fresh = false;
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
        do_join(h, s, &req);
        break;
    case PROTO_LOCK:
        do_lock(h, s, req.locked);
        break;
    case PROTO_REMOVE:
        do_remove(h, s, req.to);
        break;
    case PROTO_PASSCODE:
        do_passcode(h, s, &req.passcode);
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
    case PROTO_STATE:
        do_state(h, s, &req);
        break;
    case PROTO_REACT:
        do_react(h, s, req.text);
        break;
    case PROTO_RESUME:
        s->fresh = fresh;
        s = do_resume(h, s, req.text);
        break;
    }
out_kicks:
    process_kicks(h);
out_free:
    proto_request_clear(&req);
    free(text);
    return s;
}

bool hub_flush_rooms(struct hub *h)
{
    bool sent = false;
    if (h->rooms_dirty) {
        h->rooms_dirty = false;
        struct msg *m = rooms_msg(h);
        for (struct list *n = h->sessions.next; m && n != &h->sessions; n = n->next) {
            struct hub_session *s = list_entry(n, struct hub_session, node);
            if (!s->room && !s->gone && s->sink) {
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
    st->gone = st->detached = 0;
    for (struct list *n = h->sessions.next; n != &h->sessions; n = n->next) {
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
    while (!list_empty(&h->pw_addrs)) {
        struct pw_addr *a = list_entry(list_first(&h->pw_addrs), struct pw_addr, node);
        list_remove(&a->node);
        free(a);
    }
    free((char *)h->cfg.greeting);
    free(h->kicked);
    free(h);
}
