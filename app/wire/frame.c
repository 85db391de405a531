/* SPDX-License-Identifier: MIT */
/* RFC 6455 frame checks and message reassembly for the frames CivetWeb 1.15 hands to the data
 * callback one by one, unvalidated. Decides per frame what the connection must do next. */
#include "frame.h"

#include <stdlib.h>
#include <string.h>

#define FRAME_BIT_FIN      0x80u
#define FRAME_BITS_RSV     0x70u
#define FRAME_BITS_OPCODE  0x0Fu
#define FRAME_CONTROL_MAX  125u
#define FRAME_MIN_CAP      1024u
#define FRAME_KEEP_CAP_MAX (64u * 1024u) /* larger buffers are released between messages */

void frame_asm_init(struct frame_asm *a, size_t max_bytes)
{
    memset(a, 0, sizeof(*a));
    a->max_bytes = max_bytes;
    utf8_init(&a->utf8);
}

/* Also leaves a reusable with the same max_bytes, so a caller may release a large buffer early. */
void frame_asm_free(struct frame_asm *a)
{
    free(a->buf);
    a->buf = NULL;
    a->len = 0;
    a->cap = 0;
    a->opcode = 0;
    utf8_init(&a->utf8);
}

bool frame_close_code_valid(unsigned code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
           (code >= 3000 && code <= 4999);
}

static enum frame_action frame_fail(struct frame_asm *a, struct frame_out *out, uint16_t code,
                                    const char *reason)
{
    a->opcode = 0;
    a->len = 0;
    out->code = code;
    out->reason = reason;
    return FRAME_FAIL;
}

/* Makes room for add more bytes in a->buf; the caller has checked a->len + add <= a->max_bytes,
 * and the capacity never exceeds max_bytes. Returns false when out of memory. */
static bool frame_reserve(struct frame_asm *a, size_t add)
{
    size_t need = a->len + add;
    size_t cap = a->cap;
    char *p;

    if (need <= cap)
        return true;
    if (cap < FRAME_MIN_CAP)
        cap = FRAME_MIN_CAP;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > a->max_bytes)
        cap = a->max_bytes;
    p = realloc(a->buf, cap);
    if (!p)
        return false;
    a->buf = p;
    a->cap = cap;
    return true;
}

static enum frame_action frame_control(struct frame_asm *a, unsigned bits, const char *data,
                                       size_t len, struct frame_out *out)
{
    unsigned op = bits & FRAME_BITS_OPCODE;
    unsigned code;

    if (op > FRAME_OP_PONG)
        return frame_fail(a, out, FRAME_CLOSE_PROTOCOL, "reserved opcode");
    if (len > FRAME_CONTROL_MAX)
        return frame_fail(a, out, FRAME_CLOSE_PROTOCOL, "control frame too long");
    if (!(bits & FRAME_BIT_FIN))
        return frame_fail(a, out, FRAME_CLOSE_PROTOCOL, "fragmented control frame");
    if (op == FRAME_OP_PING) {
        out->data = len ? data : "";
        out->len = len;
        return FRAME_PING;
    }
    if (op == FRAME_OP_PONG)
        return FRAME_PONG;
    if (len == 0)
        return FRAME_CLOSE; /* out->code stays 0: echo an empty close */
    if (len == 1)
        return frame_fail(a, out, FRAME_CLOSE_PROTOCOL, "invalid close payload");
    code = ((unsigned)(unsigned char)data[0] << 8) | (unsigned char)data[1];
    if (!frame_close_code_valid(code))
        return frame_fail(a, out, FRAME_CLOSE_PROTOCOL, "invalid close code");
    if (!utf8_valid(data + 2, len - 2))
        return frame_fail(a, out, FRAME_CLOSE_BAD_DATA, "invalid utf-8");
    out->code = (uint16_t)code;
    return FRAME_CLOSE;
}

/* Appends one fragment of the message in progress after the size and UTF-8 checks; completes the
 * message when fin is set. */
static enum frame_action frame_append(struct frame_asm *a, bool fin, const char *data, size_t len,
                                      struct frame_out *out)
{
    enum utf8_result r;

    if (len > a->max_bytes - a->len)
        return frame_fail(a, out, FRAME_CLOSE_TOO_BIG, "message too big");
    r = utf8_feed(&a->utf8, data, len);
    if (r == UTF8_INVALID || (fin && r != UTF8_COMPLETE))
        return frame_fail(a, out, FRAME_CLOSE_BAD_DATA, "invalid utf-8");
    if (len) {
        if (!frame_reserve(a, len))
            return frame_fail(a, out, FRAME_CLOSE_INTERNAL, "out of memory");
        memcpy(a->buf + a->len, data, len);
        a->len += len;
    }
    if (!fin)
        return FRAME_NONE;
    out->opcode = a->opcode;
    out->data = a->buf ? a->buf : "";
    out->len = a->len;
    a->opcode = 0;
    a->len = 0;
    return FRAME_MESSAGE;
}

enum frame_action frame_asm_feed(struct frame_asm *a, unsigned bits, const char *data, size_t len,
                                 struct frame_out *out)
{
    unsigned op = bits & FRAME_BITS_OPCODE;
    bool fin = (bits & FRAME_BIT_FIN) != 0;

    memset(out, 0, sizeof(*out));
    /* The previous message (if any) was delivered from buf and the caller is done with it. */
    if (a->opcode == 0 && a->cap > FRAME_KEEP_CAP_MAX)
        frame_asm_free(a);
    if (bits & FRAME_BITS_RSV)
        return frame_fail(a, out, FRAME_CLOSE_PROTOCOL, "reserved bits set");
    if (op >= FRAME_OP_CLOSE)
        return frame_control(a, bits, data, len, out);
    if (op == FRAME_OP_CONT) {
        if (a->opcode == 0)
            return frame_fail(a, out, FRAME_CLOSE_PROTOCOL, "unexpected continuation");
        return frame_append(a, fin, data, len, out);
    }
    if (op != FRAME_OP_TEXT && op != FRAME_OP_BINARY)
        return frame_fail(a, out, FRAME_CLOSE_PROTOCOL, "reserved opcode");
    if (a->opcode != 0)
        return frame_fail(a, out, FRAME_CLOSE_PROTOCOL, "expected continuation");
    if (len > a->max_bytes)
        return frame_fail(a, out, FRAME_CLOSE_TOO_BIG, "message too big");
    if (fin) {
        if (!utf8_valid(data, len))
            return frame_fail(a, out, FRAME_CLOSE_BAD_DATA, "invalid utf-8");
        out->opcode = (int)op;
        out->data = len ? data : "";
        out->len = len;
        return FRAME_MESSAGE;
    }
    a->opcode = (int)op;
    utf8_init(&a->utf8);
    return frame_append(a, false, data, len, out);
}

size_t frame_header_parse(const unsigned char *buf, size_t n, struct frame_header *h)
{
    size_t need = 2;
    if (n < need)
        return 0;
    unsigned len7 = buf[1] & 0x7fu;
    bool masked = (buf[1] & 0x80u) != 0;
    need += (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (masked ? 4 : 0);
    if (n < need)
        return 0;
    h->bits = buf[0];
    h->masked = masked;
    size_t p = 2;
    if (len7 == 126) {
        h->len = ((uint64_t)buf[2] << 8) | buf[3];
        p = 4;
    } else if (len7 == 127) {
        h->len = 0;
        for (int i = 0; i < 8; i++)
            h->len = (h->len << 8) | buf[2 + i];
        p = 10;
    } else {
        h->len = len7;
    }
    if (masked)
        memcpy(h->mask, buf + p, 4);
    else
        memset(h->mask, 0, 4);
    h->size = need;
    return need;
}

enum frame_action frame_asm_begin(struct frame_asm *a, const struct frame_header *h,
                                  struct frame_out *out)
{
    unsigned op = h->bits & FRAME_BITS_OPCODE;
    bool fin = (h->bits & FRAME_BIT_FIN) != 0;

    memset(out, 0, sizeof(*out));
    if (!h->masked)
        return frame_fail(a, out, FRAME_CLOSE_PROTOCOL, "client frame not masked");
    if (h->len >> 63)
        return frame_fail(a, out, FRAME_CLOSE_PROTOCOL, "invalid payload length");
    if (h->bits & FRAME_BITS_RSV)
        return frame_fail(a, out, FRAME_CLOSE_PROTOCOL, "reserved bits set");
    if (op >= FRAME_OP_CLOSE) {
        if (op > FRAME_OP_PONG)
            return frame_fail(a, out, FRAME_CLOSE_PROTOCOL, "reserved opcode");
        if (h->len > FRAME_CONTROL_MAX)
            return frame_fail(a, out, FRAME_CLOSE_PROTOCOL, "control frame too long");
        if (!fin)
            return frame_fail(a, out, FRAME_CLOSE_PROTOCOL, "fragmented control frame");
        return FRAME_NONE;
    }
    if (op == FRAME_OP_CONT) {
        if (a->opcode == 0)
            return frame_fail(a, out, FRAME_CLOSE_PROTOCOL, "unexpected continuation");
        if (h->len > a->max_bytes - a->len)
            return frame_fail(a, out, FRAME_CLOSE_TOO_BIG, "message too big");
        return FRAME_NONE;
    }
    if (op != FRAME_OP_TEXT && op != FRAME_OP_BINARY)
        return frame_fail(a, out, FRAME_CLOSE_PROTOCOL, "reserved opcode");
    if (a->opcode != 0)
        return frame_fail(a, out, FRAME_CLOSE_PROTOCOL, "expected continuation");
    if (h->len > a->max_bytes)
        return frame_fail(a, out, FRAME_CLOSE_TOO_BIG, "message too big");
    return FRAME_NONE;
}

void frame_unmask(char *data, size_t len, const uint8_t mask[4], uint64_t offset)
{
    unsigned char *p = (unsigned char *)data;
    size_t i = 0;
    unsigned k = (unsigned)(offset & 3);
    /* byte-wise until the key lines up, then 8 bytes at a time with the rotated key */
    while (i < len && k != 0) {
        p[i++] ^= mask[k];
        k = (k + 1) & 3;
    }
    uint64_t m8;
    uint8_t key[8] = {mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3]};
    memcpy(&m8, key, 8);
    for (; i + 8 <= len; i += 8) {
        uint64_t v;
        memcpy(&v, p + i, 8);
        v ^= m8;
        memcpy(p + i, &v, 8);
    }
    for (k = 0; i < len; i++, k++)
        p[i] ^= mask[k & 3];
}
