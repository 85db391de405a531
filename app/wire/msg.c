/* SPDX-License-Identifier: MIT */
/* Reference-counted outgoing messages (see msg.h). */
#include "msg.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct msg *msg_new(int opcode, const char *data, size_t len)
{
    struct msg *m = msg_alloc(opcode, len);
    if (m && len)
        memcpy(m->data, data, len);
    return m;
}

struct msg *msg_alloc(int opcode, size_t len)
{
    struct msg *m = malloc(sizeof(*m) + MSG_HEADROOM + len + 1);
    if (!m)
        return NULL;
    atomic_init(&m->refs, 1);
    m->opcode = opcode;
    m->len = len;
    m->data = m->buf + MSG_HEADROOM;
    m->data[len] = '\0';
    /* RFC 6455 5.2: FIN + opcode, then a 7-bit, 16-bit or 64-bit length; servers never mask */
    unsigned char *h;
    if (len < 126) {
        h = (unsigned char *)m->data - 2;
        h[1] = (unsigned char)len;
    } else if (len <= 0xffff) {
        h = (unsigned char *)m->data - 4;
        h[1] = 126;
        h[2] = (unsigned char)(len >> 8);
        h[3] = (unsigned char)len;
    } else {
        h = (unsigned char *)m->data - 10;
        h[1] = 127;
        for (int i = 0; i < 8; i++)
            h[2 + i] = (unsigned char)((uint64_t)len >> (56 - 8 * i));
    }
    h[0] = (unsigned char)(0x80 | (opcode & 0x0f));
    m->frame = (const char *)h;
    m->frame_len = (size_t)((unsigned char *)m->data - h) + len;
    return m;
}

struct msg *msg_text(const char *s)
{
    return msg_new(0x1, s, strlen(s));
}

struct msg *msg_close(unsigned code, const char *reason)
{
    char body[125];
    size_t len = 0;
    if (code) {
        size_t rlen = reason ? strlen(reason) : 0;
        if (rlen > sizeof(body) - 2)
            rlen = sizeof(body) - 2;
        body[0] = (char)((code >> 8) & 0xff);
        body[1] = (char)(code & 0xff);
        if (rlen)
            memcpy(body + 2, reason, rlen);
        len = 2 + rlen;
    }
    return msg_new(0x8, body, len);
}

struct msg *msg_ref(struct msg *m)
{
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

void msg_unref(struct msg *m)
{
    if (m && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
        free(m);
}
