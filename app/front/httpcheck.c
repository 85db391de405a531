/* SPDX-License-Identifier: MIT */
/* Request checks (see httpcheck.h). Hand-written: these are a few lines of parsing each, and no
 * Debian library offers them apart from a whole HTTP stack. */
#include "httpcheck.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Parses the decimal digits at *p (at least one) into *v; false on none or overflow. */
static bool digits(const char **p, long long *v)
{
    const char *s = *p;
    long long n = 0;
    if (!isdigit((unsigned char)*s))
        return false;
    while (isdigit((unsigned char)*s)) {
        if (n > (INT64_MAX - 9) / 10)
            return false;
        n = n * 10 + (*s++ - '0');
    }
    *p = s;
    *v = n;
    return true;
}

enum httpcheck_range httpcheck_range(const char *value, long long size)
{
    const char *p = value;
    long long first = -1, last = -1;
    while (*p == ' ' || *p == '\t')
        p++;
    if (strncasecmp(p, "bytes", 5))
        return HTTPCHECK_RANGE_BAD;
    p += 5;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p++ != '=')
        return HTTPCHECK_RANGE_BAD;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '-') { /* suffix: the last n bytes */
        p++;
        if (!digits(&p, &last))
            return HTTPCHECK_RANGE_BAD;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p)
            return HTTPCHECK_RANGE_BAD;
        return last > 0 && size > 0 ? HTTPCHECK_RANGE_OK : HTTPCHECK_RANGE_UNSATISFY;
    }
    if (!digits(&p, &first) || *p++ != '-')
        return HTTPCHECK_RANGE_BAD;
    if (*p && *p != ' ' && *p != '\t' && !digits(&p, &last))
        return HTTPCHECK_RANGE_BAD;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p) /* several ranges, or garbage */
        return HTTPCHECK_RANGE_BAD;
    if (last >= 0 && last < first)
        return HTTPCHECK_RANGE_BAD;
    return first < size ? HTTPCHECK_RANGE_OK : HTTPCHECK_RANGE_UNSATISFY;
}

bool httpcheck_ws_key(const char *key)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (!key || strlen(key) != 24 || strcmp(key + 22, "=="))
        return false;
    for (int i = 0; i < 22; i++)
        if (!key[i] || !strchr(b64, key[i]))
            return false;
    /* the 22nd character carries 2 bits of the 16th byte and 4 unused bits, which must be 0 */
    return (strchr(b64, key[21]) - b64) % 16 == 0;
}
