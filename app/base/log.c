/* SPDX-License-Identifier: MIT */
/* Levelled logging to stderr: each event becomes one line, built in a bounded buffer and written
 * with a single fwrite so lines from concurrent threads never interleave. */
#include "log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define LOG_LINE_MAX 1024 /* bytes per line including the newline; longer text ends in "..." */

static atomic_int log_level_now = LOG_INFO;

static const char *const level_tags[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};

void log_set_level(enum log_level level)
{
    atomic_store(&log_level_now, (int)level);
}

enum log_level log_get_level(void)
{
    return (enum log_level)atomic_load(&log_level_now);
}

bool log_enabled(enum log_level level)
{
    return (int)level >= atomic_load(&log_level_now);
}

/* Writes "2026-11-25T19:40:00.123Z " into buf (at least 32 bytes); returns its length. */
static size_t format_time(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;
    size_t n;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(buf + n, len - n, ".%03ldZ ", ts.tv_nsec / 1000000L);
    return n;
}

/* Logs one line at level when it is enabled. Control characters in the formatted text (a newline
 * in a user's message, say) become '?' so an event always stays on one line. Text that does not
 * fit in LOG_LINE_MAX bytes is cut and ends in "...". Safe from any thread. */
void log_msg(enum log_level level, uint64_t session, const char *fmt, ...)
{
    char line[LOG_LINE_MAX];
    size_t n, start, room;
    va_list ap;
    int len;

    if (!log_enabled(level))
        return;
    if ((unsigned)level > LOG_ERROR)
        level = LOG_ERROR;
    n = format_time(line, sizeof(line));
    n += (size_t)snprintf(line + n, sizeof(line) - n, "%s ", level_tags[level]);
    if (session != 0)
        n += (size_t)snprintf(line + n, sizeof(line) - n, "[s%" PRIu64 "] ", session);

    start = n;
    room = sizeof(line) - n - 1; /* keep one byte for the newline */
    va_start(ap, fmt);
    len = vsnprintf(line + n, room + 1, fmt, ap);
    va_end(ap);
    if (len < 0)
        len = 0;
    if ((size_t)len > room) {
        size_t cut = n + room - 3;

        while (cut > start && ((unsigned char)line[cut] & 0xC0) == 0x80)
            cut--; /* do not leave half a UTF-8 sequence before the dots */
        memcpy(line + cut, "...", 3);
        n = cut + 3;
    } else {
        n += (size_t)len;
    }
    for (size_t i = start; i < n; i++)
        if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
            line[i] = '?';
    line[n++] = '\n';
    fwrite(line, 1, n, stderr);
}
