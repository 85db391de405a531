/* SPDX-License-Identifier: MIT */
/* The per-address cap on open HTTP connections, applied where CivetWeb accepts them. CivetWeb
 * 1.15 offers no hook that knows a new connection's address before a worker thread reads its
 * request (mg_get_request_info is NULL in init_connection), so a client sending half a request
 * could hold a worker per connection. CivetWeb calls accept() from libc; this module's accept()
 * in the executable comes first in symbol lookup (the way the TLS glue works), counts each
 * connection against its address (iplimit, IPLIMIT_HTTP) and refuses those over the cap before
 * any worker sees them: a 503 is written and the socket closed. */
#ifndef HUDDLE_ACCEPTGATE_H
#define HUDDLE_ACCEPTGATE_H

#include "iplimit.h"

/* Starts counting accepted connections in ipl (NULL: stop; accept then only passes through).
 * Call before CivetWeb starts and with NULL after it stopped. */
void acceptgate_set(struct iplimit *ipl);

/* Forgets connections that have been closed since (their descriptor no longer carries the
 * counted peer), so the counts are exact; for /metrics. Thread-safe. */
void acceptgate_sweep(void);

#endif
