/* SPDX-License-Identifier: MIT */
/* Takes a connected TCP socket away from CivetWeb 1.15 after the WebSocket handshake, with public
 * calls only: CivetWeb has no accessor for a connection's descriptor, so the descriptor is found
 * by its addresses, duplicated for the event loop, and CivetWeb's number is pointed at a dead
 * socketpair end so its read loop sees end-of-file and frees the worker. No CivetWeb types here:
 * the caller passes the addresses from mg_get_request_info. */
#ifndef HUDDLE_ADOPT_H
#define HUDDLE_ADOPT_H

#include <stdbool.h>

struct adopt_peer {
    const char *remote_addr; /* dotted IPv4 of the client, as CivetWeb reports it */
    int remote_port;         /* client's port */
    int server_port;         /* our listening port the client connected to (0: any) */
};

/* Prepares the registry of descriptors the loop owns (skipped by the search). Call once before
 * any adoption; returns 0 or -ENOMEM. adopt_cleanup frees it. */
int adopt_init(void);
void adopt_cleanup(void);

/* Finds the socket of peer among this process's descriptors (lowest first, skipping those marked
 * owned, up to the highest open one) and verifies it: IPv4 stream socket, peer address and port,
 * local port. Returns its number, -ENOENT when none matches. Thread-safe. */
int adopt_find(const struct adopt_peer *peer);

/* Adopts peer's socket: finds it, duplicates it (close-on-exec), verifies the duplicate, then
 * replaces the original number with one end of a socketpair whose other end is closed. Returns
 * the new descriptor, now owned by the caller and marked owned (call adopt_release before closing
 * it), or -ENOENT (not found or not verified: nothing was changed) or another -errno. Must run on
 * the thread that owns the original descriptor (CivetWeb's worker in the ready handler), so it
 * cannot be closed under us. */
int adopt_take(const struct adopt_peer *peer);

/* Unmarks fd as owned; call just before closing an adopted descriptor. */
void adopt_release(int fd);

/* The loop closes adopted descriptors between these two (adopt_lock, adopt_release, close,
 * adopt_unlock), so that a number it frees and adopt_take reuses is ordered for
 * ThreadSanitizer as it is in the kernel. Held for a few system calls on either side. */
void adopt_lock(void);
void adopt_unlock(void);

/* True when fd is marked owned (for tests). */
bool adopt_is_owned(int fd);

#endif
