/* SPDX-License-Identifier: MIT */
/* Thread ownership checks (see thread.h). */
#include "thread.h"

#include <stdio.h>
#include <stdlib.h>

void thread_owner_bind(struct thread_owner *o)
{
    o->tid = pthread_self();
    atomic_store_explicit(&o->bound, true, memory_order_release);
}

void thread_owner_unbind(struct thread_owner *o)
{
    atomic_store_explicit(&o->bound, false, memory_order_release);
}

bool thread_owner_is_current(const struct thread_owner *o)
{
    if (!o || !atomic_load_explicit(&o->bound, memory_order_acquire))
        return true;
    return pthread_equal(o->tid, pthread_self());
}

void thread_owner_check(const struct thread_owner *o, const char *func)
{
    if (thread_owner_is_current(o))
        return;
    /* stderr directly: the log may be what the wrong thread broke */
    fprintf(stderr, "huddle: %s called off its owner thread (it runs on the event loop only)\n",
            func);
    abort();
}
