/* SPDX-License-Identifier: MIT */
/* Request checks CivetWeb 1.15 does not make, as pure functions (no CivetWeb types, unit-tested):
 * Range header validation against a file size, and the WebSocket key's shape. http.c applies
 * them in CivetWeb's begin_request callback. */
#ifndef HUDDLE_HTTPCHECK_H
#define HUDDLE_HTTPCHECK_H

#include <stdbool.h>

enum httpcheck_range {
    HTTPCHECK_RANGE_OK = 0,        /* one satisfiable byte range: serve 206 (CivetWeb does) */
    HTTPCHECK_RANGE_BAD = 1,       /* malformed, inverted, several ranges, or not bytes: 416 */
    HTTPCHECK_RANGE_UNSATISFY = 2, /* well formed but outside the file: 416 */
};

/* Checks a Range header value against a resource of size bytes (RFC 9110 14.1.2: "bytes=a-b",
 * "bytes=a-" or "bytes=-n"; only one range is served). */
enum httpcheck_range httpcheck_range(const char *value, long long size);

/* True when key is a Sec-WebSocket-Key: base64 of exactly 16 bytes (24 characters, "==" end). */
bool httpcheck_ws_key(const char *key);

#endif
