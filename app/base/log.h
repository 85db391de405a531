/* SPDX-License-Identifier: MIT */
/* One line per event on stderr: "2026-11-25T19:40:00.123Z INFO  [s12] text". Thread-safe. */
#ifndef HUDDLE_LOG_H
#define HUDDLE_LOG_H

#include <stdint.h>
#include "config.h"

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
bool log_enabled(enum log_level level);

/* Logs one line at level; session is the session id or 0 for none (printed as "[s12]"). */
void log_msg(enum log_level level, uint64_t session, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(sid, ...) log_msg(LOG_DEBUG, (sid), __VA_ARGS__)
#define log_info(sid, ...)  log_msg(LOG_INFO, (sid), __VA_ARGS__)
#define log_warn(sid, ...)  log_msg(LOG_WARN, (sid), __VA_ARGS__)
#define log_error(sid, ...) log_msg(LOG_ERROR, (sid), __VA_ARGS__)

#endif
