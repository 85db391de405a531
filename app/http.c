/* SPDX-License-Identifier: MIT */
/* CivetWeb set-up (see http.h). Directory listing, CGI and SSI are off, dotfiles answer 404, and
 * static responses carry a strict Content-Security-Policy (the page has no inline code). */
#include "http.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acceptgate.h"
#include "adopt.h"
#include "httpcheck.h"
#include "log.h"
#include "proto.h"
#include "tls.h"

#define HTTP_MAX_OPTIONS 64

struct http_server {
    struct mg_context *ctx;
    const struct config *cfg;
    struct loop *lp;
    struct ws_server *ws;
    struct iplimit *ipl;
    int port, ssl_port;
    char *listening; /* listening_ports option string */
    char *threads;
    char *header_timeout;
};

static const char security_headers[] =
    "X-Content-Type-Options: nosniff\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "Content-Security-Policy: default-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "media-src 'self' blob:; style-src 'self'; script-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'";

static void reply(struct mg_connection *conn, int status, const char *type, const char *body)
{
    size_t len = strlen(body);
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
              "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n\r\n",
              status, mg_get_response_code_text(conn, status), type, len);
    const struct mg_request_info *ri = mg_get_request_info(conn);
    if (!ri || strcmp(ri->request_method, "HEAD"))
        mg_write(conn, body, len);
}

static bool method_ok(struct mg_connection *conn)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    if (!strcmp(ri->request_method, "GET") || !strcmp(ri->request_method, "HEAD"))
        return true;
    mg_printf(conn, "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\n"
                    "Content-Length: 0\r\n\r\n");
    return false;
}

static int on_healthz(struct mg_connection *conn, void *cbdata)
{
    if (method_ok(conn))
        reply(conn, 200, "application/json", "{\"status\":\"ok\"}");
    return 200;
}

/* Answers 200 with body (heap JSON, freed here), or 500 when it is NULL (out of memory). */
static int reply_json(struct mg_connection *conn, char *body)
{
    if (!body) {
        reply(conn, 500, "text/plain", "out of memory\n");
        return 500;
    }
    reply(conn, 200, "application/json", body);
    free(body);
    return 200;
}

/* Reads of hub state run on the loop that owns it (loop_call): a short task between its reads. */
struct hub_read {
    struct loop_task task;
    char *rooms_json;        /* rooms: heap JSON */
    struct hub_stats *stats; /* stats: filled when not NULL */
};

static void run_hub_read(struct loop *lp, struct loop_task *t)
{
    struct hub_read *r = (struct hub_read *)t;
    if (r->stats)
        hub_get_stats(loop_hub(lp), r->stats);
    else
        r->rooms_json = hub_rooms_json(loop_hub(lp));
}

static int on_rooms(struct mg_connection *conn, void *cbdata)
{
    struct http_server *srv = cbdata;
    struct hub_read r = {.task.run = run_hub_read};
    if (!method_ok(conn))
        return 405;
    if (loop_call(srv->lp, &r.task) < 0) {
        reply(conn, 503, "text/plain", "shutting down\n");
        return 503;
    }
    return reply_json(conn, r.rooms_json);
}

static int on_config(struct mg_connection *conn, void *cbdata)
{
    struct http_server *srv = cbdata;
    const struct config *cfg = srv->cfg;
    if (!method_ok(conn))
        return 405;
    return reply_json(conn,
                      proto_config_json(cfg->ice_servers, cfg->turn_username, cfg->turn_credential,
                                        (unsigned)cfg->max_room_members, cfg->max_message_bytes));
}

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

static int on_metrics(struct mg_connection *conn, void *cbdata)
{
    struct http_server *srv = cbdata;
    struct sbuf b = {0};
    struct hub_stats hs;
    struct ws_stats wst;
    struct hub_read r = {.task.run = run_hub_read, .stats = &hs};
    if (!method_ok(conn))
        return 405;
    memset(&hs, 0, sizeof(hs));
    if (loop_call(srv->lp, &r.task) < 0) {
        reply(conn, 503, "text/plain", "shutting down\n");
        return 503;
    }
    ws_get_stats(srv->ws, &wst);
    sb_printf(&b,
              "# HELP huddle_build_info Build information.\n# TYPE huddle_build_info gauge\n"
              "huddle_build_info{version=\"%s\"} 1\n",
              HUDDLE_VERSION);
    metric(&b, "websocket_sessions", "gauge", "Open WebSocket sessions.", wst.open);
    metric(&b, "websocket_tls_sessions", "gauge", "Open WebSocket sessions over TLS.",
           wst.tls_open);
    metric(&b, "websocket_adopt_failed_total", "counter",
           "Plain WebSockets the event loop could not take over (closed with 1011).",
           wst.adopt_failed);
    metric(&b, "hub_sessions", "gauge", "Sessions known to the hub.", hs.sessions);
    metric(&b, "rooms", "gauge", "Open rooms.", hs.rooms);
    metric(&b, "room_members", "gauge", "Sessions in a room.", hs.members);
    metric(&b, "websocket_accepted_total", "counter", "WebSocket sessions accepted.", wst.accepted);
    metric(&b, "websocket_refused_total", "counter",
           "WebSocket upgrades refused because the server was full.", wst.refused_full);
    metric(&b, "websocket_refused_ip_total", "counter",
           "WebSocket upgrades refused for max_connections_per_ip.", wst.refused_ip);
    acceptgate_sweep();
    metric(&b, "http_connections", "gauge", "Open HTTP connections counted per address.",
           iplimit_total(srv->ipl, IPLIMIT_HTTP));
    metric(&b, "http_refused_ip_total", "counter",
           "HTTP connections refused for max_http_connections_per_ip.",
           iplimit_refused(srv->ipl, IPLIMIT_HTTP));
    metric(&b, "sessions_detached", "gauge", "Sessions whose connection dropped, kept for resume.",
           hs.detached);
    metric(&b, "flood_closes_total", "counter", "Sessions closed for flooding past the rate limit.",
           hs.floods);
    metric(&b, "websocket_refused_origin_total", "counter",
           "WebSocket upgrades refused for their Origin.", wst.refused_origin);
    metric(&b, "messages_in_total", "counter", "Messages received.", wst.msgs_in);
    metric(&b, "bytes_in_total", "counter", "Message payload bytes received.", wst.bytes_in);
    metric(&b, "messages_out_total", "counter", "Frames sent.", wst.msgs_out);
    metric(&b, "bytes_out_total", "counter", "Frame payload bytes sent.", wst.bytes_out);
    metric(&b, "chat_messages_total", "counter", "Chat messages broadcast.", hs.chats);
    metric(&b, "signals_total", "counter", "Signaling messages relayed.", hs.signals);
    metric(&b, "queue_overflows_total", "counter", "Sessions closed for a full send queue.",
           hs.overflows);
    sb_printf(&b, "# HELP huddle_errors_total Protocol errors sent.\n"
                  "# TYPE huddle_errors_total counter\n");
    for (int e = 1; e < PROTO_ERR_COUNT; e++)
        sb_printf(&b, "huddle_errors_total{code=\"%s\"} %llu\n", proto_error_code(e),
                  (unsigned long long)hs.error_by_code[e]);
    sb_printf(&b, "# HELP huddle_closes_total WebSocket sessions ended, by close code.\n"
                  "# TYPE huddle_closes_total counter\n");
    for (unsigned i = 0; ws_close_code_label(i); i++)
        sb_printf(&b, "huddle_closes_total{code=\"%s\"} %llu\n", ws_close_code_label(i),
                  wst.closes[i]);
    if (b.oom) {
        free(b.s);
        reply(conn, 500, "text/plain", "out of memory\n");
        return 500;
    }
    reply(conn, 200, "text/plain; version=0.0.4; charset=utf-8", b.s);
    free(b.s);
    return 200;
}

/* redirect_to_https: answers a plain-HTTP request with 308 to the same host on ssl_port
 * (CivetWeb's own "r" listener redirects to its authentication_domain instead). /healthz stays
 * on plain HTTP for health checks. Returns true when it answered. */
static bool redirect_https(struct mg_connection *conn, const struct mg_request_info *ri,
                           const struct http_server *srv)
{
    if (!srv->cfg->redirect_to_https || !srv->cfg->ssl_port || ri->is_ssl ||
        !strcmp(ri->local_uri, "/healthz"))
        return false;
    const char *host = mg_get_header(conn, "Host");
    size_t hlen = 0;
    if (host) {
        if (host[0] == '[') {
            const char *end = strchr(host, ']');
            hlen = end ? (size_t)(end - host) + 1 : 0;
        } else {
            hlen = strcspn(host, ":");
        }
        for (size_t i = 0; i < hlen; i++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-[]:",
                        host[i]))
                hlen = 0;
    }
    if (!hlen) {
        mg_printf(conn,
                  "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return true;
    }
    /* CivetWeb hands us the decoded path: encode it again for the Location header */
    const char *path = ri->local_uri ? ri->local_uri : "/";
    char *uri = malloc(strlen(path) * 3 + 1);
    if (!uri)
        return false;
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~/!$&'()*+,;=:@", *p))
            uri[o++] = (char)*p;
        else
            o += (size_t)sprintf(uri + o, "%%%02X", *p);
    }
    uri[o] = '\0';
    mg_printf(conn,
              "HTTP/1.1 308 Permanent Redirect\r\nLocation: https://%.*s:%d%s%s%s\r\n"
              "Content-Length: 0\r\nConnection: close\r\n\r\n",
              (int)hlen, host, srv->cfg->ssl_port, uri, ri->query_string ? "?" : "",
              ri->query_string ? ri->query_string : "");
    free(uri);
    return true;
}

void http_text_reply(struct mg_connection *conn, int status, const char *extra, const char *body)
{
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
              "Content-Length: %zu\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n"
              "%s\r\n%s",
              status, mg_get_response_code_text(conn, status), strlen(body), extra ? extra : "",
              body);
}

/* A complete error answer that also ends the connection: after a malformed request nothing that
 * follows on it can be trusted (a pipelined request behind it may be a smuggled one). CivetWeb
 * would keep the connection open after begin_request answered, so the socket's both directions
 * are shut once the answer is written: the client gets the answer and then end-of-file, and
 * whatever CivetWeb does with bytes it already read goes nowhere. extra: more header lines, may
 * be NULL. */
static int refuse(struct mg_connection *conn, int status, const char *extra, const char *body)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    http_text_reply(conn, status, extra, body);
    if (ri) {
        struct adopt_peer peer = {ri->remote_addr, ri->remote_port, ri->server_port};
        int fd = adopt_find(&peer);
        if (fd >= 0)
            shutdown(fd, SHUT_RDWR);
    }
    return status;
}

static bool is_ws_path(const char *uri)
{
    return uri && (!strcmp(uri, "/") || !strcmp(uri, "/ws"));
}

/* The request's framing: a Content-Length next to Transfer-Encoding, or two Content-Lengths,
 * mean two parsers (a proxy's and ours) could split the stream differently (request
 * smuggling); a second Host is the same kind of ambiguity. Returns the status to refuse with,
 * or 0. */
static int check_framing(const struct mg_request_info *ri)
{
    int cl = 0, te = 0, host = 0;
    for (int i = 0; i < ri->num_headers; i++) {
        const char *name = ri->http_headers[i].name;
        if (!strcasecmp(name, "Content-Length"))
            cl += strchr(ri->http_headers[i].value, ',') ? 2 : 1;
        else if (!strcasecmp(name, "Transfer-Encoding"))
            te++;
        else if (!strcasecmp(name, "Host"))
            host++;
    }
    if (cl > 1 || (cl && te) || host > 1)
        return 400;
    if (!host && ri->http_version && !strcmp(ri->http_version, "1.1"))
        return 400; /* RFC 9112 3.2: a 1.1 request without Host is malformed */
    return 0;
}

/* Range on a static file: CivetWeb 1.15 answers an inverted or out-of-file range with a 206 and
 * a negative Content-Length. Returns true when it answered 416. */
static bool check_range(struct mg_connection *conn, const struct mg_request_info *ri,
                        const struct http_server *srv)
{
    const char *range = mg_get_header(conn, "Range");
    if (!range || !ri->local_uri)
        return false;
    char path[4096];
    struct stat st;
    int n = snprintf(path, sizeof(path), "%s%s", srv->cfg->document_root, ri->local_uri);
    if (n < 0 || (size_t)n >= sizeof(path) - 16 || stat(path, &st) != 0)
        return false; /* not a file: CivetWeb answers (404, or one of our handlers) */
    if (S_ISDIR(st.st_mode)) {
        snprintf(path + n, sizeof(path) - (size_t)n, "%sindex.html",
                 n && path[n - 1] == '/' ? "" : "/");
        if (stat(path, &st) != 0)
            return false;
    }
    if (!S_ISREG(st.st_mode) || httpcheck_range(range, (long long)st.st_size) == HTTPCHECK_RANGE_OK)
        return false;
    char extra[64];
    snprintf(extra, sizeof(extra), "Content-Range: bytes */%lld\r\n", (long long)st.st_size);
    refuse(conn, 416, extra, "range not satisfiable\n");
    return true;
}

/* A WebSocket upgrade CivetWeb 1.15 would answer with a bare body and no status line. */
static int check_upgrade(struct mg_connection *conn, const struct mg_request_info *ri)
{
    const char *up = mg_get_header(conn, "Upgrade");
    if (!up || !strcasestr(up, "websocket") || !is_ws_path(ri->local_uri))
        return 0;
    const char *version = mg_get_header(conn, "Sec-WebSocket-Version");
    if (!version || strcmp(version, "13"))
        return refuse(conn, 426, "Sec-WebSocket-Version: 13\r\n",
                      "WebSocket version 13 required\n");
    if (!httpcheck_ws_key(mg_get_header(conn, "Sec-WebSocket-Key")))
        return refuse(conn, 400, NULL, "missing or malformed Sec-WebSocket-Key\n");
    return 0;
}

/* True when the request target had an encoded NUL (%00). CivetWeb 1.15 refuses a raw NUL itself
 * but hands over only the decoded target, where %00 has already cut the string short
 * (/index.html%00.txt arrives as /index.html). It decodes in place inside the request line,
 * "METHOD target\0HTTP/1.1": the decoded bytes, then the terminating NUL, then the untouched rest
 * of the encoded target (which cannot hold a NUL). So a NUL between the string's end and the end
 * of the original target means a decoded NUL. Checked only when the layout is exactly that. */
static bool decoded_nul(const struct mg_request_info *ri)
{
    const char *t = ri->request_uri, *v = ri->http_version;
    if (!t || !v || v <= t || v - t > 16384 || v - t < 7 || memcmp(v - 5, "HTTP/", 5) ||
        v[-6] != '\0')
        return false;
    const char *end = v - 6; /* where the space after the target was */
    for (const char *p = t + strlen(t) + 1; p < end; p++)
        if (*p == '\0')
            return true;
    return false;
}

/* Every request passes here first (CivetWeb's begin_request): the checks CivetWeb does not make,
 * then the HTTPS redirect, then hidden dotfiles. Returns the status when it answered, else 0. */
static int on_begin_request(struct mg_connection *conn)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    struct http_server *srv = mg_get_user_data(mg_get_context(conn));
    int status;
    if (!ri || !srv)
        return 0;
    if ((status = check_framing(ri)))
        return refuse(conn, status, NULL, "bad request\n");
    if (decoded_nul(ri))
        return refuse(conn, 400, NULL, "bad request\n");
    const char *m = ri->request_method;
    if (!strcmp(m, "OPTIONS")) {
        mg_printf(conn, "HTTP/1.1 204 No Content\r\nAllow: GET, HEAD, OPTIONS\r\n"
                        "Content-Length: 0\r\n\r\n");
        return 204;
    }
    if (strcmp(m, "GET") && strcmp(m, "HEAD"))
        return refuse(conn, 405, "Allow: GET, HEAD, OPTIONS\r\n", "method not allowed\n");
    if ((status = check_upgrade(conn, ri)))
        return status;
    if (redirect_https(conn, ri, srv))
        return 308;
    if (ri->local_uri && strstr(ri->local_uri, "/."))
        return refuse(conn, 404, NULL, "Not Found\n");
    if (check_range(conn, ri, srv))
        return 416;
    return 0;
}

static int on_log_message(const struct mg_connection *conn, const char *message)
{
    log_warn(0, "civetweb: %s", message);
    return 1;
}

static void on_init_context(const struct mg_context *cctx)
{
    struct mg_context *ctx = (struct mg_context *)cctx;
    struct http_server *srv = mg_get_user_data(ctx);
    mg_set_request_handler(ctx, "/healthz", on_healthz, srv);
    mg_set_request_handler(ctx, "/api/rooms", on_rooms, srv);
    mg_set_request_handler(ctx, "/api/config", on_config, srv);
    mg_set_request_handler(ctx, "/metrics", on_metrics, srv);
    ws_register(srv->ws, ctx);
}

static void on_connection_close(const struct mg_connection *conn)
{
    struct http_server *srv = mg_get_user_data(mg_get_context(conn));
    if (srv)
        ws_connection_closed(srv->ws, conn);
}

struct http_server *http_start(const struct config *cfg, struct loop *lp, struct ws_server *ws,
                               struct iplimit *ipl, char *err, size_t errlen)
{
    struct http_server *srv = calloc(1, sizeof(*srv));
    if (!srv) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    srv->cfg = cfg;
    srv->lp = lp;
    srv->ws = ws;
    srv->ipl = ipl;
    int rc;
    if (cfg->ssl_port)
        rc = asprintf(&srv->listening, "%s:%d,%s:%ds", cfg->bind_address, cfg->listening_port,
                      cfg->bind_address, cfg->ssl_port);
    else
        rc = asprintf(&srv->listening, "%s:%d", cfg->bind_address, cfg->listening_port);
    if (rc < 0 || asprintf(&srv->threads, "%d", cfg->num_threads) < 0 ||
        asprintf(&srv->header_timeout, "%d", cfg->request_header_timeout_ms) < 0) {
        snprintf(err, errlen, "out of memory");
        goto err_free;
    }
    /* clang-format off */
    const char *opts[HTTP_MAX_OPTIONS] = {
        "listening_ports", srv->listening,
        "document_root", cfg->document_root,
        "num_threads", srv->threads,
        "enable_directory_listing", "no",
        "cgi_pattern", "",
        "ssi_pattern", "",
        "hide_files_patterns", "**/.*",
        "index_files", "index.html",
        "enable_keep_alive", "yes",
        "listen_backlog", "4096",
        "connection_queue", "1024",
        "tcp_nodelay", "1",
        "request_timeout_ms", srv->header_timeout,
        "websocket_timeout_ms", "1000",
        "enable_websocket_ping_pong", "no",
        "additional_header", security_headers,
        "static_file_cache_control", "no-cache",
        "extra_mime_types", ".mjs=text/javascript,.webmanifest=application/manifest+json,"
                            ".wasm=application/wasm,.svg=image/svg+xml",
        NULL,
    };
    /* clang-format on */
    size_t n = 0;
    while (opts[n])
        n += 2;
    if (cfg->ssl_port) {
        if (tls_prepare(err, errlen) < 0)
            goto err_free;
        opts[n++] = "ssl_certificate";
        opts[n++] = cfg->ssl_certificate;
        /* TLS 1.2 with forward secrecy and AEAD only (TLS 1.3 suites are all of that) */
        opts[n++] = "ssl_protocol_version";
        opts[n++] = "4";
        opts[n++] = "ssl_cipher_list";
        opts[n++] = "ECDHE+AESGCM:ECDHE+CHACHA20";
        if (cfg->redirect_to_https) {
            opts[n++] = "strict_transport_security_max_age";
            opts[n++] = "31536000";
        }
    }
    if (cfg->access_log) {
        opts[n++] = "access_log_file";
        opts[n++] = "/dev/stderr";
    }
    opts[n] = NULL;

    struct mg_callbacks cb;
    memset(&cb, 0, sizeof(cb));
    cb.begin_request = on_begin_request;
    cb.log_message = on_log_message;
    cb.init_context = on_init_context;
    cb.connection_close = on_connection_close;
    struct mg_init_data init = {.callbacks = &cb, .user_data = srv, .configuration_options = opts};
    char text[256] = "";
    unsigned code = 0;
    struct mg_error_data error = {.code = &code, .text = text, .text_buffer_size = sizeof(text)};
    acceptgate_set(cfg->max_http_connections_per_ip ? ipl : NULL);
    srv->ctx = mg_start2(&init, &error);
    if (!srv->ctx) {
        acceptgate_set(NULL);
        snprintf(err, errlen, "cannot start the server on %s: %s", srv->listening,
                 text[0] ? text : "unknown error");
        goto err_free;
    }
    struct mg_server_port ports[4];
    memset(ports, 0, sizeof(ports));
    int np = mg_get_server_ports(srv->ctx, 4, ports);
    for (int i = 0; i < np; i++) {
        if (ports[i].is_ssl && !srv->ssl_port)
            srv->ssl_port = ports[i].port;
        else if (!ports[i].is_ssl && !srv->port)
            srv->port = ports[i].port;
    }
    return srv;

err_free:
    free(srv->listening);
    free(srv->threads);
    free(srv->header_timeout);
    free(srv);
    return NULL;
}

int http_port(const struct http_server *srv)
{
    return srv->port;
}

int http_ssl_port(const struct http_server *srv)
{
    return srv->ssl_port;
}

void http_stop(struct http_server *srv)
{
    if (!srv)
        return;
    if (srv->ctx)
        mg_stop(srv->ctx);
    acceptgate_set(NULL);
    free(srv->listening);
    free(srv->threads);
    free(srv->header_timeout);
    free(srv);
}
