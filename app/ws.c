/* SPDX-License-Identifier: MIT */
/* WebSocket sessions on CivetWeb 1.15 (see ws.h). Each connection has a reader (CivetWeb's worker
 * thread, which calls our data handler) and a writer thread of ours that drains the session's
 * bounded queue, so a client that stops reading only ever blocks its own writer. */
#include "ws.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "log.h"
#include "outq.h"

#define WS_WRITER_STACK   (64 * 1024)
#define WS_BATCH          64          /* frames per write at most */
#define WS_BATCH_BYTES    (16 * 1024) /* bytes per batched write at most (one frame may be more) */
#define WS_LOG_TEXT_MAX   200
#define WS_TICK_MS        100
#define WS_CLOSE_SLOTS    10
#define WS_IDLE_INTERVALS 3 /* ping intervals of client silence before the peer counts as gone */

enum wsc_state { WSC_NEW = 0, WSC_READY, WSC_CLOSED };

struct ws_conn {
    struct ws_server *ws;
    const struct mg_connection *conn;
    enum wsc_state state;
    struct hub_session *session;
    uint64_t id;
    struct frame_asm fa;
    struct outq *q;
    pthread_t writer;
    bool writer_started;
    pthread_mutex_t lock;       /* reader_done */
    pthread_mutex_t write_lock; /* serializes socket writes; close_sent */
    bool reader_done;           /* the close handler ran: never call CivetWeb on conn again */
    bool loop_running;          /* on_ready returned: CivetWeb's read loop owns conn */
    bool close_pending;         /* the writer wanted to close before that */
    bool close_sent;
    atomic_llong last_rx_ms; /* monotonic time of the client's last frame (keep-alive) */
    char *scratch;           /* writer's buffer for batched frames, WS_BATCH_BYTES, lazily made */
    char remote_addr[48];    /* peer address and port: finds the socket for abort_socket */
    int remote_port;
    struct ws_conn *prev, *next;
};

struct ws_server {
    struct hub *hub;
    const struct config *cfg;
    pthread_mutex_t lock; /* conns list, count */
    struct ws_conn *conns;
    unsigned count; /* from accepted connect to close */
    struct msg *overflow_close;
    pthread_t ticker;
    bool ticker_started;
    atomic_bool stopping;
    atomic_ullong accepted, refused_full, refused_origin;
    atomic_ullong msgs_in, bytes_in, msgs_out, bytes_out;
    atomic_ullong closes[WS_CLOSE_SLOTS];
};

static const unsigned close_codes[WS_CLOSE_SLOTS] = {1000, 1001, 1002, 1003, 1006,
                                                     1007, 1008, 1009, 1011, 0};
static const char *const close_labels[WS_CLOSE_SLOTS] = {"1000", "1001", "1002", "1003", "1006",
                                                         "1007", "1008", "1009", "1011", "other"};

const char *ws_close_code_label(unsigned idx)
{
    return idx < WS_CLOSE_SLOTS ? close_labels[idx] : NULL;
}

static void count_close(struct ws_server *ws, unsigned code)
{
    unsigned i = 0;
    while (i < WS_CLOSE_SLOTS - 1 && close_codes[i] != code)
        i++;
    atomic_fetch_add(&ws->closes[i], 1);
}

/* --- connection table --- */

static struct ws_conn *find_locked(struct ws_server *ws, const struct mg_connection *conn)
{
    for (struct ws_conn *c = ws->conns; c; c = c->next)
        if (c->conn == conn && c->state != WSC_CLOSED)
            return c;
    return NULL;
}

static void unlink_locked(struct ws_server *ws, struct ws_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        ws->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    ws->count--;
}

static void wsc_free(struct ws_conn *c)
{
    free(c->scratch);
    frame_asm_free(&c->fa);
    outq_free(c->q);
    pthread_mutex_destroy(&c->lock);
    pthread_mutex_destroy(&c->write_lock);
    free(c);
}

/* --- writing --- */

/* Writes n whole frames with one write (copied into c's scratch buffer when n > 1; the caller
 * keeps their total within WS_BATCH_BYTES), unless a close already went out. Returns false when
 * the connection is done: a failed or short write, or a close frame among them. */
static bool write_msgs(struct ws_conn *c, struct msg *const *ms, size_t n)
{
    bool ok = false;
    const char *out = ms[0]->frame;
    size_t len = ms[0]->frame_len, payload = ms[0]->len;
    if (n > 1) {
        if (!c->scratch && !(c->scratch = malloc(WS_BATCH_BYTES))) {
            for (size_t i = 0; i < n; i++)
                if (!write_msgs(c, &ms[i], 1))
                    return false;
            return true;
        }
        len = payload = 0;
        for (size_t i = 0; i < n; i++) {
            memcpy(c->scratch + len, ms[i]->frame, ms[i]->frame_len);
            len += ms[i]->frame_len;
            payload += ms[i]->len;
        }
        out = c->scratch;
    }
    const struct msg *close = NULL;
    for (size_t i = 0; i < n; i++)
        if (ms[i]->opcode == FRAME_OP_CLOSE)
            close = ms[i];
    pthread_mutex_lock(&c->write_lock);
    if (!c->close_sent) {
        if (close) /* the one close this connection sends: count it by code (empty: 1005) */
            count_close(c->ws, close->len >= 2 ? ((unsigned char)close->data[0] << 8) |
                                                     (unsigned char)close->data[1]
                                               : 1005);
        struct mg_connection *conn = (struct mg_connection *)c->conn;
        mg_lock_connection(conn);
        int rc = mg_write(conn, out, len);
        mg_unlock_connection(conn);
        ok = rc >= 0 && (size_t)rc == len;
        if (ok || close) {
            atomic_fetch_add(&c->ws->msgs_out, n);
            atomic_fetch_add(&c->ws->bytes_out, payload);
        }
        if (close) {
            c->close_sent = true;
            ok = false;
        }
    }
    pthread_mutex_unlock(&c->write_lock);
    return ok;
}

/* Sends one frame now (from the reader thread: pongs and closes). */
static bool write_frame(struct ws_conn *c, int opcode, const char *data, size_t len)
{
    struct msg *m = msg_new(opcode, data, len);
    bool ok = m && write_msgs(c, &m, 1);
    msg_unref(m);
    return ok;
}

/* Sends a close frame now (code 0: empty body), unless one already went out. */
static void send_close_now(struct ws_conn *c, unsigned code, const char *reason)
{
    struct msg *m = msg_close(code, reason);
    if (m)
        write_msgs(c, &m, 1);
    msg_unref(m);
}

/* Asks CivetWeb's reader loop to end (it notices within websocket_timeout_ms). Only while the
 * close handler has not run: after that conn may belong to another client. */
static void request_close(struct ws_conn *c)
{
    pthread_mutex_lock(&c->lock);
    if (!c->loop_running)
        c->close_pending = true; /* on_ready has not returned: it closes on its own thread */
    else if (!c->reader_done)
        mg_close_connection((struct mg_connection *)c->conn);
    pthread_mutex_unlock(&c->lock);
}

/* CivetWeb 1.15 gives no access to a connection's socket, and a writer blocked on a client that
 * stopped reading only notices mg_stop after a 2 s poll quantum. At shutdown we find the socket by
 * its peer address among our descriptors and shut it down, which wakes both threads at once.
 * Only while the close handler has not run, so the socket is still this connection's. */
static void abort_socket(struct ws_conn *c)
{
    pthread_mutex_lock(&c->lock);
    DIR *dir = c->reader_done ? NULL : opendir("/proc/self/fd");
    struct dirent *de;
    while (dir && (de = readdir(dir))) {
        int fd = atoi(de->d_name);
        struct sockaddr_in sa;
        socklen_t len = sizeof(sa);
        char ip[INET_ADDRSTRLEN];
        if (de->d_name[0] < '0' || de->d_name[0] > '9' || fd == dirfd(dir) ||
            getpeername(fd, (struct sockaddr *)&sa, &len) != 0 || sa.sin_family != AF_INET ||
            ntohs(sa.sin_port) != c->remote_port ||
            !inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof(ip)) || strcmp(ip, c->remote_addr))
            continue;
        shutdown(fd, SHUT_RDWR);
        break;
    }
    if (dir)
        closedir(dir);
    pthread_mutex_unlock(&c->lock);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Keep-alive, run by the writer between batches: after ping_interval of silence from the client
 * send a ping (browsers answer on their own); after WS_IDLE_INTERVALS intervals of silence the
 * peer is gone (a phone that vanished, a dead NAT mapping): close 1001. Returns false when it
 * closed. *next_ping is when the next ping may go. */
static bool keepalive(struct ws_conn *c, int64_t interval_ms, int64_t *next_ping)
{
    int64_t now = mono_ms(), quiet = now - atomic_load(&c->last_rx_ms);
    if (quiet >= WS_IDLE_INTERVALS * interval_ms) {
        log_info(c->id, "nothing from the client for %lld s: closing", (long long)quiet / 1000);
        send_close_now(c, FRAME_CLOSE_GOING_AWAY, "idle timeout");
        return false;
    }
    if (quiet >= interval_ms && now >= *next_ping) {
        write_frame(c, FRAME_OP_PING, "huddle", 6);
        *next_ping = now + interval_ms;
    }
    return true;
}

static void *writer_main(void *arg)
{
    struct ws_conn *c = arg;
    struct msg *batch[WS_BATCH];
    int64_t interval_ms = (int64_t)c->ws->cfg->ping_interval * 1000, next_ping = 0;
    int n;
    for (;;) {
        if (interval_ms && !keepalive(c, interval_ms, &next_ping)) {
            request_close(c);
            break;
        }
        n = outq_pop_batch(c->q, batch, WS_BATCH, WS_BATCH_BYTES,
                           interval_ms ? (int)(interval_ms / 2) : -1);
        if (n == -ETIMEDOUT)
            continue;
        if (n <= 0)
            break;
        /* nothing after a close frame */
        int k = 0;
        bool has_close = false;
        while (k < n && !has_close)
            has_close = batch[k++]->opcode == FRAME_OP_CLOSE;
        bool ok = write_msgs(c, batch, (size_t)k);
        for (int i = 0; i < n; i++)
            msg_unref(batch[i]);
        if (!ok) {
            if (!has_close)
                log_info(c->id, "write failed: closing");
            request_close(c);
            break;
        }
    }
    return NULL;
}

/* hub_ops.send: queue only, never block. */
bool ws_hub_send(void *sink, struct msg *m)
{
    struct ws_conn *c = sink;
    int rc = outq_push(c->q, m, c->ws->overflow_close);
    if (rc == -ENOBUFS)
        log_warn(c->id, "send queue overflow: closing with 1008");
    return rc == 0;
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
    size_t olen = strlen(origin);
    for (const char *s = allowed; *s;) {
        while (*s == ' ' || *s == ',')
            s++;
        const char *e = s;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > s && t[-1] == ' ')
            t--;
        if ((size_t)(t - s) == olen && !strncasecmp(s, origin, olen))
            return true;
        s = e;
    }
    return false;
}

static int on_connect(const struct mg_connection *cconn, void *cbdata)
{
    struct ws_server *ws = cbdata;
    struct mg_connection *conn = (struct mg_connection *)cconn;
    if (atomic_load(&ws->stopping)) {
        raw_reply(conn, 503, "Service Unavailable", NULL, "shutting down\n");
        return 1;
    }
    if (!origin_allowed(ws->cfg, cconn)) {
        atomic_fetch_add(&ws->refused_origin, 1);
        log_warn(0, "refused WebSocket from origin '%s'", mg_get_header(cconn, "Origin"));
        raw_reply(conn, 403, "Forbidden", NULL, "origin not allowed\n");
        return 1;
    }
    struct ws_conn *c = calloc(1, sizeof(*c));
    if (!c) {
        raw_reply(conn, 503, "Service Unavailable", NULL, "out of memory\n");
        return 1;
    }
    c->ws = ws;
    c->conn = cconn;
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->write_lock, NULL);
    frame_asm_init(&c->fa, (size_t)ws->cfg->max_message_bytes);
    c->q = outq_new((size_t)ws->cfg->send_queue_bytes, (size_t)ws->cfg->send_queue_messages);
    pthread_mutex_lock(&ws->lock);
    bool full = ws->count >= (unsigned)ws->cfg->max_connections;
    if (!full && c->q) {
        c->next = ws->conns;
        if (ws->conns)
            ws->conns->prev = c;
        ws->conns = c;
        ws->count++;
    }
    pthread_mutex_unlock(&ws->lock);
    if (full || !c->q) {
        wsc_free(c);
        atomic_fetch_add(&ws->refused_full, 1);
        log_warn(0, "refused WebSocket: server full (max_connections %d)",
                 ws->cfg->max_connections);
        raw_reply(conn, 503, "Service Unavailable", "Retry-After: 5\r\n", "server full\n");
        return 1;
    }
    mg_set_user_connection_data(cconn, c);
    return 0;
}

static struct ws_conn *lookup(struct ws_server *ws, const struct mg_connection *conn)
{
    struct ws_conn *c = mg_get_user_connection_data(conn);
    if (c)
        return c;
    pthread_mutex_lock(&ws->lock);
    c = find_locked(ws, conn);
    pthread_mutex_unlock(&ws->lock);
    return c;
}

static void on_ready(struct mg_connection *conn, void *cbdata)
{
    struct ws_server *ws = cbdata;
    struct ws_conn *c = lookup(ws, conn);
    if (!c)
        return;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    if (ri) {
        snprintf(c->remote_addr, sizeof(c->remote_addr), "%s", ri->remote_addr);
        c->remote_port = ri->remote_port;
    }
    atomic_store(&c->last_rx_ms, mono_ms());
    /* READY before the writer exists: ws_connection_closed may then run on the writer thread */
    pthread_mutex_lock(&ws->lock);
    c->state = WSC_READY;
    pthread_mutex_unlock(&ws->lock);
    c->session = hub_connect(ws->hub, c);
    if (c->session)
        c->id = hub_session_id(c->session);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, WS_WRITER_STACK);
    c->writer_started = c->session && pthread_create(&c->writer, &attr, writer_main, c) == 0;
    pthread_attr_destroy(&attr);
    atomic_fetch_add(&ws->accepted, 1);
    log_info(c->id, "connected from %s (%s)", ri ? ri->remote_addr : "?",
             ri && ri->local_uri ? ri->local_uri : "/");
    if (!c->writer_started) {
        log_error(c->id, "cannot start session: closing with 1011");
        send_close_now(c, FRAME_CLOSE_INTERNAL, "server error");
    }
    /* Before the read loop starts, mg_close_connection closes the connection outright instead of
     * flagging it, so the writer must not call it from its thread: we do it here, on ours. */
    pthread_mutex_lock(&c->lock);
    c->loop_running = true;
    bool close_now = c->close_pending || !c->writer_started;
    pthread_mutex_unlock(&c->lock);
    if (close_now)
        mg_close_connection(conn);
}

/* Copies up to WS_LOG_TEXT_MAX bytes of valid UTF-8 into a printable, single-line string. */
static char *log_text(const char *s, size_t len)
{
    size_t cut = len < WS_LOG_TEXT_MAX ? len : WS_LOG_TEXT_MAX;
    while (cut < len && cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
        cut--;
    char *out = malloc(cut * 4 + 8);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < cut; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f)
            o += (size_t)sprintf(out + o, "\\x%02x", ch);
        else
            out[o++] = (char)ch;
    }
    if (cut < len)
        o += (size_t)sprintf(out + o, "...");
    out[o] = '\0';
    return out;
}

static int on_data(struct mg_connection *conn, int bits, char *data, size_t len, void *cbdata)
{
    struct ws_server *ws = cbdata;
    struct ws_conn *c = lookup(ws, conn);
    struct frame_out out;
    if (!c || !c->session)
        return 0;
    atomic_store(&c->last_rx_ms, mono_ms());
    switch (frame_asm_feed(&c->fa, (unsigned)bits, data, len, &out)) {
    case FRAME_NONE:
    case FRAME_PONG:
        return 1;
    case FRAME_PING:
        write_frame(c, FRAME_OP_PONG, out.data, out.len);
        return 1;
    case FRAME_MESSAGE: {
        atomic_fetch_add(&ws->msgs_in, 1);
        atomic_fetch_add(&ws->bytes_in, out.len);
        /* the seed's decoded-message line; chat inside a room is private: DEBUG only */
        enum log_level lvl = hub_session_in_room(c->session) ? LOG_DEBUG : LOG_INFO;
        if (log_enabled(lvl)) {
            char *t = log_text(out.data, out.len);
            log_msg(lvl, c->id, "recv %s %zu B: %s",
                    out.opcode == FRAME_OP_TEXT ? "text" : "binary", out.len, t ? t : "");
            free(t);
        }
        hub_handle(ws->hub, c->session, out.data, out.len);
        return 1;
    }
    case FRAME_CLOSE:
        log_info(c->id, "client closed (%u)", (unsigned)out.code);
        send_close_now(c, out.code, NULL);
        return 0;
    case FRAME_FAIL:
        log_info(c->id, "protocol error: %s: closing with %u", out.reason, (unsigned)out.code);
        send_close_now(c, out.code, out.reason);
        return 0;
    }
    return 0;
}

static void on_close(const struct mg_connection *conn, void *cbdata)
{
    struct ws_server *ws = cbdata;
    pthread_mutex_lock(&ws->lock);
    struct ws_conn *c = find_locked(ws, conn);
    if (c)
        c->state = WSC_CLOSED;
    pthread_mutex_unlock(&ws->lock);
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->reader_done = true;
    pthread_mutex_unlock(&c->lock);
    pthread_mutex_lock(&c->write_lock);
    bool clean = c->close_sent;
    pthread_mutex_unlock(&c->write_lock);
    if (!clean)
        count_close(ws, 1006);
    hub_disconnect(ws->hub, c->session); /* no more pushes after this */
    outq_stop(c->q);
    if (c->writer_started)
        pthread_join(c->writer, NULL);
    log_info(c->id, "disconnected");
    mg_set_user_connection_data(conn, NULL);
    pthread_mutex_lock(&ws->lock);
    unlink_locked(ws, c);
    pthread_mutex_unlock(&ws->lock);
    wsc_free(c);
}

void ws_connection_closed(struct ws_server *ws, const struct mg_connection *conn)
{
    /* Only the user data, no table lock: this can run on a writer thread that holds c->lock
     * (request_close racing the end of the read loop), and there the state is READY. A NEW
     * connection is only ever seen here on its own worker thread. */
    struct ws_conn *c = ws ? mg_get_user_connection_data(conn) : NULL;
    if (!c || c->state != WSC_NEW)
        return;
    pthread_mutex_lock(&ws->lock);
    unlink_locked(ws, c);
    pthread_mutex_unlock(&ws->lock);
    wsc_free(c); /* handshake failed after connect accepted it */
}

static void *ticker_main(void *arg)
{
    struct ws_server *ws = arg;
    const struct timespec tick = {0, WS_TICK_MS * 1000000L};
    while (!atomic_load(&ws->stopping)) {
        nanosleep(&tick, NULL);
        hub_flush_rooms(ws->hub);
    }
    return NULL;
}

struct ws_server *ws_new(struct hub *hub, const struct config *cfg)
{
    struct ws_server *ws = calloc(1, sizeof(*ws));
    if (!ws)
        return NULL;
    ws->hub = hub;
    ws->cfg = cfg;
    ws->overflow_close = msg_close(FRAME_CLOSE_POLICY, "send queue overflow");
    if (!ws->overflow_close) {
        free(ws);
        return NULL;
    }
    pthread_mutex_init(&ws->lock, NULL);
    return ws;
}

void ws_register(struct ws_server *ws, struct mg_context *ctx)
{
    mg_set_websocket_handler(ctx, "/", on_connect, on_ready, on_data, on_close, ws);
    mg_set_websocket_handler(ctx, "/ws", on_connect, on_ready, on_data, on_close, ws);
    if (!ws->ticker_started) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, WS_WRITER_STACK);
        ws->ticker_started = pthread_create(&ws->ticker, &attr, ticker_main, ws) == 0;
        pthread_attr_destroy(&attr);
    }
}

unsigned ws_shutdown(struct ws_server *ws, unsigned timeout_ms)
{
    atomic_store(&ws->stopping, true);
    pthread_mutex_lock(&ws->lock);
    for (struct ws_conn *c = ws->conns; c; c = c->next) {
        if (c->state != WSC_READY)
            continue;
        struct msg *m = msg_close(FRAME_CLOSE_GOING_AWAY, "server shutting down");
        if (m)
            outq_push_final(c->q, m); /* -EPIPE: already closing, nothing to add */
        msg_unref(m);
    }
    pthread_mutex_unlock(&ws->lock);
    unsigned left = 0;
    for (unsigned waited = 0;; waited += 20) {
        pthread_mutex_lock(&ws->lock);
        left = ws->count;
        pthread_mutex_unlock(&ws->lock);
        if (!left || waited >= timeout_ms)
            break;
        usleep(20 * 1000);
    }
    if (left) {
        /* clients that did not take their close in time (e.g. stopped reading): cut them off */
        pthread_mutex_lock(&ws->lock);
        for (struct ws_conn *c = ws->conns; c; c = c->next)
            if (c->state == WSC_READY)
                abort_socket(c);
        pthread_mutex_unlock(&ws->lock);
    }
    return left;
}

void ws_free(struct ws_server *ws)
{
    if (!ws)
        return;
    atomic_store(&ws->stopping, true);
    if (ws->ticker_started)
        pthread_join(ws->ticker, NULL);
    msg_unref(ws->overflow_close);
    pthread_mutex_destroy(&ws->lock);
    free(ws);
}

void ws_get_stats(struct ws_server *ws, struct ws_stats *st)
{
    memset(st, 0, sizeof(*st));
    pthread_mutex_lock(&ws->lock);
    st->open = ws->count;
    pthread_mutex_unlock(&ws->lock);
    st->accepted = atomic_load(&ws->accepted);
    st->refused_full = atomic_load(&ws->refused_full);
    st->refused_origin = atomic_load(&ws->refused_origin);
    st->msgs_in = atomic_load(&ws->msgs_in);
    st->bytes_in = atomic_load(&ws->bytes_in);
    st->msgs_out = atomic_load(&ws->msgs_out);
    st->bytes_out = atomic_load(&ws->bytes_out);
    for (unsigned i = 0; i < WS_CLOSE_SLOTS; i++)
        st->closes[i] = atomic_load(&ws->closes[i]);
}
