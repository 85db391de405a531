/* SPDX-License-Identifier: MIT */
/* Sessions, rooms and ordered fan-out (the files are listed in hubint.h). Knows neither CivetWeb
 * nor JSON: it sends prepared messages through a function pointer that must only queue (never
 * block), so one slow client cannot stall a room, and it is unit-tested without sockets. Not
 * thread-safe by design: every call comes from the one thread that owns it (the event loop; see
 * loop.h). */
#ifndef HUDDLE_HUB_H
#define HUDDLE_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "msg.h"
#include "proto.h"

struct hub;
struct hub_session;
struct thread_owner;

struct hub_config {
    const char *greeting;       /* copied */
    unsigned max_room_members;  /* >= 1 */
    unsigned max_rooms;         /* >= 1 */
    unsigned rate_per_sec;      /* token refill per second per session; 0 = no rate limit */
    unsigned rate_burst;        /* bucket size */
    unsigned resume_window_ms;  /* how long a dropped session keeps its seat; 0 = no resuming */
    unsigned flood_close_after; /* rate-limited messages in a row before the session is closed */
    /* Debug builds: the thread that may call the hub (the event loop's), checked at every entry
     * point but hub_new and hub_free; NULL = unchecked (unit tests). */
    const struct thread_owner *owner;
};

struct hub_ops {
    /* Queues m for the connection behind sink, taking its own reference; never blocks. Returns
     * false when the connection cannot take it (queue overflow or closing): the hub then treats
     * the session as gone, removes it from its room (the others get `bye`) and sends it nothing
     * more. Must not call back into the hub. */
    bool (*send)(void *sink, struct msg *m);
    /* Wall clock in ms since the epoch for chat `ts`; NULL = the real clock. A test clock given
     * here also drives the rate limits and the resume window (else: the monotonic clock). */
    int64_t (*now_ms)(void);
    /* The session that was sent to sink has been resumed by another connection: the connection
     * behind sink must forget it (never pass it to the hub again) and close. Must not call back
     * into the hub. NULL: nothing to tell. */
    void (*evict)(void *sink);
    /* The session behind sink must end: close its connection with code and reason (the session
     * is ended by the transport as usual, with hub_disconnect). Must not call back into the hub.
     * NULL: nothing is closed (the session only stops being served). */
    void (*kick)(void *sink, unsigned code, const char *reason);
};

struct hub_stats {
    unsigned sessions, rooms, members, gone, detached;
    uint64_t chats, signals, errors, overflows, floods;
    uint64_t error_by_code[16]; /* indexed by enum proto_error */
};

/* New hub; NULL on OOM. hub_free requires every session to be disconnected first. */
struct hub *hub_new(const struct hub_config *cfg, const struct hub_ops *ops);
void hub_free(struct hub *h);

/* Registers a new session for sink, whose client is at addr (IPv4, network order, as iplimit
 * counts it; 0 = unknown), and queues its `hello`. Wrong passcodes are limited per session and
 * per addr. Returns the session, owned by the hub until hub_disconnect, or NULL on OOM. */
struct hub_session *hub_connect(struct hub *h, void *sink, uint32_t addr);

/* Removes the session: leaves its room (others get `bye`) and frees it. After this returns the hub
 * never calls send() with its sink again. For a connection that ended cleanly (a close frame
 * either way, `leave` then close) or was closed by the server. */
void hub_disconnect(struct hub *h, struct hub_session *s);

/* The session's connection dropped (no close frame, or missed pongs): the session keeps its seat
 * (still counted in its room, sent nothing) for resume_window_ms, so a `resume` from a new
 * connection can take it over; after that it ends like hub_disconnect. With no window, it is
 * hub_disconnect. The hub never calls send() with its old sink again. */
void hub_detach(struct hub *h, struct hub_session *s);

/* Ends the detached sessions whose window has passed. Call periodically (the loop's tick). */
void hub_tick(struct hub *h);

/* The rate limit, before a message is even looked at (or logged): true when s may send one more
 * message now. Otherwise s gets `rate_limited` (and, past flood_close_after refusals in a row,
 * its connection is kicked with 1008 and it leaves its room); the message must be dropped. */
bool hub_admit(struct hub *h, struct hub_session *s);

/* Handles one complete, UTF-8-valid client message that hub_admit let through. Replies and fan-out
 * go through send(). Returns the session the connection belongs to from now on: s, or, after a
 * successful `resume`, the resumed session (s is then freed). */
struct hub_session *hub_handle(struct hub *h, struct hub_session *s, const char *buf, size_t len);

/* The protocol table (proto.h): every client message the hub handles, with its fields and
 * handler, up to a row whose name is NULL (meeting/dispatch.c). */
extern const struct proto_message hub_protocol[];

/* True when s is in a room now (for logging decisions). */
bool hub_session_in_room(const struct hub_session *s);

/* Session id as shown to clients (stable for the session's life). */
uint64_t hub_session_id(const struct hub_session *s);

/* If the list of listed rooms changed since the last call, sends `rooms` to every session not in
 * a room.
 * Called periodically (every 100 ms) by the server; returns true when it sent anything. */
bool hub_flush_rooms(struct hub *h);

/* The listed rooms as JSON {"rooms":[{"name","count","capacity","locked","protected"},...]}
 * (heap string, caller frees; NULL on OOM). Unlisted rooms appear in no list. */
char *hub_rooms_json(struct hub *h);

void hub_get_stats(struct hub *h, struct hub_stats *st);

#endif
