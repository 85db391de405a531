/* SPDX-License-Identifier: MIT */
/* CivetWeb set-up (see http.h): its options and callbacks; the request checks are in guard.c, the
 * endpoints in endpoints.c. Directory listing, CGI and SSI are off, dotfiles answer 404, and
 * static responses carry a strict Content-Security-Policy (the page has no inline code). */
#include "http.h"

#include <civetweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acceptgate.h"
#include "config.h"
#include "endpoints.h"
#include "guard.h"
#include "log.h"
#include "tls.h"
#include "ws.h"

#define HTTP_MAX_OPTIONS 64

struct http_server {
    struct mg_context *ctx;
    const struct config *cfg;
    struct ws_server *ws;
    struct endpoints ep;
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

/* Every request passes the guard first (CivetWeb's begin_request). */
static int on_begin_request(struct mg_connection *conn)
{
    struct http_server *srv = mg_get_user_data(mg_get_context(conn));
    return srv ? guard_begin_request(conn, srv->cfg) : 0;
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
    endpoints_register(&srv->ep, ctx);
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
    srv->ws = ws;
    srv->ep = (struct endpoints){cfg, lp, ws, ipl};
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
