/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the frame layer. The input becomes a sequence of frames whose answers from
 * frame_asm_feed are checked against a small reference model of the RFC 6455 rules; the same
 * frames are then masked, put on the wire and read back in arbitrary read sizes the way the event
 * loop does (frame_header_parse, frame_asm_begin, frame_unmask, frame_asm_feed), which must answer
 * the same; and the raw input read as a wire stream must answer the same in one read as in many.
 * Input layout and build in tests/fuzz/README.md. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "fuzz.h"
#include "utf8.h"

/* Input layout: byte 0 = max_bytes (0..255), byte 1 = how the wire is cut into reads (low 3 bits:
 * the largest read, the rest seeds the read sizes, masking keys and header forms), then frames
 * of [bits][length][payload], the last payload possibly cut short by the end of the input.
 * Lengths up to 255 reach both the control frame limit (125) and the message limit. */
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

/* --- traces: what a connection was told to do, frame by frame --- */

struct fuzz_event {
    enum frame_action action;
    unsigned code; /* FRAME_CLOSE / FRAME_FAIL */
    int opcode;    /* FRAME_MESSAGE */
    size_t len;    /* FRAME_MESSAGE / FRAME_PING */
    uint64_t hash; /* of the payload, FRAME_MESSAGE / FRAME_PING */
};

struct fuzz_trace {
    struct fuzz_event *ev;
    size_t n, cap;
};

/* Records one answer after checking the invariants every answer obeys. */
static void trace_add(struct fuzz_trace *t, enum frame_action act, const struct frame_out *out,
                      size_t max_bytes)
{
    struct fuzz_event e = {act, 0, 0, 0, 0};

    switch (act) {
    case FRAME_MESSAGE:
        FUZZ_CHECK(out->len <= max_bytes && out->data != NULL);
        FUZZ_CHECK(out->opcode == FRAME_OP_TEXT || out->opcode == FRAME_OP_BINARY);
        FUZZ_CHECK(utf8_valid(out->data, out->len));
        e.opcode = out->opcode;
        e.len = out->len;
        e.hash = fuzz_hash(FUZZ_HASH_INIT, out->data, out->len);
        break;
    case FRAME_PING:
        FUZZ_CHECK(out->len <= 125 && out->data != NULL);
        e.len = out->len;
        e.hash = fuzz_hash(FUZZ_HASH_INIT, out->data, out->len);
        break;
    case FRAME_CLOSE:
        FUZZ_CHECK(out->code == 0 || frame_close_code_valid(out->code));
        e.code = out->code;
        break;
    case FRAME_FAIL:
        FUZZ_CHECK(out->reason && strlen(out->reason) <= 123);
        FUZZ_CHECK(out->code == 1002 || out->code == 1007 || out->code == 1009 ||
                   out->code == 1011);
        e.code = out->code;
        break;
    default:
        break;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        struct fuzz_event *p = realloc(t->ev, cap * sizeof(*p));
        FUZZ_CHECK(p != NULL);
        t->ev = p;
        t->cap = cap;
    }
    t->ev[t->n++] = e;
}

static bool event_eq(const struct fuzz_event *a, const struct fuzz_event *b)
{
    return a->action == b->action && a->code == b->code && a->opcode == b->opcode &&
           a->len == b->len && a->hash == b->hash;
}

/* --- a wire reader that chains the calls as app/loop/conn.c consume() does --- */

struct fuzz_wire {
    struct frame_asm fa;
    struct frame_header fh;
    unsigned char hdr[FRAME_HEADER_MAX];
    unsigned hdr_len;
    bool in_payload;
    bool done; /* a close or a failure was answered: the connection reads no more */
    uint64_t got;
    char *pbuf; /* exactly fh.len bytes, when the payload spans reads */
    struct fuzz_trace *trace;
};

static void wire_init(struct fuzz_wire *w, size_t max_bytes, struct fuzz_trace *trace)
{
    memset(w, 0, sizeof(*w));
    frame_asm_init(&w->fa, max_bytes);
    w->trace = trace;
}

static void wire_free(struct fuzz_wire *w)
{
    frame_asm_free(&w->fa);
    free(w->pbuf);
    w->pbuf = NULL;
}

static void wire_frame(struct fuzz_wire *w, const char *data, size_t len)
{
    struct frame_out out;
    enum frame_action act = frame_asm_feed(&w->fa, w->fh.bits, data, len, &out);

    FUZZ_CHECK(w->fa.cap <= w->fa.max_bytes && w->fa.len <= w->fa.max_bytes);
    trace_add(w->trace, act, &out, w->fa.max_bytes);
    if (act == FRAME_CLOSE || act == FRAME_FAIL)
        w->done = true;
}

/* One read: data[0..n) is modified in place (payloads are unmasked where they lie). */
static void wire_consume(struct fuzz_wire *w, char *data, size_t n)
{
    struct frame_out out;

    while (n && !w->done) {
        if (!w->in_payload) {
            size_t hs;
            if (w->hdr_len == 0) {
                hs = frame_header_parse((const unsigned char *)data, n, &w->fh);
                if (!hs) {
                    FUZZ_CHECK(n < FRAME_HEADER_MAX);
                    memcpy(w->hdr, data, n);
                    w->hdr_len = (unsigned)n;
                    break;
                }
            } else {
                size_t take = FRAME_HEADER_MAX - w->hdr_len;
                if (take > n)
                    take = n;
                memcpy(w->hdr + w->hdr_len, data, take);
                hs = frame_header_parse(w->hdr, w->hdr_len + take, &w->fh);
                if (!hs) {
                    w->hdr_len += (unsigned)take;
                    FUZZ_CHECK(w->hdr_len < FRAME_HEADER_MAX);
                    break;
                }
                FUZZ_CHECK(hs > w->hdr_len);
                hs -= w->hdr_len;
                w->hdr_len = 0;
            }
            FUZZ_CHECK(hs <= n && w->fh.size >= 2 && w->fh.size <= FRAME_HEADER_MAX);
            data += hs;
            n -= hs;
            if (frame_asm_begin(&w->fa, &w->fh, &out) == FRAME_FAIL) {
                trace_add(w->trace, FRAME_FAIL, &out, w->fa.max_bytes);
                w->done = true;
                break;
            }
            /* what begin let through fits in memory: control frames, or within max_bytes */
            FUZZ_CHECK(w->fh.masked &&
                       w->fh.len <= (w->fa.max_bytes > 125 ? w->fa.max_bytes : 125));
            w->in_payload = true;
            w->got = 0;
        }
        size_t want = (size_t)(w->fh.len - w->got);
        size_t avail = n < want ? n : want;
        if (w->got == 0 && avail == want) {
            frame_unmask(data, avail, w->fh.mask, 0);
            w->in_payload = false;
            wire_frame(w, data, avail);
        } else if (avail) {
            if (!w->pbuf) {
                w->pbuf = malloc((size_t)w->fh.len);
                FUZZ_CHECK(w->pbuf != NULL);
            }
            memcpy(w->pbuf + w->got, data, avail);
            frame_unmask(w->pbuf + w->got, avail, w->fh.mask, w->got);
            w->got += avail;
            if (w->got == w->fh.len) {
                w->in_payload = false;
                wire_frame(w, w->pbuf, (size_t)w->got);
                free(w->pbuf);
                w->pbuf = NULL;
            }
        }
        data += avail;
        n -= avail;
    }
}

/* Feeds stream[0..len) to w in reads of 1..max_read bytes drawn from *seed, each read in its own
 * exact-size heap block (a header or payload read past the end of a read is caught). */
static void wire_feed(struct fuzz_wire *w, const unsigned char *stream, size_t len, size_t max_read,
                      uint64_t *seed)
{
    size_t pos = 0;

    while (pos < len && !w->done) {
        size_t n = len - pos;
        if (n > max_read)
            n = 1 + (size_t)(fuzz_rand(seed) % max_read);
        unsigned char *rd = fuzz_dup(stream + pos, n);
        wire_consume(w, (char *)rd, n);
        free(rd);
        pos += n;
    }
}

/* --- the input as frames --- */

struct fuzz_frame {
    unsigned bits;
    const unsigned char *p;
    size_t n;
};

/* Puts frames f[0..nf) on the wire as a client would: masked with keys from *seed, lengths in
 * the shortest form or (as RFC 6455 allows a client to) a longer one. Returns a heap block of
 * *len bytes (NULL when empty). */
static unsigned char *wire_encode(const struct fuzz_frame *f, size_t nf, uint64_t *seed,
                                  size_t *len)
{
    size_t cap = 0, o = 0;
    unsigned char *w;

    for (size_t i = 0; i < nf; i++)
        cap += FRAME_HEADER_MAX + f[i].n;
    w = cap ? malloc(cap) : NULL;
    FUZZ_CHECK(cap == 0 || w != NULL);
    for (size_t i = 0; i < nf; i++) {
        uint64_t r = fuzz_rand(seed);
        unsigned form = (unsigned)(r & 3);
        uint8_t key[4] = {(uint8_t)(r >> 8), (uint8_t)(r >> 16), (uint8_t)(r >> 24),
                          (uint8_t)(r >> 32)};
        size_t n = f[i].n;

        w[o++] = (unsigned char)f[i].bits;
        if (form == 2 || (form < 2 && n >= 126)) {
            w[o++] = 0x80 | 126;
            w[o++] = (unsigned char)(n >> 8);
            w[o++] = (unsigned char)n;
        } else if (form == 3) {
            w[o++] = 0x80 | 127;
            for (int b = 7; b >= 0; b--)
                w[o++] = (unsigned char)((uint64_t)n >> (8 * b));
        } else {
            w[o++] = (unsigned char)(0x80 | n);
        }
        memcpy(w + o, key, 4);
        o += 4;
        for (size_t j = 0; j < n; j++)
            w[o + j] = f[i].p[j] ^ key[j & 3];
        o += n;
    }
    *len = o;
    return w;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t max_reads[8] = {1, 2, 3, 5, 8, 14, 100, SIZE_MAX};
    struct frame_asm a;
    struct fuzz_trace ta = {0}, tb = {0}, tc = {0};
    struct fuzz_frame *frames;
    struct fuzz_wire w;
    size_t max_bytes, max_read, nf = 0, pos = 2, seg = 0;
    uint64_t seed;

    if (size < 2)
        return 0;
    max_bytes = data[0];
    max_read = max_reads[data[1] & 7];
    seed = fuzz_hash(FUZZ_HASH_INIT, data, size);
    frames = malloc((size / 2 + 1) * sizeof(*frames));
    FUZZ_CHECK(frames != NULL);

    /* 1. frame by frame against the model; a close or a failure starts a new connection */
    frame_asm_init(&a, max_bytes);
    memset(&fuzz_model, 0, sizeof(fuzz_model));
    while (pos + 2 <= size) {
        unsigned bits = data[pos];
        size_t n = data[pos + 1];
        unsigned char *payload;
        struct frame_out out;
        struct fuzz_expect e;
        enum frame_action got;

        pos += 2;
        if (n > size - pos)
            n = size - pos;
        frames[nf++] = (struct fuzz_frame){bits, data + pos, n};
        payload = fuzz_dup(data + pos, n);
        pos += n;
        e = fuzz_predict(&fuzz_model, max_bytes, bits, payload, n);
        got = frame_asm_feed(&a, bits, (const char *)payload, n, &out);

        FUZZ_CHECK(got == e.action);
        FUZZ_CHECK(a.cap <= max_bytes && a.len <= max_bytes);
        trace_add(&ta, got, &out, max_bytes);
        switch (got) {
        case FRAME_MESSAGE:
            FUZZ_CHECK(out.len == e.len && memcmp(out.data, e.data, e.len) == 0);
            FUZZ_CHECK(out.opcode == e.opcode);
            break;
        case FRAME_PING:
            FUZZ_CHECK(out.len == e.len && (!e.len || memcmp(out.data, e.data, e.len) == 0));
            break;
        case FRAME_CLOSE:
        case FRAME_FAIL:
            FUZZ_CHECK(out.code == e.code);
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

    /* 2. the same connections masked on the wire, read in pieces: the same answers */
    while (seg < nf) {
        size_t end = seg, wlen;
        unsigned char *wire;

        while (end < nf && ta.ev[end].action != FRAME_CLOSE && ta.ev[end].action != FRAME_FAIL)
            end++;
        if (end < nf)
            end++;
        wire = wire_encode(frames + seg, end - seg, &seed, &wlen);
        tb.n = 0;
        wire_init(&w, max_bytes, &tb);
        wire_feed(&w, wire, wlen, max_read, &seed);
        FUZZ_CHECK(w.hdr_len == 0 && !w.in_payload);
        FUZZ_CHECK(tb.n == end - seg);
        for (size_t i = 0; i < tb.n; i++)
            FUZZ_CHECK(event_eq(&tb.ev[i], &ta.ev[seg + i]));
        wire_free(&w);
        free(wire);
        seg = end;
    }

    /* 3. the raw input after byte 1 as a wire stream: one read and many answer the same */
    wire_init(&w, max_bytes, &tb);
    tb.n = 0;
    wire_feed(&w, data + 2, size - 2, SIZE_MAX, &seed);
    wire_free(&w);
    wire_init(&w, max_bytes, &tc);
    wire_feed(&w, data + 2, size - 2, max_read == SIZE_MAX ? 1 : max_read, &seed);
    wire_free(&w);
    FUZZ_CHECK(tb.n == tc.n);
    for (size_t i = 0; i < tb.n; i++)
        FUZZ_CHECK(event_eq(&tb.ev[i], &tc.ev[i]));

    free(ta.ev);
    free(tb.ev);
    free(tc.ev);
    free(frames);
    return 0;
}
