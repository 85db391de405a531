/* SPDX-License-Identifier: MIT */
/* The writers for answers huddle's own CivetWeb handlers make (endpoints, request checks,
 * WebSocket refusals): one place that knows the status line and the headers every such answer
 * carries. Runs on CivetWeb's worker threads. */
#ifndef HUDDLE_REPLY_H
#define HUDDLE_REPLY_H

#include <stdbool.h>

struct mg_connection;

/* Writes a whole answer with body (NUL-terminated) of Content-Type type, never cached; a HEAD
 * request gets the headers only. */
void reply_send(struct mg_connection *conn, int status, const char *type, const char *body);

/* True for GET and HEAD; otherwise answers 405 (Allow: GET, HEAD) and returns false. */
bool reply_get_only(struct mg_connection *conn);

/* Writes a whole plain-text answer (status, extra header lines or NULL, body) that says
 * "Connection: close": for refusals made in a handler (the caller makes CivetWeb close). */
void reply_text(struct mg_connection *conn, int status, const char *extra, const char *body);

/* reply_text, then shuts the socket's both directions: after a malformed request nothing that
 * follows on the connection can be trusted (a pipelined request behind it may be a smuggled
 * one), and CivetWeb would keep it open after begin_request answered. The client gets the answer,
 * then end-of-file. Returns status. */
int reply_refuse(struct mg_connection *conn, int status, const char *extra, const char *body);

#endif
