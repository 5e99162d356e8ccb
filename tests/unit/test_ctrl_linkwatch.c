/* Unit tests for lib/ctrl/linkwatch.c on real ZeroMQ sockets: the first
 * connection to a ROUTER is not a reconnect; the connection to a ROUTER
 * bound again on the same endpoint (a restarted broker) is, once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "tmpdir_fixture.h"
#include <zmq.h>

#include "ctrl/linkwatch.h"

static void *bound_router(void *zctx, const char *ep)
{
    void *r = zmq_socket(zctx, ZMQ_ROUTER);
    assert_non_null(r);
    int zero = 0;
    assert_int_equal(zmq_setsockopt(r, ZMQ_LINGER, &zero, sizeof zero), 0);
    assert_int_equal(zmq_bind(r, ep), 0);
    return r;
}

/* Reconnects the watch reports within ms (polling its socket). */
static int reconnects_within(linkwatch_t *lw, int ms)
{
    int n = 0;
    for (int waited = 0; waited < ms; waited += 50) {
        zmq_pollitem_t it = { .socket = linkwatch_socket(lw), .events = ZMQ_POLLIN };
        zmq_poll(&it, 1, 50);
        n += linkwatch_process(lw);
    }
    return n;
}

static void test_restarted_peer_is_a_reconnect(void **state)
{
    (void)state;
    char dir[64], ep[128];
    assert_int_equal(tmpdir_make(dir, sizeof dir, "linkwatch"), 0);
    snprintf(ep, sizeof ep, "ipc://%s/actions.sock", dir);
    void *zctx = zmq_ctx_new();
    void *router = bound_router(zctx, ep);
    void *dealer = zmq_socket(zctx, ZMQ_DEALER);
    int zero = 0, ivl = 20;
    zmq_setsockopt(dealer, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(dealer, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl);
    linkwatch_t *lw = linkwatch_new(zctx, dealer);
    assert_non_null(lw);
    assert_int_equal(zmq_connect(dealer, ep), 0);
    assert_int_equal(reconnects_within(lw, 500), 0);     /* the first connection */
    zmq_close(router);                                   /* the broker dies ... */
    router = bound_router(zctx, ep);                     /* ... and a new one binds */
    assert_int_equal(reconnects_within(lw, 3000), 1);
    assert_int_equal(reconnects_within(lw, 200), 0);     /* reported once */
    linkwatch_destroy(&lw);
    assert_null(lw);
    zmq_close(dealer);
    zmq_close(router);
    zmq_ctx_term(zctx);
    assert_int_equal(tmpdir_remove(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restarted_peer_is_a_reconnect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
