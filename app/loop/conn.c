/* SPDX-License-Identifier: MIT */
/* Plain WebSockets on the event loop (see conn.h). One owner per socket: only this file reads,
 * writes, shuts down and closes an adopted descriptor, always on the loop thread. */
#include "conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "adopt.h"
#include "frame.h"
#include "proto.h"
#include "log.h"
#include "ring.h"
#include "sink.h"
#include "thread.h"

#define CONN_LOG_TEXT_MAX 200
#define CONN_RING_MIN     8
#define CONN_PBUF_MIN     1024
#define CONN_PBUF_KEEP    (16 * 1024) /* larger partial-frame buffers are freed after use */

enum conn_flags {
    CONN_CLOSE_QUEUED = 1u << 0, /* our close frame is queued: nothing after it, reads discarded */
    CONN_CLOSE_RECEIVED = 1u << 1, /* the peer's close frame arrived */
    CONN_SHUT = 1u << 2,           /* the close frame went out and the write side is shut */
    CONN_DEAD = 1u << 3,           /* uv_close called: waiting for the close callback */
    CONN_IN_PAYLOAD = 1u << 4,     /* the current frame's header is parsed */
    CONN_RESUMABLE = 1u << 5,      /* it dropped (no close frame, or missed pongs): hub_detach */
};

#define CONN_CLOSE_RESUMED 4000 /* our close when another connection resumed the session */

struct conn {
    uv_tcp_t tcp; /* tcp.data = the conn */
    struct sink sink;
    struct conn_set *cs;
    struct hub_session *session;
    uint64_t id;
    unsigned flags;
    int fd;
    uint32_t client_ip; /* for the per-address session count */
    /* reading */
    unsigned char hdr[FRAME_HEADER_MAX];
    unsigned hdr_len;
    struct frame_header fh;
    uint64_t got; /* payload bytes of the current frame buffered in pbuf */
    char *pbuf;   /* a frame whose payload came in pieces */
    size_t pcap;
    struct frame_asm fa;
    uint64_t last_rx, frame_start, next_ping, close_deadline;
    struct list all_node, alive_node, stall_node, dirty_node, closing_node;
    /* writing: a ring of frames; the first head_off bytes of the head are already sent, and the
     * first `inflight` frames belong to a uv_write in progress */
    struct ring out;
    unsigned inflight;
    size_t head_off;
    uv_write_t *wreq;
    uv_shutdown_t *sreq;
    char remote[48];
};

static void hard_close(struct conn *c, const char *why);

/* --- the outgoing queue --- */

/* Drops the head frame (fully sent when sent is true). */
static void pop_head(struct conn *c, bool sent)
{
    struct msg *m = ring_pop(&c->out);
    c->head_off = 0;
    if (sent) {
        atomic_fetch_add_explicit(&c->cs->ctr->msgs_out, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&c->cs->ctr->bytes_out, m->len, memory_order_relaxed);
    }
    msg_unref(m);
}

/* Marks c for conn_flush. */
static void dirty(struct conn *c)
{
    if (!list_linked(&c->dirty_node))
        list_insert_tail(&c->cs->dirty, &c->dirty_node);
}

/* Queues our close frame (once) after what is queued; from then on nothing else is queued, the
 * hub forgets the session at the next flush, and the connection lingers until the peer's EOF or
 * CONN_LINGER_MS. */
static void queue_close(struct conn *c, unsigned code, const char *reason)
{
    if (c->flags & (CONN_CLOSE_QUEUED | CONN_DEAD))
        return;
    struct msg *m = msg_close(code, reason);
    if (!m || !ring_push(&c->out, m)) {
        msg_unref(m);
        hard_close(c, "out of memory");
        return;
    }
    c->flags |= CONN_CLOSE_QUEUED;
    ws_count_close(c->cs->ctr, code ? code : 1005);
    c->close_deadline = uv_now(c->cs->uv) + CONN_LINGER_MS;
    list_remove(&c->alive_node);
    list_remove(&c->stall_node);
    list_insert_tail(&c->cs->closing, &c->closing_node);
    dirty(c);
}

/* sink.send: the hub's only way to reach this connection. Queues; never writes. */
static bool conn_send(struct sink *sk, struct msg *m)
{
    struct conn *c = (struct conn *)((char *)sk - offsetof(struct conn, sink));
    const struct conn_limits *lim = &c->cs->lim;
    if (c->flags & (CONN_CLOSE_QUEUED | CONN_DEAD))
        return false;
    size_t queued = ring_count(&c->out), bytes = ring_bytes(&c->out);
    if (queued + 1 > lim->queue_msgs || bytes + m->len > lim->queue_bytes) {
        log_warn(c->id, "send queue overflow (%zu messages, %zu B): closing with 1008", queued,
                 bytes);
        /* frames already partly on the wire stay */
        ring_truncate(&c->out, c->inflight ? c->inflight : c->head_off ? 1 : 0);
        queue_close(c, FRAME_CLOSE_POLICY, "send queue overflow");
        return false;
    }
    if (!ring_push(&c->out, msg_ref(m))) {
        msg_unref(m);
        queue_close(c, FRAME_CLOSE_INTERNAL, "out of memory");
        return false;
    }
    dirty(c);
    return true;
}

/* Hands the session back to the hub: it keeps its seat when the connection merely dropped. */
static void end_session(struct conn *c)
{
    struct hub_session *s = c->session;
    if (!s)
        return;
    c->session = NULL;
    if (c->flags & CONN_RESUMABLE)
        hub_detach(c->cs->hub, s);
    else
        hub_disconnect(c->cs->hub, s);
}

/* sink.evict: the session now belongs to another connection. */
static void conn_evict(struct sink *sk)
{
    struct conn *c = (struct conn *)((char *)sk - offsetof(struct conn, sink));
    c->session = NULL;
    log_info(c->id, "session resumed by another connection: closing this one");
    queue_close(c, CONN_CLOSE_RESUMED, "session resumed elsewhere");
}

/* sink.kick: the hub wants this connection closed (a flood). */
static void conn_kick(struct sink *sk, unsigned code, const char *reason)
{
    struct conn *c = (struct conn *)((char *)sk - offsetof(struct conn, sink));
    queue_close(c, code, reason);
}

/* Sends a control frame (pong) behind what is queued. */
static void queue_control(struct conn *c, int opcode, const char *data, size_t len)
{
    struct msg *m = msg_new(opcode, data, len);
    if (m && !(c->flags & (CONN_CLOSE_QUEUED | CONN_DEAD)) && ring_push(&c->out, m)) {
        dirty(c);
        return;
    }
    msg_unref(m);
}

/* --- writing --- */

static void write_some(struct conn *c);

static void on_write(uv_write_t *req, int status)
{
    struct conn *c = req->data;
    unsigned n = c->inflight;
    c->inflight = 0;
    for (unsigned i = 0; i < n; i++)
        pop_head(c, status == 0);
    if (c->flags & CONN_DEAD)
        return;
    if (status < 0) {
        hard_close(c, uv_strerror(status));
        return;
    }
    write_some(c);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    struct conn *c = req->data;
    if (status < 0 && !(c->flags & CONN_DEAD))
        hard_close(c, "shutdown failed");
    /* else: keep reading (and discarding) until the peer's EOF or the linger deadline */
}

/* Gathers up to CONN_WRITE_IOV queued frames from the head into iov; returns their count and
 * their byte total in *total. */
static unsigned gather(const struct conn *c, uv_buf_t *iov, size_t *total)
{
    unsigned n = 0;
    *total = 0;
    while (n < ring_count(&c->out) && n < CONN_WRITE_IOV && *total < CONN_WRITE_BYTES) {
        const struct msg *m = ring_at(&c->out, n);
        size_t off = n == 0 ? c->head_off : 0;
        iov[n] = uv_buf_init((char *)m->frame + off, (unsigned)(m->frame_len - off));
        *total += m->frame_len - off;
        n++;
    }
    return n;
}

/* Sends iov[0..n) without blocking, straight on the socket. libuv's own queue is empty here
 * (nothing in flight), so this is what uv_try_write does, minus its write()/writev() detour
 * through the VFS (send/sendmsg take the socket path: measurably cheaper per delivery). Returns
 * the bytes taken (0 when the socket is full) or a negative libuv error. */
_Static_assert(sizeof(uv_buf_t) == sizeof(struct iovec) &&
                   offsetof(uv_buf_t, base) == offsetof(struct iovec, iov_base) &&
                   offsetof(uv_buf_t, len) == offsetof(struct iovec, iov_len),
               "libuv documents uv_buf_t as struct iovec on Unix");

static ssize_t send_now(struct conn *c, const uv_buf_t *iov, unsigned n)
{
    ssize_t r;
    do {
        if (n == 1) {
            r = send(c->fd, iov[0].base, iov[0].len, MSG_DONTWAIT | MSG_NOSIGNAL);
        } else {
            struct msghdr mh = {.msg_iov = (struct iovec *)iov, .msg_iovlen = n};
            r = sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
        }
    } while (r < 0 && errno == EINTR);
    if (r >= 0)
        return r;
    return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
}

/* Writes queued frames: one writev per batch straight away; whatever the socket does not take
 * goes to one uv_write whose callback continues. After the close frame, shuts the write side. */
static void write_some(struct conn *c)
{
    uv_buf_t iov[CONN_WRITE_IOV];
    size_t total;
    if (c->flags & CONN_DEAD || c->inflight)
        return;
    while (ring_count(&c->out)) {
        unsigned n = gather(c, iov, &total);
        ssize_t r = send_now(c, iov, n);
        if (r < 0) {
            hard_close(c, uv_strerror((int)r));
            return;
        }
        size_t done = (size_t)r;
        while (done && ring_count(&c->out)) {
            const struct msg *m = ring_at(&c->out, 0);
            size_t left = m->frame_len - c->head_off;
            if (done < left) {
                c->head_off += done;
                break;
            }
            done -= left;
            pop_head(c, true);
        }
        if ((size_t)r == total)
            continue;
        /* the socket is full: hand the rest of this batch to libuv, which waits for POLLOUT */
        n = gather(c, iov, &total);
        if (!c->wreq && !(c->wreq = malloc(sizeof(*c->wreq)))) {
            hard_close(c, "out of memory");
            return;
        }
        c->wreq->data = c;
        int rc = uv_write(c->wreq, (uv_stream_t *)&c->tcp, iov, n, on_write);
        if (rc < 0) {
            hard_close(c, uv_strerror(rc));
            return;
        }
        c->inflight = n;
        return;
    }
    if ((c->flags & CONN_CLOSE_QUEUED) && !(c->flags & CONN_SHUT)) {
        c->flags |= CONN_SHUT;
        if (!c->sreq && !(c->sreq = malloc(sizeof(*c->sreq)))) {
            hard_close(c, "out of memory");
            return;
        }
        c->sreq->data = c;
        if (uv_shutdown(c->sreq, (uv_stream_t *)&c->tcp, on_shutdown) < 0)
            hard_close(c, NULL);
    }
}

void conn_flush(struct conn_set *cs)
{
    THREAD_ASSERT_OWNER(cs->owner);
    while (!list_empty(&cs->dirty)) {
        struct conn *c = list_entry(list_first(&cs->dirty), struct conn, dirty_node);
        list_remove(&c->dirty_node);
        if (c->flags & CONN_DEAD)
            continue;
        if ((c->flags & CONN_CLOSE_QUEUED) && c->session)
            end_session(c); /* deferred: the close may have been queued from inside the hub */
        write_some(c);
    }
}

/* --- closing --- */

static void on_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    ring_cleanup(&c->out);
    free(c->pbuf);
    free(c->wreq);
    free(c->sreq);
    frame_asm_free(&c->fa);
    free(c);
}

/* Ends c now: the hub forgets it (its room gets `bye`), the descriptor is closed and c is freed
 * by the close callback. why: logged when not NULL. */
static void hard_close(struct conn *c, const char *why)
{
    struct conn_set *cs = c->cs;
    if (c->flags & CONN_DEAD)
        return;
    c->flags |= CONN_DEAD;
    if (!(c->flags & (CONN_CLOSE_QUEUED | CONN_CLOSE_RECEIVED))) {
        ws_count_close(cs->ctr, 1006);
        c->flags |= CONN_RESUMABLE; /* a drop, not a goodbye */
    }
    if (why)
        log_info(c->id, "connection ended: %s", why);
    log_info(c->id, "disconnected");
    list_remove(&c->all_node);
    list_remove(&c->alive_node);
    list_remove(&c->stall_node);
    list_remove(&c->dirty_node);
    list_remove(&c->closing_node);
    cs->count--;
    atomic_fetch_sub_explicit(&cs->ctr->open, 1, memory_order_relaxed);
    if (cs->ipl)
        iplimit_release(cs->ipl, IPLIMIT_WS, c->client_ip);
    end_session(c);
    adopt_lock();
    adopt_release(c->fd); /* before uv_close closes the number: a scan must probe it again */
    uv_close((uv_handle_t *)&c->tcp, on_closed); /* closes the descriptor now */
    adopt_unlock();
}

/* --- reading --- */

/* Copies up to CONN_LOG_TEXT_MAX bytes of valid UTF-8 into a printable, single-line string
 * (heap; the caller frees). */
static char *log_text(const char *s, size_t len)
{
    size_t cut = len < CONN_LOG_TEXT_MAX ? len : CONN_LOG_TEXT_MAX;
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

struct hub_session *conn_deliver(struct conn_set *cs, struct hub_session *s, uint64_t id,
                                 int opcode, const char *data, size_t len)
{
    THREAD_ASSERT_OWNER(cs->owner);
    atomic_fetch_add_explicit(&cs->ctr->msgs_in, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&cs->ctr->bytes_in, len, memory_order_relaxed);
    if (!hub_admit(cs->hub, s))
        return s; /* over the rate limit: not even logged */
    /* the seed's decoded-message line; chat inside a room is private: DEBUG only */
    enum log_level lvl = hub_session_in_room(s) ? LOG_DEBUG : LOG_INFO;
    if (log_enabled(lvl)) {
        /* passcodes, tokens and (maybe unlisted) room names never reach the log */
        char *red = proto_log_redact(data, len);
        char *t = red ? log_text(red, strlen(red)) : log_text(data, len);
        log_msg(lvl, id, "recv %s %zu B: %s", opcode == FRAME_OP_TEXT ? "text" : "binary", len,
                t ? t : "");
        free(t);
        free(red);
    }
    return hub_handle(cs->hub, s, data, len);
}

/* Acts on one whole frame (payload unmasked). */
static void on_frame(struct conn *c, const char *data, size_t len)
{
    struct frame_out out;
    switch (frame_asm_feed(&c->fa, c->fh.bits, data, len, &out)) {
    case FRAME_NONE:
    case FRAME_PONG:
        break;
    case FRAME_PING:
        queue_control(c, FRAME_OP_PONG, out.data, out.len);
        break;
    case FRAME_MESSAGE:
        if (c->session) {
            c->session = conn_deliver(c->cs, c->session, c->id, out.opcode, out.data, out.len);
            c->id = hub_session_id(c->session);
        }
        break;
    case FRAME_CLOSE:
        log_info(c->id, "client closed (%u)", (unsigned)out.code);
        c->flags |= CONN_CLOSE_RECEIVED;
        queue_close(c, out.code, NULL);
        break;
    case FRAME_FAIL:
        log_info(c->id, "protocol error: %s: closing with %u", out.reason, (unsigned)out.code);
        queue_close(c, out.code, out.reason);
        break;
    }
}

/* Makes room for the payload of the current frame in pbuf (growing as bytes arrive, never past
 * the declared length, itself within max_message_bytes). */
static bool pbuf_reserve(struct conn *c, size_t need)
{
    if (need <= c->pcap)
        return true;
    size_t cap = c->pcap < CONN_PBUF_MIN ? CONN_PBUF_MIN : c->pcap;
    while (cap < need)
        cap *= 2;
    if (cap > c->fh.len)
        cap = (size_t)c->fh.len;
    char *p = realloc(c->pbuf, cap);
    if (!p)
        return false;
    c->pbuf = p;
    c->pcap = cap;
    return true;
}

static void frame_done(struct conn *c)
{
    c->flags &= ~CONN_IN_PAYLOAD;
    c->got = 0;
    list_remove(&c->stall_node);
    if (c->pcap > CONN_PBUF_KEEP) {
        free(c->pbuf);
        c->pbuf = NULL;
        c->pcap = 0;
    }
}

/* Parses everything in data[0..n) (modified in place: payloads are unmasked where they lie). */
static void consume(struct conn *c, char *data, size_t n)
{
    struct frame_out out;
    while (n && !(c->flags & (CONN_CLOSE_QUEUED | CONN_DEAD))) {
        if (!(c->flags & CONN_IN_PAYLOAD)) {
            size_t hs;
            if (c->hdr_len == 0) {
                hs = frame_header_parse((const unsigned char *)data, n, &c->fh);
                if (!hs) {
                    memcpy(c->hdr, data, n); /* n < FRAME_HEADER_MAX here */
                    c->hdr_len = (unsigned)n;
                    break;
                }
            } else {
                size_t take = FRAME_HEADER_MAX - c->hdr_len;
                if (take > n)
                    take = n;
                memcpy(c->hdr + c->hdr_len, data, take);
                hs = frame_header_parse(c->hdr, c->hdr_len + take, &c->fh);
                if (!hs) {
                    c->hdr_len += (unsigned)take;
                    n = 0;
                    break;
                }
                hs -= c->hdr_len;
                c->hdr_len = 0;
            }
            data += hs;
            n -= hs;
            if (frame_asm_begin(&c->fa, &c->fh, &out) == FRAME_FAIL) {
                log_info(c->id, "protocol error: %s: closing with %u", out.reason,
                         (unsigned)out.code);
                queue_close(c, out.code, out.reason);
                break;
            }
            c->flags |= CONN_IN_PAYLOAD;
            c->got = 0;
        }
        size_t want = (size_t)(c->fh.len - c->got);
        size_t avail = n < want ? n : want;
        if (c->got == 0 && avail == want) {
            /* the whole payload is in the read buffer: no copy */
            frame_unmask(data, avail, c->fh.mask, 0);
            frame_done(c);
            on_frame(c, data, avail);
        } else if (avail) {
            if (!pbuf_reserve(c, (size_t)c->got + avail)) {
                queue_close(c, FRAME_CLOSE_INTERNAL, "out of memory");
                break;
            }
            memcpy(c->pbuf + c->got, data, avail);
            frame_unmask(c->pbuf + c->got, avail, c->fh.mask, c->got);
            c->got += avail;
            if (c->got == c->fh.len) {
                size_t len = (size_t)c->got;
                c->flags &= ~CONN_IN_PAYLOAD;
                list_remove(&c->stall_node);
                on_frame(c, c->pbuf, len);
                frame_done(c);
            }
        }
        data += avail;
        n -= avail;
    }
    if ((c->hdr_len || (c->flags & CONN_IN_PAYLOAD)) && !list_linked(&c->stall_node) &&
        !(c->flags & (CONN_CLOSE_QUEUED | CONN_DEAD))) {
        c->frame_start = uv_now(c->cs->uv);
        list_insert_tail(&c->cs->stalled, &c->stall_node);
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct conn *c = h->data;
    /* one buffer for every connection: each read is parsed before the next one */
    *buf = uv_buf_init(c->cs->rbuf, CONN_READ_BUF);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = st->data;
    struct conn_set *cs = c->cs;
    if (nread < 0) {
        if (nread == UV_EOF)
            hard_close(c, (c->flags & CONN_CLOSE_QUEUED) ? NULL : "peer closed the connection");
        else
            hard_close(c, uv_strerror((int)nread));
    } else if (nread > 0 && !(c->flags & (CONN_CLOSE_QUEUED | CONN_DEAD))) {
        c->last_rx = uv_now(cs->uv);
        if (cs->lim.ping_ms)
            list_move_tail(&cs->alive, &c->alive_node);
        consume(c, buf->base, (size_t)nread);
    }
    conn_flush(cs);
}

/* --- set-up, timers, shutdown --- */

int conn_open(struct conn_set *cs, int fd, const char *remote_addr, int remote_port,
              uint32_t client_ip)
{
    THREAD_ASSERT_OWNER(cs->owner);
    struct conn *c = calloc(1, sizeof(*c));
    int rc = -ENOMEM;
    if (!c)
        goto err_fd;
    c->cs = cs;
    c->fd = fd;
    c->client_ip = client_ip;
    c->sink.send = conn_send;
    c->sink.evict = conn_evict;
    c->sink.kick = conn_kick;
    snprintf(c->remote, sizeof(c->remote), "%s", remote_addr ? remote_addr : "?");
    list_init(&c->all_node);
    list_init(&c->alive_node);
    list_init(&c->stall_node);
    list_init(&c->dirty_node);
    list_init(&c->closing_node);
    frame_asm_init(&c->fa, cs->lim.max_message);
    ring_init(&c->out, CONN_RING_MIN, RING_SLOTS_MAX);
    rc = uv_tcp_init(cs->uv, &c->tcp);
    if (rc < 0)
        goto err_free;
    c->tcp.data = c;
    rc = uv_tcp_open(&c->tcp, fd);
    if (rc < 0) {
        /* the handle holds no descriptor: close it, then the socket ourselves */
        uv_close((uv_handle_t *)&c->tcp, on_closed);
        goto err_fd;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    list_insert_tail(&cs->all, &c->all_node);
    cs->count++;
    atomic_fetch_add_explicit(&cs->ctr->accepted, 1, memory_order_relaxed);
    c->last_rx = uv_now(cs->uv);
    if (cs->lim.ping_ms)
        list_insert_tail(&cs->alive, &c->alive_node);
    c->session = hub_connect(cs->hub, &c->sink, client_ip);
    if (!c->session) {
        log_error(0, "cannot start session: closing with 1011");
        queue_close(c, FRAME_CLOSE_INTERNAL, "server error");
    } else {
        c->id = hub_session_id(c->session);
        log_info(c->id, "connected from %s:%d", c->remote, remote_port);
    }
    rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (rc < 0) {
        hard_close(c, uv_strerror(rc));
        return rc;
    }
    return 0;

err_free:
    free(c);
err_fd:
    atomic_fetch_sub_explicit(&cs->ctr->open, 1, memory_order_relaxed);
    if (cs->ipl)
        iplimit_release(cs->ipl, IPLIMIT_WS, client_ip);
    adopt_lock();
    adopt_release(fd);
    close(fd);
    adopt_unlock();
    return rc;
}

void conn_sweep(struct conn_set *cs, uint64_t now, bool keepalive)
{
    THREAD_ASSERT_OWNER(cs->owner);
    /* lingering closes first: a close queued below gets its full linger from now */
    for (struct list *n = cs->closing.next; n != &cs->closing;) {
        struct conn *c = list_entry(n, struct conn, closing_node);
        n = n->next;
        if (now >= c->close_deadline)
            hard_close(c, NULL);
    }
    while (!list_empty(&cs->stalled)) {
        struct conn *c = list_entry(list_first(&cs->stalled), struct conn, stall_node);
        if (now - c->frame_start < cs->lim.stall_ms)
            break;
        log_info(c->id, "frame not finished within %llu ms: closing with 1008",
                 (unsigned long long)cs->lim.stall_ms);
        list_remove(&c->stall_node);
        queue_close(c, FRAME_CLOSE_POLICY, "frame timeout");
    }
    for (struct list *n = cs->alive.next; keepalive && cs->lim.ping_ms && n != &cs->alive;) {
        struct conn *c = list_entry(n, struct conn, alive_node);
        n = n->next;
        uint64_t quiet = now - c->last_rx;
        if (quiet < cs->lim.ping_ms)
            break;
        if (quiet >= CONN_IDLE_PINGS * cs->lim.ping_ms) {
            log_info(c->id, "nothing from the client for %llu s: closing",
                     (unsigned long long)quiet / 1000);
            c->flags |= CONN_RESUMABLE; /* missed pongs: the network, not the person */
            queue_close(c, FRAME_CLOSE_GOING_AWAY, "idle timeout");
        } else if (now >= c->next_ping) {
            queue_control(c, FRAME_OP_PING, "huddle", 6);
            c->next_ping = now + cs->lim.ping_ms;
        }
    }
}

void conn_close_all(struct conn_set *cs, unsigned code, const char *reason)
{
    THREAD_ASSERT_OWNER(cs->owner);
    struct list *n;
    list_foreach (n, &cs->all)
        queue_close(list_entry(n, struct conn, all_node), code, reason);
}

void conn_abort_all(struct conn_set *cs)
{
    THREAD_ASSERT_OWNER(cs->owner);
    while (!list_empty(&cs->all))
        hard_close(list_entry(list_first(&cs->all), struct conn, all_node), NULL);
}

int conn_set_init(struct conn_set *cs, uv_loop_t *uv, struct hub *hub, struct ws_counters *ctr,
                  const struct conn_limits *lim)
{
    memset(cs, 0, sizeof(*cs));
    cs->uv = uv;
    cs->hub = hub;
    cs->ctr = ctr;
    cs->lim = *lim;
    list_init(&cs->all);
    list_init(&cs->alive);
    list_init(&cs->stalled);
    list_init(&cs->dirty);
    list_init(&cs->closing);
    cs->rbuf = malloc(CONN_READ_BUF);
    if (!cs->rbuf)
        return -ENOMEM;
    return 0;
}

void conn_set_cleanup(struct conn_set *cs)
{
    free(cs->rbuf);
    cs->rbuf = NULL;
}
