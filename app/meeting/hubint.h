/* SPDX-License-Identifier: MIT */
/* The hub's insides, shared by its files and by nothing else: hub.c (the hub, delivery and
 * counters), session.c (sessions: connect, rate limit, detach and resume), room.c (rooms: the
 * name index, membership, host hand-over, the room lists), passguard.c (who may enter a room:
 * passcodes and their rate limits) and dispatch.c (the protocol table and its handlers). Every
 * function here runs on the hub's one thread (the event loop); see hub.h. */
#ifndef HUDDLE_HUBINT_H
#define HUDDLE_HUBINT_H

#include <stdbool.h>
#include <stdint.h>
/* uthash reports a failed allocation (the item is not added: room_create checks) instead of
 * exiting the process. */
#define HASH_NONFATAL_OOM 1
#include <uthash.h>

#include "hub.h"
#include "list.h"
#include "proto.h"

#define HUB_TOKEN_BYTES   16    /* 128 random bits per resume token */
#define HUB_PW_TRIES      5     /* wrong passcodes per session ... */
#define HUB_PW_ADDR_TRIES 20    /* ... and per client address (a new connection is cheap) ... */
#define HUB_PW_WINDOW_MS  60000 /* ... within this many ms, then rate_limited */
#define HUB_PW_ADDRS      1024  /* addresses remembered; beyond that the oldest is forgotten */
#define HUB_REACT_BURST   5
#define HUB_REACT_PER_MS  3000 /* HUB_REACT_BURST reactions per this many ms */

struct room {
    char *name;
    struct hub_session **members; /* join order: the longest present first */
    unsigned count, cap;
    uint64_t seq; /* last chat sequence number sent in this room */
    struct hub_session *host;
    char *passcode; /* NULL = none */
    bool listed, locked;
    char label[40];    /* how the log names it: 'name' when listed, else a random tag and length */
    UT_hash_handle hh; /* hub.rooms, by name */
    struct list listed_node; /* hub.listed, by name (listed rooms only) */
};

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
    struct room *rooms;   /* uthash head: every room by name */
    struct list listed;   /* the listed rooms, sorted by name (the room lists' order) */
    struct list pw_addrs; /* struct pw_addr, by last failure */
    unsigned npw_addrs;
    unsigned nsessions, nrooms, nmembers;
    uint64_t next_id;
    bool rooms_dirty;
    struct hub_session **kicked; /* sessions that went gone during the current operation */
    size_t nkicked, capkicked;
    struct hub_stats stats;
};

/* hub.c: clocks, randomness, delivery */
int64_t hub_now_ms(struct hub *h);   /* wall clock for chat `ts` (or the test's clock) */
int64_t hub_mono_ms(struct hub *h);  /* rates and windows: monotonic (or the test's clock) */
int hub_random(void *buf, size_t n); /* n bytes from the kernel's CSPRNG; 0 or -errno */
/* Queues m for s (m may be NULL: nothing); on refusal marks s gone (hub_mark_gone). */
void hub_deliver(struct hub *h, struct hub_session *s, struct msg *m);
/* s gets nothing more and leaves its room when the current operation ends (hub_process_kicks). */
void hub_mark_gone(struct hub *h, struct hub_session *s);
/* Removes every session that went gone during this operation from its room; loops, since
 * leaving may make further sessions gone. Every entry point calls it before returning. */
void hub_process_kicks(struct hub *h);
void hub_broadcast(struct hub *h, struct room *r, struct msg *m, const struct hub_session *skip);
void hub_send_error(struct hub *h, struct hub_session *s, enum proto_error err, const char *detail);

/* session.c */
void session_free(struct hub_session *s);
/* `resume` as the first message of a new connection (session s): takes over the session whose
 * token it names. Returns the session the connection now belongs to. */
struct hub_session *session_resume(struct hub *h, struct hub_session *s, const char *token);

/* room.c */
struct room *room_find(struct hub *h, const char *name);
/* A new empty room (no host yet), listed or not, with passcode (copied; NULL = none); NULL on
 * OOM. */
struct room *room_create(struct hub *h, const char *name, bool listed, const char *passcode);
void room_destroy(struct hub *h, struct room *r);
int room_add(struct hub *h, struct room *r, struct hub_session *s);
/* Takes s out of its room; the others get `bye` (and `room` when s was the host, who is then
 * the longest-present member). The room disappears when empty. */
void room_leave(struct hub *h, struct hub_session *s);
/* A listed room's entry in the room lists changed (count, lock, passcode). */
void room_changed(struct hub *h, const struct room *r);
void room_meta(const struct room *r, bool for_host, struct proto_room_meta *meta);
/* Tells every member the room's settings and what changed (the host's copy has the passcode). */
void room_send_settings(struct hub *h, struct room *r, enum proto_room_change change);
/* `joined` for s, which is in a room. */
void room_send_joined(struct hub *h, struct hub_session *s);
/* The listed rooms as the lists show them (heap array, caller frees; NULL on OOM). */
struct proto_room_info *room_infos(struct hub *h, size_t *n);
struct msg *room_list_msg(struct hub *h);

/* passguard.c */
/* May s enter the existing room r with req's passcode? Checked so that nobody without the
 * passcode learns anything about the room: the passcode first (its attempts rate-limited), then
 * the lock, then the size. Sends the error and returns false when not. */
bool passguard_may_enter(struct hub *h, struct hub_session *s, struct room *r,
                         const struct proto_request *req);
/* Forgets the addresses whose last wrong passcode is older than the window (hub_tick). */
void passguard_expire(struct hub *h, int64_t now);
void passguard_free(struct hub *h);

#endif
