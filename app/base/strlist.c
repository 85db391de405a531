/* SPDX-License-Identifier: MIT */
/* Comma-list walker (see strlist.h). */
#include "strlist.h"

bool strlist_next(const char **cursor, const char **item, size_t *len)
{
    const char *p = *cursor;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (!*p) {
            *cursor = p;
            return false;
        }
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        *cursor = e;
        if (t > p) {
            *item = p;
            *len = (size_t)(t - p);
            return true;
        }
        p = e;
    }
}
