/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the frame assembler: turns the input into a sequence of frames and checks
 * each answer against a small reference model of the RFC 6455 rules, plus invariants (sizes within
 * max_bytes, delivered messages are valid UTF-8). Build command in tests/fuzz/README.md. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "utf8.h"

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Input layout: byte 0 = max_bytes (0..255), then frames of [bits][length][payload], the last
 * payload possibly cut short by the end of the input. Lengths up to 255 reach both the control
 * frame limit (125) and the message limit. */
struct fuzz_model {
    bool in_progress;
    int opcode;
    size_t len;
    unsigned char buf[256]; /* the message in progress; never more than max_bytes <= 255 */
};

struct fuzz_expect {
    enum frame_action action;
    unsigned code;
    const unsigned char *data; /* FRAME_MESSAGE / FRAME_PING */
    size_t len;
    int opcode;
};

static struct fuzz_model fuzz_model;
static unsigned char fuzz_concat[512];

static bool fuzz_code_ok(unsigned c)
{
    return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);
}

/* What the assembler must answer for one frame, given the model's state; updates the model. */
static struct fuzz_expect fuzz_predict(struct fuzz_model *m, size_t max_bytes, unsigned bits,
                                       const unsigned char *p, size_t n)
{
    struct fuzz_expect e = {FRAME_FAIL, 1002, NULL, 0, 0};
    unsigned op = bits & 0x0F;
    bool fin = (bits & 0x80) != 0;
    struct utf8_state st;
    enum utf8_result r;
    size_t prev;

    if (bits & 0x70)
        return e;
    if (op >= 8) {
        if (op > 0xA || n > 125 || !fin)
            return e;
        if (op == 0x9) {
            e.action = FRAME_PING;
            e.data = p;
            e.len = n;
        } else if (op == 0xA) {
            e.action = FRAME_PONG;
        } else if (n == 0) {
            e.action = FRAME_CLOSE;
            e.code = 0;
        } else if (n == 1 || !fuzz_code_ok((unsigned)p[0] << 8 | p[1])) {
            return e;
        } else if (!utf8_valid(p + 2, n - 2)) {
            e.code = 1007;
        } else {
            e.action = FRAME_CLOSE;
            e.code = (unsigned)p[0] << 8 | p[1];
        }
        return e;
    }
    if (op > 2 || (op == 0) != m->in_progress)
        return e;
    prev = op == 0 ? m->len : 0;
    if (prev + n > max_bytes) {
        e.code = 1009;
        return e;
    }
    if (prev)
        memcpy(fuzz_concat, m->buf, prev);
    if (n)
        memcpy(fuzz_concat + prev, p, n);
    utf8_init(&st);
    r = utf8_feed(&st, fuzz_concat, prev + n);
    if (r == UTF8_INVALID || (fin && r != UTF8_COMPLETE)) {
        e.code = 1007;
        return e;
    }
    if (op != 0)
        m->opcode = (int)op;
    if (!fin) {
        memcpy(m->buf, fuzz_concat, prev + n);
        m->len = prev + n;
        m->in_progress = true;
        e.action = FRAME_NONE;
        return e;
    }
    e.action = FRAME_MESSAGE;
    e.data = fuzz_concat;
    e.len = prev + n;
    e.opcode = m->opcode;
    m->in_progress = false;
    m->len = 0;
    return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct frame_asm a;
    size_t max_bytes;
    size_t pos = 1;

    if (size < 1)
        return 0;
    max_bytes = data[0];
    frame_asm_init(&a, max_bytes);
    memset(&fuzz_model, 0, sizeof(fuzz_model));
    while (pos + 2 <= size) {
        unsigned bits = data[pos];
        size_t n = data[pos + 1];
        unsigned char *payload = NULL;
        struct frame_out out;
        struct fuzz_expect e;
        enum frame_action got;

        pos += 2;
        if (n > size - pos)
            n = size - pos;
        /* an exact-size copy, so reading past the payload is caught by ASan */
        if (n) {
            payload = malloc(n);
            FUZZ_CHECK(payload != NULL);
            memcpy(payload, data + pos, n);
        }
        pos += n;
        e = fuzz_predict(&fuzz_model, max_bytes, bits, payload, n);
        got = frame_asm_feed(&a, bits, (const char *)payload, n, &out);

        FUZZ_CHECK(got == e.action);
        FUZZ_CHECK(a.cap <= max_bytes && a.len <= max_bytes);
        switch (got) {
        case FRAME_MESSAGE:
            FUZZ_CHECK(out.len <= max_bytes && out.len == e.len);
            FUZZ_CHECK(out.data != NULL && utf8_valid(out.data, out.len));
            FUZZ_CHECK(memcmp(out.data, e.data, e.len) == 0);
            FUZZ_CHECK(out.opcode == e.opcode);
            break;
        case FRAME_PING:
            FUZZ_CHECK(out.len == e.len && out.len <= 125 && out.data != NULL);
            FUZZ_CHECK(memcmp(out.data, e.data, e.len) == 0);
            break;
        case FRAME_CLOSE:
        case FRAME_FAIL:
            FUZZ_CHECK(out.code == e.code);
            FUZZ_CHECK(got == FRAME_CLOSE || (out.reason && strlen(out.reason) <= 123));
            /* the connection would be dropped: go on as a new one */
            frame_asm_free(&a);
            frame_asm_init(&a, max_bytes);
            memset(&fuzz_model, 0, sizeof(fuzz_model));
            break;
        default:
            break;
        }
        free(payload);
    }
    frame_asm_free(&a);
    return 0;
}
