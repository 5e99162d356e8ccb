/* Unit tests for lib/bus.c: bus locations, endpoint names, topics, and the
 * bus directory's permissions. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "tmpdir_fixture.h"

#include "bus.h"

static void test_config_ipc(void **state)
{
    (void)state;
    bus_config_t c;
    assert_int_equal(bus_config_parse(&c, "/run/user/1000/kubus"), 0);
    assert_string_equal(c.dir, "/run/user/1000/kubus");
    assert_string_equal(c.tcp_host, "");
    char ep[512];
    assert_int_equal(bus_endpoint(&c, BUS_EP_EVENTS_IN, ep, sizeof ep), 0);
    assert_string_equal(ep, "ipc:///run/user/1000/kubus/events-in.sock");
    assert_int_equal(bus_endpoint(&c, BUS_EP_EVENTS, ep, sizeof ep), 0);
    assert_string_equal(ep, "ipc:///run/user/1000/kubus/events.sock");
    assert_int_equal(bus_endpoint(&c, BUS_EP_ACTIONS, ep, sizeof ep), 0);
    assert_string_equal(ep, "ipc:///run/user/1000/kubus/actions.sock");
    assert_int_equal(bus_endpoint(&c, BUS_EP_EXEC, ep, sizeof ep), 0);
    assert_string_equal(ep, "ipc:///run/user/1000/kubus/exec.sock");
    assert_int_equal(bus_endpoint(&c, BUS_EP_SNAPSHOT, ep, sizeof ep), 0);
    assert_string_equal(ep, "ipc:///run/user/1000/kubus/snapshot.sock");
    assert_int_equal(bus_endpoint(&c, BUS_EP_COUNT, ep, sizeof ep), -1);
    assert_int_equal(bus_endpoint(&c, BUS_EP_EVENTS, ep, 10), -1);
}

static void test_config_tcp(void **state)
{
    (void)state;
    bus_config_t c;
    assert_int_equal(bus_config_parse(&c, "tcp://127.0.0.1:7000"), 0);
    assert_string_equal(c.tcp_host, "127.0.0.1");
    assert_int_equal(c.tcp_port, 7000);
    char ep[512];
    assert_int_equal(bus_endpoint(&c, BUS_EP_EVENTS_IN, ep, sizeof ep), 0);
    assert_string_equal(ep, "tcp://127.0.0.1:7000");
    assert_int_equal(bus_endpoint(&c, BUS_EP_SNAPSHOT, ep, sizeof ep), 0);
    assert_string_equal(ep, "tcp://127.0.0.1:7004");
    assert_int_equal(bus_config_parse(&c, "tcp://[::1]:7000"), 0);
    assert_string_equal(c.tcp_host, "[::1]");
}

static void test_config_bad(void **state)
{
    (void)state;
    bus_config_t c;
    const char *bad[] = { "", "tcp://", "tcp://host", "tcp://:7000", "tcp://h:0", "tcp://h:x",
                          "tcp://h:65535", "tcp://h:70000", "tcp://h:7000x" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (bus_config_parse(&c, bad[i]) != -1) fail_msg("accepted \"%s\"", bad[i]);
    assert_int_equal(bus_config_parse(&c, NULL), -1);
    char longdir[128];
    memset(longdir, 'd', sizeof longdir - 1);
    longdir[0] = '/';
    longdir[sizeof longdir - 1] = '\0';
    assert_int_equal(bus_config_parse(&c, longdir), -1); /* ipc paths are short */
}

static void test_topics(void **state)
{
    (void)state;
    char t[BUS_TOPIC_MAX];
    assert_int_equal(bus_topic_event(t, sizeof t, "pods", "default"), (int)strlen("E/pods/default/"));
    assert_string_equal(t, "E/pods/default/");
    assert_int_equal(bus_topic_event(t, sizeof t, "nodes", ""), 9);
    assert_string_equal(t, "E/nodes//");
    assert_int_equal(bus_topic_event(t, sizeof t, "nodes", NULL), 9);
    assert_int_equal(bus_topic_resource(t, sizeof t, "replicasets"), (int)strlen("E/replicasets/"));
    assert_string_equal(t, "E/replicasets/");
    /* A whole-resource subscription is a prefix of every event topic of it. */
    char ev[BUS_TOPIC_MAX];
    bus_topic_event(ev, sizeof ev, "replicasets", "kube-system");
    assert_memory_equal(ev, t, strlen(t));
    assert_int_equal(bus_topic_event(t, 8, "pods", "default"), -1);
    assert_int_equal(bus_topic_resource(t, 4, "pods"), -1);
}

static void test_dir_prepare(void **state)
{
    (void)state;
    char base[64];
    assert_int_equal(tmpdir_make(base, sizeof base, "test-bus"), 0);
    char dir[128], link[128], err[1200];
    snprintf(dir, sizeof dir, "%s/bus", base);
    snprintf(link, sizeof link, "%s/link", base);
    bus_config_t c;
    assert_int_equal(bus_config_parse(&c, dir), 0);
    assert_int_equal(bus_dir_prepare(&c, err, sizeof err), 0);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(bus_dir_prepare(&c, err, sizeof err), 0);   /* an existing one of ours */
    /* a lock file in it: created 0600; a symlink or a 0644 file refused */
    int fd = bus_open_file(&c, "x.lock", O_RDWR | O_CREAT, err, sizeof err);
    assert_true(fd >= 0);
    close(fd);
    char p[256], q[256];
    snprintf(p, sizeof p, "%s/x.lock", dir);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(chmod(p, 0644), 0);
    assert_int_equal(bus_open_file(&c, "x.lock", O_RDWR | O_CREAT, err, sizeof err), -1);
    assert_non_null(strstr(err, "mode 0644"));
    snprintf(q, sizeof q, "%s/y.lock", dir);
    assert_int_equal(symlink(p, q), 0);
    assert_int_equal(bus_open_file(&c, "y.lock", O_RDWR | O_CREAT, err, sizeof err), -1);
    assert_non_null(strstr(err, "symbolic link"));
    unlink(q);
    unlink(p);
    /* group or world access: refused, not silently changed */
    assert_int_equal(chmod(dir, 0777), 0);
    assert_int_equal(bus_dir_prepare(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "mode 0777"));
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0777);
    assert_int_equal(bus_open_file(&c, "x.lock", O_RDWR | O_CREAT, err, sizeof err), -1);
    assert_int_equal(chmod(dir, 0750), 0);
    assert_int_equal(bus_dir_prepare(&c, err, sizeof err), -1);
    assert_int_equal(chmod(dir, 0700), 0);
    /* a symlink to a good directory: refused too (another user's link in /tmp) */
    assert_int_equal(symlink(dir, link), 0);
    bus_config_t l;
    assert_int_equal(bus_config_parse(&l, link), 0);
    assert_int_equal(bus_dir_prepare(&l, err, sizeof err), -1);
    assert_non_null(strstr(err, "symbolic link"));
    assert_int_equal(bus_open_file(&l, "x.lock", O_RDWR | O_CREAT, err, sizeof err), -1);
    assert_int_equal(tmpdir_remove(base), 0);
    assert_int_equal(bus_config_parse(&c, "tcp://127.0.0.1:7000"), 0);
    assert_int_equal(bus_dir_prepare(&c, err, sizeof err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_ipc),
        cmocka_unit_test(test_config_tcp),
        cmocka_unit_test(test_config_bad),
        cmocka_unit_test(test_topics),
        cmocka_unit_test(test_dir_prepare),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
