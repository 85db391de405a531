/* SPDX-License-Identifier: MIT */
/* The event-loop thread (libuv): owns every plain WebSocket after its adoption (conn.h) and the
 * hub, so neither takes a lock. Other threads never touch its state: they post tasks to it
 * (loop_post, loop_call), which it runs in order between its reads and timers. */
#ifndef HUDDLE_LOOP_H
#define HUDDLE_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct config;
struct conn_set;
struct hub;
struct iplimit;
struct ws_counters;

#define LOOP_TICK_MS 100 /* room-list coalescing and the stall timer's resolution */

struct loop;

/* Work for the loop thread. Embed it in your own struct; run() is called once, on the loop
 * thread, and owns the struct from then on (free it there, or signal its poster). */
struct loop_task {
    void (*run)(struct loop *lp, struct loop_task *t);
    struct loop_task *next;
};

/* New loop with cfg's limits (cfg, ctr and ipl must outlive it; ipl may be NULL), with its hub.
 * NULL on error. */
struct loop *loop_new(const struct config *cfg, struct ws_counters *ctr, struct iplimit *ipl);

/* Starts the loop thread. Returns 0 or -errno. */
int loop_start(struct loop *lp);

/* Queues t for the loop thread and wakes it. Thread-safe, never blocks on the loop's work.
 * Returns false once the loop has stopped (t is then not run and still the caller's). */
bool loop_post(struct loop *lp, struct loop_task *t);

/* Runs t on the loop thread and waits until it returned (t may live on the caller's stack).
 * Returns 0, or -EPIPE when the loop has stopped (t did not run). Never call on the loop. */
int loop_call(struct loop *lp, struct loop_task *t);

/* Hands an adopted socket to the loop (see adopt.h); the loop opens a session on it, which from
 * then on owns the session slot and client_ip's per-address count. On false (the loop stopped)
 * the caller still owns fd, the slot and the count. */
bool loop_adopt(struct loop *lp, int fd, const char *remote_addr, int remote_port,
                uint32_t client_ip);

/* The loop's hub and connections: only on the loop thread (inside a task). */
struct hub *loop_hub(struct loop *lp);
struct conn_set *loop_conns(struct loop *lp);

/* Graceful stop of the WebSockets: sends each a close 1001 after what is queued, waits up to
 * timeout_ms for them to go (counted by ctr->open, which TLS sessions share), then closes the
 * loop's remaining ones. Returns how many sessions were still open at the deadline. */
unsigned loop_shutdown(struct loop *lp, unsigned timeout_ms);

/* Stops the thread (after running every task posted so far), closes what is left and frees lp.
 * Call after CivetWeb stopped (its TLS sessions post to the loop). Safe with NULL. */
void loop_free(struct loop *lp);

#endif
