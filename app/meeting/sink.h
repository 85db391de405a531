/* SPDX-License-Identifier: MIT */
/* What the hub sends to: the first member of every transport's session struct (a WebSocket on
 * the event loop, or a TLS WebSocket on a CivetWeb thread), so the hub needs no transport. */
#ifndef HUDDLE_SINK_H
#define HUDDLE_SINK_H

#include <stdbool.h>
#include "msg.h"

struct sink {
    /* Queues m (taking its own reference) without blocking; false when the session cannot take
     * it (its queue overflowed, or it is closing). Called on the loop thread only. */
    bool (*send)(struct sink *sk, struct msg *m);
    /* The hub gave this connection's session to another connection (`resume`): forget it and
     * close (4000). Called on the loop thread, from inside the hub: only queues. */
    void (*evict)(struct sink *sk);
    /* Close the connection with code and reason; its session ends as usual. Only queues. */
    void (*kick)(struct sink *sk, unsigned code, const char *reason);
};

/* hub_ops.send for sinks: dispatches to sk->send. */
static inline bool sink_send(void *sk, struct msg *m)
{
    return ((struct sink *)sk)->send((struct sink *)sk, m);
}

/* hub_ops.evict for sinks: dispatches to sk->evict. */
static inline void sink_evict(void *sk)
{
    ((struct sink *)sk)->evict((struct sink *)sk);
}

/* hub_ops.kick for sinks: dispatches to sk->kick. */
static inline void sink_kick(void *sk, unsigned code, const char *reason)
{
    ((struct sink *)sk)->kick((struct sink *)sk, code, reason);
}

#endif
