/* SPDX-License-Identifier: MIT */
/* The one comma-list walker: "a, b ,c" yields a, b and c (spaces around items trimmed, empty
 * items skipped). Used for ice_servers and allowed_origins. */
#ifndef HUDDLE_STRLIST_H
#define HUDDLE_STRLIST_H

#include <stdbool.h>
#include <stddef.h>

/* Finds the next item at or after *cursor: sets *item and *len to it (not NUL-terminated) and moves
 * *cursor past it. Returns false when no item is left. Start with *cursor = the list. */
bool strlist_next(const char **cursor, const char **item, size_t *len);

#endif
