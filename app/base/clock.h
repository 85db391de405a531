/* SPDX-License-Identifier: MIT */
/* The one clock helper: monotonic milliseconds for every timeout and rate, wall-clock
 * milliseconds for timestamps users see. */
#ifndef HUDDLE_CLOCK_H
#define HUDDLE_CLOCK_H

#include <stdint.h>

/* Milliseconds on CLOCK_MONOTONIC (never jumps; for timeouts and rates). */
int64_t clock_mono_ms(void);

/* Milliseconds since the epoch on CLOCK_REALTIME (for `ts` fields). */
int64_t clock_real_ms(void);

#endif
