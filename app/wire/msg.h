/* SPDX-License-Identifier: MIT */
/* Reference-counted outgoing WebSocket message: serialized once, framed once (RFC 6455 header in
 * front of the payload, so a writer sends it with one write), shared by every recipient's queue,
 * freed by whoever drops the last reference. */
#ifndef HUDDLE_MSG_H
#define HUDDLE_MSG_H

#include <stdatomic.h>
#include <stddef.h>

#define MSG_HEADROOM 10 /* longest unmasked server frame header */

struct msg {
    atomic_int refs;
    int opcode;        /* WebSocket opcode: 0x1 text, 0x8 close, 0xA pong */
    size_t len;        /* payload length, not counting the trailing NUL */
    char *data;        /* payload, NUL-terminated (points into buf) */
    const char *frame; /* the whole frame: header immediately followed by the payload */
    size_t frame_len;
    char buf[];
};

/* Copies len bytes of data into a new message with one reference. Returns NULL on OOM. */
struct msg *msg_new(int opcode, const char *data, size_t len);

/* New message with room for a len-byte payload, framed for that length; the caller writes exactly
 * len bytes at m->data before sharing it (the NUL after them is already there). NULL on OOM. */
struct msg *msg_alloc(int opcode, size_t len);

/* Text message from a NUL-terminated string (copied). Returns NULL on OOM. */
struct msg *msg_text(const char *s);

/* Close message with a status code and a short reason (code 0: empty payload). */
struct msg *msg_close(unsigned code, const char *reason);

/* Takes one more reference; returns m. */
struct msg *msg_ref(struct msg *m);

/* Drops one reference; frees on the last. msg_unref(NULL) is a no-op. */
void msg_unref(struct msg *m);

#endif
