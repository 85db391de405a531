/* SPDX-License-Identifier: MIT */
/* The CivetWeb server: options from the config (static files, hardening), the small JSON and text
 * endpoints (/healthz, /api/rooms, /api/config, /metrics) and the WebSocket registration. Called
 * from the main thread. */
#ifndef HUDDLE_HTTP_H
#define HUDDLE_HTTP_H

#include <stddef.h>

struct config;
struct iplimit;
struct loop;
struct ws_server;

struct http_server;

/* Starts listening per cfg (cfg, lp and ws must outlive the server; hub state is read on lp).
 * Returns NULL with err set (e.g. "cannot listen on 0.0.0.0:3003: port in use") on failure. */
struct http_server *http_start(const struct config *cfg, struct loop *lp, struct ws_server *ws,
                               struct iplimit *ipl, char *err, size_t errlen);

/* Actual port of the plain HTTP listener (useful with listening_port 0), and of HTTPS (0: none). */
int http_port(const struct http_server *srv);
int http_ssl_port(const struct http_server *srv);

/* Stops CivetWeb (joins its threads; WebSocket close handlers run) and frees srv. NULL-safe. */
void http_stop(struct http_server *srv);

#endif
