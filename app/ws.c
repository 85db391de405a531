/* SPDX-License-Identifier: MIT */
/* CivetWeb WebSocket callbacks (see ws.h). A plain WebSocket lives here only from the upgrade
 * request to its ready handler, which adopts the socket for the loop and lets CivetWeb's worker
 * go. A TLS WebSocket stays: CivetWeb's worker reads and checks its frames and posts each message
 * to the loop; a writer thread of ours drains its bounded queue (outq.h), so the loop only ever
 * queues for it and a client that stops reading only blocks its own writer. */
#include "ws.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "adopt.h"
#include "clock.h"
#include "frame.h"
#include "iplimit.h"
#include "list.h"
#include "log.h"
#include "outq.h"
#include "sink.h"
#include "strlist.h"

#define WS_WRITER_STACK (64 * 1024)
#define WS_BATCH        64          /* frames per write at most */
#define WS_BATCH_BYTES  (16 * 1024) /* bytes per batched write at most (one frame may be more) */

/* What a WebSocket's CivetWeb connection data points to between the upgrade request and the
 * session's end on CivetWeb's side: the session slot and the per-address count it holds. */
enum ws_kind {
    WS_PLAIN = 1, /* plain, not adopted yet (after adoption the data is NULL: the loop owns it) */
    WS_FAILED,    /* plain, adoption failed: close 1011 sent, drop on the next frame */
    WS_TLS,       /* a struct tls_sess */
};

struct ws_slot {
    enum ws_kind kind;
    uint32_t ip; /* the client's address as counted by iplimit (IPLIMIT_WS) */
};

/* A TLS WebSocket session. Two references: CivetWeb's side (dropped by the close handler) and
 * the loop's (dropped when the loop has disconnected it from the hub). */
struct tls_sess {
    struct ws_slot slot; /* first: the connection data points here */
    struct sink sink;    /* the hub's sink; the loop calls sink.send */
    struct ws_server *ws;
    const struct mg_connection *conn;
    atomic_int refs;
    struct hub_session *session; /* loop thread only */
    atomic_ullong id;            /* set by the loop, read for logs */
    struct frame_asm fa;         /* CivetWeb's worker only */
    struct outq *q;
    pthread_t writer;
    bool writer_started;
    pthread_mutex_t lock;       /* reader_done, loop_running, close_pending */
    pthread_mutex_t write_lock; /* serializes socket writes; close_sent */
    bool reader_done;           /* the close handler ran: never call CivetWeb on conn again */
    bool loop_running;          /* on_ready returned: CivetWeb's read loop owns conn */
    bool close_pending;         /* the writer wanted to close before that */
    bool close_received;        /* CivetWeb's worker only: the client sent a close frame */
    bool close_sent;
    atomic_bool dropped;     /* no close frame from the client, or missed pongs: resumable */
    atomic_llong last_rx_ms; /* monotonic time of the client's last frame (keep-alive) */
    char *scratch;           /* writer's buffer for batched frames, WS_BATCH_BYTES, lazily made */
    char remote_addr[48];    /* peer address and port: finds the socket for abort_socket */
    int remote_port, server_port;
    struct list node; /* on ws->tls while its reader runs (list_linked) */
};

struct ws_server {
    struct loop *lp;
    struct ws_counters *ctr;
    struct iplimit *ipl;
    const struct config *cfg;
    pthread_mutex_t lock; /* tls list */
    struct list tls;
    struct msg *overflow_close;
    atomic_bool stopping;
};

static const unsigned close_codes[WS_CLOSE_SLOTS] = {1000, 1001, 1002, 1003, 1006,
                                                     1007, 1008, 1009, 1011, 0};
static const char *const close_labels[WS_CLOSE_SLOTS] = {"1000", "1001", "1002", "1003", "1006",
                                                         "1007", "1008", "1009", "1011", "other"};

const char *ws_close_code_label(unsigned idx)
{
    return idx < WS_CLOSE_SLOTS ? close_labels[idx] : NULL;
}

void ws_count_close(struct ws_counters *ctr, unsigned code)
{
    unsigned i = 0;
    while (i < WS_CLOSE_SLOTS - 1 && close_codes[i] != code)
        i++;
    atomic_fetch_add_explicit(&ctr->closes[i], 1, memory_order_relaxed);
}

static void release_slot(struct ws_server *ws, uint32_t ip)
{
    atomic_fetch_sub(&ws->ctr->open, 1);
    if (ws->ipl)
        iplimit_release(ws->ipl, IPLIMIT_WS, ip);
}

static struct tls_sess *sink_tls(struct sink *sk)
{
    return (struct tls_sess *)((char *)sk - offsetof(struct tls_sess, sink));
}

/* --- TLS sessions: writing (writer thread, and pongs/closes from the reader) --- */

static void tls_unref(struct tls_sess *t)
{
    if (atomic_fetch_sub(&t->refs, 1) != 1)
        return;
    free(t->scratch);
    frame_asm_free(&t->fa);
    outq_free(t->q);
    pthread_mutex_destroy(&t->lock);
    pthread_mutex_destroy(&t->write_lock);
    free(t);
}

/* Writes n whole frames with one write (copied into the scratch buffer when n > 1; the caller
 * keeps their total within WS_BATCH_BYTES), unless a close already went out. Returns false when
 * the connection is done: a failed or short write, or a close frame among them. */
static bool tls_write(struct tls_sess *t, struct msg *const *ms, size_t n)
{
    bool ok = false;
    const char *out = ms[0]->frame;
    size_t len = ms[0]->frame_len, payload = ms[0]->len;
    if (n > 1) {
        if (!t->scratch && !(t->scratch = malloc(WS_BATCH_BYTES))) {
            for (size_t i = 0; i < n; i++)
                if (!tls_write(t, &ms[i], 1))
                    return false;
            return true;
        }
        len = payload = 0;
        for (size_t i = 0; i < n; i++) {
            memcpy(t->scratch + len, ms[i]->frame, ms[i]->frame_len);
            len += ms[i]->frame_len;
            payload += ms[i]->len;
        }
        out = t->scratch;
    }
    const struct msg *close = NULL;
    for (size_t i = 0; i < n; i++)
        if (ms[i]->opcode == FRAME_OP_CLOSE)
            close = ms[i];
    pthread_mutex_lock(&t->write_lock);
    if (!t->close_sent) {
        if (close) /* the one close this connection sends: count it by code (empty: 1005) */
            ws_count_close(t->ws->ctr, close->len >= 2 ? ((unsigned char)close->data[0] << 8) |
                                                             (unsigned char)close->data[1]
                                                       : 1005);
        struct mg_connection *conn = (struct mg_connection *)t->conn;
        mg_lock_connection(conn);
        int rc = mg_write(conn, out, len);
        mg_unlock_connection(conn);
        ok = rc >= 0 && (size_t)rc == len;
        if (ok || close) {
            atomic_fetch_add(&t->ws->ctr->msgs_out, n);
            atomic_fetch_add(&t->ws->ctr->bytes_out, payload);
        }
        if (close) {
            t->close_sent = true;
            ok = false;
        }
    }
    pthread_mutex_unlock(&t->write_lock);
    return ok;
}

static void tls_send_now(struct tls_sess *t, struct msg *m)
{
    if (m)
        tls_write(t, &m, 1);
    msg_unref(m);
}

/* Asks CivetWeb's reader loop to end (it notices within websocket_timeout_ms). Only while the
 * close handler has not run: after that conn may belong to another client. */
static void tls_request_close(struct tls_sess *t)
{
    pthread_mutex_lock(&t->lock);
    if (!t->loop_running)
        t->close_pending = true; /* on_ready has not returned: it closes on its own thread */
    else if (!t->reader_done)
        mg_close_connection((struct mg_connection *)t->conn);
    pthread_mutex_unlock(&t->lock);
}

/* CivetWeb 1.15 gives no access to a connection's socket, and a writer blocked on a client that
 * stopped reading only notices mg_stop after a 2 s poll quantum. At shutdown we find the socket by
 * its peer address and shut it down, which wakes both threads at once. Only while the close
 * handler has not run, so the socket is still this connection's. */
static void tls_abort_socket(struct tls_sess *t)
{
    pthread_mutex_lock(&t->lock);
    if (!t->reader_done) {
        struct adopt_peer peer = {t->remote_addr, t->remote_port, t->server_port};
        int fd = adopt_find(&peer);
        if (fd >= 0)
            shutdown(fd, SHUT_RDWR);
    }
    pthread_mutex_unlock(&t->lock);
}

/* Keep-alive, run by the writer between batches: after ping_interval of silence from the client
 * send a ping; after CONN_IDLE_PINGS intervals of silence the peer is gone: close 1001. Returns
 * false when it closed. *next_ping is when the next ping may go. */
static bool tls_keepalive(struct tls_sess *t, int64_t interval_ms, int64_t *next_ping)
{
    int64_t now = clock_mono_ms(), quiet = now - atomic_load(&t->last_rx_ms);
    if (quiet >= CONN_IDLE_PINGS * interval_ms) {
        log_info(atomic_load(&t->id), "nothing from the client for %lld s: closing",
                 (long long)quiet / 1000);
        atomic_store(&t->dropped, true);
        tls_send_now(t, msg_close(FRAME_CLOSE_GOING_AWAY, "idle timeout"));
        return false;
    }
    if (quiet >= interval_ms && now >= *next_ping) {
        tls_send_now(t, msg_new(FRAME_OP_PING, "huddle", 6));
        *next_ping = now + interval_ms;
    }
    return true;
}

static void *tls_writer_main(void *arg)
{
    struct tls_sess *t = arg;
    struct msg *batch[WS_BATCH];
    int64_t interval_ms = (int64_t)t->ws->cfg->ping_interval * 1000, next_ping = 0;
    int n;
    for (;;) {
        if (interval_ms && !tls_keepalive(t, interval_ms, &next_ping)) {
            tls_request_close(t);
            break;
        }
        n = outq_pop_batch(t->q, batch, WS_BATCH, WS_BATCH_BYTES,
                           interval_ms ? (int)(interval_ms / 2) : -1);
        if (n == -ETIMEDOUT)
            continue;
        if (n <= 0)
            break;
        int k = 0; /* nothing after a close frame */
        bool has_close = false;
        while (k < n && !has_close)
            has_close = batch[k++]->opcode == FRAME_OP_CLOSE;
        bool ok = tls_write(t, batch, (size_t)k);
        for (int i = 0; i < n; i++)
            msg_unref(batch[i]);
        if (!ok) {
            if (!has_close)
                log_info(atomic_load(&t->id), "write failed: closing");
            tls_request_close(t);
            break;
        }
    }
    return NULL;
}

/* sink.send for TLS sessions, on the loop thread: queue only, never block. */
static bool tls_sink_send(struct sink *sk, struct msg *m)
{
    struct tls_sess *t = sink_tls(sk);
    int rc = outq_push(t->q, m, t->ws->overflow_close);
    if (rc == -ENOBUFS)
        log_warn(atomic_load(&t->id), "send queue overflow: closing with 1008");
    return rc == 0;
}

/* sink.evict for TLS sessions, on the loop thread: the session was resumed elsewhere. */
static void tls_sink_evict(struct sink *sk)
{
    struct tls_sess *t = sink_tls(sk);
    t->session = NULL;
    struct msg *m = msg_close(4000, "session resumed elsewhere");
    if (m)
        outq_push_final(t->q, m);
    msg_unref(m);
}

/* sink.kick for TLS sessions, on the loop thread. */
static void tls_sink_kick(struct sink *sk, unsigned code, const char *reason)
{
    struct tls_sess *t = sink_tls(sk);
    struct msg *m = msg_close(code, reason);
    if (m)
        outq_push_final(t->q, m);
    msg_unref(m);
}

/* --- TLS sessions: tasks run on the loop --- */

struct tls_task {
    struct loop_task task;
    struct tls_sess *t;
    int opcode;
    size_t len;
    char data[]; /* a message: len bytes */
};

static void run_tls_connect(struct loop *lp, struct loop_task *task)
{
    struct tls_task *tt = (struct tls_task *)task;
    struct tls_sess *t = tt->t;
    t->session = hub_connect(loop_hub(lp), &t->sink, t->slot.ip);
    if (t->session) {
        atomic_store(&t->id, hub_session_id(t->session));
        log_info(hub_session_id(t->session), "connected from %s:%d (TLS)", t->remote_addr,
                 t->remote_port);
    } else {
        log_error(0, "cannot start session: closing with 1011");
        struct msg *m = msg_close(FRAME_CLOSE_INTERNAL, "server error");
        if (m)
            outq_push_final(t->q, m);
        msg_unref(m);
    }
    free(tt);
}

static void run_tls_message(struct loop *lp, struct loop_task *task)
{
    struct tls_task *tt = (struct tls_task *)task;
    struct tls_sess *t = tt->t;
    if (t->session) {
        t->session = conn_deliver(loop_conns(lp), t->session, atomic_load(&t->id), tt->opcode,
                                  tt->data, tt->len);
        atomic_store(&t->id, hub_session_id(t->session));
    }
    free(tt);
}

static void run_tls_disconnect(struct loop *lp, struct loop_task *task)
{
    struct tls_task *tt = (struct tls_task *)task;
    struct tls_sess *t = tt->t;
    if (tt->opcode) /* dropped: keep the seat for a resume */
        hub_detach(loop_hub(lp), t->session);
    else
        hub_disconnect(loop_hub(lp), t->session);
    t->session = NULL;
    tls_unref(t);
    free(tt);
}

/* Posts a task for t (with a copy of data); false when out of memory or the loop stopped. */
static bool tls_post(struct tls_sess *t, void (*run)(struct loop *, struct loop_task *), int opcode,
                     const char *data, size_t len)
{
    struct tls_task *tt = malloc(sizeof(*tt) + len + 1);
    if (!tt)
        return false;
    tt->task.run = run;
    tt->t = t;
    tt->opcode = opcode;
    tt->len = len;
    if (len)
        memcpy(tt->data, data, len);
    tt->data[len] = '\0';
    if (loop_post(t->ws->lp, &tt->task))
        return true;
    free(tt);
    return false;
}

/* --- CivetWeb callbacks --- */

static void raw_reply(struct mg_connection *conn, int status, const char *reason, const char *extra,
                      const char *body)
{
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
              "Content-Length: %zu\r\nConnection: close\r\n%s\r\n%s",
              status, reason, strlen(body), extra ? extra : "", body);
}

/* True when the Origin header (if any) is acceptable per allowed_origins. */
static bool origin_allowed(const struct config *cfg, const struct mg_connection *conn)
{
    const char *origin = mg_get_header(conn, "Origin");
    const char *allowed = cfg->allowed_origins ? cfg->allowed_origins : "";
    if (!origin)
        return true; /* not a browser */
    if (!strcmp(allowed, "*"))
        return true;
    if (!*allowed) {
        const char *host = mg_get_header(conn, "Host");
        const char *p = strstr(origin, "://");
        return host && p && !strcasecmp(p + 3, host);
    }
    size_t olen = strlen(origin), len;
    const char *cur = allowed, *item;
    while (strlist_next(&cur, &item, &len))
        if (len == olen && !strncasecmp(item, origin, olen))
            return true;
    return false;
}

/* Takes a session slot if one is free: max_connections in all, max_connections_per_ip for ip,
 * and for TLS sessions (each holds a worker thread) num_threads - CFG_HTTP_RESERVED. Returns 0,
 * or the reason it refused: 1 server full, 2 too many from this address. */
static int take_slot(struct ws_server *ws, bool tls, uint32_t ip)
{
    unsigned max = (unsigned)ws->cfg->max_connections;
    unsigned cur = atomic_load(&ws->ctr->open);
    do {
        if (cur >= max)
            return 1;
    } while (!atomic_compare_exchange_weak(&ws->ctr->open, &cur, cur + 1));
    if (ws->ipl && !iplimit_take(ws->ipl, IPLIMIT_WS, ip)) {
        iplimit_note_refusal(ws->ipl, IPLIMIT_WS);
        atomic_fetch_sub(&ws->ctr->open, 1);
        return 2;
    }
    if (!tls)
        return 0;
    unsigned tmax = (unsigned)(ws->cfg->num_threads - CFG_HTTP_RESERVED);
    if (atomic_fetch_add(&ws->ctr->tls_open, 1) < tmax)
        return 0;
    atomic_fetch_sub(&ws->ctr->tls_open, 1);
    release_slot(ws, ip);
    return 1;
}

static int on_connect(const struct mg_connection *cconn, void *cbdata)
{
    struct ws_server *ws = cbdata;
    struct mg_connection *conn = (struct mg_connection *)cconn;
    const struct mg_request_info *ri = mg_get_request_info(cconn);
    bool tls = ri && ri->is_ssl;
    if (atomic_load(&ws->stopping)) {
        raw_reply(conn, 503, "Service Unavailable", NULL, "shutting down\n");
        return 1;
    }
    if (!origin_allowed(ws->cfg, cconn)) {
        atomic_fetch_add(&ws->ctr->refused_origin, 1);
        log_warn(0, "refused WebSocket from origin '%s'", mg_get_header(cconn, "Origin"));
        raw_reply(conn, 403, "Forbidden", NULL, "origin not allowed\n");
        return 1;
    }
    uint32_t peer = 0, ip;
    iplimit_parse(ri ? ri->remote_addr : NULL, &peer);
    ip = ws->ipl ? iplimit_client(ws->ipl, peer, mg_get_header(cconn, "X-Forwarded-For")) : peer;
    int refused = take_slot(ws, tls, ip);
    if (refused == 2) {
        atomic_fetch_add(&ws->ctr->refused_ip, 1);
        log_warn(0, "refused WebSocket: its address holds max_connections_per_ip (%d) sessions",
                 ws->cfg->max_connections_per_ip);
        raw_reply(conn, 503, "Service Unavailable", "Retry-After: 5\r\n",
                  "too many connections from your address\n");
        return 1;
    }
    if (refused) {
        atomic_fetch_add(&ws->ctr->refused_full, 1);
        log_warn(0, "refused WebSocket: server full (max_connections %d%s)",
                 ws->cfg->max_connections, tls ? ", or every TLS worker busy" : "");
        raw_reply(conn, 503, "Service Unavailable", "Retry-After: 5\r\n", "server full\n");
        return 1;
    }
    struct ws_slot *slot = NULL;
    struct tls_sess *t = NULL;
    if (!tls) {
        slot = calloc(1, sizeof(*slot));
    } else if ((t = calloc(1, sizeof(*t)))) {
        slot = &t->slot;
        t->q = outq_new((size_t)ws->cfg->send_queue_bytes, (size_t)ws->cfg->send_queue_messages);
    }
    if (!slot || (t && !t->q)) {
        free(slot);
        if (tls)
            atomic_fetch_sub(&ws->ctr->tls_open, 1);
        release_slot(ws, ip);
        raw_reply(conn, 503, "Service Unavailable", NULL, "out of memory\n");
        return 1;
    }
    slot->kind = tls ? WS_TLS : WS_PLAIN;
    slot->ip = ip;
    if (!tls) {
        mg_set_user_connection_data(cconn, slot);
        return 0;
    }
    t->sink.send = tls_sink_send;
    t->sink.evict = tls_sink_evict;
    t->sink.kick = tls_sink_kick;
    t->ws = ws;
    t->conn = cconn;
    atomic_init(&t->refs, 1);
    list_init(&t->node);
    pthread_mutex_init(&t->lock, NULL);
    pthread_mutex_init(&t->write_lock, NULL);
    frame_asm_init(&t->fa, (size_t)ws->cfg->max_message_bytes);
    mg_set_user_connection_data(cconn, t);
    return 0;
}

/* Plain WebSocket: hand the socket to the loop. CivetWeb's read loop then sees end-of-file on
 * its old descriptor, calls on_close (user data NULL: nothing to do) and frees the worker. */
static void ready_plain(struct ws_server *ws, struct mg_connection *conn, struct ws_slot *slot,
                        const struct mg_request_info *ri)
{
    struct adopt_peer peer = {ri->remote_addr, ri->remote_port, ri->server_port};
    int fd = adopt_take(&peer);
    if (fd >= 0) {
        uint32_t ip = slot->ip;
        mg_set_user_connection_data(conn, NULL); /* the slot goes with the socket */
        free(slot);
        if (loop_adopt(ws->lp, fd, ri->remote_addr, ri->remote_port, ip))
            return;
        /* the loop has stopped: nobody will serve it */
        adopt_lock();
        adopt_release(fd);
        close(fd);
        adopt_unlock();
        release_slot(ws, ip);
        return;
    }
    atomic_fetch_add(&ws->ctr->adopt_failed, 1);
    log_error(0, "cannot take over the WebSocket from %s:%d (%s): closing with 1011",
              ri->remote_addr, ri->remote_port, strerror(-fd));
    slot->kind = WS_FAILED;
    struct msg *m = msg_close(FRAME_CLOSE_INTERNAL, "server error");
    if (m) {
        ws_count_close(ws->ctr, FRAME_CLOSE_INTERNAL);
        mg_lock_connection(conn);
        mg_write(conn, m->frame, m->frame_len);
        mg_unlock_connection(conn);
    }
    msg_unref(m);
}

static void ready_tls(struct ws_server *ws, struct mg_connection *conn, struct tls_sess *t,
                      const struct mg_request_info *ri)
{
    snprintf(t->remote_addr, sizeof(t->remote_addr), "%s", ri->remote_addr);
    t->remote_port = ri->remote_port;
    t->server_port = ri->server_port;
    atomic_store(&t->last_rx_ms, clock_mono_ms());
    pthread_mutex_lock(&ws->lock);
    list_insert_tail(&ws->tls, &t->node);
    pthread_mutex_unlock(&ws->lock);
    atomic_fetch_add(&t->refs, 1); /* the loop's */
    bool posted = tls_post(t, run_tls_connect, 0, NULL, 0);
    if (!posted)
        atomic_fetch_sub(&t->refs, 1);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, WS_WRITER_STACK);
    t->writer_started = posted && pthread_create(&t->writer, &attr, tls_writer_main, t) == 0;
    pthread_attr_destroy(&attr);
    atomic_fetch_add(&ws->ctr->accepted, 1);
    if (!t->writer_started) {
        log_error(0, "cannot start TLS session: closing with 1011");
        tls_send_now(t, msg_close(FRAME_CLOSE_INTERNAL, "server error"));
    }
    /* Before the read loop starts, mg_close_connection closes the connection outright instead of
     * flagging it, so the writer must not call it from its thread: we do it here, on ours. */
    pthread_mutex_lock(&t->lock);
    t->loop_running = true;
    bool close_now = t->close_pending || !t->writer_started;
    pthread_mutex_unlock(&t->lock);
    if (close_now)
        mg_close_connection(conn);
}

static void on_ready(struct mg_connection *conn, void *cbdata)
{
    struct ws_server *ws = cbdata;
    void *ud = mg_get_user_connection_data(conn);
    const struct mg_request_info *ri = mg_get_request_info(conn);
    struct ws_slot *slot = ud;
    if (!slot || !ri)
        return;
    if (slot->kind == WS_PLAIN)
        ready_plain(ws, conn, slot, ri);
    else if (slot->kind == WS_TLS)
        ready_tls(ws, conn, (struct tls_sess *)slot, ri);
}

static int on_data(struct mg_connection *conn, int bits, char *data, size_t len, void *cbdata)
{
    void *ud = mg_get_user_connection_data(conn);
    struct frame_out out;
    if (!ud || ((struct ws_slot *)ud)->kind != WS_TLS)
        return 0; /* adopted (the old descriptor is dead) or failed: let CivetWeb go */
    struct tls_sess *t = ud;
    atomic_store(&t->last_rx_ms, clock_mono_ms());
    switch (frame_asm_feed(&t->fa, (unsigned)bits, data, len, &out)) {
    case FRAME_NONE:
    case FRAME_PONG:
        return 1;
    case FRAME_PING:
        tls_send_now(t, msg_new(FRAME_OP_PONG, out.data, out.len));
        return 1;
    case FRAME_MESSAGE:
        if (!tls_post(t, run_tls_message, out.opcode, out.data, out.len)) {
            tls_send_now(t, msg_close(FRAME_CLOSE_INTERNAL, "server error"));
            return 0;
        }
        return 1;
    case FRAME_CLOSE:
        log_info(atomic_load(&t->id), "client closed (%u)", (unsigned)out.code);
        t->close_received = true;
        tls_send_now(t, msg_close(out.code, NULL));
        return 0;
    case FRAME_FAIL:
        log_info(atomic_load(&t->id), "protocol error: %s: closing with %u", out.reason,
                 (unsigned)out.code);
        tls_send_now(t, msg_close(out.code, out.reason));
        return 0;
    }
    return 0;
}

static void on_close(const struct mg_connection *conn, void *cbdata)
{
    struct ws_server *ws = cbdata;
    void *ud = mg_get_user_connection_data(conn);
    if (!ud || ((struct ws_slot *)ud)->kind != WS_TLS)
        return; /* connection_close releases a slot still held */
    struct tls_sess *t = ud;
    mg_set_user_connection_data(conn, NULL);
    pthread_mutex_lock(&t->lock);
    t->reader_done = true;
    pthread_mutex_unlock(&t->lock);
    pthread_mutex_lock(&t->write_lock);
    bool clean = t->close_sent;
    pthread_mutex_unlock(&t->write_lock);
    if (!clean) {
        ws_count_close(ws->ctr, 1006);
        if (!t->close_received)
            atomic_store(&t->dropped, true);
    }
    outq_stop(t->q); /* the loop's pushes fail from now on: the hub treats it as gone */
    if (t->writer_started)
        pthread_join(t->writer, NULL);
    log_info(atomic_load(&t->id), "disconnected");
    pthread_mutex_lock(&ws->lock);
    list_remove(&t->node);
    pthread_mutex_unlock(&ws->lock);
    /* the loop's reference goes with the disconnect task (after every message task) */
    if (atomic_load(&t->refs) > 1 &&
        !tls_post(t, run_tls_disconnect, atomic_load(&t->dropped) ? 1 : 0, NULL, 0))
        atomic_fetch_sub(&t->refs, 1); /* loop stopped: it disconnected everyone already */
    atomic_fetch_sub(&ws->ctr->tls_open, 1);
    release_slot(ws, t->slot.ip);
    tls_unref(t);
}

void ws_connection_closed(struct ws_server *ws, const struct mg_connection *conn)
{
    void *ud = ws ? mg_get_user_connection_data(conn) : NULL;
    if (!ud)
        return;
    struct ws_slot *slot = ud;
    if (slot->kind != WS_TLS) {
        mg_set_user_connection_data(conn, NULL);
        release_slot(ws, slot->ip);
        free(slot);
        return;
    }
    /* A TLS session whose handshake failed after on_connect accepted it (on_close never ran:
     * on_close clears the user data). */
    struct tls_sess *t = ud;
    mg_set_user_connection_data(conn, NULL);
    atomic_fetch_sub(&ws->ctr->tls_open, 1);
    release_slot(ws, t->slot.ip);
    tls_unref(t);
}

struct ws_server *ws_new(struct loop *lp, struct ws_counters *ctr, struct iplimit *ipl,
                         const struct config *cfg)
{
    struct ws_server *ws = calloc(1, sizeof(*ws));
    if (!ws)
        return NULL;
    ws->lp = lp;
    ws->ctr = ctr;
    ws->ipl = ipl;
    ws->cfg = cfg;
    ws->overflow_close = msg_close(FRAME_CLOSE_POLICY, "send queue overflow");
    if (!ws->overflow_close || adopt_init() < 0) {
        msg_unref(ws->overflow_close);
        free(ws);
        return NULL;
    }
    list_init(&ws->tls);
    pthread_mutex_init(&ws->lock, NULL);
    return ws;
}

void ws_register(struct ws_server *ws, struct mg_context *ctx)
{
    mg_set_websocket_handler(ctx, "/", on_connect, on_ready, on_data, on_close, ws);
    mg_set_websocket_handler(ctx, "/ws", on_connect, on_ready, on_data, on_close, ws);
}

unsigned ws_shutdown(struct ws_server *ws, unsigned timeout_ms)
{
    atomic_store(&ws->stopping, true);
    pthread_mutex_lock(&ws->lock);
    for (struct list *n = ws->tls.next; n != &ws->tls; n = n->next) {
        struct tls_sess *t = list_entry(n, struct tls_sess, node);
        struct msg *m = msg_close(FRAME_CLOSE_GOING_AWAY, "server shutting down");
        if (m)
            outq_push_final(t->q, m); /* -EPIPE: already closing, nothing to add */
        msg_unref(m);
    }
    pthread_mutex_unlock(&ws->lock);
    unsigned left = loop_shutdown(ws->lp, timeout_ms);
    if (left) {
        pthread_mutex_lock(&ws->lock);
        for (struct list *n = ws->tls.next; n != &ws->tls; n = n->next)
            tls_abort_socket(list_entry(n, struct tls_sess, node));
        pthread_mutex_unlock(&ws->lock);
    }
    return left;
}

void ws_free(struct ws_server *ws)
{
    if (!ws)
        return;
    msg_unref(ws->overflow_close);
    pthread_mutex_destroy(&ws->lock);
    adopt_cleanup();
    free(ws);
}

void ws_get_stats(struct ws_server *ws, struct ws_stats *st)
{
    struct ws_counters *c = ws->ctr;
    memset(st, 0, sizeof(*st));
    st->open = atomic_load(&c->open);
    st->tls_open = atomic_load(&c->tls_open);
    st->accepted = atomic_load(&c->accepted);
    st->refused_full = atomic_load(&c->refused_full);
    st->refused_origin = atomic_load(&c->refused_origin);
    st->refused_ip = atomic_load(&c->refused_ip);
    st->adopt_failed = atomic_load(&c->adopt_failed);
    st->msgs_in = atomic_load(&c->msgs_in);
    st->bytes_in = atomic_load(&c->bytes_in);
    st->msgs_out = atomic_load(&c->msgs_out);
    st->bytes_out = atomic_load(&c->bytes_out);
    for (unsigned i = 0; i < WS_CLOSE_SLOTS; i++)
        st->closes[i] = atomic_load(&c->closes[i]);
}
