/* SPDX-License-Identifier: MIT */
/* WebSocket counters shared by the transports (the event loop and the TLS adapter) and read by
 * /metrics: relaxed atomics, each updated by whichever thread sees the event. */
#ifndef HUDDLE_WSSTATS_H
#define HUDDLE_WSSTATS_H

#include <stdatomic.h>

#define WS_CLOSE_SLOTS 10

struct ws_counters {
    atomic_uint open; /* slots taken: from an accepted upgrade to the session's end (gauge) */
    atomic_uint tls_open;
    atomic_ullong accepted, refused_full, refused_origin, refused_ip, adopt_failed;
    atomic_ullong msgs_in, bytes_in, msgs_out, bytes_out;
    atomic_ullong closes[WS_CLOSE_SLOTS]; /* by close code, see ws_close_code_label */
};

/* A snapshot of the counters (for /metrics). */
struct ws_stats {
    unsigned open, tls_open;
    unsigned long long accepted, refused_full, refused_origin, refused_ip, adopt_failed;
    unsigned long long msgs_in, bytes_in, msgs_out, bytes_out;
    unsigned long long closes[WS_CLOSE_SLOTS];
};

/* Reads every counter of ctr into st (each one atomically; not one instant for all). */
void ws_stats_read(struct ws_counters *ctr, struct ws_stats *st);

/* Counts one session ended with close code (what we sent; 1006: none). */
void ws_count_close(struct ws_counters *ctr, unsigned code);

/* Labels of ws_counters.closes ("1000", ..., "other"); NULL past the end. */
const char *ws_close_code_label(unsigned idx);

#endif
