/* SPDX-License-Identifier: MIT */
/* Which thread may call what. A thread_owner names the one thread allowed to use some state (the
 * event loop owns the hub and its connections); functions that only that thread may run start
 * with THREAD_ASSERT_OWNER, which in debug builds aborts with the function's name when another
 * thread calls (release builds, NDEBUG, compile it away). An owner nobody has bound lets any
 * thread through: state is used on the creating thread before the loop starts and after it is
 * joined, and unit tests drive it from their own thread. */
#ifndef HUDDLE_THREAD_H
#define HUDDLE_THREAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

struct thread_owner {
    pthread_t tid;     /* written before bound is set, read after it is seen */
    atomic_bool bound; /* tid is the owner */
};

/* The calling thread owns o from now on (the loop thread, first thing). */
void thread_owner_bind(struct thread_owner *o);

/* Nobody owns o (after the owner was joined). */
void thread_owner_unbind(struct thread_owner *o);

/* True when o is NULL, unbound, or owned by the calling thread. Any thread. */
bool thread_owner_is_current(const struct thread_owner *o);

/* Aborts with func's name when thread_owner_is_current(o) is false. */
void thread_owner_check(const struct thread_owner *o, const char *func);

#ifdef NDEBUG
#define THREAD_ASSERT_OWNER(o) ((void)0)
#else
#define THREAD_ASSERT_OWNER(o) thread_owner_check((o), __func__)
#endif

#endif
