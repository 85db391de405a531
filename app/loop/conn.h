/* SPDX-License-Identifier: MIT */
/* A plain WebSocket on the event loop, from its adoption to its close: reads the socket until a
 * short read, parses frames with the limits checked at the header (frame.h), reassembles, hands
 * messages to the hub, answers pings, keeps a bounded outgoing queue written with one writev per
 * batch, runs the stall and keep-alive timers and the close handshake. Everything here runs on
 * the loop thread; nothing blocks. */
#ifndef HUDDLE_CONN_H
#define HUDDLE_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "hub.h"
#include "iplimit.h"
#include "list.h"
#include "wsstats.h"

struct thread_owner;

#define CONN_READ_BUF    (64 * 1024) /* the loop's one read buffer, shared by every connection */
#define CONN_LINGER_MS   2000        /* after our close frame: wait this long for the peer's EOF */
#define CONN_IDLE_PINGS  3           /* ping intervals of silence before the peer counts as gone */
#define CONN_WRITE_IOV   64          /* frames per writev at most */
#define CONN_WRITE_BYTES (256 * 1024)

struct conn_limits {
    size_t max_message; /* max_message_bytes */
    size_t queue_bytes; /* send_queue_bytes (payload bytes queued) */
    size_t queue_msgs;  /* send_queue_messages */
    uint64_t ping_ms;   /* ping_interval * 1000; 0 = no keep-alive */
    uint64_t stall_ms;  /* stall_timeout_ms */
};

/* Every connection of one loop, and what they share. Owned by the loop; its lists are only
 * touched on the loop thread. */
struct conn_set {
    uv_loop_t *uv;
    struct hub *hub;
    struct ws_counters *ctr;
    struct iplimit *ipl; /* per-address session counts (NULL: none) */
    struct conn_limits lim;
    struct list all;     /* every open connection */
    struct list alive;   /* by time of the last frame received, oldest first (keep-alive) */
    struct list stalled; /* connections inside a frame, by when it began (stall timer) */
    struct list dirty;   /* connections with output to write or hub work to finish */
    struct list closing; /* our close is queued: linger until EOF or the deadline */
    const struct thread_owner *owner; /* debug builds: the loop thread; NULL = unchecked */
    unsigned count;
    char *rbuf; /* CONN_READ_BUF bytes */
};

/* Prepares cs for the loop uv and hub. Returns 0 or -ENOMEM. */
int conn_set_init(struct conn_set *cs, uv_loop_t *uv, struct hub *hub, struct ws_counters *ctr,
                  const struct conn_limits *lim);

/* Frees what conn_set_init made; every connection must be closed (and their close callbacks
 * run). */
void conn_set_cleanup(struct conn_set *cs);

/* Takes ownership of fd (an adopted, connected TCP socket after the 101), registers a hub
 * session (its hello is queued) and starts reading. On failure closes fd and returns -errno; the
 * session slot (ctr->open) and the per-address count of client_ip (iplimit, IPLIMIT_WS) are
 * released either way when the connection ends. */
int conn_open(struct conn_set *cs, int fd, const char *remote_addr, int remote_port,
              uint32_t client_ip);

/* Writes what the hub queued and finishes deferred hub work. Call after every entry into the
 * loop that may have run the hub (reads, posted tasks, timers). */
void conn_flush(struct conn_set *cs);

/* Timers: closes connections stalled mid-frame (1008), pings silent ones and closes the gone
 * (1001), and drops lingering closes past their deadline. now is the loop's time in ms. */
void conn_sweep(struct conn_set *cs, uint64_t now, bool keepalive);

/* Queues a close with code/reason for every connection (after what is already queued). */
void conn_close_all(struct conn_set *cs, unsigned code, const char *reason);

/* Closes every connection at once, without a close frame. */
void conn_abort_all(struct conn_set *cs);

/* A whole client message from any transport (valid UTF-8): counts it, logs the seed's
 * decoded-message line, and hands it to the hub for session s (id for the log). Returns the
 * session the connection belongs to from now on (see hub_handle: `resume` changes it). */
struct hub_session *conn_deliver(struct conn_set *cs, struct hub_session *s, uint64_t id,
                                 int opcode, const char *data, size_t len);

#endif
