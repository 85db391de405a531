/* SPDX-License-Identifier: MIT */
/* What every HTTP request passes before CivetWeb serves it (its begin_request callback): the
 * checks CivetWeb 1.15 does not make (ambiguous framing, an encoded NUL in the path, methods other
 * than GET/HEAD/OPTIONS, malformed WebSocket upgrades, unsatisfiable ranges), the HTTPS redirect
 * and hidden dotfiles. Runs on CivetWeb's worker threads. */
#ifndef HUDDLE_GUARD_H
#define HUDDLE_GUARD_H

struct config;
struct mg_connection;

/* Checks the request on conn against cfg (redirect_to_https, ssl_port, document_root). Returns
 * the status it answered with (the connection is then shut when the request cannot be trusted),
 * or 0 to let CivetWeb go on. */
int guard_begin_request(struct mg_connection *conn, const struct config *cfg);

#endif
