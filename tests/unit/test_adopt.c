/* SPDX-License-Identifier: MIT */
/* Unit tests for socket adoption with real sockets on 127.0.0.1 in one process: the search by
 * addresses, the duplicate that carries the connection, the original number turned into a dead
 * socketpair end, and the owned marks that hide adopted descriptors from later searches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "adopt.h"

/* A listener, a client connected to it and the accepted (server side) socket. */
struct pair {
    int lfd, cfd, sfd;
    int server_port, client_port;
};

static int port_of(int fd)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);

    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    return ntohs(sa.sin_port);
}

static void pair_open(struct pair *p)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    socklen_t len = sizeof(sa);

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(p->lfd >= 0);
    assert_int_equal(bind(p->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(p->lfd, 4), 0);
    assert_int_equal(getsockname(p->lfd, (struct sockaddr *)&sa, &len), 0);
    p->server_port = ntohs(sa.sin_port);
    p->cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(p->cfd >= 0);
    assert_int_equal(connect(p->cfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    p->client_port = port_of(p->cfd);
    p->sfd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC);
    assert_true(p->sfd >= 0);
}

static void pair_close(struct pair *p)
{
    close(p->sfd);
    close(p->cfd);
    close(p->lfd);
}

static struct adopt_peer peer_of(const struct pair *p)
{
    return (struct adopt_peer){
        .remote_addr = "127.0.0.1",
        .remote_port = p->client_port,
        .server_port = p->server_port,
    };
}

/* Sends msg on from and reads it whole on to. */
static void carries(int from, int to, const char *msg)
{
    char buf[64];
    size_t len = strlen(msg), got = 0;

    assert_int_equal(send(from, msg, len, MSG_NOSIGNAL), (ssize_t)len);
    while (got < len) {
        ssize_t r = recv(to, buf + got, sizeof(buf) - got, 0);
        assert_true(r > 0);
        got += (size_t)r;
    }
    assert_int_equal(got, len);
    assert_memory_equal(buf, msg, len);
}

static int setup(void **state)
{
    (void)state;
    return adopt_init();
}

static int teardown(void **state)
{
    (void)state;
    adopt_cleanup();
    return 0;
}

static void test_find_by_addresses(void **state)
{
    struct pair p;
    (void)state;

    pair_open(&p);
    struct adopt_peer peer = peer_of(&p);
    assert_int_equal(adopt_find(&peer), p.sfd);
    /* the same twice: a search changes nothing */
    assert_int_equal(adopt_find(&peer), p.sfd);
    assert_false(adopt_is_owned(p.sfd));
    pair_close(&p);
}

static void test_find_wrong_peer(void **state)
{
    struct pair p;
    (void)state;

    pair_open(&p);
    struct adopt_peer peer = peer_of(&p);
    peer.remote_port = p.client_port == 65535 ? 1 : p.client_port + 1;
    assert_int_equal(adopt_find(&peer), -ENOENT);
    peer = peer_of(&p);
    peer.server_port = p.server_port == 65535 ? 1 : p.server_port + 1;
    assert_int_equal(adopt_find(&peer), -ENOENT);
    peer = peer_of(&p);
    peer.remote_addr = "127.0.0.2";
    assert_int_equal(adopt_find(&peer), -ENOENT);
    peer = peer_of(&p);
    peer.remote_addr = "not an address";
    assert_int_equal(adopt_find(&peer), -ENOENT);
    peer.remote_addr = "::1";
    assert_int_equal(adopt_find(&peer), -ENOENT);
    peer.remote_addr = NULL;
    assert_int_equal(adopt_find(&peer), -ENOENT);
    /* adopt_take with a wrong peer changes nothing */
    peer = peer_of(&p);
    peer.remote_port = p.client_port == 65535 ? 1 : p.client_port + 1;
    assert_int_equal(adopt_take(&peer), -ENOENT);
    carries(p.cfd, p.sfd, "still here");
    pair_close(&p);
}

static void test_take_moves_the_connection(void **state)
{
    struct pair p;
    char buf[8];
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    (void)state;

    pair_open(&p);
    struct adopt_peer peer = peer_of(&p);
    carries(p.cfd, p.sfd, "before"); /* CivetWeb's part: the handshake */
    int fd = adopt_take(&peer);
    assert_true(fd >= 0);
    assert_int_not_equal(fd, p.sfd);
    assert_true(adopt_is_owned(fd));
    assert_false(adopt_is_owned(p.sfd));
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    /* the new descriptor carries the connection both ways */
    carries(p.cfd, fd, "client to loop");
    carries(fd, p.cfd, "loop to client");
    /* the original number is now a dead socketpair end: EOF at once, writes fail */
    assert_int_equal(getsockname(p.sfd, (struct sockaddr *)&ss, &len), 0);
    assert_int_equal(ss.ss_family, AF_UNIX);
    assert_int_equal(recv(p.sfd, buf, sizeof(buf), MSG_DONTWAIT), 0);
    assert_int_equal(send(p.sfd, "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT), -1);
    assert_int_equal(errno, EPIPE);
    /* CivetWeb closing its number leaves the adopted connection alone */
    close(p.sfd);
    carries(p.cfd, fd, "after close");
    carries(fd, p.cfd, "still open");
    /* the loop closes its descriptor: the client sees EOF */
    adopt_release(fd);
    assert_false(adopt_is_owned(fd));
    close(fd);
    assert_int_equal(recv(p.cfd, buf, sizeof(buf), 0), 0);
    close(p.cfd);
    close(p.lfd);
}

static void test_owned_skipped(void **state)
{
    struct pair p;
    (void)state;

    pair_open(&p);
    struct adopt_peer peer = peer_of(&p);
    int fd = adopt_take(&peer);
    assert_true(fd >= 0);
    /* the duplicate matches the peer but is owned, the original is a socketpair now */
    assert_int_equal(adopt_find(&peer), -ENOENT);
    assert_int_equal(adopt_take(&peer), -ENOENT);
    assert_true(adopt_is_owned(fd));
    /* unmarked, the duplicate is found again: the mark was what hid it */
    adopt_release(fd);
    assert_int_equal(adopt_find(&peer), fd);
    close(fd);
    close(p.sfd);
    close(p.cfd);
    close(p.lfd);
}

static void test_two_connections(void **state)
{
    struct pair a, b;
    (void)state;

    pair_open(&a);
    pair_open(&b);
    struct adopt_peer pa = peer_of(&a), pb = peer_of(&b);
    int fb = adopt_take(&pb);
    assert_true(fb >= 0);
    int fa = adopt_take(&pa);
    assert_true(fa >= 0);
    carries(a.cfd, fa, "to a");
    carries(b.cfd, fb, "to b");
    carries(fa, a.cfd, "from a");
    carries(fb, b.cfd, "from b");
    adopt_release(fa);
    adopt_release(fb);
    close(fa);
    close(fb);
    pair_close(&a);
    pair_close(&b);
}

static void test_owned_out_of_range(void **state)
{
    (void)state;
    assert_false(adopt_is_owned(-1));
    assert_false(adopt_is_owned(1 << 30));
    adopt_release(-1); /* harmless */
    adopt_release(1 << 30);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_find_by_addresses), T(test_find_wrong_peer), T(test_take_moves_the_connection),
        T(test_owned_skipped),     T(test_two_connections), T(test_owned_out_of_range),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
