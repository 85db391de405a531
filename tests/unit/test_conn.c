/* SPDX-License-Identifier: MIT */
/* Unit tests for the event loop's WebSocket (conn.c), driven on a real uv_loop_t in the test thread
 * with a real TCP pair on 127.0.0.1: the test plays the client (masked frames out, server frames
 * parsed back) and turns the loop by hand. Covers the hello, pings, frames split at every byte,
 * partial writes with the order kept, queue overflow, the close handshake, protocol errors, the
 * stall and keep-alive timers. Every wait is bounded by a count and a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <jansson.h>

#include "clock.h"
#include "conn.h"
#include "frame.h"
#include "hub.h"
#include "log.h"
#include "sink.h"
#include "wsstats.h"

#define WAIT_MS    10000 /* a generous bound: only reached when something is broken */
#define WAIT_ITERS 200000
#define FIN        0x80u

struct fixture {
    bool open;
    uv_loop_t uv;
    struct hub *hub;
    struct conn_set cs;
    struct ws_counters ctr;
    int cfd; /* the client's end */
    /* what the client read and has not parsed yet */
    unsigned char *rx;
    size_t rx_len, rx_cap;
    bool eof;
    /* the last frame parsed (payload NUL-terminated) */
    int op;
    char *data;
    size_t len;
};

static struct fixture F;

static const struct conn_limits default_limits = {
    .max_message = 65536,
    .queue_bytes = 1 << 20,
    .queue_msgs = 1024,
    .ping_ms = 0,
    .stall_ms = 10000,
};

/* --- the loop side --- */

/* One turn of the loop without blocking, then what the loop does after it. */
static void pump(void)
{
    uv_run(&F.uv, UV_RUN_NOWAIT);
    conn_flush(&F.cs);
}

/* Opens the fixture: hub, connection set and a TCP pair whose server end goes to conn_open.
 * sndbuf/rcvbuf: when not 0, the server's SO_SNDBUF and the client's SO_RCVBUF. */
static void open_fx(const struct conn_limits *lim, int sndbuf, int rcvbuf)
{
    struct hub_config hc = {.greeting = "hi", .max_room_members = 8, .max_rooms = 16};
    struct hub_ops ops = {.send = sink_send};
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t slen = sizeof(sa);

    memset(&F, 0, sizeof(F));
    F.cfd = -1;
    assert_int_equal(uv_loop_init(&F.uv), 0);
    F.hub = hub_new(&hc, &ops);
    assert_non_null(F.hub);
    assert_int_equal(conn_set_init(&F.cs, &F.uv, F.hub, &F.ctr, lim), 0);
    F.open = true;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(lfd >= 0);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(lfd, 1), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &slen), 0);
    F.cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(F.cfd >= 0);
    if (rcvbuf) /* before connect, so the window is small from the start */
        assert_int_equal(setsockopt(F.cfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
    assert_int_equal(connect(F.cfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    int one = 1; /* no Nagle: every frame the client sends reaches the server at once */
    assert_int_equal(setsockopt(F.cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
    int sfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    assert_true(sfd >= 0);
    close(lfd);
    if (sndbuf)
        assert_int_equal(setsockopt(sfd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);

    atomic_store(&F.ctr.open, 1); /* the front takes the slot before handing the socket over */
    assert_int_equal(conn_open(&F.cs, sfd, "127.0.0.1", 1234, 0), 0);
    conn_flush(&F.cs);
    assert_int_equal(F.cs.count, 1);
    assert_int_equal(atomic_load(&F.ctr.accepted), 1);
}

/* Teardown: closes whatever is left and checks nothing leaks past the loop. */
static int end(void **state)
{
    (void)state;
    if (!F.open)
        return 0;
    if (F.cfd >= 0)
        close(F.cfd);
    conn_abort_all(&F.cs);
    for (int i = 0; i < 1000 && uv_run(&F.uv, UV_RUN_NOWAIT); i++)
        ;
    int rc = uv_loop_close(&F.uv);
    conn_set_cleanup(&F.cs);
    hub_free(F.hub);
    free(F.rx);
    free(F.data);
    unsigned open = atomic_load(&F.ctr.open), count = F.cs.count;
    memset(&F, 0, sizeof(F));
    assert_int_equal(rc, 0);
    assert_int_equal(count, 0);
    assert_int_equal(open, 0);
    return 0;
}

/* Turns the loop a while, letting what was sent arrive (no assertion on how long it takes). */
static void settle(void)
{
    for (int i = 0; i < 20; i++) {
        pump();
        usleep(200);
    }
}

/* Turns the loop, without reading on the client side, until the server has received n messages
 * in all (ctr.msgs_in). */
static void wait_received(unsigned long long n)
{
    int64_t deadline = clock_mono_ms() + WAIT_MS;
    for (int i = 0; i < WAIT_ITERS && atomic_load(&F.ctr.msgs_in) < n; i++) {
        pump();
        if (clock_mono_ms() > deadline)
            break;
        usleep(100);
    }
    assert_int_equal(atomic_load(&F.ctr.msgs_in), n);
}

/* --- the client side --- */

static void send_all(const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t r = send(F.cfd, p, len, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR)
            continue;
        assert_true(r > 0);
        p += r;
        len -= (size_t)r;
    }
}

/* Builds a masked client frame (bits: FIN | opcode) into a new buffer; *out_len gets its size.
 * The key changes from frame to frame. The caller frees. */
static unsigned char *client_frame(unsigned bits, const void *payload, size_t len, size_t *out_len)
{
    static uint8_t seed = 0x11;
    unsigned char *f = malloc(14 + len);
    size_t n = 0;
    uint8_t key[4] = {seed, (uint8_t)(seed * 3 + 1), (uint8_t)(seed ^ 0xa5), (uint8_t)(seed + 77)};

    assert_non_null(f);
    seed = (uint8_t)(seed * 5 + 3);
    f[n++] = (unsigned char)bits;
    if (len < 126) {
        f[n++] = (unsigned char)(0x80 | len);
    } else if (len <= 0xffff) {
        f[n++] = 0x80 | 126;
        f[n++] = (unsigned char)(len >> 8);
        f[n++] = (unsigned char)len;
    } else {
        f[n++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            f[n++] = (unsigned char)((uint64_t)len >> (8 * i));
    }
    memcpy(f + n, key, 4);
    n += 4;
    for (size_t i = 0; i < len; i++)
        f[n + i] = ((const unsigned char *)payload)[i] ^ key[i & 3];
    *out_len = n + len;
    return f;
}

static void send_frame(unsigned bits, const void *payload, size_t len)
{
    size_t n;
    unsigned char *f = client_frame(bits, payload, len, &n);
    send_all(f, n);
    free(f);
}

static void send_text(const char *s)
{
    send_frame(FIN | FRAME_OP_TEXT, s, strlen(s));
}

static void send_close(unsigned code, const char *reason)
{
    char body[125];
    size_t rlen = strlen(reason);
    body[0] = (char)(code >> 8);
    body[1] = (char)code;
    memcpy(body + 2, reason, rlen);
    send_frame(FIN | FRAME_OP_CLOSE, body, 2 + rlen);
}

/* Reads what the socket has without blocking. Returns true when bytes or EOF arrived. */
static bool client_fill(void)
{
    char tmp[16384];
    ssize_t r = recv(F.cfd, tmp, sizeof(tmp), MSG_DONTWAIT);
    if (r == 0) {
        F.eof = true;
        return true;
    }
    if (r < 0) {
        assert_true(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
        return false;
    }
    if (F.rx_len + (size_t)r > F.rx_cap) {
        size_t cap = F.rx_cap ? F.rx_cap : 65536;
        while (cap < F.rx_len + (size_t)r)
            cap *= 2;
        F.rx = realloc(F.rx, cap);
        assert_non_null(F.rx);
        F.rx_cap = cap;
    }
    memcpy(F.rx + F.rx_len, tmp, (size_t)r);
    F.rx_len += (size_t)r;
    return true;
}

/* Takes one whole server frame off F.rx into F.op/F.data/F.len. Returns false when F.rx does
 * not hold a whole frame yet. Server frames are never masked nor fragmented here. */
static bool parse_frame(void)
{
    if (F.rx_len < 2)
        return false;
    unsigned char b0 = F.rx[0], b1 = F.rx[1];
    size_t hs = 2;
    uint64_t len = b1 & 0x7f;
    if (len == 126) {
        hs = 4;
        if (F.rx_len < hs)
            return false;
        len = ((uint64_t)F.rx[2] << 8) | F.rx[3];
    } else if (len == 127) {
        hs = 10;
        if (F.rx_len < hs)
            return false;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = (len << 8) | F.rx[2 + i];
    }
    if (!(b0 & FIN) || (b0 & 0x70) || (b1 & 0x80))
        fail_msg("bad server frame header %02x %02x", b0, b1);
    if (len > (1u << 24))
        fail_msg("server frame of %llu bytes", (unsigned long long)len);
    if (F.rx_len < hs + len)
        return false;
    free(F.data);
    F.data = malloc((size_t)len + 1);
    assert_non_null(F.data);
    memcpy(F.data, F.rx + hs, (size_t)len);
    F.data[len] = '\0';
    F.len = (size_t)len;
    F.op = b0 & 0x0f;
    F.rx_len -= hs + (size_t)len;
    memmove(F.rx, F.rx + hs + len, F.rx_len);
    return true;
}

/* Turns the loop and reads until cond() holds; fails after WAIT_ITERS turns or WAIT_MS. */
static void wait_for(bool (*cond)(void), const char *what)
{
    int64_t deadline = clock_mono_ms() + WAIT_MS;
    for (int i = 0; i < WAIT_ITERS; i++) {
        if (cond())
            return;
        pump();
        if (!client_fill()) {
            if (clock_mono_ms() > deadline)
                break;
            usleep(100);
        }
    }
    fail_msg("timed out waiting for %s", what);
}

static bool have_frame(void)
{
    return parse_frame() || F.eof;
}

/* The next server frame: returns its opcode, its payload is F.data/F.len until the next call.
 * Fails on EOF (also in the middle of a frame). */
static int next_frame(void)
{
    free(F.data);
    F.data = NULL;
    wait_for(have_frame, "a frame");
    if (!F.data)
        fail_msg("EOF instead of a frame (%zu bytes of a frame left)", F.rx_len);
    return F.op;
}

static void expect_op(int op, const char *data, size_t len)
{
    int got = next_frame();
    if (got != op)
        fail_msg("frame opcode %d (%.*s), want %d", got, (int)F.len, F.data, op);
    assert_int_equal(F.len, len);
    assert_memory_equal(F.data, data, len);
}

/* The next frame is a text message of the given type; returns it parsed (caller decrefs). */
static json_t *expect_type(const char *type)
{
    json_error_t err;
    int op = next_frame();
    if (op != FRAME_OP_TEXT)
        fail_msg("frame opcode %d, want a text message '%s'", op, type);
    json_t *o = json_loadb(F.data, F.len, 0, &err);
    if (!o)
        fail_msg("not JSON: %s", F.data);
    const char *t = json_string_value(json_object_get(o, "type"));
    if (!t || strcmp(t, type))
        fail_msg("message %s, want type '%s'", F.data, type);
    return o;
}

static void expect_msg(const char *type)
{
    json_decref(expect_type(type));
}

static void expect_close(unsigned code, const char *reason)
{
    int op = next_frame();
    if (op != FRAME_OP_CLOSE)
        fail_msg("frame opcode %d (%.*s), want a close %u", op, (int)F.len, F.data, code);
    if (code == 0) {
        assert_int_equal(F.len, 0);
        return;
    }
    assert_true(F.len >= 2);
    assert_int_equal(((unsigned)(unsigned char)F.data[0] << 8) | (unsigned char)F.data[1], code);
    if (reason)
        assert_string_equal(F.data + 2, reason);
}

static bool at_eof(void)
{
    return F.eof || parse_frame();
}

/* Nothing more from the server: the next thing on the socket is its end. */
static void expect_eof(void)
{
    free(F.data);
    F.data = NULL;
    wait_for(at_eof, "end of file");
    if (F.data)
        fail_msg("frame %d (%.*s) instead of EOF", F.op, (int)F.len, F.data);
    assert_int_equal(F.rx_len, 0);
}

static bool all_closed(void)
{
    return F.cs.count == 0;
}

/* The client closes its end; the server's connection goes and its slot is released. */
static void client_goes(void)
{
    close(F.cfd);
    F.cfd = -1;
    int64_t deadline = clock_mono_ms() + WAIT_MS;
    for (int i = 0; i < WAIT_ITERS && !all_closed() && clock_mono_ms() <= deadline; i++) {
        pump();
        usleep(100);
    }
    assert_int_equal(F.cs.count, 0);
    uv_run(&F.uv, UV_RUN_NOWAIT); /* close callbacks */
    assert_int_equal(atomic_load(&F.ctr.open), 0);
}

/* Turns the loop a few times and checks nothing arrived (not a timing assertion: nothing is due,
 * whatever the timing). */
static void expect_quiet(void)
{
    for (int i = 0; i < 20; i++) {
        pump();
        client_fill();
    }
    assert_false(F.eof);
    assert_int_equal(F.rx_len, 0);
}

/* The close counter labelled label ("1000", ..., "other"). */
static unsigned long long closes_with(const char *label)
{
    for (unsigned i = 0; ws_close_code_label(i); i++)
        if (!strcmp(ws_close_code_label(i), label))
            return atomic_load(&F.ctr.closes[i]);
    fail_msg("no close counter '%s'", label);
    return 0;
}

/* --- tests --- */

static void test_hello_on_open(void **state)
{
    (void)state;
    open_fx(&default_limits, 0, 0);
    json_t *o = expect_type("hello");
    assert_string_equal(json_string_value(json_object_get(o, "text")), "hi");
    json_decref(o);
    assert_int_equal(atomic_load(&F.ctr.msgs_out), 1);
    expect_quiet();
    client_goes();
    assert_int_equal(closes_with("1006"), 1); /* no close frame either way */
}

static void test_ping_and_messages(void **state)
{
    (void)state;
    open_fx(&default_limits, 0, 0);
    expect_msg("hello");
    send_frame(FIN | FRAME_OP_PING, "abc", 3);
    expect_op(FRAME_OP_PONG, "abc", 3);
    send_frame(FIN | FRAME_OP_PING, NULL, 0);
    expect_op(FRAME_OP_PONG, "", 0);
    send_frame(FIN | FRAME_OP_PONG, "x", 1); /* unsolicited: ignored */
    send_text("{\"type\":\"join\",\"room\":\"r\"}");
    expect_msg("joined");
    /* a fragmented message with a ping between its fragments */
    send_frame(FRAME_OP_TEXT, "{\"type\":\"chat\",", 15);
    send_frame(FIN | FRAME_OP_PING, "mid", 3);
    send_frame(FRAME_OP_CONT, "\"text\":", 7);
    send_frame(FIN | FRAME_OP_CONT, "\"frag\"}", 7);
    expect_op(FRAME_OP_PONG, "mid", 3);
    json_t *o = expect_type("chat");
    assert_string_equal(json_string_value(json_object_get(o, "text")), "frag");
    json_decref(o);
    /* several frames in one write: answered in order */
    size_t n1, n2, n3;
    unsigned char *a = client_frame(FIN | FRAME_OP_PING, "1", 1, &n1);
    unsigned char *b = client_frame(FIN | FRAME_OP_TEXT, "{\"type\":\"list\"}", 15, &n2);
    unsigned char *c = client_frame(FIN | FRAME_OP_PING, "2", 1, &n3);
    unsigned char all[64];
    assert_true(n1 + n2 + n3 <= sizeof(all));
    memcpy(all, a, n1);
    memcpy(all + n1, b, n2);
    memcpy(all + n1 + n2, c, n3);
    free(a);
    free(b);
    free(c);
    send_all(all, n1 + n2 + n3);
    expect_op(FRAME_OP_PONG, "1", 1);
    expect_msg("rooms");
    expect_op(FRAME_OP_PONG, "2", 1);
    assert_true(atomic_load(&F.ctr.msgs_in) >= 3);
    expect_quiet();
}

/* A read that ends exactly at the end of a frame header, the payload in the next read. Under the
 * ASan+UBSan build this aborts in consume() (conn.c): with no payload byte in the read, pbuf is
 * still NULL and memcpy(c->pbuf + c->got, data, 0) passes it a null pointer. */
static void test_header_then_payload_apart(void **state)
{
    (void)state;
    open_fx(&default_limits, 0, 0);
    expect_msg("hello");
    size_t n;
    unsigned char *f = client_frame(FIN | FRAME_OP_PING, "abc", 3, &n);
    assert_int_equal(n, 6 + 3);
    send_all(f, 6);
    settle();
    send_all(f + 6, 3);
    free(f);
    expect_op(FRAME_OP_PONG, "abc", 3);
    /* the same with a text message whose header is completed by a later read */
    f = client_frame(FIN | FRAME_OP_TEXT, "{\"type\":\"list\"}", 15, &n);
    send_all(f, 3);
    settle();
    send_all(f + 3, 3);
    settle();
    send_all(f + 6, n - 6);
    free(f);
    expect_msg("rooms");
}

/* Every frame sent one byte per write, the loop turning in between: headers (7- and 16-bit
 * lengths) and payloads split at every point. */
static void test_one_byte_at_a_time(void **state)
{
    char text[400];
    char json[512];
    struct conn_limits lim = default_limits;
    (void)state;

    lim.max_message = 100000; /* room for a 64-bit length */
    open_fx(&lim, 0, 0);
    expect_msg("hello");
    const char *join = "{\"type\":\"join\",\"room\":\"bytes\"}";
    memset(text, 'q', 300);
    text[300] = '\0';
    snprintf(json, sizeof(json), "{\"type\":\"chat\",\"text\":\"%s\"}", text);
    const char *msgs[] = {join, json};
    for (size_t m = 0; m < 2; m++) {
        size_t n;
        unsigned char *f = client_frame(FIN | FRAME_OP_TEXT, msgs[m], strlen(msgs[m]), &n);
        for (size_t i = 0; i < n; i++) {
            send_all(f + i, 1);
            for (int k = 0; k < 3; k++)
                pump();
        }
        free(f);
    }
    expect_msg("joined");
    json_t *o = expect_type("chat");
    assert_string_equal(json_string_value(json_object_get(o, "text")), text);
    json_decref(o);
    /* a 64-bit length in pieces of 7 bytes */
    char *big = malloc(70000 + 64);
    assert_non_null(big);
    int len = snprintf(big, 64, "{\"type\":\"chat\",\"text\":\"");
    memset(big + len, ' ', 70000 - (size_t)len - 10);
    len = 70000 - 10;
    len += snprintf(big + len, 64, "x\"}");
    size_t n;
    unsigned char *f = client_frame(FIN | FRAME_OP_TEXT, big, (size_t)len, &n);
    assert_int_equal(f[1] & 0x7f, 127);
    for (size_t i = 0; i < n; i += 7) {
        send_all(f + i, n - i < 7 ? n - i : 7);
        if (i % 700 == 0)
            pump();
    }
    free(f);
    free(big);
    o = expect_type("chat");
    assert_string_equal(json_string_value(json_object_get(o, "text")), "x"); /* trimmed */
    json_decref(o);
    expect_quiet();
}

#define FLOOD      300
#define FLOOD_TEXT 500

/* Sends n chats of FLOOD_TEXT bytes ("<i>:qqq...") without reading, the loop turning after each. */
static void flood(int n)
{
    char *buf = malloc(FLOOD_TEXT + 64);
    assert_non_null(buf);
    for (int i = 0; i < n; i++) {
        int len = snprintf(buf, 64, "{\"type\":\"chat\",\"text\":\"%d:", i + 1);
        memset(buf + len, 'q', FLOOD_TEXT);
        len += FLOOD_TEXT;
        len += snprintf(buf + len, 8, "\"}");
        send_frame(FIN | FRAME_OP_TEXT, buf, (size_t)len);
        pump();
    }
    free(buf);
}

/* The frame just read is chat number i of the flood, whole, with seq i. */
static void check_flood_chat(int i)
{
    if (F.op != FRAME_OP_TEXT)
        fail_msg("opcode %d (%zu B) where chat %d was due", F.op, F.len, i);
    json_error_t err;
    json_t *o = json_loadb(F.data, F.len, 0, &err);
    if (!o)
        fail_msg("chat %d: not JSON (a frame cut short?): %.80s", i, F.data);
    const char *text = json_string_value(json_object_get(o, "text"));
    int k = 0;
    if (!text || sscanf(text, "%d:", &k) != 1 || k != i ||
        json_integer_value(json_object_get(o, "seq")) != i)
        fail_msg("chat %d due, got %.80s", i, F.data);
    assert_int_equal(strlen(text), strcspn(text, ":") + 1 + FLOOD_TEXT);
    json_decref(o);
}

static void expect_flood_chat(int i)
{
    next_frame();
    check_flood_chat(i);
}

/* With small socket buffers and a client that does not read, the server queues and writes in
 * pieces: every frame arrives whole and in order, and a ping sent while the queue is backed up is
 * answered after the frames queued before it. */
static void test_partial_writes_keep_order(void **state)
{
    (void)state;
    open_fx(&default_limits, 4096, 4096);
    expect_msg("hello");
    send_text("{\"type\":\"join\",\"room\":\"r\"}");
    expect_msg("joined");
    unsigned long long before = atomic_load(&F.ctr.msgs_out);
    flood(FLOOD);
    wait_received(1 + FLOOD);
    /* the precondition of this test: the socket did not take everything */
    unsigned long long sent = atomic_load(&F.ctr.msgs_out) - before;
    if (sent >= FLOOD)
        fail_msg("the socket took all %d chats: the queue never backed up", FLOOD);
    send_frame(FIN | FRAME_OP_PING, "late", 4);
    pump();
    for (int i = 1; i <= FLOOD; i++)
        expect_flood_chat(i);
    expect_op(FRAME_OP_PONG, "late", 4);
    expect_quiet();
    assert_int_equal(atomic_load(&F.ctr.msgs_out) - before, FLOOD + 1);
    /* and the connection is still fine */
    send_close(1000, "");
    expect_close(1000, NULL);
    expect_eof();
    client_goes();
}

/* The queue limit is hit while the socket is backed up: the connection gets whole frames (a
 * frame partly written is completed), then a close 1008, then EOF. */
static void test_queue_overflow(void **state)
{
    struct conn_limits lim = default_limits;
    (void)state;

    lim.queue_msgs = 16;
    open_fx(&lim, 4096, 4096);
    expect_msg("hello");
    send_text("{\"type\":\"join\",\"room\":\"r\"}");
    expect_msg("joined");
    flood(FLOOD);
    settle(); /* the server stops counting what it reads once its close is queued */
    int got = 0;
    for (;;) {
        int op = next_frame();
        if (op == FRAME_OP_CLOSE)
            break;
        check_flood_chat(++got);
        assert_true(got < FLOOD);
    }
    assert_true(F.len >= 2);
    assert_int_equal(((unsigned)(unsigned char)F.data[0] << 8) | (unsigned char)F.data[1], 1008);
    assert_string_equal(F.data + 2, "send queue overflow");
    assert_true(got >= 1);
    expect_eof();
    assert_int_equal(closes_with("1008"), 1);
    client_goes();
}

static void test_close_handshake(void **state)
{
    (void)state;
    open_fx(&default_limits, 0, 0);
    expect_msg("hello");
    send_close(1000, "bye");
    expect_close(1000, "");
    expect_eof();
    assert_int_equal(closes_with("1000"), 1);
    /* the session is gone from the hub once the close is queued */
    struct hub_stats st;
    hub_get_stats(F.hub, &st);
    assert_int_equal(st.sessions, 0);
    client_goes();
}

static void test_close_empty_and_after(void **state)
{
    (void)state;
    open_fx(&default_limits, 0, 0);
    expect_msg("hello");
    /* an empty close is echoed empty; what follows it is discarded */
    size_t n1, n2;
    unsigned char *a = client_frame(FIN | FRAME_OP_CLOSE, NULL, 0, &n1);
    unsigned char *b = client_frame(FIN | FRAME_OP_PING, "no", 2, &n2);
    unsigned char all[32];
    memcpy(all, a, n1);
    memcpy(all + n1, b, n2);
    free(a);
    free(b);
    send_all(all, n1 + n2);
    expect_close(0, NULL);
    expect_eof();
    assert_int_equal(closes_with("other"), 1);
    client_goes();
}

/* A graceful stop: the close goes after everything already queued. */
static void test_close_all(void **state)
{
    (void)state;
    open_fx(&default_limits, 4096, 4096);
    expect_msg("hello");
    send_text("{\"type\":\"join\",\"room\":\"r\"}");
    expect_msg("joined");
    flood(FLOOD / 2);
    wait_received(1 + FLOOD / 2);
    conn_close_all(&F.cs, FRAME_CLOSE_GOING_AWAY, "server shutting down");
    conn_flush(&F.cs);
    for (int i = 1; i <= FLOOD / 2; i++)
        expect_flood_chat(i);
    expect_close(1001, "server shutting down");
    expect_eof();
    client_goes();
}

static void test_unmasked_frame_1002(void **state)
{
    (void)state;
    open_fx(&default_limits, 0, 0);
    expect_msg("hello");
    static const unsigned char unmasked[] = {0x81, 0x02, 'h', 'i'};
    send_all(unmasked, sizeof(unmasked));
    expect_close(1002, "client frame not masked");
    expect_eof();
    assert_int_equal(closes_with("1002"), 1);
    client_goes();
}

static void test_bad_frames(void **state)
{
    static const struct {
        unsigned char hdr[14];
        size_t len;
        unsigned code;
    } cases[] = {
        {{0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}, 14, 1002}, /* length top bit */
        {{0x81, 0xfe, 0x10, 0x00, 1, 2, 3, 4}, 8, 1009},                 /* 4096 > 1000 */
        {{0x89, 0xfe, 0x00, 0x7e, 1, 2, 3, 4}, 8, 1002},                 /* ping of 126 */
        {{0x09, 0x80, 1, 2, 3, 4}, 6, 1002},                             /* fragmented ping */
        {{0x83, 0x80, 1, 2, 3, 4}, 6, 1002},                             /* reserved opcode */
        {{0x80, 0x80, 1, 2, 3, 4}, 6, 1002},                             /* lone continuation */
        {{0xc1, 0x80, 1, 2, 3, 4}, 6, 1002},                             /* RSV1 */
    };
    struct conn_limits lim = default_limits;
    (void)state;

    lim.max_message = 1000;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        open_fx(&lim, 0, 0);
        expect_msg("hello");
        /* refused at the header: no payload needed */
        send_all(cases[i].hdr, cases[i].len);
        expect_close(cases[i].code, NULL);
        expect_eof();
        client_goes();
        end(NULL);
    }
}

/* Stall tests use a short stall_ms and sweep times within CONN_LINGER_MS of the loop's clock,
 * as the loop's timer does (it passes uv_now). */
#define STALL_MS 500

/* A frame begun and not finished within stall_ms closes the connection with 1008. */
static void test_stall_half_frame(void **state)
{
    struct conn_limits lim = default_limits;
    (void)state;

    lim.stall_ms = STALL_MS;
    open_fx(&lim, 0, 0);
    expect_msg("hello");
    size_t n;
    unsigned char *f = client_frame(FIN | FRAME_OP_TEXT, "{\"type\":\"list\"}", 15, &n);
    send_all(f, 10); /* the header and half the payload */
    free(f);
    settle();
    uint64_t now = uv_now(&F.uv);
    conn_sweep(&F.cs, now, false);
    conn_flush(&F.cs);
    expect_quiet();
    conn_sweep(&F.cs, now + STALL_MS + 100, false);
    conn_flush(&F.cs);
    expect_close(1008, "frame timeout");
    expect_eof();
    assert_int_equal(closes_with("1008"), 1);
    client_goes();
}

static void test_stall_half_header(void **state)
{
    struct conn_limits lim = default_limits;
    (void)state;

    lim.stall_ms = STALL_MS;
    open_fx(&lim, 0, 0);
    expect_msg("hello");
    send_all("\x81\xfe\x01", 3); /* inside the 16-bit length */
    settle();
    conn_sweep(&F.cs, uv_now(&F.uv) + STALL_MS + 100, false);
    conn_flush(&F.cs);
    expect_close(1008, "frame timeout");
    expect_eof();
    client_goes();
}

/* The stall is measured from the frame's start, not from its last byte: a frame that trickles in
 * is closed all the same. */
static void test_stall_trickle(void **state)
{
    struct conn_limits lim = default_limits;
    (void)state;

    lim.stall_ms = STALL_MS;
    open_fx(&lim, 0, 0);
    expect_msg("hello");
    size_t n;
    unsigned char *f = client_frame(FIN | FRAME_OP_TEXT, "{\"type\":\"list\"}", 15, &n);
    uint64_t start = uv_now(&F.uv);
    send_all(f, 4);
    settle();
    conn_sweep(&F.cs, start + STALL_MS / 2, false);
    send_all(f + 4, 4);
    settle();
    free(f);
    conn_sweep(&F.cs, uv_now(&F.uv) + STALL_MS + 100, false);
    conn_flush(&F.cs);
    expect_close(1008, "frame timeout");
    expect_eof();
    client_goes();
}

/* A sweep whose now lies past the linger deadline of the close it queues (now far ahead of
 * uv_now): the 1008 must still go out before the connection is dropped. Fails: queue_close takes
 * the linger deadline from uv_now() while the same conn_sweep compares it with its now argument,
 * so the connection is hard-closed in the same call and the peer sees EOF without a close frame. */
static void test_stall_far_future_sweep(void **state)
{
    (void)state;
    open_fx(&default_limits, 0, 0);
    expect_msg("hello");
    send_all("\x81\x85", 2);
    settle();
    conn_sweep(&F.cs, uv_now(&F.uv) + 10 * default_limits.stall_ms, false);
    conn_flush(&F.cs);
    expect_close(1008, "frame timeout");
    expect_eof();
    client_goes();
}

/* Between frames a connection may stay silent as long as it likes (keep-alive is another timer). */
static void test_idle_between_frames_not_stalled(void **state)
{
    (void)state;
    open_fx(&default_limits, 0, 0);
    expect_msg("hello");
    send_frame(FIN | FRAME_OP_PING, "a", 1);
    expect_op(FRAME_OP_PONG, "a", 1);
    /* a frame that came in pieces, then completed */
    size_t n;
    unsigned char *f = client_frame(FIN | FRAME_OP_PING, "bb", 2, &n);
    send_all(f, 3);
    for (int i = 0; i < 10; i++)
        pump();
    send_all(f + 3, n - 3);
    free(f);
    expect_op(FRAME_OP_PONG, "bb", 2);
    conn_sweep(&F.cs, uv_now(&F.uv) + 100 * default_limits.stall_ms, true);
    conn_flush(&F.cs);
    expect_quiet();
    send_frame(FIN | FRAME_OP_PING, "c", 1);
    expect_op(FRAME_OP_PONG, "c", 1);
}

/* Keep-alive: a ping after ping_ms of silence, a close 1001 after CONN_IDLE_PINGS intervals. */
static void test_keepalive(void **state)
{
    struct conn_limits lim = default_limits;
    (void)state;

    lim.ping_ms = 500; /* CONN_IDLE_PINGS intervals stay within CONN_LINGER_MS of uv_now */
    open_fx(&lim, 0, 0);
    expect_msg("hello");
    uint64_t base = uv_now(&F.uv);
    conn_sweep(&F.cs, base + 500, true);
    conn_flush(&F.cs);
    expect_op(FRAME_OP_PING, "huddle", 6);
    /* the next ping is due one interval later; a sweep without keep-alive does nothing */
    conn_sweep(&F.cs, base + 700, true);
    conn_sweep(&F.cs, base + 1400, false);
    conn_flush(&F.cs);
    expect_quiet();
    conn_sweep(&F.cs, base + CONN_IDLE_PINGS * 500 + 100, true);
    conn_flush(&F.cs);
    expect_close(1001, "idle timeout");
    expect_eof();
    assert_int_equal(closes_with("1001"), 1);
    client_goes();
}

/* Anything from the client counts as a sign of life: a pong resets the silence. */
static void test_keepalive_pong_keeps_alive(void **state)
{
    struct conn_limits lim = default_limits;
    (void)state;

    lim.ping_ms = 500;
    open_fx(&lim, 0, 0);
    expect_msg("hello");
    uint64_t base = uv_now(&F.uv);
    conn_sweep(&F.cs, base + 500, true);
    conn_flush(&F.cs);
    expect_op(FRAME_OP_PING, "huddle", 6);
    send_frame(FIN | FRAME_OP_PONG, "huddle", 6);
    settle();
    uint64_t rx = uv_now(&F.uv);
    conn_sweep(&F.cs, rx + 400, true);
    conn_flush(&F.cs);
    expect_quiet();
}

/* The peer vanishes in the middle of a frame: the connection ends without a close frame. */
static void test_peer_eof_mid_frame(void **state)
{
    (void)state;
    open_fx(&default_limits, 0, 0);
    expect_msg("hello");
    send_text("{\"type\":\"join\",\"room\":\"r\"}");
    expect_msg("joined");
    send_all("\x81\x85", 2);
    pump();
    client_goes();
    assert_int_equal(closes_with("1006"), 1);
}

/* A lingering close ends at its deadline when the peer never closes its end. */
static void test_linger_deadline(void **state)
{
    (void)state;
    open_fx(&default_limits, 0, 0);
    expect_msg("hello");
    send_close(1000, "");
    expect_close(1000, NULL);
    expect_eof();
    assert_int_equal(F.cs.count, 1); /* waiting for our EOF */
    conn_sweep(&F.cs, uv_now(&F.uv) + CONN_LINGER_MS + 1000, false);
    conn_flush(&F.cs);
    assert_int_equal(F.cs.count, 0);
    uv_run(&F.uv, UV_RUN_NOWAIT);
    assert_int_equal(atomic_load(&F.ctr.open), 0);
}

#define T(name) cmocka_unit_test_teardown(name, end)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_hello_on_open),
        T(test_ping_and_messages),
        T(test_header_then_payload_apart),
        T(test_one_byte_at_a_time),
        T(test_partial_writes_keep_order),
        T(test_queue_overflow),
        T(test_close_handshake),
        T(test_close_empty_and_after),
        T(test_close_all),
        T(test_unmasked_frame_1002),
        T(test_bad_frames),
        T(test_stall_half_frame),
        T(test_stall_half_header),
        T(test_stall_trickle),
        T(test_stall_far_future_sweep),
        T(test_idle_between_frames_not_stalled),
        T(test_keepalive),
        T(test_keepalive_pong_keeps_alive),
        T(test_peer_eof_mid_frame),
        T(test_linger_deadline),
    };

    log_set_level(LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
