/* SPDX-License-Identifier: MIT */
/* Helpers shared by the libFuzzer targets: a check that aborts with its condition (libFuzzer then
 * saves the input as a crash), and a small deterministic generator for choices derived from the
 * input (read sizes, masking keys, header forms). */
#ifndef HUDDLE_FUZZ_H
#define HUDDLE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* xorshift64*: the same seed gives the same sequence, so a saved crash replays exactly. */
static inline uint64_t fuzz_rand(uint64_t *s)
{
    uint64_t x = *s ? *s : UINT64_C(0x9E3779B97F4A7C15);
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * UINT64_C(0x2545F4914F6CDD1D);
}

/* FNV-1a over buf[0..len), continuing from h. */
static inline uint64_t fuzz_hash(uint64_t h, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * UINT64_C(0x100000001B3);
    return h;
}

#define FUZZ_HASH_INIT UINT64_C(0xCBF29CE484222325)

/* Copies buf[0..len) into an exact-size heap block, so a read past its end is caught by ASan.
 * Returns NULL for len 0 (and aborts when out of memory); the caller frees. */
static inline unsigned char *fuzz_dup(const void *buf, size_t len)
{
    unsigned char *p;
    if (!len)
        return NULL;
    p = malloc(len);
    FUZZ_CHECK(p != NULL);
    for (size_t i = 0; i < len; i++)
        p[i] = ((const unsigned char *)buf)[i];
    return p;
}

#endif
