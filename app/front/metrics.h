/* SPDX-License-Identifier: MIT */
/* The Prometheus text exposition of GET /metrics, written from snapshots the caller took (the
 * hub's on the loop thread, the WebSocket counters, the per-address HTTP counts). Pure: no
 * CivetWeb, no loop; any thread. */
#ifndef HUDDLE_METRICS_H
#define HUDDLE_METRICS_H

#include "hub.h"
#include "wsstats.h"

/* What /metrics reports besides the hub and the WebSocket counters. */
struct metrics_http {
    unsigned open;              /* HTTP connections counted per address now */
    unsigned long long refused; /* refused for max_http_connections_per_ip */
};

/* The whole /metrics body (heap, caller frees), or NULL when out of memory. */
char *metrics_text(const struct hub_stats *hs, const struct ws_stats *wst,
                   const struct metrics_http *http);

#endif
