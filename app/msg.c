/* SPDX-License-Identifier: MIT */
/* Reference-counted outgoing messages (see msg.h). */
#include "msg.h"

#include <stdlib.h>
#include <string.h>

struct msg *msg_new(int opcode, const char *data, size_t len)
{
    struct msg *m = malloc(sizeof(*m) + len + 1);
    if (!m)
        return NULL;
    atomic_init(&m->refs, 1);
    m->opcode = opcode;
    m->len = len;
    if (len)
        memcpy(m->data, data, len);
    m->data[len] = '\0';
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
