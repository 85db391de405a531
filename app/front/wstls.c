/* SPDX-License-Identifier: MIT */
/* TLS WebSockets (see wstls.h): CivetWeb's worker reads, a writer thread of ours writes, tasks
 * posted to the loop run the hub. */
#include "wstls.h"

#include <civetweb.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "adopt.h"
#include "clock.h"
#include "conn.h"
#include "frame.h"
#include "log.h"
#include "outq.h"
#include "sink.h"

#define WS_WRITER_STACK (64 * 1024)
#define WS_BATCH        64          /* frames per write at most */
#define WS_BATCH_BYTES  (16 * 1024) /* bytes per batched write at most (one frame may be more) */

/* A TLS WebSocket session. Two references: CivetWeb's side (dropped by the close handler) and
 * the loop's (dropped when the loop has disconnected it from the hub). */
struct tls_sess {
    struct ws_slot slot; /* first: the connection data points here */
    struct sink sink;    /* the hub's sink; the loop calls sink.send */
    struct wstls *w;
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
    struct list node; /* on w->sessions while its reader runs (list_linked) */
};

static struct tls_sess *sink_tls(struct sink *sk)
{
    return (struct tls_sess *)((char *)sk - offsetof(struct tls_sess, sink));
}

/* --- TLS sessions: writing (writer thread, and pongs/closes from the reader) --- */

void wstls_unref(struct tls_sess *t)
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
            ws_count_close(t->w->ctr, close->len >= 2 ? ((unsigned char)close->data[0] << 8) |
                                                            (unsigned char)close->data[1]
                                                      : 1005);
        struct mg_connection *conn = (struct mg_connection *)t->conn;
        mg_lock_connection(conn);
        int rc = mg_write(conn, out, len);
        mg_unlock_connection(conn);
        ok = rc >= 0 && (size_t)rc == len;
        if (ok || close) {
            atomic_fetch_add(&t->w->ctr->msgs_out, n);
            atomic_fetch_add(&t->w->ctr->bytes_out, payload);
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
    int64_t interval_ms = (int64_t)t->w->cfg->ping_interval * 1000, next_ping = 0;
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
    int rc = outq_push(t->q, m, t->w->overflow_close);
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
    wstls_unref(t);
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
    if (loop_post(t->w->lp, &tt->task))
        return true;
    free(tt);
    return false;
}

/* --- TLS sessions: CivetWeb's side --- */

struct tls_sess *wstls_new(struct wstls *w, const struct mg_connection *conn, uint32_t ip)
{
    struct tls_sess *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->q = outq_new((size_t)w->cfg->send_queue_bytes, (size_t)w->cfg->send_queue_messages);
    if (!t->q) {
        free(t);
        return NULL;
    }
    t->slot.kind = WS_TLS;
    t->slot.ip = ip;
    t->sink.send = tls_sink_send;
    t->sink.evict = tls_sink_evict;
    t->sink.kick = tls_sink_kick;
    t->w = w;
    t->conn = conn;
    atomic_init(&t->refs, 1);
    list_init(&t->node);
    pthread_mutex_init(&t->lock, NULL);
    pthread_mutex_init(&t->write_lock, NULL);
    frame_asm_init(&t->fa, (size_t)w->cfg->max_message_bytes);
    return t;
}

void wstls_ready(struct wstls *w, struct mg_connection *conn, struct tls_sess *t,
                 const struct mg_request_info *ri)
{
    snprintf(t->remote_addr, sizeof(t->remote_addr), "%s", ri->remote_addr);
    t->remote_port = ri->remote_port;
    t->server_port = ri->server_port;
    atomic_store(&t->last_rx_ms, clock_mono_ms());
    pthread_mutex_lock(&w->lock);
    list_insert_tail(&w->sessions, &t->node);
    pthread_mutex_unlock(&w->lock);
    atomic_fetch_add(&t->refs, 1); /* the loop's */
    bool posted = tls_post(t, run_tls_connect, 0, NULL, 0);
    if (!posted)
        atomic_fetch_sub(&t->refs, 1);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, WS_WRITER_STACK);
    t->writer_started = posted && pthread_create(&t->writer, &attr, tls_writer_main, t) == 0;
    pthread_attr_destroy(&attr);
    atomic_fetch_add(&w->ctr->accepted, 1);
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

int wstls_data(struct tls_sess *t, int bits, char *data, size_t len)
{
    struct frame_out out;
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

void wstls_closed(struct wstls *w, struct tls_sess *t)
{
    pthread_mutex_lock(&t->lock);
    t->reader_done = true;
    pthread_mutex_unlock(&t->lock);
    pthread_mutex_lock(&t->write_lock);
    bool clean = t->close_sent;
    pthread_mutex_unlock(&t->write_lock);
    if (!clean) {
        ws_count_close(w->ctr, 1006);
        if (!t->close_received)
            atomic_store(&t->dropped, true);
    }
    outq_stop(t->q); /* the loop's pushes fail from now on: the hub treats it as gone */
    if (t->writer_started)
        pthread_join(t->writer, NULL);
    log_info(atomic_load(&t->id), "disconnected");
    pthread_mutex_lock(&w->lock);
    list_remove(&t->node);
    pthread_mutex_unlock(&w->lock);
    /* the loop's reference goes with the disconnect task (after every message task) */
    if (atomic_load(&t->refs) > 1 &&
        !tls_post(t, run_tls_disconnect, atomic_load(&t->dropped) ? 1 : 0, NULL, 0))
        atomic_fetch_sub(&t->refs, 1); /* loop stopped: it disconnected everyone already */
}

/* --- the server's TLS sessions --- */

int wstls_init(struct wstls *w, struct loop *lp, struct ws_counters *ctr, const struct config *cfg)
{
    w->lp = lp;
    w->ctr = ctr;
    w->cfg = cfg;
    w->overflow_close = msg_close(FRAME_CLOSE_POLICY, "send queue overflow");
    if (!w->overflow_close)
        return -1;
    list_init(&w->sessions);
    pthread_mutex_init(&w->lock, NULL);
    return 0;
}

void wstls_cleanup(struct wstls *w)
{
    msg_unref(w->overflow_close);
    pthread_mutex_destroy(&w->lock);
}

void wstls_say_goodbye(struct wstls *w)
{
    struct list *n;
    pthread_mutex_lock(&w->lock);
    list_foreach (n, &w->sessions) {
        struct tls_sess *t = list_entry(n, struct tls_sess, node);
        struct msg *m = msg_close(FRAME_CLOSE_GOING_AWAY, "server shutting down");
        if (m)
            outq_push_final(t->q, m); /* -EPIPE: already closing, nothing to add */
        msg_unref(m);
    }
    pthread_mutex_unlock(&w->lock);
}

void wstls_abort_all(struct wstls *w)
{
    struct list *n;
    pthread_mutex_lock(&w->lock);
    list_foreach (n, &w->sessions)
        tls_abort_socket(list_entry(n, struct tls_sess, node));
    pthread_mutex_unlock(&w->lock);
}
