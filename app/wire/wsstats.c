/* SPDX-License-Identifier: MIT */
/* WebSocket counters (see wsstats.h): the close-code slots /metrics reports. */
#include "wsstats.h"

#include <stddef.h>
#include <string.h>

static const unsigned close_codes[WS_CLOSE_SLOTS] = {1000, 1001, 1002, 1003, 1006,
                                                     1007, 1008, 1009, 1011, 0};
static const char *const close_labels[WS_CLOSE_SLOTS] = {"1000", "1001", "1002", "1003", "1006",
                                                         "1007", "1008", "1009", "1011", "other"};

const char *ws_close_code_label(unsigned idx)
{
    return idx < WS_CLOSE_SLOTS ? close_labels[idx] : NULL;
}

void ws_count_close(struct ws_counters *ctr, unsigned code)
{
    unsigned i = 0;
    while (i < WS_CLOSE_SLOTS - 1 && close_codes[i] != code)
        i++;
    atomic_fetch_add_explicit(&ctr->closes[i], 1, memory_order_relaxed);
}

void ws_stats_read(struct ws_counters *c, struct ws_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->open = atomic_load(&c->open);
    st->tls_open = atomic_load(&c->tls_open);
    st->accepted = atomic_load(&c->accepted);
    st->refused_full = atomic_load(&c->refused_full);
    st->refused_origin = atomic_load(&c->refused_origin);
    st->refused_ip = atomic_load(&c->refused_ip);
    st->adopt_failed = atomic_load(&c->adopt_failed);
    st->msgs_in = atomic_load(&c->msgs_in);
    st->bytes_in = atomic_load(&c->bytes_in);
    st->msgs_out = atomic_load(&c->msgs_out);
    st->bytes_out = atomic_load(&c->bytes_out);
    for (unsigned i = 0; i < WS_CLOSE_SLOTS; i++)
        st->closes[i] = atomic_load(&c->closes[i]);
}
