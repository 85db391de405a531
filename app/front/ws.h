/* SPDX-License-Identifier: MIT */
/* CivetWeb's side of WebSockets: the checks before the upgrade (origin, capacity), then, in the
 * ready handler, the hand-over of a plain WebSocket's socket to the event loop (adopt.h, loop.h).
 * TLS WebSockets stay on CivetWeb's thread (CivetWeb owns their SSL object), served by the
 * adapter in wstls.h. */
#ifndef HUDDLE_WS_H
#define HUDDLE_WS_H

#include <stdbool.h>
#include "config.h"
#include "iplimit.h"
#include "loop.h"
#include "wsstats.h"

struct mg_context;
struct mg_connection;
struct ws_server;

/* New WebSocket front for loop, with cfg's limits (all must outlive it); ctr is the counters
 * shared with the loop, ipl the per-address counts (may be NULL). NULL on error. */
struct ws_server *ws_new(struct loop *lp, struct ws_counters *ctr, struct iplimit *ipl,
                         const struct config *cfg);

/* Registers the handlers at "/" and "/ws" on ctx. Call from CivetWeb's init_context callback, so
 * they exist before the first client arrives. */
void ws_register(struct ws_server *ws, struct mg_context *ctx);

/* Refuses new upgrades, sends every session a close 1001 after what is queued, and waits up to
 * timeout_ms for them to go; cuts off the rest. Returns the number still open at the deadline.
 * Call before mg_stop. */
unsigned ws_shutdown(struct ws_server *ws, unsigned timeout_ms);

/* Frees ws; every TLS connection must be closed (after mg_stop). Safe with NULL. */
void ws_free(struct ws_server *ws);

/* Called from CivetWeb's connection_close callback for every connection: releases the slot of a
 * WebSocket whose handshake or adoption did not complete. */
void ws_connection_closed(struct ws_server *ws, const struct mg_connection *conn);

void ws_get_stats(struct ws_server *ws, struct ws_stats *st);

#endif
