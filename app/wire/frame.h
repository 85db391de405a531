/* SPDX-License-Identifier: MIT */
/* RFC 6455 rules that CivetWeb 1.15 leaves to the application: checks each frame CivetWeb delivers
 * (RSV bits, opcodes, control frame rules, close payloads), reassembles fragmented messages,
 * validates UTF-8 incrementally and enforces the message size limit. Pure logic: no sockets. */
#ifndef HUDDLE_FRAME_H
#define HUDDLE_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "utf8.h"

enum {
    FRAME_OP_CONT = 0x0,
    FRAME_OP_TEXT = 0x1,
    FRAME_OP_BINARY = 0x2,
    FRAME_OP_CLOSE = 0x8,
    FRAME_OP_PING = 0x9,
    FRAME_OP_PONG = 0xA,
};

enum {
    FRAME_CLOSE_NORMAL = 1000,
    FRAME_CLOSE_GOING_AWAY = 1001,
    FRAME_CLOSE_PROTOCOL = 1002,
    FRAME_CLOSE_BAD_DATA = 1007, /* invalid UTF-8 */
    FRAME_CLOSE_POLICY = 1008,   /* e.g. outgoing queue overflow */
    FRAME_CLOSE_TOO_BIG = 1009,
    FRAME_CLOSE_INTERNAL = 1011,
};

enum frame_action {
    FRAME_NONE = 0, /* a fragment was stored; nothing to do yet */
    FRAME_MESSAGE, /* a whole message is ready: out->opcode (TEXT or BINARY), out->data, out->len */
    FRAME_PING,    /* answer with a pong carrying out->data/out->len */
    FRAME_PONG,    /* unsolicited or answering pong: ignore */
    FRAME_CLOSE,   /* the peer closed: echo a close with out->code (0 = empty body), then drop */
    FRAME_FAIL,    /* violation: send a close with out->code and out->reason, then drop */
};

struct frame_out {
    int opcode;       /* FRAME_MESSAGE: FRAME_OP_TEXT or FRAME_OP_BINARY */
    const char *data; /* FRAME_MESSAGE/FRAME_PING: payload, valid until the next feed/reset */
    size_t len;
    uint16_t code;      /* FRAME_CLOSE/FRAME_FAIL: close code to send */
    const char *reason; /* FRAME_FAIL: short static ASCII reason (<= 123 bytes) */
};

struct frame_asm {
    char *buf; /* reassembly buffer for a fragmented message (heap) */
    size_t len, cap;
    int opcode;       /* opcode of the message in progress, 0 when none */
    size_t max_bytes; /* message size limit (single frame or summed fragments) */
    struct utf8_state utf8;
};

/* Prepares a; messages above max_bytes are refused with 1009. */
void frame_asm_init(struct frame_asm *a, size_t max_bytes);

/* Releases the reassembly buffer. Safe to call twice. */
void frame_asm_free(struct frame_asm *a);

/* Feeds one frame as CivetWeb delivers it: bits is the frame's first byte (FIN 0x80, RSV 0x70,
 * opcode 0x0F), data/len its unmasked payload. Both text and binary payloads must be valid UTF-8
 * (huddle decodes both as text). Returns what the caller must do; fills *out. After FRAME_FAIL or
 * FRAME_CLOSE the caller drops the connection and must not feed again. */
enum frame_action frame_asm_feed(struct frame_asm *a, unsigned bits, const char *data, size_t len,
                                 struct frame_out *out);

/* A client frame header as read off the wire (RFC 6455 5.2). */
struct frame_header {
    unsigned bits;   /* first byte: FIN 0x80, RSV 0x70, opcode 0x0F */
    bool masked;     /* the MASK bit (every client frame must have it) */
    uint64_t len;    /* payload length as declared */
    uint8_t mask[4]; /* masking key when masked */
    size_t size;     /* header length on the wire: 2..14 */
};

#define FRAME_HEADER_MAX 14

/* Parses the frame header at buf[0..n). Returns its length (2..14) when complete and fills *h,
 * or 0 when more bytes are needed. Never fails: the checks are frame_asm_begin's. */
size_t frame_header_parse(const unsigned char *buf, size_t n, struct frame_header *h);

/* Checks a client frame at its header, before any of its payload is buffered: mask bit (1002),
 * 64-bit length with the top bit set (1002), RSV bits, opcodes, control frame rules and
 * continuation order (1002), and the message size limit counting the fragments so far (1009).
 * Returns FRAME_NONE when the payload may be read, or FRAME_FAIL with out->code/out->reason. */
enum frame_action frame_asm_begin(struct frame_asm *a, const struct frame_header *h,
                                  struct frame_out *out);

/* XORs data[0..len) with the masking key, starting at key position offset (the payload
 * offset of data[0] within its frame), in place. */
void frame_unmask(char *data, size_t len, const uint8_t mask[4], uint64_t offset);

/* True for close codes a peer may send (1000-1003, 1007-1014, 3000-4999). */
bool frame_close_code_valid(unsigned code);

#endif
