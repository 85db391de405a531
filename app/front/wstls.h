/* SPDX-License-Identifier: MIT */
/* TLS WebSockets, the adapter ws.c hands them to. CivetWeb owns a TLS connection's SSL object,
 * so such a session cannot be adopted by the loop like a plain one: CivetWeb's worker thread
 * reads and checks its frames and posts each message to the loop as a task; a writer thread of
 * ours drains the session's bounded queue (outq.h), so the loop only ever queues for it and a
 * client that stops reading only blocks its own writer. Each session costs a worker and a writer
 * thread; terminate TLS in a reverse proxy where that matters (README). */
#ifndef HUDDLE_WSTLS_H
#define HUDDLE_WSTLS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "list.h"
#include "loop.h"
#include "msg.h"
#include "wsstats.h"

struct mg_connection;
struct mg_request_info;

/* What a WebSocket's CivetWeb connection data points to between the upgrade request and the
 * session's end on CivetWeb's side: the session slot and the per-address count it holds. */
enum ws_kind {
    WS_PLAIN = 1, /* plain, not adopted yet (after adoption the data is NULL: the loop owns it) */
    WS_FAILED,    /* plain, adoption failed: close 1011 sent, drop on the next frame */
    WS_TLS,       /* a struct tls_sess, which starts with its slot */
};

struct ws_slot {
    enum ws_kind kind;
    uint32_t ip; /* the client's address as counted by iplimit (IPLIMIT_WS) */
};

/* The TLS sessions of one server, and what they share. */
struct wstls {
    struct loop *lp;
    struct ws_counters *ctr;
    const struct config *cfg;
    struct msg *overflow_close; /* what a full send queue ends with (1008) */
    pthread_mutex_t lock;       /* sessions */
    struct list sessions;       /* while their reader runs */
};

struct tls_sess;

/* Sets w up for loop lp; 0, or -1 when out of memory. */
int wstls_init(struct wstls *w, struct loop *lp, struct ws_counters *ctr, const struct config *cfg);
void wstls_cleanup(struct wstls *w);

/* A session for conn (from the connect handler, which has counted its slot for client ip); NULL
 * when out of memory. */
struct tls_sess *wstls_new(struct wstls *w, const struct mg_connection *conn, uint32_t ip);

/* The ready handler: registers the session with the loop and starts its writer (or closes
 * with 1011 when either fails). */
void wstls_ready(struct wstls *w, struct mg_connection *conn, struct tls_sess *t,
                 const struct mg_request_info *ri);

/* The data handler: one frame from CivetWeb's reader. Returns CivetWeb's answer: 1 to go on,
 * 0 to end the connection. */
int wstls_data(struct tls_sess *t, int bits, char *data, size_t len);

/* The close handler (CivetWeb's reader is done with conn): stops the writer, tells the loop.
 * The caller then releases the slot and calls wstls_unref. */
void wstls_closed(struct wstls *w, struct tls_sess *t);

/* Drops the caller's (CivetWeb's side) reference. */
void wstls_unref(struct tls_sess *t);

/* Shutdown: queues a close 1001 behind what every session has queued. */
void wstls_say_goodbye(struct wstls *w);

/* Shutdown, after the grace period: shuts down every remaining session's socket, which wakes
 * its reader and writer at once. */
void wstls_abort_all(struct wstls *w);

#endif
