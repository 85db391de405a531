/* SPDX-License-Identifier: MIT */
/* The /metrics text (see metrics.h): one HELP/TYPE/value block per metric, then the labelled
 * families (errors by code, closes by code). */
#include "metrics.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "proto.h"

/* Appends printf output to a growing heap buffer. */
struct sbuf {
    char *s;
    size_t len, cap;
    bool oom;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int n = b->s ? vsnprintf(b->s + b->len, room, fmt, ap) : -1;
        va_end(ap);
        if (n >= 0 && (size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (n >= 0 && cap - b->len <= (size_t)n)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->oom = true;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

static void metric(struct sbuf *b, const char *name, const char *type, const char *help,
                   unsigned long long value)
{
    sb_printf(b, "# HELP huddle_%s %s\n# TYPE huddle_%s %s\nhuddle_%s %llu\n", name, help, name,
              type, name, value);
}

char *metrics_text(const struct hub_stats *hs, const struct ws_stats *wst,
                   const struct metrics_http *http)
{
    struct sbuf b = {0};
    sb_printf(&b,
              "# HELP huddle_build_info Build information.\n# TYPE huddle_build_info gauge\n"
              "huddle_build_info{version=\"%s\"} 1\n",
              HUDDLE_VERSION);
    metric(&b, "websocket_sessions", "gauge", "Open WebSocket sessions.", wst->open);
    metric(&b, "websocket_tls_sessions", "gauge", "Open WebSocket sessions over TLS.",
           wst->tls_open);
    metric(&b, "websocket_adopt_failed_total", "counter",
           "Plain WebSockets the event loop could not take over (closed with 1011).",
           wst->adopt_failed);
    metric(&b, "hub_sessions", "gauge", "Sessions known to the hub.", hs->sessions);
    metric(&b, "rooms", "gauge", "Open rooms.", hs->rooms);
    metric(&b, "room_members", "gauge", "Sessions in a room.", hs->members);
    metric(&b, "websocket_accepted_total", "counter", "WebSocket sessions accepted.",
           wst->accepted);
    metric(&b, "websocket_refused_total", "counter",
           "WebSocket upgrades refused because the server was full.", wst->refused_full);
    metric(&b, "websocket_refused_ip_total", "counter",
           "WebSocket upgrades refused for max_connections_per_ip.", wst->refused_ip);
    metric(&b, "http_connections", "gauge", "Open HTTP connections counted per address.",
           http->open);
    metric(&b, "http_refused_ip_total", "counter",
           "HTTP connections refused for max_http_connections_per_ip.", http->refused);
    metric(&b, "sessions_detached", "gauge", "Sessions whose connection dropped, kept for resume.",
           hs->detached);
    metric(&b, "flood_closes_total", "counter", "Sessions closed for flooding past the rate limit.",
           hs->floods);
    metric(&b, "websocket_refused_origin_total", "counter",
           "WebSocket upgrades refused for their Origin.", wst->refused_origin);
    metric(&b, "messages_in_total", "counter", "Messages received.", wst->msgs_in);
    metric(&b, "bytes_in_total", "counter", "Message payload bytes received.", wst->bytes_in);
    metric(&b, "messages_out_total", "counter", "Frames sent.", wst->msgs_out);
    metric(&b, "bytes_out_total", "counter", "Frame payload bytes sent.", wst->bytes_out);
    metric(&b, "chat_messages_total", "counter", "Chat messages broadcast.", hs->chats);
    metric(&b, "signals_total", "counter", "Signaling messages relayed.", hs->signals);
    metric(&b, "queue_overflows_total", "counter", "Sessions closed for a full send queue.",
           hs->overflows);
    sb_printf(&b, "# HELP huddle_errors_total Protocol errors sent.\n"
                  "# TYPE huddle_errors_total counter\n");
    for (int e = 1; e < PROTO_ERR_COUNT; e++)
        sb_printf(&b, "huddle_errors_total{code=\"%s\"} %llu\n", proto_error_code(e),
                  (unsigned long long)hs->error_by_code[e]);
    sb_printf(&b, "# HELP huddle_closes_total WebSocket sessions ended, by close code.\n"
                  "# TYPE huddle_closes_total counter\n");
    for (unsigned i = 0; ws_close_code_label(i); i++)
        sb_printf(&b, "huddle_closes_total{code=\"%s\"} %llu\n", ws_close_code_label(i),
                  wst->closes[i]);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}
