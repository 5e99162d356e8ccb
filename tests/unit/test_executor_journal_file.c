/* Unit tests for executor/jfile.c and the journal's file (journal.c): record
 * framing and CRC, a torn tail and a corrupt record ignored, replay of
 * pending actions and recent results, the 60 s window across a restart,
 * compaction, the lock between two executors, a journal of another server. */
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

#include "journal_fixture.h"

#include "jfile.h"
#include "journal.h"

#define SERVER "https://127.0.0.1:6443"
#define T0 1000000u               /* monotonic ms at the first start */
#define U0 1700000000000ull       /* wall clock at T0 */

static journal_fixture_t jf;
static const char *const path = jf.path;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(journal_fixture_make(&jf, "jtest"), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return journal_fixture_remove(&jf);
}

static msg_envelope_t *action_env(uint64_t id, int verb, const char *name)
{
    msg_envelope_t env;
    msg_action_t a;
    kubus__v1__envelope__init(&env);
    kubus__v1__action__init(&a);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_ACTION;
    env.action = &a;
    a.id = id;
    a.controller = "replicaset";
    a.verb = verb;
    a.resource = "pods";
    a.namespace_ = "ns";
    a.name = (char *)name;
    a.precondition_uid = verb == KUBUS__V1__VERB__DELETE ? "uid-1" : "";
    a.owner_key = "ns/rs";
    a.body.data = (uint8_t *)"{}";
    a.body.len = 2;
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(msg_encode(&env, &buf, &len), 0);
    msg_envelope_t *out = msg_decode(buf, len, NULL, 0);
    free(buf);
    assert_non_null(out);
    return out;
}

static void admit(journal_t *j, const char *ctl, uint64_t id, int verb, const char *name, uint64_t now)
{
    msg_envelope_t *env = action_env(id, verb, name);
    const msg_result_t *done = NULL;
    assert_int_equal(journal_admit(j, ctl, &env, now, &done), JOURNAL_ADMITTED);
}

static void complete(journal_t *j, const char *ctl, uint64_t id, int verb, uint32_t status, uint64_t now)
{
    msg_result_t r;
    kubus__v1__action_result__init(&r);
    r.id = id;
    r.controller = "replicaset";
    r.status = status;
    r.verb = verb;
    r.resource = "pods";
    r.namespace_ = "ns";
    r.name = "p";
    r.owner_key = "ns/rs";
    r.uid = verb == KUBUS__V1__VERB__DELETE ? "uid-1" : "";
    r.object.data = (uint8_t *)"{\"kind\":\"Pod\"}";
    r.object.len = 14;
    assert_true(journal_complete(j, ctl, &r, now) >= 0);
}

/* A journal on the test's file; the executor's clocks at its start. */
static journal_t *open_at(uint64_t now, uint64_t unix_now, journal_replay_t *rp)
{
    journal_t *j = journal_new(JOURNAL_MAX_RECENT, JOURNAL_MAX_RECENT_BYTES, JOURNAL_RECENT_MS);
    assert_non_null(j);
    char err[256] = "";
    if (journal_open_file(j, path, SERVER, now, unix_now, rp, err, sizeof err) < 0) fail_msg("%s", err);
    return j;
}

static void collect(const char *ctl, const msg_action_t *a, void *ud)
{
    char *out = ud;
    size_t n = strlen(out);
    snprintf(out + n, 256 - n, "%s:%llu:%s ", ctl, (unsigned long long)a->id, a->name);
}

static off_t file_size(void)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

/* ---- framing ---------------------------------------------------------------- */

static void test_crc32(void **state)
{
    (void)state;
    /* The check value of CRC-32/ISO-HDLC (zlib's crc32). */
    assert_int_equal(jfile_crc32(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(jfile_crc32(0, "", 0), 0);
    assert_int_equal(jfile_crc32(jfile_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
}

static void test_framing(void **state)
{
    (void)state;
    uint8_t buf[256];
    size_t n1 = jfile_record_size(12, 5), n2 = jfile_record_size(0, 0);
    assert_int_equal(jfile_encode(buf, JFILE_ACTION, 42, "replicaset.0", 12, (const uint8_t *)"hello", 5), 0);
    assert_int_equal(jfile_encode(buf + n1, JFILE_HEADER, 7, "", 0, NULL, 0), 0);
    size_t off = 0;
    jfile_rec_t r;
    assert_int_equal(jfile_next(buf, n1 + n2, &off, &r), JFILE_OK);
    assert_int_equal(r.type, JFILE_ACTION);
    assert_int_equal(r.unix_ms, 42);
    assert_int_equal(r.idlen, 12);
    assert_memory_equal(r.id, "replicaset.0", 12);
    assert_int_equal(r.len, 5);
    assert_memory_equal(r.payload, "hello", 5);
    assert_int_equal(off, n1);
    assert_int_equal(jfile_next(buf, n1 + n2, &off, &r), JFILE_OK);
    assert_int_equal(r.type, JFILE_HEADER);
    assert_int_equal(r.len, 0);
    assert_int_equal(jfile_next(buf, n1 + n2, &off, &r), JFILE_END);

    /* Every cut inside a record is torn, never a record. */
    for (size_t cut = 1; cut < n1; cut++) {
        off = 0;
        assert_int_equal(jfile_next(buf, cut, &off, &r), JFILE_TORN);
        assert_int_equal(off, 0);
    }
    /* A flipped bit anywhere in the body: CRC mismatch. */
    for (size_t i = JFILE_FRAME_BYTES; i < n1; i++) {
        buf[i] ^= 0x10;
        off = 0;
        assert_int_equal(jfile_next(buf, n1, &off, &r), JFILE_CORRUPT);
        buf[i] ^= 0x10;
    }
    /* An absurd length is corrupt, not a reason to wait for more bytes. */
    uint8_t bad[16] = { 0xff, 0xff, 0xff, 0x7f };
    off = 0;
    assert_int_equal(jfile_next(bad, sizeof bad, &off, &r), JFILE_CORRUPT);
    assert_int_equal(jfile_encode(buf, JFILE_ACTION, 0, "x", 70000, NULL, 0), -1);
}

/* ---- replay ------------------------------------------------------------------- */

static void test_replay_pending_and_recent(void **state)
{
    (void)state;
    journal_replay_t rp;
    journal_t *j = open_at(T0, U0, &rp);
    assert_int_equal(rp.records, 0);
    admit(j, "replicaset.0", 1, KUBUS__V1__VERB__CREATE, "a", T0);
    admit(j, "replicaset.0", 2, KUBUS__V1__VERB__DELETE, "b", T0 + 1);
    admit(j, "replicaset.0", 3, KUBUS__V1__VERB__CREATE, "c", T0 + 2);
    admit(j, "deployment.0", 1, KUBUS__V1__VERB__CREATE, "d", T0 + 3);
    complete(j, "replicaset.0", 2, KUBUS__V1__VERB__DELETE, 200, T0 + 10);
    complete(j, "replicaset.0", 1, KUBUS__V1__VERB__CREATE, 201, T0 + 11);
    /* Gone (a SIGKILL writes nothing more either: every record is written
     * as it happens). The next executor starts 2 s later on another
     * monotonic clock. */
    journal_destroy(&j);

    uint64_t t1 = 50000, u1 = U0 + 2000;
    journal_t *k = open_at(t1, u1, &rp);
    assert_false(rp.foreign);
    assert_int_equal(rp.torn_bytes, 0);
    assert_int_equal(rp.pending, 2);
    assert_int_equal(rp.recent, 2);
    assert_int_equal(journal_pending_count(k, "replicaset.0"), 1);
    assert_int_equal(journal_pending_count(k, "deployment.0"), 1);
    assert_int_equal(journal_recent_count(k, "replicaset.0"), 2);
    char got[256] = "";
    journal_foreach_pending(k, collect, got);
    assert_non_null(strstr(got, "replicaset.0:3:c "));
    assert_non_null(strstr(got, "deployment.0:1:d "));

    /* A re-sent id gets the stored result, object and uid included. */
    msg_envelope_t *env = action_env(2, KUBUS__V1__VERB__DELETE, "b");
    const msg_result_t *done = NULL;
    assert_int_equal(journal_admit(k, "replicaset.0", &env, t1, &done), JOURNAL_DUP_DONE);
    msg_free(env);
    assert_int_equal(done->status, 200);
    assert_string_equal(done->uid, "uid-1");
    assert_int_equal(done->object.len, 14);
    env = action_env(3, KUBUS__V1__VERB__CREATE, "c");
    assert_int_equal(journal_admit(k, "replicaset.0", &env, t1, &done), JOURNAL_DUP_PENDING);
    msg_free(env);

    /* The report: the pending create and both results, in order. */
    Kubus__V1__InflightReport rep;
    assert_int_equal(journal_report(k, "replicaset.0", 99, &rep), 0);
    assert_int_equal(rep.n_pending, 1);
    assert_int_equal(rep.pending[0]->id, 3);
    assert_int_equal(rep.n_recent, 2);
    assert_int_equal(rep.recent[0]->id, 2);
    assert_string_equal(rep.recent[0]->uid, "uid-1");
    assert_int_equal(rep.recent[0]->object.len, 0);
    assert_int_equal(rep.recent[1]->id, 1);
    journal_report_clear(&rep);

    /* The re-applied action completes in the new life and is journaled. */
    complete(k, "replicaset.0", 3, KUBUS__V1__VERB__CREATE, 200, t1 + 5);
    journal_destroy(&k);
    k = open_at(t1 + 1000, u1 + 1000, &rp);
    assert_int_equal(rp.pending, 1); /* deployment.0's */
    assert_int_equal(journal_recent_count(k, "replicaset.0"), 3);
    journal_destroy(&k);
}

static void test_recent_window_across_restart(void **state)
{
    (void)state;
    journal_replay_t rp;
    journal_t *j = open_at(T0, U0, &rp);
    admit(j, "replicaset.0", 1, KUBUS__V1__VERB__CREATE, "a", T0);
    complete(j, "replicaset.0", 1, KUBUS__V1__VERB__CREATE, 201, T0);
    admit(j, "replicaset.0", 2, KUBUS__V1__VERB__CREATE, "b", T0 + 30000);
    complete(j, "replicaset.0", 2, KUBUS__V1__VERB__CREATE, 201, T0 + 30000);
    journal_destroy(&j);

    /* 45 s after the first result: both still recent. */
    j = open_at(700000, U0 + 45000, &rp);
    assert_int_equal(journal_recent_count(j, "replicaset.0"), 2);
    /* Their age was carried over: the first expires 60 s after it happened. */
    journal_expire(j, 700000 + 15001);
    assert_int_equal(journal_recent_count(j, "replicaset.0"), 1);
    journal_destroy(&j);

    /* 61 s after the first (and 31 s after the second) by the wall clock. */
    j = open_at(900000, U0 + 61000, &rp);
    assert_int_equal(rp.recent, 1);
    assert_int_equal(journal_recent_count(j, "replicaset.0"), 1);
    journal_destroy(&j);

    /* Much later: nothing recent, nothing pending, an empty controller table. */
    j = open_at(9000, U0 + 200000, &rp);
    assert_int_equal(rp.recent, 0);
    assert_int_equal(journal_recent_count(j, "replicaset.0"), 0);
    journal_destroy(&j);
}

static journal_admit_t try_admit(journal_t *j, uint64_t id, const char *name)
{
    msg_envelope_t *env = action_env(id, KUBUS__V1__VERB__CREATE, name);
    const msg_result_t *done = NULL;
    journal_admit_t rc = journal_admit(j, "replicaset.0", &env, T0 + 2000, &done);
    msg_free(env);
    return rc;
}

/* The content of a recent result's action survives restarts, also once
 * the journal was compacted (the action record is gone, its digest stays):
 * a re-send is still a duplicate, the id with another action is refused. */
static void test_content_known_across_restarts(void **state)
{
    (void)state;
    journal_replay_t rp;
    journal_t *j = open_at(T0, U0, &rp);
    admit(j, "replicaset.0", 5, KUBUS__V1__VERB__CREATE, "a", T0);
    complete(j, "replicaset.0", 5, KUBUS__V1__VERB__CREATE, 201, T0);
    admit(j, "replicaset.0", 6, KUBUS__V1__VERB__CREATE, "b", T0);
    journal_destroy(&j);
    for (int life = 0; life < 2; life++) {   /* replayed raw, then compacted */
        j = open_at(T0 + 1000, U0 + 1000, &rp);
        assert_int_equal(journal_recent_count(j, "replicaset.0"), 1);
        assert_int_equal(try_admit(j, 5, "a"), JOURNAL_DUP_DONE);
        assert_int_equal(try_admit(j, 5, "other"), JOURNAL_ID_REUSED);
        assert_int_equal(try_admit(j, 6, "b"), JOURNAL_DUP_PENDING);
        assert_int_equal(try_admit(j, 6, "other"), JOURNAL_ID_REUSED);
        journal_destroy(&j);
    }
}

static void test_old_pending_not_replayed(void **state)
{
    (void)state;
    journal_replay_t rp;
    journal_t *j = open_at(T0, U0, &rp);
    admit(j, "replicaset.0", 1, KUBUS__V1__VERB__CREATE, "a", T0);
    journal_destroy(&j);
    j = open_at(T0, U0 + JOURNAL_PENDING_REPLAY_MS + 1, &rp);
    assert_int_equal(rp.pending, 0);
    assert_int_equal(rp.skipped, 1);
    assert_int_equal(journal_pending_total(j), 0);
    journal_destroy(&j);
}

/* Appends raw bytes to the journal file, as a dying process might have. */
static void append_raw(const void *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, p, n), (ssize_t)n);
    close(fd);
}

static void test_torn_tail(void **state)
{
    (void)state;
    journal_replay_t rp;
    journal_t *j = open_at(T0, U0, &rp);
    admit(j, "replicaset.0", 1, KUBUS__V1__VERB__CREATE, "a", T0);
    admit(j, "replicaset.0", 2, KUBUS__V1__VERB__CREATE, "b", T0);
    off_t before = file_size();
    complete(j, "replicaset.0", 2, KUBUS__V1__VERB__CREATE, 201, T0 + 1);
    off_t after = file_size();
    journal_destroy(&j);
    /* Cut the last record (the result) in half: its action is pending again. */
    assert_int_equal(truncate(path, before + (after - before) / 2), 0);
    j = open_at(T0 + 10, U0 + 10, &rp);
    assert_int_equal(rp.torn_bytes, (size_t)((after - before) / 2));
    assert_int_equal(rp.pending, 2);
    assert_int_equal(rp.recent, 0);
    /* The torn tail is gone after the start's rewrite: later records count. */
    complete(j, "replicaset.0", 1, KUBUS__V1__VERB__CREATE, 201, T0 + 20);
    journal_destroy(&j);
    j = open_at(T0 + 30, U0 + 30, &rp);
    assert_int_equal(rp.torn_bytes, 0);
    assert_int_equal(rp.pending, 1);
    assert_int_equal(rp.recent, 1);
    journal_destroy(&j);
}

static void test_crc_mismatch_stops_replay(void **state)
{
    (void)state;
    journal_replay_t rp;
    journal_t *j = open_at(T0, U0, &rp);
    admit(j, "replicaset.0", 1, KUBUS__V1__VERB__CREATE, "a", T0);
    off_t mid = file_size();
    admit(j, "replicaset.0", 2, KUBUS__V1__VERB__CREATE, "b", T0);
    admit(j, "replicaset.0", 3, KUBUS__V1__VERB__CREATE, "c", T0);
    off_t end = file_size();
    journal_destroy(&j);
    /* Flip a byte inside the second action's body. */
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, mid + 20), 1);
    b ^= 0xff;
    assert_int_equal(pwrite(fd, &b, 1, mid + 20), 1);
    close(fd);
    j = open_at(T0, U0, &rp);
    assert_int_equal(rp.pending, 1);
    assert_int_equal(rp.torn_bytes, (size_t)(end - mid));
    journal_destroy(&j);
    /* Garbage appended after whole records: ignored too. */
    append_raw("\x05\x00\x00\x00garbage", 11);
    j = open_at(T0, U0, &rp);
    assert_int_equal(rp.pending, 1);
    assert_int_equal(rp.torn_bytes, 11);
    journal_destroy(&j);
}

static void test_compaction(void **state)
{
    (void)state;
    journal_replay_t rp;
    journal_t *j = open_at(T0, U0, &rp);
    journal_set_compact_bytes(j, 64 * 1024);
    uint64_t now = T0;
    /* 2000 actions over 100 s; only the last 60 s of results stay live. */
    for (uint64_t id = 1; id <= 2000; id++, now += 50) {
        char name[16];
        snprintf(name, sizeof name, "p%llu", (unsigned long long)id);
        admit(j, "replicaset.0", id, KUBUS__V1__VERB__CREATE, name, now);
        if (id != 7) complete(j, "replicaset.0", id, KUBUS__V1__VERB__CREATE, 201, now);
        journal_expire(j, now);
    }
    /* Rewritten as it went: the file holds about the live records only. */
    uint64_t live = journal_file_bytes(j);
    assert_true(live < 64 * 1024 + 2 * 1200 * 200);
    assert_int_equal((uint64_t)file_size(), live);
    journal_expire(j, now);
    size_t recent = journal_recent_count(j, "replicaset.0");
    journal_destroy(&j);
    j = open_at(now, U0 + (now - T0), &rp);
    assert_int_equal(rp.recent, recent);
    assert_int_equal(rp.pending, 1);         /* id 7, pending for 100 s */
    assert_true(rp.records < 2000);
    journal_destroy(&j);
    /* No temporary file left behind. */
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    assert_int_equal(access(tmp, F_OK), -1);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_one_executor_per_journal(void **state)
{
    (void)state;
    journal_replay_t rp;
    journal_t *j = open_at(T0, U0, &rp);
    admit(j, "replicaset.0", 1, KUBUS__V1__VERB__CREATE, "a", T0);
    journal_t *k = journal_new(JOURNAL_MAX_RECENT, JOURNAL_MAX_RECENT_BYTES, JOURNAL_RECENT_MS);
    char err[256] = "";
    assert_int_equal(journal_open_file(k, path, SERVER, T0, U0, &rp, err, sizeof err), -1);
    assert_non_null(strstr(err, "another kubus-executor"));
    assert_int_equal(journal_pending_total(k), 0); /* refused: nothing replayed */
    journal_destroy(&k);
    journal_destroy(&j);
    k = open_at(T0, U0, &rp); /* the holder is gone */
    assert_int_equal(journal_pending_total(k), 1);
    journal_destroy(&k);
}

static int open_err(char *err, size_t errlen)
{
    journal_t *j = journal_new(JOURNAL_MAX_RECENT, JOURNAL_MAX_RECENT_BYTES, JOURNAL_RECENT_MS);
    journal_replay_t rp;
    int rc = journal_open_file(j, path, SERVER, T0, U0, &rp, err, errlen);
    journal_destroy(&j);
    return rc;
}

/* The journal, its lock and its directory are opened without following
 * links and must be ours, closed to others; a leftover temporary file
 * (or a link planted in its place) is replaced, never written through. */
static void test_untrusted_files_refused(void **state)
{
    (void)state;
    char err[1200], other[160], p[160];
    assert_int_equal(journal_fixture_file(&jf, "elsewhere", other, sizeof other), 0);
    int fd = open(other, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    close(fd);

    assert_int_equal(symlink(other, path), 0);   /* the journal a link */
    assert_int_equal(open_err(err, sizeof err), -1);
    assert_non_null(strstr(err, "symbolic link"));
    unlink(path);

    snprintf(p, sizeof p, "%s.lock", path);       /* the lock a link */
    unlink(p);
    assert_int_equal(symlink(other, p), 0);
    assert_int_equal(open_err(err, sizeof err), -1);
    assert_non_null(strstr(err, "symbolic link"));
    unlink(p);

    assert_int_equal(open_err(err, sizeof err), 0);   /* fine now: made 0600 */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(chmod(path, 0644), 0);           /* readable by others */
    assert_int_equal(open_err(err, sizeof err), -1);
    assert_non_null(strstr(err, "mode 0644"));
    assert_int_equal(chmod(path, 0600), 0);

    snprintf(p, sizeof p, "%s.tmp", path);             /* a planted temporary link */
    assert_int_equal(symlink(other, p), 0);
    assert_int_equal(open_err(err, sizeof err), 0);
    assert_int_equal(stat(other, &st), 0);
    assert_int_equal(st.st_size, 0);                   /* not written through */
    assert_int_equal(lstat(p, &st), -1);               /* and gone */

    assert_int_equal(chmod(jf.dir, 0777), 0);             /* the directory open to all */
    assert_int_equal(open_err(err, sizeof err), -1);
    assert_non_null(strstr(err, "mode 0777"));
    assert_int_equal(chmod(jf.dir, 0700), 0);
    unlink(other);
}

static void test_other_server_ignored(void **state)
{
    (void)state;
    journal_replay_t rp;
    journal_t *j = open_at(T0, U0, &rp);
    admit(j, "replicaset.0", 1, KUBUS__V1__VERB__CREATE, "a", T0);
    journal_destroy(&j);
    j = journal_new(JOURNAL_MAX_RECENT, JOURNAL_MAX_RECENT_BYTES, JOURNAL_RECENT_MS);
    char err[256];
    assert_int_equal(journal_open_file(j, path, "https://elsewhere:6443", T0, U0, &rp, err, sizeof err), 0);
    assert_true(rp.foreign);
    assert_int_equal(journal_pending_total(j), 0);
    journal_destroy(&j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32),
        cmocka_unit_test(test_framing),
        cmocka_unit_test_setup_teardown(test_replay_pending_and_recent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recent_window_across_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_content_known_across_restarts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_pending_not_replayed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crc_mismatch_stops_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_executor_per_journal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_untrusted_files_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_server_ignored, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
