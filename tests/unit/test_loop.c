/* SPDX-License-Identifier: MIT */
/* Unit tests for the loop thread: tasks run on it, in order, and every one posted before the
 * stop runs; loop_call waits for its task; posts are refused once the loop stopped; an adopted
 * socket gets its hello; loop_shutdown sends 1001 and waits for the clients; loop_free with nothing
 * open, unstarted, or NULL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <cmocka.h>

#include "config.h"
#include "conn.h"
#include "log.h"
#include "loop.h"
#include "wsstats.h"

struct fixture {
    struct config cfg;
    struct ws_counters ctr;
    struct loop *lp;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (!f || cfg_defaults(&f->cfg) != 0)
        return -1;
    f->lp = loop_new(&f->cfg, &f->ctr, NULL);
    if (!f->lp)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    loop_free(f->lp); /* NULL when the test freed it already */
    cfg_free(&f->cfg);
    free(f);
    return 0;
}

/* --- tasks --- */

struct probe {
    struct loop_task task;
    pthread_t thread;
    bool has_hub;
    unsigned conns;
    int ran;
};

static void run_probe(struct loop *lp, struct loop_task *t)
{
    struct probe *p = (struct probe *)t;
    p->thread = pthread_self();
    p->has_hub = loop_hub(lp) != NULL;
    p->conns = loop_conns(lp)->count;
    p->ran++;
}

static void test_free_unstarted_and_null(void **state)
{
    struct fixture *f = *state;

    loop_free(f->lp);
    f->lp = NULL;
    loop_free(NULL);
}

static void test_call_runs_on_the_loop_thread(void **state)
{
    struct fixture *f = *state;
    struct probe p = {.task.run = run_probe};

    assert_int_equal(loop_start(f->lp), 0);
    assert_int_equal(loop_call(f->lp, &p.task), 0);
    assert_int_equal(p.ran, 1);
    assert_false(pthread_equal(p.thread, pthread_self()));
    assert_true(p.has_hub);
    assert_int_equal(p.conns, 0);
    /* the same thread every time */
    pthread_t first = p.thread;
    for (int i = 0; i < 100; i++)
        assert_int_equal(loop_call(f->lp, &p.task), 0);
    assert_int_equal(p.ran, 101);
    assert_true(pthread_equal(p.thread, first));
}

#define NPOSTS 1000

struct order {
    int seen[NPOSTS];
    int n; /* only the loop thread writes it */
};

struct numbered {
    struct loop_task task;
    struct order *o;
    int k;
};

static void run_numbered(struct loop *lp, struct loop_task *t)
{
    struct numbered *nt = (struct numbered *)t;
    (void)lp;
    if (nt->o->n < NPOSTS)
        nt->o->seen[nt->o->n] = nt->k;
    nt->o->n++;
    free(nt);
}

static void post_numbered(struct loop *lp, struct order *o, int k)
{
    struct numbered *nt = calloc(1, sizeof(*nt));
    assert_non_null(nt);
    nt->task.run = run_numbered;
    nt->o = o;
    nt->k = k;
    assert_true(loop_post(lp, &nt->task));
}

struct count_check {
    struct loop_task task;
    struct order *o;
    int n;
};

static void run_count_check(struct loop *lp, struct loop_task *t)
{
    struct count_check *c = (struct count_check *)t;
    (void)lp;
    c->n = c->o->n;
}

static void test_posts_run_in_order(void **state)
{
    struct fixture *f = *state;
    static struct order o;
    struct count_check c = {.task.run = run_count_check, .o = &o};

    memset(&o, 0, sizeof(o));
    assert_int_equal(loop_start(f->lp), 0);
    for (int k = 0; k < NPOSTS; k++)
        post_numbered(f->lp, &o, k);
    /* a call posted after them runs after them */
    assert_int_equal(loop_call(f->lp, &c.task), 0);
    assert_int_equal(c.n, NPOSTS);
    for (int k = 0; k < NPOSTS; k++)
        assert_int_equal(o.seen[k], k);
}

static void test_posts_before_free_all_run(void **state)
{
    struct fixture *f = *state;
    static struct order o;

    memset(&o, 0, sizeof(o));
    assert_int_equal(loop_start(f->lp), 0);
    for (int k = 0; k < NPOSTS; k++)
        post_numbered(f->lp, &o, k);
    loop_free(f->lp);
    f->lp = NULL;
    /* the loop thread has been joined: its writes are visible */
    assert_int_equal(o.n, NPOSTS);
    for (int k = 0; k < NPOSTS; k++)
        assert_int_equal(o.seen[k], k);
}

/* A task that posts itself again until a post is refused. */
struct chain {
    struct loop_task task;
    int runs, posted;
    bool refused;
};

static void run_chain(struct loop *lp, struct loop_task *t)
{
    struct chain *c = (struct chain *)t;
    c->runs++;
    if (loop_post(lp, &c->task))
        c->posted++;
    else
        c->refused = true; /* not run: still ours */
}

/* Once loop_free has stopped the loop, loop_post returns false and the task does not run; every
 * post accepted before that runs. */
static void test_post_refused_once_stopped(void **state)
{
    struct fixture *f = *state;
    struct chain c = {.task.run = run_chain};

    assert_int_equal(loop_start(f->lp), 0);
    assert_true(loop_post(f->lp, &c.task));
    loop_free(f->lp);
    f->lp = NULL;
    assert_true(c.refused);
    assert_int_equal(c.runs, c.posted + 1);
}

/* --- sockets on the loop --- */

/* A connected TCP pair on 127.0.0.1; the client end has a 5 s receive timeout. */
static void tcp_pair(int *client, int *server)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t len = sizeof(sa);
    struct timeval tv = {.tv_sec = 5};

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(lfd >= 0);
    assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(lfd, 1), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
    *client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(*client >= 0);
    assert_int_equal(setsockopt(*client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    assert_int_equal(connect(*client, (struct sockaddr *)&sa, sizeof(sa)), 0);
    *server = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    assert_true(*server >= 0);
    close(lfd);
}

static bool read_all(int fd, unsigned char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = recv(fd, buf + got, len - got, 0);
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

/* Reads one server frame (7- or 16-bit length) into buf (NUL-terminated). Returns its opcode, or
 * -1 on EOF, error or timeout. */
static int read_frame(int fd, char *buf, size_t cap)
{
    unsigned char h[4];
    size_t len;

    if (!read_all(fd, h, 2))
        return -1;
    len = h[1] & 0x7f;
    if (len == 126) {
        if (!read_all(fd, h + 2, 2))
            return -1;
        len = ((size_t)h[2] << 8) | h[3];
    }
    if (len == 127 || len >= cap || !read_all(fd, (unsigned char *)buf, len))
        return -1;
    buf[len] = '\0';
    return h[0] & 0x0f;
}

/* True when fd reaches EOF (not a timeout) with nothing before it. */
static bool reads_eof(int fd)
{
    char c;
    return recv(fd, &c, 1, 0) == 0;
}

static void test_adopt_gets_hello_and_free_closes(void **state)
{
    struct fixture *f = *state;
    char buf[512];
    int cfd, sfd;

    assert_int_equal(loop_start(f->lp), 0);
    tcp_pair(&cfd, &sfd);
    atomic_store(&f->ctr.open, 1);
    assert_true(loop_adopt(f->lp, sfd, "127.0.0.1", 4321, 0));
    assert_int_equal(read_frame(cfd, buf, sizeof(buf)), 1);
    assert_non_null(strstr(buf, "\"type\":\"hello\""));
    assert_non_null(strstr(buf, "\"text\":\"hello!\"")); /* the default greeting */
    struct probe p = {.task.run = run_probe};
    assert_int_equal(loop_call(f->lp, &p.task), 0);
    assert_int_equal(p.conns, 1);
    assert_int_equal(atomic_load(&f->ctr.accepted), 1);
    /* loop_free closes what is left, without a close frame */
    loop_free(f->lp);
    f->lp = NULL;
    assert_true(reads_eof(cfd));
    assert_int_equal(atomic_load(&f->ctr.open), 0);
    close(cfd);
}

/* The client side of a graceful stop: reads the hello and the close, then closes its end. */
struct polite {
    int fd;
    int close_code;
};

static void *polite_client(void *arg)
{
    struct polite *pc = arg;
    char buf[512];
    if (read_frame(pc->fd, buf, sizeof(buf)) == 1 && read_frame(pc->fd, buf, sizeof(buf)) == 8)
        pc->close_code = ((unsigned char)buf[0] << 8) | (unsigned char)buf[1];
    close(pc->fd);
    return NULL;
}

static void test_shutdown_waits_for_clients(void **state)
{
    struct fixture *f = *state;
    struct polite pc = {.close_code = -1};
    pthread_t t;
    int sfd;

    assert_int_equal(loop_start(f->lp), 0);
    tcp_pair(&pc.fd, &sfd);
    atomic_store(&f->ctr.open, 1);
    assert_true(loop_adopt(f->lp, sfd, "127.0.0.1", 4321, 0));
    assert_int_equal(pthread_create(&t, NULL, polite_client, &pc), 0);
    /* the client answers the 1001 by closing: nobody is left at the deadline */
    assert_int_equal(loop_shutdown(f->lp, 10000), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(pc.close_code, 1001);
    assert_int_equal(atomic_load(&f->ctr.open), 0);
}

static void test_shutdown_cuts_off_the_silent(void **state)
{
    struct fixture *f = *state;
    char buf[512];
    int cfd, sfd;

    assert_int_equal(loop_start(f->lp), 0);
    tcp_pair(&cfd, &sfd);
    atomic_store(&f->ctr.open, 1);
    assert_true(loop_adopt(f->lp, sfd, "127.0.0.1", 4321, 0));
    assert_int_equal(read_frame(cfd, buf, sizeof(buf)), 1);
    /* the client reads nothing more and keeps its end open */
    assert_int_equal(loop_shutdown(f->lp, 100), 1);
    assert_int_equal(atomic_load(&f->ctr.open), 0);
    assert_int_equal(read_frame(cfd, buf, sizeof(buf)), 8);
    assert_int_equal(((unsigned char)buf[0] << 8) | (unsigned char)buf[1], 1001);
    assert_true(reads_eof(cfd));
    close(cfd);
}

static void test_shutdown_and_free_with_nothing_open(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(loop_start(f->lp), 0);
    assert_int_equal(loop_shutdown(f->lp, 1000), 0);
    loop_free(f->lp);
    f->lp = NULL;
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_free_unstarted_and_null),
        T(test_call_runs_on_the_loop_thread),
        T(test_posts_run_in_order),
        T(test_posts_before_free_all_run),
        T(test_post_refused_once_stopped),
        T(test_adopt_gets_hello_and_free_closes),
        T(test_shutdown_waits_for_clients),
        T(test_shutdown_cuts_off_the_silent),
        T(test_shutdown_and_free_with_nothing_open),
    };

    log_set_level(LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
