/* SPDX-License-Identifier: MIT */
/* CivetWeb WebSocket callbacks (see ws.h). A plain WebSocket lives here only from the upgrade
 * request to its ready handler, which adopts the socket for the loop and lets CivetWeb's worker
 * go. A TLS WebSocket stays with CivetWeb: this file checks and counts it, wstls.c serves it. */
#include "ws.h"

#include <civetweb.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "adopt.h"
#include "frame.h"
#include "iplimit.h"
#include "log.h"
#include "msg.h"
#include "reply.h"
#include "strlist.h"
#include "wstls.h"

struct ws_server {
    struct loop *lp;
    struct ws_counters *ctr;
    struct iplimit *ipl;
    const struct config *cfg;
    struct wstls tls; /* the TLS sessions */
    atomic_bool stopping;
};

static void release_slot(struct ws_server *ws, uint32_t ip)
{
    atomic_fetch_sub(&ws->ctr->open, 1);
    if (ws->ipl)
        iplimit_release(ws->ipl, IPLIMIT_WS, ip);
}

/* --- CivetWeb callbacks --- */

/* True when the Origin header (if any) is acceptable per allowed_origins. */
static bool origin_allowed(const struct config *cfg, const struct mg_connection *conn)
{
    const char *origin = mg_get_header(conn, "Origin");
    const char *allowed = cfg->allowed_origins ? cfg->allowed_origins : "";
    if (!origin)
        return true; /* not a browser */
    if (!strcmp(allowed, "*"))
        return true;
    if (!*allowed) {
        const char *host = mg_get_header(conn, "Host");
        const char *p = strstr(origin, "://");
        return host && p && !strcasecmp(p + 3, host);
    }
    size_t olen = strlen(origin), len;
    const char *cur = allowed, *item;
    while (strlist_next(&cur, &item, &len))
        if (len == olen && !strncasecmp(item, origin, olen))
            return true;
    return false;
}

/* Takes a session slot if one is free: max_connections in all, max_connections_per_ip for ip,
 * and for TLS sessions (each holds a worker thread) num_threads - CFG_HTTP_RESERVED. Returns 0,
 * or the reason it refused: 1 server full, 2 too many from this address. */
static int take_slot(struct ws_server *ws, bool tls, uint32_t ip)
{
    unsigned max = (unsigned)ws->cfg->max_connections;
    unsigned cur = atomic_load(&ws->ctr->open);
    do {
        if (cur >= max)
            return 1;
    } while (!atomic_compare_exchange_weak(&ws->ctr->open, &cur, cur + 1));
    if (ws->ipl && !iplimit_take(ws->ipl, IPLIMIT_WS, ip)) {
        iplimit_note_refusal(ws->ipl, IPLIMIT_WS);
        atomic_fetch_sub(&ws->ctr->open, 1);
        return 2;
    }
    if (!tls)
        return 0;
    unsigned tmax = (unsigned)(ws->cfg->num_threads - CFG_HTTP_RESERVED);
    if (atomic_fetch_add(&ws->ctr->tls_open, 1) < tmax)
        return 0;
    atomic_fetch_sub(&ws->ctr->tls_open, 1);
    release_slot(ws, ip);
    return 1;
}

static int on_connect(const struct mg_connection *cconn, void *cbdata)
{
    struct ws_server *ws = cbdata;
    struct mg_connection *conn = (struct mg_connection *)cconn;
    const struct mg_request_info *ri = mg_get_request_info(cconn);
    bool tls = ri && ri->is_ssl;
    if (atomic_load(&ws->stopping)) {
        reply_text(conn, 503, NULL, "shutting down\n");
        return 1;
    }
    if (!origin_allowed(ws->cfg, cconn)) {
        atomic_fetch_add(&ws->ctr->refused_origin, 1);
        log_warn(0, "refused WebSocket from origin '%s'", mg_get_header(cconn, "Origin"));
        reply_text(conn, 403, NULL, "origin not allowed\n");
        return 1;
    }
    uint32_t peer = 0, ip;
    iplimit_parse(ri ? ri->remote_addr : NULL, &peer);
    ip = ws->ipl ? iplimit_client(ws->ipl, peer, mg_get_header(cconn, "X-Forwarded-For")) : peer;
    int refused = take_slot(ws, tls, ip);
    if (refused == 2) {
        atomic_fetch_add(&ws->ctr->refused_ip, 1);
        log_warn(0, "refused WebSocket: its address holds max_connections_per_ip (%d) sessions",
                 ws->cfg->max_connections_per_ip);
        reply_text(conn, 503, "Retry-After: 5\r\n", "too many connections from your address\n");
        return 1;
    }
    if (refused) {
        atomic_fetch_add(&ws->ctr->refused_full, 1);
        log_warn(0, "refused WebSocket: server full (max_connections %d%s)",
                 ws->cfg->max_connections, tls ? ", or every TLS worker busy" : "");
        reply_text(conn, 503, "Retry-After: 5\r\n", "server full\n");
        return 1;
    }
    struct ws_slot *slot;
    if (tls) {
        slot = (struct ws_slot *)wstls_new(&ws->tls, cconn, ip);
    } else if ((slot = calloc(1, sizeof(*slot)))) {
        slot->kind = WS_PLAIN;
        slot->ip = ip;
    }
    if (!slot) {
        if (tls)
            atomic_fetch_sub(&ws->ctr->tls_open, 1);
        release_slot(ws, ip);
        reply_text(conn, 503, NULL, "out of memory\n");
        return 1;
    }
    mg_set_user_connection_data(cconn, slot);
    return 0;
}

/* Plain WebSocket: hand the socket to the loop. CivetWeb's read loop then sees end-of-file on
 * its old descriptor, calls on_close (user data NULL: nothing to do) and frees the worker. */
static void ready_plain(struct ws_server *ws, struct mg_connection *conn, struct ws_slot *slot,
                        const struct mg_request_info *ri)
{
    struct adopt_peer peer = {ri->remote_addr, ri->remote_port, ri->server_port};
    int fd = adopt_take(&peer);
    if (fd >= 0) {
        uint32_t ip = slot->ip;
        mg_set_user_connection_data(conn, NULL); /* the slot goes with the socket */
        free(slot);
        if (loop_adopt(ws->lp, fd, ri->remote_addr, ri->remote_port, ip))
            return;
        /* the loop has stopped: nobody will serve it */
        adopt_lock();
        adopt_release(fd);
        close(fd);
        adopt_unlock();
        release_slot(ws, ip);
        return;
    }
    atomic_fetch_add(&ws->ctr->adopt_failed, 1);
    log_error(0, "cannot take over the WebSocket from %s:%d (%s): closing with 1011",
              ri->remote_addr, ri->remote_port, strerror(-fd));
    slot->kind = WS_FAILED;
    struct msg *m = msg_close(FRAME_CLOSE_INTERNAL, "server error");
    if (m) {
        ws_count_close(ws->ctr, FRAME_CLOSE_INTERNAL);
        mg_lock_connection(conn);
        mg_write(conn, m->frame, m->frame_len);
        mg_unlock_connection(conn);
    }
    msg_unref(m);
}

static void on_ready(struct mg_connection *conn, void *cbdata)
{
    struct ws_server *ws = cbdata;
    void *ud = mg_get_user_connection_data(conn);
    const struct mg_request_info *ri = mg_get_request_info(conn);
    struct ws_slot *slot = ud;
    if (!slot || !ri)
        return;
    if (slot->kind == WS_PLAIN)
        ready_plain(ws, conn, slot, ri);
    else if (slot->kind == WS_TLS)
        wstls_ready(&ws->tls, conn, (struct tls_sess *)slot, ri);
}

static int on_data(struct mg_connection *conn, int bits, char *data, size_t len, void *cbdata)
{
    struct ws_slot *slot = mg_get_user_connection_data(conn);
    (void)cbdata;
    if (!slot || slot->kind != WS_TLS)
        return 0; /* adopted (the old descriptor is dead) or failed: let CivetWeb go */
    return wstls_data((struct tls_sess *)slot, bits, data, len);
}

/* The end of a TLS session on CivetWeb's side: its slot is free once the adapter let it go. */
static void end_tls(struct ws_server *ws, const struct mg_connection *conn, struct ws_slot *slot)
{
    mg_set_user_connection_data(conn, NULL);
    atomic_fetch_sub(&ws->ctr->tls_open, 1);
    release_slot(ws, slot->ip);
    wstls_unref((struct tls_sess *)slot);
}

static void on_close(const struct mg_connection *conn, void *cbdata)
{
    struct ws_server *ws = cbdata;
    struct ws_slot *slot = mg_get_user_connection_data(conn);
    if (!slot || slot->kind != WS_TLS)
        return; /* connection_close releases a slot still held */
    wstls_closed(&ws->tls, (struct tls_sess *)slot);
    end_tls(ws, conn, slot);
}

void ws_connection_closed(struct ws_server *ws, const struct mg_connection *conn)
{
    void *ud = ws ? mg_get_user_connection_data(conn) : NULL;
    if (!ud)
        return;
    struct ws_slot *slot = ud;
    if (slot->kind != WS_TLS) {
        mg_set_user_connection_data(conn, NULL);
        release_slot(ws, slot->ip);
        free(slot);
        return;
    }
    /* A TLS session whose handshake failed after on_connect accepted it (on_close never ran:
     * it clears the user data). */
    end_tls(ws, conn, slot);
}

struct ws_server *ws_new(struct loop *lp, struct ws_counters *ctr, struct iplimit *ipl,
                         const struct config *cfg)
{
    struct ws_server *ws = calloc(1, sizeof(*ws));
    if (!ws)
        return NULL;
    ws->lp = lp;
    ws->ctr = ctr;
    ws->ipl = ipl;
    ws->cfg = cfg;
    if (wstls_init(&ws->tls, lp, ctr, cfg) < 0) {
        free(ws);
        return NULL;
    }
    if (adopt_init() < 0) {
        wstls_cleanup(&ws->tls);
        free(ws);
        return NULL;
    }
    return ws;
}

void ws_register(struct ws_server *ws, struct mg_context *ctx)
{
    mg_set_websocket_handler(ctx, "/", on_connect, on_ready, on_data, on_close, ws);
    mg_set_websocket_handler(ctx, "/ws", on_connect, on_ready, on_data, on_close, ws);
}

unsigned ws_shutdown(struct ws_server *ws, unsigned timeout_ms)
{
    atomic_store(&ws->stopping, true);
    wstls_say_goodbye(&ws->tls);
    unsigned left = loop_shutdown(ws->lp, timeout_ms);
    if (left)
        wstls_abort_all(&ws->tls);
    return left;
}

void ws_free(struct ws_server *ws)
{
    if (!ws)
        return;
    wstls_cleanup(&ws->tls);
    adopt_cleanup();
    free(ws);
}

void ws_get_stats(struct ws_server *ws, struct ws_stats *st)
{
    ws_stats_read(ws->ctr, st);
}
