/* SPDX-License-Identifier: MIT */
/* Per-address connection counts: concurrent HTTP connections (taken when CivetWeb accepts, before
 * any byte of the request is read) and WebSocket sessions, each with its own cap, so one address
 * cannot hold every worker or every session slot. Thread-safe (a mutex held for one hash lookup);
 * addresses are IPv4 in network order. Also answers whether a peer is a trusted reverse proxy. */
#ifndef HUDDLE_IPLIMIT_H
#define HUDDLE_IPLIMIT_H

#include <stdbool.h>
#include <stdint.h>

enum iplimit_kind { IPLIMIT_HTTP = 0, IPLIMIT_WS, IPLIMIT_KINDS };

struct iplimit;

/* New table with caps per kind (0 = no cap) and trusted_proxies, a comma list of IPv4 addresses
 * (copied; "" for none). NULL on OOM or a bad address in the list. */
struct iplimit *iplimit_new(unsigned max_http, unsigned max_ws, const char *trusted_proxies);
void iplimit_free(struct iplimit *l);

/* Parses a dotted IPv4 address into *ip (network order). */
bool iplimit_parse(const char *s, uint32_t *ip);

/* Counts one more connection of kind from ip, unless that would pass the cap: returns false
 * then (nothing counted; see iplimit_note_refusal). Every true must be paired with one
 * iplimit_release. */
bool iplimit_take(struct iplimit *l, enum iplimit_kind kind, uint32_t ip);
void iplimit_release(struct iplimit *l, enum iplimit_kind kind, uint32_t ip);

/* Connections of kind counted now, over every address (for /metrics). */
unsigned iplimit_total(struct iplimit *l, enum iplimit_kind kind);

/* Connections of kind from ip now (for tests and metrics). */
unsigned iplimit_count(struct iplimit *l, enum iplimit_kind kind, uint32_t ip);

/* True when ip is one of trusted_proxies. */
bool iplimit_trusted(const struct iplimit *l, uint32_t ip);

/* The client's address for a connection from peer: peer itself, or, when peer is a trusted proxy
 * and xff (an X-Forwarded-For value, may be NULL) names addresses, the right-most one that is not
 * a trusted proxy (the left ones are whatever the client claimed). */
uint32_t iplimit_client(const struct iplimit *l, uint32_t peer, const char *xff);

/* Counts one refusal of kind (the caller refused a connection after iplimit_take said no). */
void iplimit_note_refusal(struct iplimit *l, enum iplimit_kind kind);

/* Refusals so far by kind (for /metrics). */
unsigned long long iplimit_refused(struct iplimit *l, enum iplimit_kind kind);

#endif
