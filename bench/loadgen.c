/* SPDX-License-Identifier: MIT */
/* Load generator for bench/pinned.sh: one thread, one epoll loop, many WebSocket clients. The
 * WebSocket client is hand-written and minimal, which is fine for a load generator and nothing
 * else: a fixed Sec-WebSocket-Key (the 101 status is checked, Sec-WebSocket-Accept is not),
 * masked unfragmented text frames out, unmasked unfragmented server frames in (ping answered with
 * pong, close and fragmented frames counted as errors), and just enough JSON scanning to find a
 * message's "type", "text" and "seq". Prints one line of key=value results on stdout.
 *
 *   loadgen --mode chat|fanout|connect|idle --port N [--pid SERVER_PID] [--conns N]
 *           [--rate R] [--seconds S] [--warmup S] [--members M] [--timeout S]
 *
 * chat:    --conns connections, each alone in its own room, one chat in flight per connection.
 * fanout:  --members connections in one room; connection 0 sends --rate chats/s.
 * connect: --conns connections opened at --rate/s; handshake = connect() to the hello.
 * idle:    like connect, then each joins a room of 8 and the sessions are held; server RSS.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum mode { MODE_CHAT, MODE_FANOUT, MODE_CONNECT, MODE_IDLE };

enum conn_state {
    ST_NONE,       /* not opened yet */
    ST_CONNECTING, /* TCP connect in progress */
    ST_UPGRADE,    /* request sent, waiting for the 101 */
    ST_HELLO,      /* upgraded, waiting for hello */
    ST_JOINING,    /* join sent */
    ST_READY,      /* hello seen (connect) or joined (others) */
    ST_CLOSED,
};

#define MAX_SAMPLES   (4u << 20)
#define MAX_EVENTS    256
#define MAX_FANOUT    100000
#define IDLE_ROOM     8
#define CHUNK         65536
#define NS_PER_SEC    1000000000ull
#define MAX_ERR_PRINT 5

struct conn {
    int fd;
    int idx;
    enum conn_state state;
    bool want_out;
    uint64_t t_connect;
    uint64_t t_sent;   /* chat: send time of the chat in flight, 0 when none */
    uint32_t inflight; /* chat: number carried by the chat in flight */
    int64_t last_seq;  /* fanout: last seq seen, -1 before the first */
    uint64_t received; /* fanout: chats received from this run's sender */
    uint32_t mask;
    char *rbuf;
    size_t rlen, rcap;
    char *wbuf;
    size_t wlen, wcap;
};

struct samples {
    uint64_t *v;
    size_t n;
};

static struct {
    enum mode mode;
    int port;
    int pid;
    int conns;
    double rate;
    double seconds;
    double warmup;
    int members;
    double timeout;
} opt = {MODE_CHAT, 0, 0, 1, 2000, 5, 1, 50, 60};

static struct {
    int ep;
    struct conn *c;
    int nconn;
    int opened;
    int inflight_connects;
    int ready;
    uint64_t t_start;
    uint64_t err_reply, err_order, err_closed, err_missing;
    int err_printed;
    struct samples lat;       /* chat RTTs, fanout deliveries, handshakes (ns) */
    uint64_t win_t0, win_t1;  /* measured window, ns (0: not started) */
    uint64_t msgs_in_window;  /* chat echoes / fanout deliveries counted */
    uint64_t *fan_sent;       /* fanout: send time of chat k */
    uint32_t fan_next;        /* fanout: next k to send */
    uint32_t fan_first_in_w;  /* fanout: first k sent in the window */
    uint32_t fan_last_in_w;   /* fanout: one past the last k sent in the window */
    uint64_t first_connect_t; /* connect/idle: first connect() */
    uint64_t last_hello_t;    /* connect/idle: last hello */
} g;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p)
        die("realloc");
    return p;
}

static void note_error(uint64_t *counter, const struct conn *c, const char *what, const char *p,
                       size_t n)
{
    (*counter)++;
    if (g.err_printed++ < MAX_ERR_PRINT)
        fprintf(stderr, "loadgen: conn %d: %s: %.*s\n", c ? c->idx : -1, what,
                (int)(n > 200 ? 200 : n), p ? p : "");
}

static void sample_add(uint64_t v)
{
    if (g.lat.n < MAX_SAMPLES)
        g.lat.v[g.lat.n++] = v;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of the sorted samples, in microseconds; -1 without samples. */
static double pct_us(double p)
{
    if (!g.lat.n)
        return -1;
    size_t i = (size_t)(p * (double)g.lat.n + 0.999999);
    i = i ? i - 1 : 0;
    if (i >= g.lat.n)
        i = g.lat.n - 1;
    return (double)g.lat.v[i] / 1000.0;
}

/* Server utime + stime in microseconds from /proc/PID/stat; 0 without --pid. */
static uint64_t server_cpu_us(void)
{
    char path[64], buf[1024];
    if (!opt.pid)
        return 0;
    snprintf(path, sizeof path, "/proc/%d/stat", opt.pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return 0;
    return (ut + st) * 1000000ull / (uint64_t)sysconf(_SC_CLK_TCK);
}

/* Server VmRSS in KiB from /proc/PID/status; 0 without --pid. */
static uint64_t server_rss_kib(void)
{
    char path[64], line[256];
    unsigned long long kib = 0;
    if (!opt.pid)
        return 0;
    snprintf(path, sizeof path, "/proc/%d/status", opt.pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %llu", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

static uint64_t self_cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000ull +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static void watch(struct conn *c, bool out)
{
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
    if (epoll_ctl(g.ep, EPOLL_CTL_MOD, c->fd, &ev) < 0)
        die("epoll_ctl");
    c->want_out = out;
}

static void conn_close(struct conn *c)
{
    if (c->state == ST_CLOSED || c->state == ST_NONE)
        return;
    if (c->state == ST_READY)
        g.ready--;
    if (c->state == ST_CONNECTING || c->state == ST_UPGRADE || c->state == ST_HELLO)
        g.inflight_connects--;
    close(c->fd);
    c->fd = -1;
    c->state = ST_CLOSED;
}

static void conn_fail(struct conn *c, const char *what, const char *p, size_t n)
{
    note_error(&g.err_closed, c, what, p, n);
    conn_close(c);
}

/* Writes what is queued; keeps the rest and asks for EPOLLOUT. */
static void conn_flush(struct conn *c)
{
    size_t off = 0;
    while (off < c->wlen) {
        ssize_t w = send(c->fd, c->wbuf + off, c->wlen - off, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN)
                break;
            if (errno == EINTR)
                continue;
            conn_fail(c, "send", strerror(errno), strlen(strerror(errno)));
            return;
        }
        off += (size_t)w;
    }
    memmove(c->wbuf, c->wbuf + off, c->wlen - off);
    c->wlen -= off;
    if ((c->wlen > 0) != c->want_out)
        watch(c, c->wlen > 0);
}

static char *wreserve(struct conn *c, size_t n)
{
    if (c->wlen + n > c->wcap) {
        c->wcap = (c->wlen + n) * 2;
        c->wbuf = xrealloc(c->wbuf, c->wcap);
    }
    return c->wbuf + c->wlen;
}

/* Queues one masked frame (client frames must be masked) and tries to write it. */
static void send_frame(struct conn *c, int opcode, const char *p, size_t n)
{
    char *h = wreserve(c, n + 14);
    size_t hl = 2;
    h[0] = (char)(0x80 | opcode);
    if (n < 126) {
        h[1] = (char)(0x80 | n);
    } else if (n < 65536) {
        h[1] = (char)(0x80 | 126);
        h[2] = (char)(n >> 8);
        h[3] = (char)n;
        hl = 4;
    } else {
        h[1] = (char)(0x80 | 127);
        for (int i = 0; i < 8; i++)
            h[2 + i] = (char)((uint64_t)n >> (56 - 8 * i));
        hl = 10;
    }
    c->mask = c->mask * 1103515245u + 12345u;
    unsigned char key[4] = {(unsigned char)(c->mask >> 24), (unsigned char)(c->mask >> 16),
                            (unsigned char)(c->mask >> 8), (unsigned char)c->mask};
    memcpy(h + hl, key, 4);
    hl += 4;
    for (size_t i = 0; i < n; i++)
        h[hl + i] = (char)(p[i] ^ key[i & 3]);
    c->wlen += hl + n;
    conn_flush(c);
}

static void send_text(struct conn *c, const char *s)
{
    send_frame(c, 1, s, strlen(s));
}

/* Finds "key": in a JSON object's text and returns a pointer just past the colon and spaces. */
static const char *json_find(const char *p, size_t n, const char *key)
{
    char pat[32];
    int pl = snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *q = memmem(p, n, pat, (size_t)pl);
    if (!q)
        return NULL;
    const char *end = p + n;
    q += pl;
    while (q < end && (*q == ' ' || *q == ':'))
        q++;
    return q < end ? q : NULL;
}

/* True when field key is the string want. */
static bool json_str_is(const char *p, size_t n, const char *key, const char *want)
{
    const char *q = json_find(p, n, key);
    size_t wl = strlen(want);
    return q && *q == '"' && (size_t)(p + n - q) > wl + 1 && memcmp(q + 1, want, wl) == 0 &&
           q[1 + wl] == '"';
}

/* Reads the integer at field key, or after the one-letter prefix of a string field (texts are
 * "k123" / "f123"); -1 when absent. */
static int64_t json_num(const char *p, size_t n, const char *key, char prefix)
{
    const char *q = json_find(p, n, key);
    const char *end = p + n;
    if (!q)
        return -1;
    if (prefix) {
        if (end - q < 3 || q[0] != '"' || q[1] != prefix)
            return -1;
        q += 2;
    }
    int64_t v = 0;
    bool any = false;
    while (q < end && *q >= '0' && *q <= '9') {
        v = v * 10 + (*q++ - '0');
        any = true;
    }
    return any ? v : -1;
}

static void send_chat(struct conn *c)
{
    char buf[64];
    c->inflight++;
    snprintf(buf, sizeof buf, "{\"type\":\"chat\",\"text\":\"k%" PRIu32 "\"}", c->inflight);
    c->t_sent = now_ns();
    send_text(c, buf);
}

static void send_join(struct conn *c)
{
    char buf[64];
    int room = opt.mode == MODE_CHAT ? c->idx : opt.mode == MODE_IDLE ? c->idx / IDLE_ROOM : 0;
    snprintf(buf, sizeof buf, "{\"type\":\"join\",\"room\":\"%c%d\"}",
             opt.mode == MODE_FANOUT ? 'f' : 'r', room);
    send_text(c, buf);
    c->state = ST_JOINING;
}

static bool measuring(uint64_t t)
{
    return g.win_t0 && t >= g.win_t0 && (!g.win_t1 || t < g.win_t1);
}

static void on_chat(struct conn *c, const char *p, size_t n, uint64_t t)
{
    if (opt.mode == MODE_CHAT) {
        int64_t k = json_num(p, n, "text", 'k');
        if (!c->t_sent || k != (int64_t)c->inflight) {
            note_error(&g.err_order, c, "unexpected echo", p, n);
            return;
        }
        if (measuring(t)) {
            sample_add(t - c->t_sent);
            g.msgs_in_window++;
        }
        c->t_sent = 0;
        if (!g.win_t1 || t < g.win_t1)
            send_chat(c);
        return;
    }
    if (opt.mode != MODE_FANOUT)
        return;
    int64_t seq = json_num(p, n, "seq", 0);
    int64_t k = json_num(p, n, "text", 'f');
    if (seq < 0 || k < 0 || (uint64_t)k >= g.fan_next ||
        (c->last_seq >= 0 && seq != c->last_seq + 1)) {
        note_error(&g.err_order, c, "missing or reordered chat", p, n);
    }
    c->last_seq = seq;
    if (k < 0 || (uint64_t)k >= g.fan_next)
        return;
    c->received++;
    if (k >= g.fan_first_in_w && k < g.fan_last_in_w) {
        sample_add(t - g.fan_sent[k]);
        g.msgs_in_window++;
    }
}

static void set_ready(struct conn *c)
{
    c->state = ST_READY;
    g.ready++;
}

static void on_message(struct conn *c, const char *p, size_t n)
{
    uint64_t t = now_ns();
    if (json_str_is(p, n, "type", "chat")) {
        on_chat(c, p, n, t);
    } else if (json_str_is(p, n, "type", "hello")) {
        if (c->state != ST_HELLO) {
            note_error(&g.err_order, c, "unexpected hello", p, n);
            return;
        }
        g.inflight_connects--;
        if (opt.mode == MODE_CONNECT || opt.mode == MODE_IDLE)
            sample_add(t - c->t_connect);
        g.last_hello_t = t;
        if (opt.mode == MODE_CONNECT)
            set_ready(c);
        else
            send_join(c);
    } else if (json_str_is(p, n, "type", "joined")) {
        if (c->state != ST_JOINING) {
            note_error(&g.err_order, c, "unexpected joined", p, n);
            return;
        }
        set_ready(c);
    } else if (json_str_is(p, n, "type", "error")) {
        note_error(&g.err_reply, c, "error reply", p, n);
        if (c->state == ST_JOINING)
            conn_close(c); /* room_full: this session takes no part */
    }
    /* welcome, bye, rooms: not part of any check */
}

/* Parses whole frames out of rbuf. Returns false when the connection was closed. */
static bool parse_frames(struct conn *c)
{
    size_t off = 0;
    bool alive = true;
    while (alive && c->rlen - off >= 2) {
        const unsigned char *h = (const unsigned char *)c->rbuf + off;
        size_t avail = c->rlen - off, hl = 2;
        uint64_t len = h[1] & 0x7f;
        if (h[1] & 0x80) {
            conn_fail(c, "masked server frame", NULL, 0);
            return false;
        }
        if (len == 126) {
            if (avail < 4)
                break;
            len = (uint64_t)h[2] << 8 | h[3];
            hl = 4;
        } else if (len == 127) {
            if (avail < 10)
                break;
            len = 0;
            for (int i = 0; i < 8; i++)
                len = len << 8 | h[2 + i];
            hl = 10;
        }
        if (avail - hl < len)
            break;
        const char *payload = (const char *)h + hl;
        int opcode = h[0] & 0x0f;
        if (!(h[0] & 0x80) || opcode == 0) {
            conn_fail(c, "fragmented server frame", NULL, 0);
            return false;
        } else if (opcode == 1 || opcode == 2) {
            on_message(c, payload, (size_t)len);
            alive = c->state != ST_CLOSED;
        } else if (opcode == 9) {
            send_frame(c, 10, payload, (size_t)len);
            alive = c->state != ST_CLOSED;
        } else if (opcode == 8) {
            conn_fail(c, "server closed", payload + (len > 2 ? 2 : len), len > 2 ? len - 2 : 0);
            return false;
        }
        off += hl + (size_t)len;
    }
    if (!alive)
        return false;
    memmove(c->rbuf, c->rbuf + off, c->rlen - off);
    c->rlen -= off;
    return true;
}

static void on_readable(struct conn *c)
{
    for (;;) {
        if (c->rcap - c->rlen < CHUNK) {
            c->rcap = c->rcap * 2 + CHUNK;
            c->rbuf = xrealloc(c->rbuf, c->rcap);
        }
        ssize_t r = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
        if (r == 0) {
            conn_fail(c, "server closed the TCP connection", NULL, 0);
            return;
        }
        if (r < 0) {
            if (errno == EAGAIN)
                return;
            if (errno == EINTR)
                continue;
            conn_fail(c, "recv", strerror(errno), strlen(strerror(errno)));
            return;
        }
        c->rlen += (size_t)r;
        if (c->state == ST_UPGRADE) {
            char *end = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
            if (!end)
                continue;
            if (c->rlen < 12 || memcmp(c->rbuf + 9, "101", 3) != 0) {
                conn_fail(c, "no 101", c->rbuf, (size_t)(end - c->rbuf));
                return;
            }
            size_t hl = (size_t)(end + 4 - c->rbuf);
            memmove(c->rbuf, c->rbuf + hl, c->rlen - hl);
            c->rlen -= hl;
            c->state = ST_HELLO;
        }
        if (!parse_frames(c))
            return;
    }
}

static void on_connected(struct conn *c)
{
    int err = 0;
    socklen_t el = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err) {
        conn_fail(c, "connect", strerror(err), strlen(strerror(err)));
        return;
    }
    char req[256];
    int n = snprintf(req, sizeof req,
                     "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     opt.port);
    c->state = ST_UPGRADE;
    memcpy(wreserve(c, (size_t)n), req, (size_t)n);
    c->wlen += (size_t)n;
    conn_flush(c);
}

static void conn_open(struct conn *c)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->t_connect = now_ns();
    if (!g.first_connect_t)
        g.first_connect_t = c->t_connect;
    g.opened++;
    g.inflight_connects++;
    c->state = ST_CONNECTING;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        c->state = ST_CLOSED;
        g.inflight_connects--;
        note_error(&g.err_closed, c, "socket", strerror(errno), strlen(strerror(errno)));
        return;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
    if (epoll_ctl(g.ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
        die("epoll_ctl add");
    c->want_out = true;
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS)
        conn_fail(c, "connect", strerror(errno), strlen(strerror(errno)));
}

static void on_event(struct conn *c, uint32_t events)
{
    if (c->state == ST_CLOSED)
        return;
    if (c->state == ST_CONNECTING) {
        if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            on_connected(c);
        return;
    }
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        on_readable(c);
    if (c->state != ST_CLOSED && (events & EPOLLOUT))
        conn_flush(c);
}

/* Runs the loop until done() or the deadline; step() runs once per iteration before waiting. */
static void loop(bool (*done)(uint64_t), void (*step)(uint64_t), uint64_t deadline)
{
    struct epoll_event ev[MAX_EVENTS];
    for (;;) {
        uint64_t t = now_ns();
        if (step)
            step(t);
        if (done(t) || t >= deadline)
            return;
        int n = epoll_wait(g.ep, ev, MAX_EVENTS, 1);
        if (n < 0 && errno != EINTR)
            die("epoll_wait");
        for (int i = 0; i < n; i++)
            on_event(ev[i].data.ptr, ev[i].events);
    }
}

/* Opens connections paced at opt.rate per second with at most max_inflight handshakes. */
static int max_inflight = 1000;
static double open_rate;
static void step_open(uint64_t t)
{
    static uint64_t t0;
    if (!t0)
        t0 = t;
    double due = (double)(t - t0) / 1e9 * open_rate + 1;
    while (g.opened < g.nconn && g.opened < due && g.inflight_connects < max_inflight)
        conn_open(&g.c[g.opened]);
}

static int count_state(enum conn_state s)
{
    int n = 0;
    for (int i = 0; i < g.nconn; i++)
        n += g.c[i].state == s;
    return n;
}

static bool done_setup(uint64_t t)
{
    (void)t;
    return g.opened == g.nconn && g.inflight_connects == 0 && count_state(ST_JOINING) == 0;
}

static bool done_never(uint64_t t)
{
    (void)t;
    return false;
}

static bool done_chat_drained(uint64_t t)
{
    (void)t;
    for (int i = 0; i < g.nconn; i++)
        if (g.c[i].state == ST_READY && g.c[i].t_sent)
            return false;
    return true;
}

static void step_fanout(uint64_t t)
{
    static uint64_t t_next;
    struct conn *s = &g.c[0];
    if (!t_next)
        t_next = t;
    if (s->state != ST_READY || (g.win_t1 && t >= g.win_t1) || g.fan_next >= MAX_FANOUT)
        return;
    while (t >= t_next && g.fan_next < MAX_FANOUT) {
        char buf[64];
        if (measuring(t) && g.fan_first_in_w == UINT32_MAX)
            g.fan_first_in_w = g.fan_next;
        snprintf(buf, sizeof buf, "{\"type\":\"chat\",\"text\":\"f%" PRIu32 "\"}", g.fan_next);
        g.fan_sent[g.fan_next++] = now_ns();
        if (measuring(t))
            g.fan_last_in_w = g.fan_next;
        send_text(s, buf);
        t_next += (uint64_t)(1e9 / opt.rate);
    }
}

static bool done_fanout_drained(uint64_t t)
{
    (void)t;
    for (int i = 0; i < g.nconn; i++)
        if (g.c[i].state == ST_READY && g.c[i].received < g.fan_next)
            return false;
    return true;
}

static uint64_t sec(double s)
{
    return (uint64_t)(s * 1e9);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: loadgen --mode chat|fanout|connect|idle --port N [--pid PID] [--conns N]"
            " [--rate R] [--seconds S] [--warmup S] [--members M] [--timeout S]\n");
    exit(2);
}

static void parse_args(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--mode")) {
            if (!strcmp(v, "chat"))
                opt.mode = MODE_CHAT;
            else if (!strcmp(v, "fanout"))
                opt.mode = MODE_FANOUT;
            else if (!strcmp(v, "connect"))
                opt.mode = MODE_CONNECT;
            else if (!strcmp(v, "idle"))
                opt.mode = MODE_IDLE;
            else
                usage();
        } else if (!strcmp(k, "--port")) {
            opt.port = atoi(v);
        } else if (!strcmp(k, "--pid")) {
            opt.pid = atoi(v);
        } else if (!strcmp(k, "--conns")) {
            opt.conns = atoi(v);
        } else if (!strcmp(k, "--rate")) {
            opt.rate = atof(v);
        } else if (!strcmp(k, "--seconds")) {
            opt.seconds = atof(v);
        } else if (!strcmp(k, "--warmup")) {
            opt.warmup = atof(v);
        } else if (!strcmp(k, "--members")) {
            opt.members = atoi(v);
        } else if (!strcmp(k, "--timeout")) {
            opt.timeout = atof(v);
        } else {
            usage();
        }
    }
    if (argc % 2 == 0 || opt.port <= 0 || opt.conns <= 0 || opt.members <= 0 || opt.rate <= 0)
        usage();
}

static uint64_t errors_total(void)
{
    return g.err_reply + g.err_order + g.err_closed + g.err_missing;
}

static void print_errors(void)
{
    printf(" errors=%" PRIu64 " err_reply=%" PRIu64 " err_order=%" PRIu64 " err_closed=%" PRIu64
           " err_missing=%" PRIu64 "\n",
           errors_total(), g.err_reply, g.err_order, g.err_closed, g.err_missing);
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    g.nconn = opt.mode == MODE_FANOUT ? opt.members : opt.conns;
    g.c = calloc((size_t)g.nconn, sizeof *g.c);
    g.lat.v = malloc(MAX_SAMPLES * sizeof *g.lat.v);
    g.fan_sent = calloc(MAX_FANOUT, sizeof *g.fan_sent);
    g.fan_first_in_w = UINT32_MAX;
    g.ep = epoll_create1(EPOLL_CLOEXEC);
    if (!g.c || !g.lat.v || !g.fan_sent || g.ep < 0)
        die("setup");
    for (int i = 0; i < g.nconn; i++) {
        g.c[i].idx = i;
        g.c[i].fd = -1;
        g.c[i].last_seq = -1;
        g.c[i].mask = 2654435761u * (uint32_t)(i + 1);
    }
    g.t_start = now_ns();
    uint64_t deadline = g.t_start + sec(opt.timeout);
    uint64_t rss0 = server_rss_kib(), cpu0 = server_cpu_us();

    /* Open (paced for connect/idle, all at once otherwise, at most 1000 handshakes in flight). */
    open_rate = opt.mode == MODE_CHAT || opt.mode == MODE_FANOUT ? 1e9 : opt.rate;
    loop(done_setup, step_open, deadline);
    uint64_t t_setup = now_ns();
    int ready = g.ready;
    /* never ready and never closed (a closed one counted an error already) */
    int64_t lost = (int64_t)(g.nconn - ready) - (int64_t)count_state(ST_CLOSED);
    g.err_missing += lost > 0 ? (uint64_t)lost : 0;

    if (opt.mode == MODE_CONNECT || opt.mode == MODE_IDLE) {
        uint64_t cpu1 = server_cpu_us();
        double span = (double)(g.last_hello_t - g.first_connect_t) / 1e9;
        qsort(g.lat.v, g.lat.n, sizeof *g.lat.v, cmp_u64);
        printf("sessions=%d handshakes=%zu hs_p50_us=%.0f hs_p99_us=%.0f rate_reached=%.0f "
               "cpu_us_per_conn=%.0f",
               ready, g.lat.n, pct_us(0.50), pct_us(0.99), span > 0 ? (double)g.lat.n / span : 0,
               ready ? (double)(cpu1 - cpu0) / ready : 0);
        if (opt.mode == MODE_IDLE) {
            loop(done_never, NULL, now_ns() + sec(1)); /* settle, then measure */
            uint64_t rss1 = server_rss_kib();
            loop(done_never, NULL, now_ns() + sec(opt.seconds)); /* hold */
            int held = count_state(ST_READY);
            printf(" held=%d rss_before_kib=%" PRIu64 " rss_after_kib=%" PRIu64
                   " rss_kib_per_session=%.2f",
                   held, rss0, rss1, held ? (double)(rss1 - rss0) / held : 0);
        }
        print_errors();
        return 0;
    }

    /* chat / fanout: warm-up, measured window, drain. */
    g.win_t0 = t_setup + sec(opt.warmup);
    uint64_t t1 = g.win_t0 + sec(opt.seconds);
    if (opt.mode == MODE_CHAT) {
        for (int i = 0; i < g.nconn; i++)
            if (g.c[i].state == ST_READY)
                send_chat(&g.c[i]);
    }
    void (*step)(uint64_t) = opt.mode == MODE_FANOUT ? step_fanout : NULL;
    loop(done_never, step, g.win_t0 < deadline ? g.win_t0 : deadline);
    uint64_t cpu_a = server_cpu_us(), self_a = self_cpu_us(), ta = now_ns();
    loop(done_never, step, t1 < deadline ? t1 : deadline);
    uint64_t cpu_b = server_cpu_us(), self_b = self_cpu_us(), tb = now_ns();
    g.win_t1 = tb;
    if (opt.mode == MODE_FANOUT && g.fan_first_in_w == UINT32_MAX)
        g.fan_first_in_w = g.fan_last_in_w = 0;
    loop(opt.mode == MODE_CHAT ? done_chat_drained : done_fanout_drained, NULL, now_ns() + sec(2));

    int held = count_state(ST_READY);
    if (opt.mode == MODE_CHAT) {
        for (int i = 0; i < g.nconn; i++)
            if (g.c[i].state == ST_READY && g.c[i].t_sent)
                note_error(&g.err_missing, &g.c[i], "echo never came", NULL, 0);
    } else {
        for (int i = 0; i < g.nconn; i++)
            if (g.c[i].state == ST_READY)
                g.err_missing += g.fan_next - g.c[i].received;
    }
    double win = (double)(tb - ta) / 1e9;
    qsort(g.lat.v, g.lat.n, sizeof *g.lat.v, cmp_u64);
    printf("sessions=%d held=%d window_s=%.2f msgs=%" PRIu64 " msgs_per_s=%.0f p50_us=%.1f "
           "p95_us=%.1f p99_us=%.1f cpu_us_per_msg=%.2f server_cpu_pct=%.0f gen_cpu_pct=%.0f",
           ready, held, win, g.msgs_in_window, (double)g.msgs_in_window / win, pct_us(0.50),
           pct_us(0.95), pct_us(0.99),
           g.msgs_in_window ? (double)(cpu_b - cpu_a) / (double)g.msgs_in_window : 0,
           (double)(cpu_b - cpu_a) / 1e4 / win, (double)(self_b - self_a) / 1e4 / win);
    if (opt.mode == MODE_FANOUT)
        printf(" sent=%" PRIu32, g.fan_next);
    print_errors();
    return 0;
}
