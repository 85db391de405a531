/* SPDX-License-Identifier: MIT */
/* libFuzzer target for the UTF-8 validator: utf8_valid, utf8_feed in random read sizes (checked
 * after every piece) and utf8_decode/utf8_count must agree with a reference decoder written here
 * the slow, obvious way (decode whole code points, then reject overlongs, surrogates, > U+10FFFF).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "utf8.h"

/* Decodes the sequence at s[0..len). Returns its length and stores its code point, 0 when it is
 * not a complete valid sequence; *prefix tells whether s[0..len) could still start one. */
static size_t ref_decode(const unsigned char *s, size_t len, uint32_t *cp, bool *prefix)
{
    static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    size_t need;
    uint32_t lo, hi;

    *prefix = false;
    if (len == 0)
        return 0;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xE0) == 0xC0) {
        need = 2;
        lo = s[0] & 0x1F;
    } else if ((s[0] & 0xF0) == 0xE0) {
        need = 3;
        lo = s[0] & 0x0F;
    } else if ((s[0] & 0xF8) == 0xF0) {
        need = 4;
        lo = s[0] & 0x07;
    } else {
        return 0;
    }
    hi = lo;
    /* the code points reachable from the bytes present: [lo, hi] */
    for (size_t i = 1; i < need; i++) {
        if (i < len) {
            if ((s[i] & 0xC0) != 0x80)
                return 0;
            lo = lo << 6 | (s[i] & 0x3Fu);
            hi = hi << 6 | (s[i] & 0x3Fu);
        } else {
            lo = lo << 6;
            hi = hi << 6 | 0x3F;
        }
    }
    if (lo < min_cp[need])
        lo = min_cp[need];
    if (hi > 0x10FFFF)
        hi = 0x10FFFF;
    if (len < need) {
        /* a prefix when some code point in [lo, hi] is allowed (not all surrogates) */
        *prefix = lo <= hi && !(lo >= 0xD800 && hi <= 0xDFFF);
        return 0;
    }
    if (lo > hi || (lo >= 0xD800 && lo <= 0xDFFF))
        return 0;
    *cp = lo;
    return need;
}

/* st[k] = what utf8_feed reports after s[0..k), for every k in 0..len. */
static void ref_states(const unsigned char *s, size_t len, enum utf8_result *st)
{
    size_t i = 0;

    st[0] = UTF8_COMPLETE;
    while (i < len) {
        uint32_t cp;
        bool prefix;
        size_t n = ref_decode(s + i, len - i, &cp, &prefix), k = 1;

        if (n) {
            for (; k < n; k++)
                st[i + k] = UTF8_PARTIAL;
            st[i + n] = UTF8_COMPLETE;
            i += n;
            continue;
        }
        for (; i + k <= len && (ref_decode(s + i, k, &cp, &prefix), prefix); k++)
            st[i + k] = UTF8_PARTIAL;
        for (; i + k <= len; k++)
            st[i + k] = UTF8_INVALID;
        return;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum utf8_result *ref = malloc((size + 1) * sizeof(*ref)), want;
    unsigned char *copy = fuzz_dup(data, size);
    uint64_t seed = fuzz_hash(FUZZ_HASH_INIT, data, size);
    size_t max_read = 1 + (size ? data[0] % 16 : 0);
    struct utf8_state st;
    enum utf8_result r = UTF8_COMPLETE;
    size_t pos = 0, count = 0;

    FUZZ_CHECK(ref != NULL);
    ref_states(data, size, ref);
    want = ref[size];
    FUZZ_CHECK(utf8_valid(copy, size) == (want == UTF8_COMPLETE));

    /* in pieces, each in its own exact-size block; checked after every piece */
    utf8_init(&st);
    FUZZ_CHECK(utf8_feed(&st, NULL, 0) == UTF8_COMPLETE);
    while (pos < size) {
        size_t n = 1 + (size_t)(fuzz_rand(&seed) % (max_read == 16 ? size : max_read));
        if (n > size - pos)
            n = size - pos;
        unsigned char *piece = fuzz_dup(data + pos, n);
        r = utf8_feed(&st, piece, n);
        free(piece);
        pos += n;
        FUZZ_CHECK(r == ref[pos]);
        FUZZ_CHECK(utf8_feed(&st, NULL, 0) == r);
    }
    FUZZ_CHECK(r == want);

    /* utf8_decode at every position: the reference's code point, or U+FFFD and one byte */
    for (size_t i = 0; i < size; i++) {
        uint32_t cp = 0xFFFD;
        bool prefix;
        size_t n = ref_decode(data + i, size - i, &cp, &prefix), got_n = 0;
        uint32_t got = utf8_decode((const char *)copy + i, size - i, &got_n);
        if (n == 0) {
            cp = 0xFFFD;
            n = 1;
        }
        FUZZ_CHECK(got == cp && got_n == n);
    }
    if (want == UTF8_COMPLETE) {
        for (size_t i = 0, n; i < size; i += n, count++)
            utf8_decode((const char *)copy + i, size - i, &n);
        FUZZ_CHECK(utf8_count((const char *)copy, size) == count);
    }
    free(copy);
    free(ref);
    return 0;
}
