/* SPDX-License-Identifier: MIT */
/* Incremental UTF-8 validator built from the byte ranges of RFC 3629 section 4: each lead byte
 * fixes how many continuation bytes follow and the allowed range of the first one, which is what
 * excludes overlongs, surrogates and code points above U+10FFFF. */
#include "utf8.h"

#include <string.h>

/* Value of st->need once invalid input was seen: sticky until utf8_init. */
#define UTF8_NEED_BAD UINT32_MAX

#define UTF8_CONT_MIN 0x80u
#define UTF8_CONT_MAX 0xBFu

void utf8_init(struct utf8_state *st)
{
    st->need = 0;
    st->cp = 0;
    st->lower = UTF8_CONT_MIN;
    st->upper = UTF8_CONT_MAX;
}

/* True when the 8 bytes at p are all ASCII. */
static bool utf8_ascii8(const unsigned char *p)
{
    uint64_t w;

    memcpy(&w, p, sizeof(w));
    return (w & UINT64_C(0x8080808080808080)) == 0;
}

/* Starts a sequence at lead byte b: sets the number of continuation bytes, the payload bits of the
 * lead byte and the range allowed for the first continuation byte. Returns false for bytes that
 * cannot start a sequence (80..C1, F5..FF). */
static bool utf8_lead(struct utf8_state *st, unsigned b)
{
    st->lower = UTF8_CONT_MIN;
    st->upper = UTF8_CONT_MAX;
    if (b >= 0xC2 && b <= 0xDF) {
        st->need = 1;
        st->cp = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        st->need = 2;
        st->cp = b & 0x0F;
        if (b == 0xE0)
            st->lower = 0xA0; /* E0 80..9F would be overlong */
        else if (b == 0xED)
            st->upper = 0x9F; /* ED A0..BF would be a surrogate */
    } else if (b >= 0xF0 && b <= 0xF4) {
        st->need = 3;
        st->cp = b & 0x07;
        if (b == 0xF0)
            st->lower = 0x90; /* F0 80..8F would be overlong */
        else if (b == 0xF4)
            st->upper = 0x8F; /* F4 90..BF would exceed U+10FFFF */
    } else {
        return false;
    }
    return true;
}

enum utf8_result utf8_feed(struct utf8_state *st, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    const unsigned char *end;

    if (st->need == UTF8_NEED_BAD)
        return UTF8_INVALID;
    if (len == 0) /* buf may be NULL */
        return st->need == 0 ? UTF8_COMPLETE : UTF8_PARTIAL;
    end = p + len;
    while (p < end) {
        if (st->need == 0) {
            while (end - p >= 8 && utf8_ascii8(p))
                p += 8;
            if (p == end)
                break;
            if (*p < 0x80) {
                p++;
                continue;
            }
            if (!utf8_lead(st, *p++))
                goto invalid;
            continue;
        }
        if (*p < st->lower || *p > st->upper)
            goto invalid;
        st->cp = (st->cp << 6) | (*p++ & 0x3Fu);
        st->lower = UTF8_CONT_MIN;
        st->upper = UTF8_CONT_MAX;
        st->need--;
    }
    return st->need == 0 ? UTF8_COMPLETE : UTF8_PARTIAL;

invalid:
    st->need = UTF8_NEED_BAD;
    return UTF8_INVALID;
}

bool utf8_valid(const void *buf, size_t len)
{
    struct utf8_state st;

    utf8_init(&st);
    return utf8_feed(&st, buf, len) == UTF8_COMPLETE;
}

size_t utf8_count(const char *buf, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)buf[i] & 0xC0) != 0x80;
    return n;
}

/* For input that is not valid after all, returns U+FFFD and consumes one byte (none if len is 0),
 * so a decoding loop always advances. */
uint32_t utf8_decode(const char *s, size_t len, size_t *n)
{
    struct utf8_state st;
    size_t i = 0;

    utf8_init(&st);
    while (i < len) {
        enum utf8_result r = utf8_feed(&st, s + i, 1);

        i++;
        if (r == UTF8_COMPLETE) {
            if (n)
                *n = i;
            return i == 1 ? (unsigned char)s[0] : st.cp;
        }
        if (r == UTF8_INVALID)
            break;
    }
    if (n)
        *n = len ? 1 : 0;
    return 0xFFFD;
}
