/* SPDX-License-Identifier: MIT */
/* Incremental UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF) that
 * can be fed a message in pieces split anywhere, plus code point helpers. Hand-written because no
 * Debian library offers validation that resumes across WebSocket fragments. */
#ifndef HUDDLE_UTF8_H
#define HUDDLE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct utf8_state {
    uint32_t need;  /* continuation bytes still expected in the current sequence */
    uint32_t cp;    /* code point being assembled */
    uint32_t lower; /* allowed range of the next continuation byte */
    uint32_t upper;
};

enum utf8_result {
    UTF8_COMPLETE = 0, /* everything fed so far is valid and ends on a code point boundary */
    UTF8_PARTIAL,      /* valid so far, but ends inside a sequence */
    UTF8_INVALID,      /* invalid: the state stays invalid until reset */
};

void utf8_init(struct utf8_state *st);

/* Feeds len bytes. Returns the state of everything fed since utf8_init. */
enum utf8_result utf8_feed(struct utf8_state *st, const void *buf, size_t len);

/* True when buf[0..len) is complete, valid UTF-8. */
bool utf8_valid(const void *buf, size_t len);

/* Number of code points in valid UTF-8 buf[0..len). */
size_t utf8_count(const char *buf, size_t len);

/* Decodes one code point from valid UTF-8 at s (len > 0); stores its byte length in *n. */
uint32_t utf8_decode(const char *s, size_t len, size_t *n);

#endif
