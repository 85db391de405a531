/* SPDX-License-Identifier: MIT */
/* Unit tests for the thread-ownership checks: an unbound owner lets every thread through, a bound
 * one only its thread; a call off the owner thread aborts with the function's name; and in debug
 * builds the hub's entry points make that check (release builds compile it away). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "hub.h"
#include "thread.h"

struct probe {
    struct thread_owner *owner;
    bool bind;    /* bind the owner on the thread first */
    bool current; /* what thread_owner_is_current said there */
};

static void *probe_main(void *arg)
{
    struct probe *p = arg;
    if (p->bind)
        thread_owner_bind(p->owner);
    p->current = thread_owner_is_current(p->owner);
    return NULL;
}

/* Runs a probe on a new thread and waits for it. */
static bool on_other_thread(struct thread_owner *o, bool bind)
{
    struct probe p = {.owner = o, .bind = bind};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, probe_main, &p), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    return p.current;
}

static void test_unbound_lets_every_thread_through(void **state)
{
    struct thread_owner o = {0};
    assert_true(thread_owner_is_current(NULL));
    assert_true(thread_owner_is_current(&o));
    assert_true(on_other_thread(&o, false));
}

static void test_bound_owner_only(void **state)
{
    struct thread_owner o = {0};
    thread_owner_bind(&o);
    assert_true(thread_owner_is_current(&o));
    assert_false(on_other_thread(&o, false));
    /* another thread takes it over: now this one is the outsider */
    assert_true(on_other_thread(&o, true));
    assert_false(thread_owner_is_current(&o));
    thread_owner_unbind(&o);
    assert_true(thread_owner_is_current(&o));
}

/* Runs fn in a child process with stderr in a pipe; returns its wait status and what it wrote. */
static int run_child(void (*fn)(void), char *err, size_t errlen)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        fn();
        _exit(0);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < errlen && (r = read(fds[0], err + n, errlen - 1 - n)) > 0)
        n += (size_t)r;
    err[n] = '\0';
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static struct thread_owner foreign; /* bound to a thread that has ended: nobody here owns it */

static void check_foreign(void)
{
    thread_owner_check(&foreign, "conn_flush");
}

static void test_check_aborts_off_the_owner_thread(void **state)
{
    char err[512];
    on_other_thread(&foreign, true);
    int status = run_child(check_foreign, err, sizeof(err));
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    assert_non_null(strstr(err, "conn_flush called off its owner thread"));
}

#ifndef NDEBUG
static bool discard(void *sink, struct msg *m)
{
    return true;
}

static void tick_foreign_hub(void)
{
    struct hub_config cfg = {.max_room_members = 2, .max_rooms = 2, .owner = &foreign};
    struct hub_ops ops = {.send = discard};
    struct hub *h = hub_new(&cfg, &ops);
    if (h)
        hub_tick(h); /* from a thread that does not own the hub */
}
#endif

static void test_hub_entry_points_check_their_thread(void **state)
{
#ifdef NDEBUG
    skip(); /* release build: the checks are compiled away */
#else
    char err[512];
    on_other_thread(&foreign, true);
    int status = run_child(tick_foreign_hub, err, sizeof(err));
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    assert_non_null(strstr(err, "hub_tick called off its owner thread"));
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unbound_lets_every_thread_through),
        cmocka_unit_test(test_bound_owner_only),
        cmocka_unit_test(test_check_aborts_off_the_owner_thread),
        cmocka_unit_test(test_hub_entry_points_check_their_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
