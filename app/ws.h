/* SPDX-License-Identifier: MIT */
/* CivetWeb WebSocket glue: connect/ready/data/close callbacks, per-connection frame checks and
 * reassembly (frame.h), one writer thread and bounded queue per session (outq.h), and the hand-off
 * of decoded messages to the hub. */
#ifndef HUDDLE_WS_H
#define HUDDLE_WS_H

#include <stdbool.h>
#include "config.h"
#include "hub.h"

struct mg_context;
struct mg_connection;
struct ws_server;

/* Counters for /metrics (monotonic unless noted). */
struct ws_stats {
    unsigned open; /* current WebSocket sessions (gauge) */
    unsigned long long accepted, refused_full, refused_origin;
    unsigned long long msgs_in, bytes_in, msgs_out, bytes_out;
    unsigned long long closes[16]; /* by close code, see ws_close_code_label */
};

/* New WebSocket server for hub with cfg's limits (both must outlive it). NULL on error. */
struct ws_server *ws_new(struct hub *hub, const struct config *cfg);

/* Registers the handlers at "/" and "/ws" on ctx. Call from CivetWeb's init_context callback, so
 * they exist before the first client arrives; also starts the room-list ticker. */
void ws_register(struct ws_server *ws, struct mg_context *ctx);

/* Sends every open session a close 1001 after what is already queued, and waits up to timeout_ms
 * for them to go. Returns the number still open. Call before mg_stop. */
unsigned ws_shutdown(struct ws_server *ws, unsigned timeout_ms);

/* Frees ws; every connection must be closed (after mg_stop). Safe with NULL. */
void ws_free(struct ws_server *ws);

/* Called from CivetWeb's connection_close callback for every connection (frees state of a
 * WebSocket whose handshake failed after connect accepted it). */
void ws_connection_closed(struct ws_server *ws, const struct mg_connection *conn);

/* The hub's send function (hub_ops.send): sink is the connection's state as handed to
 * hub_connect. Queues only; false on overflow or when closing. */
bool ws_hub_send(void *sink, struct msg *m);

void ws_get_stats(struct ws_server *ws, struct ws_stats *st);

/* Close codes tracked in ws_stats.closes and their labels ("1000", ...; NULL past the end). */
const char *ws_close_code_label(unsigned idx);

#endif
