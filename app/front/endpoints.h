/* SPDX-License-Identifier: MIT */
/* huddle's own HTTP endpoints: /healthz, /api/rooms, /api/config and /metrics. They run on
 * CivetWeb's worker threads; what they read of the hub they read on the loop (loop_call). */
#ifndef HUDDLE_ENDPOINTS_H
#define HUDDLE_ENDPOINTS_H

struct config;
struct iplimit;
struct loop;
struct mg_context;
struct ws_server;

/* What the endpoints read; everything must outlive the CivetWeb context. */
struct endpoints {
    const struct config *cfg;
    struct loop *lp;
    struct ws_server *ws;
    struct iplimit *ipl;
};

/* Registers the handlers on ctx (from CivetWeb's init_context callback). */
void endpoints_register(struct endpoints *ep, struct mg_context *ctx);

#endif
