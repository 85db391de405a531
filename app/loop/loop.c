/* SPDX-License-Identifier: MIT */
/* The event-loop thread (see loop.h): libuv's loop, an async handle that runs posted tasks, and
 * one repeating timer for the room list, the stall and keep-alive timers and lingering closes. */
#include "loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "conn.h"
#include "frame.h"
#include "hub.h"
#include "log.h"
#include "sink.h"
#include "thread.h"

#define LOOP_KEEPALIVE_EVERY 10 /* ticks between keep-alive sweeps (1 s) */

struct loop {
    uv_loop_t uv;
    uv_async_t wake;
    uv_timer_t tick;
    pthread_t thread;
    bool started;
    struct hub *hub;
    struct conn_set cs;
    struct ws_counters *ctr;
    struct thread_owner owner; /* the loop thread, while it runs (debug-build checks) */
    unsigned ticks;
    pthread_mutex_t lock; /* tasks, closed */
    struct loop_task *head, *tail;
    bool closed; /* no more posts accepted */
};

struct hub *loop_hub(struct loop *lp)
{
    THREAD_ASSERT_OWNER(&lp->owner);
    return lp->hub;
}

struct conn_set *loop_conns(struct loop *lp)
{
    THREAD_ASSERT_OWNER(&lp->owner);
    return &lp->cs;
}

/* Runs every task posted so far, in order. */
static void run_tasks(struct loop *lp)
{
    pthread_mutex_lock(&lp->lock);
    struct loop_task *t = lp->head;
    lp->head = lp->tail = NULL;
    pthread_mutex_unlock(&lp->lock);
    while (t) {
        struct loop_task *next = t->next;
        t->run(lp, t);
        t = next;
    }
}

static void on_wake(uv_async_t *a)
{
    struct loop *lp = a->data;
    run_tasks(lp);
    conn_flush(&lp->cs);
}

static void on_tick(uv_timer_t *tm)
{
    struct loop *lp = tm->data;
    uint64_t now = uv_now(&lp->uv);
    hub_tick(lp->hub);
    hub_flush_rooms(lp->hub);
    conn_sweep(&lp->cs, now, ++lp->ticks % LOOP_KEEPALIVE_EVERY == 0);
    conn_flush(&lp->cs);
}

static void *loop_main(void *arg)
{
    struct loop *lp = arg;
    thread_owner_bind(&lp->owner);
    uv_run(&lp->uv, UV_RUN_DEFAULT);
    return NULL;
}

bool loop_post(struct loop *lp, struct loop_task *t)
{
    t->next = NULL;
    pthread_mutex_lock(&lp->lock);
    bool ok = !lp->closed;
    if (ok) {
        if (lp->tail)
            lp->tail->next = t;
        else
            lp->head = t;
        lp->tail = t;
        /* under the lock: once run_stop closed the door, nobody touches the handle again.
         * Coalesces: one wake-up runs every task queued by then. */
        uv_async_send(&lp->wake);
    }
    pthread_mutex_unlock(&lp->lock);
    return ok;
}

struct call {
    struct loop_task task;
    struct loop_task *inner;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
};

static void run_call(struct loop *lp, struct loop_task *t)
{
    struct call *c = (struct call *)t;
    c->inner->run(lp, c->inner);
    pthread_mutex_lock(&c->lock);
    c->done = true;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

int loop_call(struct loop *lp, struct loop_task *t)
{
    struct call c = {.task.run = run_call, .inner = t};
    int rc = 0;
    pthread_mutex_init(&c.lock, NULL);
    pthread_cond_init(&c.cond, NULL);
    if (!loop_post(lp, &c.task)) {
        rc = -EPIPE;
    } else {
        /* every posted task runs, also at stop (loop_free runs the rest): this returns */
        pthread_mutex_lock(&c.lock);
        while (!c.done)
            pthread_cond_wait(&c.cond, &c.lock);
        pthread_mutex_unlock(&c.lock);
    }
    pthread_cond_destroy(&c.cond);
    pthread_mutex_destroy(&c.lock);
    return rc;
}

struct adoption {
    struct loop_task task;
    int fd;
    int remote_port;
    uint32_t client_ip;
    char remote_addr[48];
};

static void run_adoption(struct loop *lp, struct loop_task *t)
{
    struct adoption *a = (struct adoption *)t;
    conn_open(&lp->cs, a->fd, a->remote_addr, a->remote_port, a->client_ip);
    free(a);
}

bool loop_adopt(struct loop *lp, int fd, const char *remote_addr, int remote_port,
                uint32_t client_ip)
{
    struct adoption *a = calloc(1, sizeof(*a));
    if (!a)
        return false;
    a->task.run = run_adoption;
    a->fd = fd;
    a->remote_port = remote_port;
    a->client_ip = client_ip;
    strncpy(a->remote_addr, remote_addr ? remote_addr : "?", sizeof(a->remote_addr) - 1);
    if (loop_post(lp, &a->task))
        return true;
    free(a);
    return false;
}

struct close_all {
    struct loop_task task;
    bool abort;
};

static void run_close_all(struct loop *lp, struct loop_task *t)
{
    struct close_all *ca = (struct close_all *)t;
    if (ca->abort)
        conn_abort_all(&lp->cs);
    else
        conn_close_all(&lp->cs, FRAME_CLOSE_GOING_AWAY, "server shutting down");
}

unsigned loop_shutdown(struct loop *lp, unsigned timeout_ms)
{
    struct close_all ca = {.task.run = run_close_all};
    unsigned left = 0;
    loop_call(lp, &ca.task);
    for (unsigned waited = 0;; waited += 20) {
        left = atomic_load(&lp->ctr->open);
        if (!left || waited >= timeout_ms)
            break;
        usleep(20 * 1000);
    }
    if (left) {
        ca.abort = true; /* clients that did not take their close in time: cut them off */
        loop_call(lp, &ca.task);
    }
    return left;
}

struct loop *loop_new(const struct config *cfg, struct ws_counters *ctr, struct iplimit *ipl)
{
    struct loop *lp = calloc(1, sizeof(*lp));
    if (!lp)
        return NULL;
    struct hub_config hc = {
        .greeting = cfg->greeting,
        .max_room_members = (unsigned)cfg->max_room_members,
        .max_rooms = (unsigned)cfg->max_rooms,
        .rate_per_sec = (unsigned)cfg->rate_limit_per_sec,
        .rate_burst = (unsigned)cfg->rate_limit_burst,
        .resume_window_ms = (unsigned)cfg->resume_window_s * 1000u,
        .flood_close_after = (unsigned)cfg->flood_close_after,
        .owner = &lp->owner,
    };
    struct hub_ops ops = {.send = sink_send, .evict = sink_evict, .kick = sink_kick};
    struct conn_limits lim = {
        .max_message = (size_t)cfg->max_message_bytes,
        .queue_bytes = (size_t)cfg->send_queue_bytes,
        .queue_msgs = (size_t)cfg->send_queue_messages,
        .ping_ms = (uint64_t)cfg->ping_interval * 1000,
        .stall_ms = (uint64_t)cfg->stall_timeout_ms,
    };
    lp->ctr = ctr;
    pthread_mutex_init(&lp->lock, NULL);
    if (uv_loop_init(&lp->uv) < 0)
        goto err_free;
    lp->hub = hub_new(&hc, &ops);
    if (!lp->hub || conn_set_init(&lp->cs, &lp->uv, lp->hub, ctr, &lim) < 0)
        goto err_loop;
    lp->cs.ipl = ipl;
    lp->cs.owner = &lp->owner;
    uv_async_init(&lp->uv, &lp->wake, on_wake);
    lp->wake.data = lp;
    uv_timer_init(&lp->uv, &lp->tick);
    lp->tick.data = lp;
    uv_timer_start(&lp->tick, on_tick, LOOP_TICK_MS, LOOP_TICK_MS);
    return lp;

err_loop:
    conn_set_cleanup(&lp->cs);
    hub_free(lp->hub);
    uv_loop_close(&lp->uv);
err_free:
    pthread_mutex_destroy(&lp->lock);
    free(lp);
    return NULL;
}

int loop_start(struct loop *lp)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    int rc = pthread_create(&lp->thread, &attr, loop_main, lp);
    pthread_attr_destroy(&attr);
    if (rc)
        return -rc;
    lp->started = true;
    return 0;
}

static void run_stop(struct loop *lp, struct loop_task *t)
{
    pthread_mutex_lock(&lp->lock);
    lp->closed = true;
    pthread_mutex_unlock(&lp->lock);
    run_tasks(lp); /* whatever was posted before the door closed */
    conn_abort_all(&lp->cs);
    uv_close((uv_handle_t *)&lp->wake, NULL);
    uv_close((uv_handle_t *)&lp->tick, NULL);
}

void loop_free(struct loop *lp)
{
    if (!lp)
        return;
    struct loop_task stop = {.run = run_stop};
    if (lp->started) {
        loop_post(lp, &stop);
        pthread_join(lp->thread, NULL);
        thread_owner_unbind(&lp->owner); /* what is left is freed here, on this thread */
    } else {
        run_stop(lp, &stop);
        uv_run(&lp->uv, UV_RUN_DEFAULT);
    }
    uv_loop_close(&lp->uv);
    conn_set_cleanup(&lp->cs);
    hub_free(lp->hub);
    pthread_mutex_destroy(&lp->lock);
    free(lp);
}
