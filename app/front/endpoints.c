/* SPDX-License-Identifier: MIT */
/* /healthz, /api/rooms, /api/config and /metrics (see endpoints.h). */
#include "endpoints.h"

#include <civetweb.h>
#include <stdlib.h>
#include <string.h>

#include "acceptgate.h"
#include "config.h"
#include "hub.h"
#include "iplimit.h"
#include "loop.h"
#include "metrics.h"
#include "proto.h"
#include "reply.h"
#include "ws.h"

static int on_healthz(struct mg_connection *conn, void *cbdata)
{
    if (reply_get_only(conn))
        reply_send(conn, 200, "application/json", "{\"status\":\"ok\"}");
    return 200;
}

/* Answers 200 with body (heap, freed here) of Content-Type type, or 500 when it is NULL (out of
 * memory). */
static int reply_owned(struct mg_connection *conn, const char *type, char *body)
{
    if (!body) {
        reply_send(conn, 500, "text/plain", "out of memory\n");
        return 500;
    }
    reply_send(conn, 200, type, body);
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
    struct endpoints *ep = cbdata;
    struct hub_read r = {.task.run = run_hub_read};
    if (!reply_get_only(conn))
        return 405;
    if (loop_call(ep->lp, &r.task) < 0) {
        reply_send(conn, 503, "text/plain", "shutting down\n");
        return 503;
    }
    return reply_owned(conn, "application/json", r.rooms_json);
}

static int on_config(struct mg_connection *conn, void *cbdata)
{
    struct endpoints *ep = cbdata;
    const struct config *cfg = ep->cfg;
    if (!reply_get_only(conn))
        return 405;
    return reply_owned(conn, "application/json",
                       proto_config_json(cfg->ice_servers, cfg->turn_username, cfg->turn_credential,
                                         (unsigned)cfg->max_room_members, cfg->max_message_bytes));
}

static int on_metrics(struct mg_connection *conn, void *cbdata)
{
    struct endpoints *ep = cbdata;
    struct hub_stats hs;
    struct ws_stats wst;
    struct hub_read r = {.task.run = run_hub_read, .stats = &hs};
    if (!reply_get_only(conn))
        return 405;
    memset(&hs, 0, sizeof(hs));
    if (loop_call(ep->lp, &r.task) < 0) {
        reply_send(conn, 503, "text/plain", "shutting down\n");
        return 503;
    }
    ws_get_stats(ep->ws, &wst);
    acceptgate_sweep();
    struct metrics_http http = {iplimit_total(ep->ipl, IPLIMIT_HTTP),
                                iplimit_refused(ep->ipl, IPLIMIT_HTTP)};
    return reply_owned(conn, "text/plain; version=0.0.4; charset=utf-8",
                       metrics_text(&hs, &wst, &http));
}

void endpoints_register(struct endpoints *ep, struct mg_context *ctx)
{
    mg_set_request_handler(ctx, "/healthz", on_healthz, ep);
    mg_set_request_handler(ctx, "/api/rooms", on_rooms, ep);
    mg_set_request_handler(ctx, "/api/config", on_config, ep);
    mg_set_request_handler(ctx, "/metrics", on_metrics, ep);
}
