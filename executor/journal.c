/* journal.c - pending actions and recent results per controller. See journal.h.
 *
 * Invariants: every entry is in its controller's id hash and in exactly one
 * of the two lists: `pending` (arrival order, env set) or `recent`
 * (completion order, result set). recent_bytes is the sum of the packed
 * sizes of the results in `recent`.
 *
 * The file (journal_open_file): every admission appends an ACTION record,
 * every completion a RESULT record, before anything else happens to them
 * (before the request is started; before the result is sent). The records
 * are plain write(2)s, never fsync'd: a SIGKILLed executor loses nothing
 * that reached the page cache, and a machine crash restarts the API server
 * connection, the controllers and their informers too (they re-derive from
 * fresh state), so durability beyond the process is not worth an fsync per
 * action. Compaction rewrites the live state (pending + recent) into a
 * temporary file renamed over the journal. */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "jfile.h"
#include "errfmt.h"
#include "log.h"
#include "trusted.h"

typedef struct jentry {
    uint64_t id;
    msg_envelope_t *env;   /* pending: the action's envelope */
    msg_result_t *result;  /* done: a deep copy of the result */
    size_t result_bytes;
    uint64_t done_ms;
    uint64_t admit_ms;
    int dups;              /* duplicate submissions absorbed while pending */
    uint64_t digest;       /* FNV-1a 64 of the packed Action; 0: unknown */
    struct jentry *hnext, *prev, *next;
} jentry_t;

typedef struct {
    jentry_t *head, *tail;
    size_t len;
} jlist_t;

typedef struct jctl {
    char *name;
    jentry_t **buckets;
    size_t nbuckets, nentries;
    jlist_t pending, recent;
    size_t recent_bytes;
    struct jctl *next;
} jctl_t;

struct journal {
    jctl_t *ctls;
    size_t max_recent, max_recent_bytes;
    uint64_t recent_ms;
    size_t pending_total;
    /* the file; fd < 0: memory only */
    int fd, lock_fd;
    int dir_fd;                /* the journal's directory (trusted.h) */
    char *path, *server;
    char *dir, *name;          /* path split: every file is opened at dir_fd */
    int64_t unix_offset;       /* unix ms = our clock + unix_offset */
    uint64_t file_bytes;       /* bytes in the file */
    uint64_t live_bytes;       /* bytes of the last compaction's output */
    uint64_t compact_bytes;    /* compaction threshold */
    bool broken;               /* a write failed: rewrite from memory */
    uint64_t next_compact_ms;  /* after a failed compaction: not before */
    log_limit_t io_log;
};

/* ---- lists and hash ----------------------------------------------------- */

static void list_append(jlist_t *l, jentry_t *e)
{
    e->next = NULL;
    e->prev = l->tail;
    if (l->tail) l->tail->next = e; else l->head = e;
    l->tail = e;
    l->len++;
}

static void list_unlink(jlist_t *l, jentry_t *e)
{
    if (e->prev) e->prev->next = e->next; else l->head = e->next;
    if (e->next) e->next->prev = e->prev; else l->tail = e->prev;
    e->prev = e->next = NULL;
    l->len--;
}

static size_t bucket_of(const jctl_t *c, uint64_t id)
{
    return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 17) % c->nbuckets;
}

static jentry_t *find_entry(const jctl_t *c, uint64_t id)
{
    if (!c->nbuckets) return NULL;
    jentry_t *e = c->buckets[bucket_of(c, id)];
    while (e && e->id != id) e = e->hnext;
    return e;
}

/* Keeps chains short: doubles when entries outnumber buckets. */
static int grow(jctl_t *c)
{
    if (c->nentries < c->nbuckets) return 0;
    size_t n = c->nbuckets ? c->nbuckets * 2 : 64;
    jentry_t **nb = calloc(n, sizeof *nb);
    if (!nb) return -1;
    size_t old = c->nbuckets;
    jentry_t **ob = c->buckets;
    c->buckets = nb;
    c->nbuckets = n;
    for (size_t i = 0; i < old; i++) {
        for (jentry_t *e = ob[i], *next; e; e = next) {
            next = e->hnext;
            size_t b = bucket_of(c, e->id);
            e->hnext = nb[b];
            nb[b] = e;
        }
    }
    free(ob);
    return 0;
}

static void hash_remove(jctl_t *c, jentry_t *e)
{
    jentry_t **p = &c->buckets[bucket_of(c, e->id)];
    while (*p && *p != e) p = &(*p)->hnext;
    if (*p) *p = e->hnext;
    c->nentries--;
}

static void entry_free(jentry_t *e)
{
    msg_free(e->env);
    if (e->result) kubus__v1__action_result__free_unpacked(e->result, NULL);
    free(e);
}

/* ---- controllers -------------------------------------------------------- */

journal_t *journal_new(size_t max_recent, size_t max_recent_bytes, uint64_t recent_ms)
{
    journal_t *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    j->max_recent = max_recent ? max_recent : 1;
    j->max_recent_bytes = max_recent_bytes;
    j->recent_ms = recent_ms;
    j->fd = j->lock_fd = j->dir_fd = -1;
    j->compact_bytes = JOURNAL_FILE_COMPACT_BYTES;
    j->io_log = (log_limit_t)LOG_LIMIT_INIT(0.1, 3.0);
    return j;
}

static jctl_t *find_ctl(const journal_t *j, const char *name)
{
    for (jctl_t *c = j->ctls; c; c = c->next)
        if (strcmp(c->name, name) == 0) return c;
    return NULL;
}

static jctl_t *get_ctl(journal_t *j, const char *name)
{
    jctl_t *c = find_ctl(j, name);
    if (c) return c;
    c = calloc(1, sizeof *c);
    if (!c || !(c->name = strdup(name))) { free(c); return NULL; }
    c->next = j->ctls;
    j->ctls = c;
    return c;
}

static void ctl_free(jctl_t *c)
{
    for (jlist_t *l = &c->pending; l; l = l == &c->pending ? &c->recent : NULL)
        for (jentry_t *e = l->head, *next; e; e = next) {
            next = e->next;
            entry_free(e);
        }
    free(c->buckets);
    free(c->name);
    free(c);
}

void journal_destroy(journal_t **jp)
{
    if (!jp || !*jp) return;
    for (jctl_t *c = (*jp)->ctls, *next; c; c = next) {
        next = c->next;
        ctl_free(c);
    }
    journal_t *j = *jp;
    if (j->fd >= 0) close(j->fd);
    if (j->lock_fd >= 0) close(j->lock_fd); /* releases the flock */
    if (j->dir_fd >= 0) close(j->dir_fd);
    free(j->path);
    free(j->dir);
    free(j->name);
    free(j->server);
    free(j);
    *jp = NULL;
}

/* ---- the file: appending -------------------------------------------------- */

static uint64_t unix_of(const journal_t *j, uint64_t ms) { return (uint64_t)((int64_t)ms + j->unix_offset); }

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* A failed or short write leaves a torn record that would hide every later
 * one on replay: stop appending until a compaction rewrites the file. */
static void file_broken(journal_t *j, const char *why)
{
    if (!j->broken && log_limit_allow(&j->io_log))
        LOGE("journal write failed: actions are journaled in memory only until the file can be rewritten",
             "path", j->path, "error", why);
    j->broken = true;
}

static void file_append(journal_t *j, uint8_t type, const char *ctl, uint64_t at_ms, const uint8_t *payload,
                        size_t n)
{
    if (j->fd < 0 || j->broken) return;
    size_t idlen = strlen(ctl);
    size_t total = jfile_record_size(idlen, n);
    uint8_t *buf = malloc(total);
    if (!buf || jfile_encode(buf, type, unix_of(j, at_ms), ctl, idlen, payload, n) < 0) {
        free(buf);
        file_broken(j, buf ? "record too large" : "out of memory");
        return;
    }
    int rc = write_all(j->fd, buf, total);
    int saved = errno;
    free(buf);
    if (rc < 0) file_broken(j, strerror(saved));
    else j->file_bytes += total;
}

static void append_action(journal_t *j, const char *ctl, const msg_envelope_t *env, uint64_t at_ms)
{
    if (j->fd < 0 || j->broken) return;
    size_t n = kubus__v1__envelope__get_packed_size(env);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) { file_broken(j, "out of memory"); return; }
    kubus__v1__envelope__pack(env, buf);
    file_append(j, JFILE_ACTION, ctl, at_ms, buf, n);
    free(buf);
}

/* ---- admission and completion ------------------------------------------------ */

/* What makes two submissions of one id the same action: every field, as
 * packed (protobuf-c packs a message the same way every time; a re-send
 * is the same bytes). Never 0, which means "unknown". */
static uint64_t action_digest(const msg_action_t *a)
{
    size_t n = kubus__v1__action__get_packed_size(a);
    uint8_t stack[4096], *buf = n <= sizeof stack ? stack : malloc(n);
    if (!buf) return 0;
    kubus__v1__action__pack(a, buf);
    uint64_t h = fnv1a64_update(FNV64_OFFSET, buf, n);
    if (buf != stack) free(buf);
    return h ? h : 1;
}

/* A repeat of e's id: the same action, unless both digests are known and
 * differ. */
static bool same_action(const jentry_t *e, const msg_action_t *a)
{
    if (!e->digest) return true;
    uint64_t d = action_digest(a);
    return !d || d == e->digest;
}

static jentry_t *insert_pending(journal_t *j, jctl_t *c, msg_envelope_t *env, uint64_t admit_ms)
{
    jentry_t *e;
    if (grow(c) < 0 || !(e = calloc(1, sizeof *e))) return NULL;
    e->id = env->action->id;
    e->env = env;
    e->admit_ms = admit_ms;
    e->digest = action_digest(env->action);
    size_t b = bucket_of(c, e->id);
    e->hnext = c->buckets[b];
    c->buckets[b] = e;
    c->nentries++;
    list_append(&c->pending, e);
    j->pending_total++;
    return e;
}

journal_admit_t journal_admit(journal_t *j, const char *controller, msg_envelope_t **env, uint64_t now_ms,
                              const msg_result_t **done)
{
    jctl_t *c = get_ctl(j, controller);
    if (!c) return JOURNAL_ERROR;
    jentry_t *e = find_entry(c, (*env)->action->id);
    if (e && !same_action(e, (*env)->action)) return JOURNAL_ID_REUSED;
    if (e && e->env) { e->dups++; return JOURNAL_DUP_PENDING; }
    if (e) { *done = e->result; return JOURNAL_DUP_DONE; }
    if (!insert_pending(j, c, *env, now_ms)) return JOURNAL_ERROR;
    append_action(j, controller, *env, now_ms);
    *env = NULL;
    return JOURNAL_ADMITTED;
}

static void drop_recent(jctl_t *c, jentry_t *e)
{
    list_unlink(&c->recent, e);
    hash_remove(c, e);
    c->recent_bytes -= e->result_bytes;
    entry_free(e);
}

static void enforce_bounds(const journal_t *j, jctl_t *c)
{
    while (c->recent.head && (c->recent.len > j->max_recent || c->recent_bytes > j->max_recent_bytes))
        drop_recent(c, c->recent.head);
}

/* A deep copy through the wire format: simple, and exactly what is sent.
 * *packed (if not NULL) gets the wire bytes, for the file. */
static msg_result_t *copy_result(const msg_result_t *res, size_t *bytes, uint8_t **packed)
{
    size_t n = kubus__v1__action_result__get_packed_size(res);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) return NULL;
    kubus__v1__action_result__pack(res, buf);
    msg_result_t *copy = kubus__v1__action_result__unpack(NULL, n, buf);
    if (packed && copy) *packed = buf;
    else free(buf);
    *bytes = n;
    return copy;
}

/* Pending e of c becomes recent with result (taken), done at done_ms. Its
 * envelope goes to *env when env is given, else it is freed. */
static void to_recent(journal_t *j, jctl_t *c, jentry_t *e, msg_result_t *result, size_t bytes, uint64_t done_ms,
                      msg_envelope_t **env)
{
    list_unlink(&c->pending, e);
    j->pending_total--;
    if (env) *env = e->env;
    else msg_free(e->env);
    e->env = NULL;
    e->result = result;
    e->result_bytes = bytes;
    if (!e->result) { /* out of memory: forget it rather than keep a half entry */
        hash_remove(c, e);
        free(e);
        return;
    }
    e->done_ms = done_ms;
    list_append(&c->recent, e);
    c->recent_bytes += e->result_bytes;
    enforce_bounds(j, c);
}

int journal_complete(journal_t *j, const char *controller, const msg_result_t *res, uint64_t now_ms)
{
    return journal_complete_keep(j, controller, res, now_ms, NULL);
}

int journal_complete_keep(journal_t *j, const char *controller, const msg_result_t *res, uint64_t now_ms,
                          msg_envelope_t **env)
{
    if (env) *env = NULL;
    jctl_t *c = find_ctl(j, controller);
    jentry_t *e = c ? find_entry(c, res->id) : NULL;
    if (!e || !e->env) return -1;
    /* Copy first: res usually borrows its strings from the action's envelope. */
    size_t bytes = 0;
    uint8_t *packed = NULL;
    msg_result_t *copy = copy_result(res, &bytes, j->fd >= 0 ? &packed : NULL);
    if (packed) file_append(j, JFILE_RESULT, controller, now_ms, packed, bytes);
    free(packed);
    int dups = e->dups;
    to_recent(j, c, e, copy, bytes, now_ms, env);
    return dups;
}

static void journal_expire_recent(journal_t *j, uint64_t now_ms)
{
    for (jctl_t **cp = &j->ctls; *cp;) {
        jctl_t *c = *cp;
        while (c->recent.head && now_ms - c->recent.head->done_ms > j->recent_ms) drop_recent(c, c->recent.head);
        if (!c->pending.len && !c->recent.len) {
            *cp = c->next;
            ctl_free(c);
        } else {
            cp = &c->next;
        }
    }
}

void journal_expire(journal_t *j, uint64_t now_ms)
{
    journal_expire_recent(j, now_ms);
    if (j->path && (j->broken || j->fd < 0 || j->file_bytes > j->compact_bytes + j->live_bytes) &&
        now_ms >= j->next_compact_ms) {
        if (journal_compact(j, now_ms) < 0) j->next_compact_ms = now_ms + JOURNAL_COMPACT_RETRY_MS;
    }
}

size_t journal_pending_count(const journal_t *j, const char *controller)
{
    const jctl_t *c = find_ctl(j, controller);
    return c ? c->pending.len : 0;
}

size_t journal_recent_count(const journal_t *j, const char *controller)
{
    const jctl_t *c = find_ctl(j, controller);
    return c ? c->recent.len : 0;
}

size_t journal_pending_total(const journal_t *j) { return j->pending_total; }

/* ---- report ---------------------------------------------------------------- */

static int report_pending(const jctl_t *c, Kubus__V1__InflightReport *out, size_t *budget)
{
    out->pending = calloc(c->pending.len ? c->pending.len : 1, sizeof *out->pending);
    if (!out->pending) return -1;
    for (const jentry_t *e = c->pending.head; e; e = e->next) {
        size_t n = kubus__v1__action__get_packed_size(e->env->action) + 16;
        if (n > *budget) break;
        *budget -= n;
        out->pending[out->n_pending++] = e->env->action;
    }
    return 0;
}

/* Newest results matter most to a restarting controller: fill from the end. */
static int report_recent(const jctl_t *c, Kubus__V1__InflightReport *out, size_t *budget)
{
    size_t cap = c->recent.len ? c->recent.len : 1;
    out->recent = calloc(cap, sizeof *out->recent);
    msg_result_t *copies = calloc(cap, sizeof *copies);
    if (!out->recent || !copies) { free(copies); return -1; }
    size_t k = 0;
    for (const jentry_t *e = c->recent.tail; e; e = e->prev) {
        copies[k] = *e->result; /* shallow: strings stay the journal's */
        copies[k].object.data = NULL;
        copies[k].object.len = 0;
        size_t n = kubus__v1__action_result__get_packed_size(&copies[k]) + 16;
        if (n > *budget) break;
        *budget -= n;
        k++;
    }
    for (size_t i = 0; i < k / 2; i++) { /* back to completion order */
        msg_result_t t = copies[i];
        copies[i] = copies[k - 1 - i];
        copies[k - 1 - i] = t;
    }
    for (size_t i = 0; i < k; i++) out->recent[i] = &copies[i];
    out->n_recent = k;
    if (!k) free(copies);
    return 0;
}

int journal_report(const journal_t *j, const char *controller, uint64_t epoch, Kubus__V1__InflightReport *out)
{
    kubus__v1__inflight_report__init(out);
    out->controller = (char *)controller;
    out->executor_epoch = epoch;
    const jctl_t *c = find_ctl(j, controller);
    if (!c) return 0;
    size_t budget = JOURNAL_REPORT_BYTES;
    if (report_pending(c, out, &budget) < 0 || report_recent(c, out, &budget) < 0) {
        journal_report_clear(out);
        return -1;
    }
    return 0;
}

void journal_report_clear(Kubus__V1__InflightReport *r)
{
    free(r->pending);
    /* The copies were allocated as one array; recent[0] is its start. */
    if (r->n_recent) free(r->recent[0]);
    free(r->recent);
    r->pending = NULL;
    r->recent = NULL;
    r->n_pending = r->n_recent = 0;
}

/* ---- the file: compaction, replay, opening ---------------------------------------- */

typedef struct {
    int fd;
    uint8_t *buf;
    size_t len, cap;
    uint64_t total;
    int err;
} writer_t;

static int w_flush(writer_t *w)
{
    if (w->err) return -1;
    if (w->len && write_all(w->fd, w->buf, w->len) < 0) { w->err = errno ? errno : EIO; return -1; }
    w->len = 0;
    return 0;
}

static int w_record(writer_t *w, uint8_t type, uint64_t unix_ms, const char *id, const uint8_t *payload,
                    size_t n)
{
    size_t idlen = strlen(id), total = jfile_record_size(idlen, n);
    if (w->err) return -1;
    if (w->len + total > w->cap && w_flush(w) < 0) return -1;
    if (total > w->cap) { /* bigger than the buffer: on its own */
        uint8_t *one = malloc(total);
        if (!one) { w->err = ENOMEM; return -1; }
        int rc = jfile_encode(one, type, unix_ms, id, idlen, payload, n) < 0 ? (errno = EINVAL, -1)
                                                                                : write_all(w->fd, one, total);
        free(one);
        if (rc < 0) { w->err = errno ? errno : EIO; return -1; }
    } else {
        if (jfile_encode(w->buf + w->len, type, unix_ms, id, idlen, payload, n) < 0) { w->err = EINVAL; return -1; }
        w->len += total;
    }
    w->total += total;
    return 0;
}

static int w_packed_env(writer_t *w, const journal_t *j, const char *id, const jentry_t *e)
{
    size_t n = kubus__v1__envelope__get_packed_size(e->env);
    uint8_t *p = malloc(n ? n : 1);
    if (!p) { w->err = ENOMEM; return -1; }
    kubus__v1__envelope__pack(e->env, p);
    int rc = w_record(w, JFILE_ACTION, unix_of(j, e->admit_ms), id, p, n);
    free(p);
    return rc;
}

static int w_packed_result(writer_t *w, const journal_t *j, const char *id, const jentry_t *e)
{
    size_t n = kubus__v1__action_result__get_packed_size(e->result);
    uint8_t *p = malloc(n ? n : 1);
    if (!p) { w->err = ENOMEM; return -1; }
    kubus__v1__action_result__pack(e->result, p);
    int rc = w_record(w, JFILE_RESULT, unix_of(j, e->done_ms), id, p, n);
    free(p);
    return rc;
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* A recent result's digest, so that a replayed journal still tells a
 * re-send from an id reused with other content. */
static int w_digest(writer_t *w, const journal_t *j, const char *id, const jentry_t *e)
{
    if (!e->digest) return 0;
    uint8_t p[16];
    put_le64(p, e->id);
    put_le64(p + 8, e->digest);
    return w_record(w, JFILE_DIGEST, unix_of(j, e->done_ms), id, p, sizeof p);
}

static char *suffixed(const char *path, const char *suffix)
{
    size_t n = strlen(path) + strlen(suffix) + 1;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s%s", path, suffix);
    return s;
}

/* A fresh temporary file next to the journal: a leftover one (ours or
 * planted) is removed, never written through. */
static int open_tmp(const journal_t *j, const char *tmp, char *why, size_t whylen)
{
    if (unlinkat(j->dir_fd, tmp, 0) < 0 && errno != ENOENT)
        return errfmt(why, whylen, "%s/%s: cannot remove: %s", j->dir, tmp, strerror(errno));
    return trusted_openat(j->dir_fd, j->dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_APPEND, why, whylen);
}

int journal_compact(journal_t *j, uint64_t now_ms)
{
    if (!j->path) return 0;
    char *tmp = suffixed(j->name, ".tmp");
    writer_t w = { .fd = -1, .cap = 1u << 20 };
    w.buf = malloc(w.cap);
    if (!tmp || !w.buf) { free(tmp); free(w.buf); return -1; }
    char why[1200] = "";
    w.fd = open_tmp(j, tmp, why, sizeof why);
    if (w.fd < 0) w.err = errno ? errno : EIO;
    const char *server = j->server ? j->server : "";
    w_record(&w, JFILE_HEADER, unix_of(j, now_ms), "", (const uint8_t *)server, strlen(server));
    for (const jctl_t *c = j->ctls; c && !w.err; c = c->next) {
        for (const jentry_t *e = c->pending.head; e && !w.err; e = e->next) w_packed_env(&w, j, c->name, e);
        for (const jentry_t *e = c->recent.head; e && !w.err; e = e->next)
            if (w_packed_result(&w, j, c->name, e) == 0) w_digest(&w, j, c->name, e);
    }
    w_flush(&w);
    /* No fsync before the rename either: see the top of this file. */
    if (!w.err && renameat(j->dir_fd, tmp, j->dir_fd, j->name) < 0) w.err = errno;
    free(w.buf);
    if (w.err) {
        if (log_limit_allow(&j->io_log))
            LOGE("cannot rewrite the journal", "dir", j->dir, "file", tmp, "error", why[0] ? why : strerror(w.err));
        if (w.fd >= 0) close(w.fd), unlinkat(j->dir_fd, tmp, 0);
        free(tmp);
        j->broken = true;
        return -1;
    }
    free(tmp);
    if (j->fd >= 0) close(j->fd);
    j->fd = w.fd;
    j->file_bytes = j->live_bytes = w.total;
    if (j->broken) LOGI("journal file rewritten: journaling to it again", "path", j->path);
    j->broken = false;
    return 0;
}

/* One replayed ACTION: pending again, unless known or too old. */
static void replay_action(journal_t *j, const jfile_rec_t *r, const char *ctl, uint64_t at_ms, uint64_t age_ms,
                          journal_replay_t *rp)
{
    if (age_ms > JOURNAL_PENDING_REPLAY_MS) { rp->skipped++; return; }
    msg_envelope_t *env = msg_decode(r->payload, r->len, NULL, 0);
    if (!env || env->body_case != KUBUS__V1__ENVELOPE__BODY_ACTION) { msg_free(env); rp->skipped++; return; }
    jctl_t *c = get_ctl(j, ctl);
    if (!c || find_entry(c, env->action->id) || !insert_pending(j, c, env, at_ms)) {
        msg_free(env);
        rp->skipped++;
        return;
    }
    rp->pending++;
}

/* One replayed RESULT: completes its pending action, or is recent on its own
 * (compacted files keep results without their actions). */
static void replay_result(journal_t *j, const jfile_rec_t *r, const char *ctl, uint64_t at_ms, uint64_t age_ms,
                          journal_replay_t *rp)
{
    msg_result_t *res = kubus__v1__action_result__unpack(NULL, r->len, r->payload);
    jctl_t *c = res ? get_ctl(j, ctl) : NULL;
    jentry_t *e = c ? find_entry(c, res->id) : NULL;
    if (!c || (e && !e->env)) goto skip;
    if (!e) {
        if (age_ms > j->recent_ms || grow(c) < 0 || !(e = calloc(1, sizeof *e))) goto skip;
        e->id = res->id;
        e->result = res;
        e->result_bytes = r->len;
        e->done_ms = at_ms;
        size_t b = bucket_of(c, e->id);
        e->hnext = c->buckets[b];
        c->buckets[b] = e;
        c->nentries++;
        list_append(&c->recent, e);
        c->recent_bytes += e->result_bytes;
        enforce_bounds(j, c);
    } else {
        to_recent(j, c, e, res, r->len, at_ms, NULL);
        rp->pending--;
    }
    rp->recent++;
    return;
skip:
    if (res) kubus__v1__action_result__free_unpacked(res, NULL);
    rp->skipped++;
}

/* One replayed DIGEST: the content of a recent result's action. */
static void replay_digest(journal_t *j, const jfile_rec_t *r, const char *ctl)
{
    jctl_t *c = r->len == 16 ? find_ctl(j, ctl) : NULL;
    jentry_t *e = c ? find_entry(c, get_le64(r->payload)) : NULL;
    if (e && !e->env && !e->digest) e->digest = get_le64(r->payload + 8);
}

static void replay(journal_t *j, const uint8_t *data, size_t len, uint64_t now_ms, uint64_t now_unix_ms,
                   journal_replay_t *rp)
{
    size_t off = 0;
    jfile_rec_t r;
    jfile_next_t rc = jfile_next(data, len, &off, &r);
    const char *server = j->server ? j->server : "";
    if (rc == JFILE_OK && (r.type != JFILE_HEADER || r.len != strlen(server) || memcmp(r.payload, server, r.len))) {
        rp->foreign = true;
        return;
    }
    while (rc == JFILE_OK) {
        char ctl[256];
        if (r.type != JFILE_DIGEST) rp->records++;   /* a digest annotates its result */
        if (r.type == JFILE_ACTION || r.type == JFILE_RESULT || r.type == JFILE_DIGEST) {
            uint64_t age = now_unix_ms > r.unix_ms ? now_unix_ms - r.unix_ms : 0;
            /* Our clock in the record's time; a monotonic clock younger than
             * the record (a machine booted under a minute ago) clamps to 0:
             * such a result merely stays a little longer than 60 s. */
            uint64_t at = now_ms > age ? now_ms - age : 0;
            if (r.idlen == 0 || r.idlen >= sizeof ctl) {
                rp->skipped++;
            } else {
                memcpy(ctl, r.id, r.idlen);
                ctl[r.idlen] = '\0';
                if (r.type == JFILE_ACTION) replay_action(j, &r, ctl, at, age, rp);
                else if (r.type == JFILE_RESULT) replay_result(j, &r, ctl, at, age, rp);
                else replay_digest(j, &r, ctl);
            }
        }
        rc = jfile_next(data, len, &off, &r);
    }
    if (rc != JFILE_END) rp->torn_bytes = len - off;
    journal_expire_recent(j, now_ms);
}

/* j->dir and j->name from path ("dir/name"; a bare name is in "."), and
 * j->dir_fd, the directory checked (trusted.h). */
static int open_dir(journal_t *j, const char *path, char *err, size_t errlen)
{
    const char *slash = strrchr(path, '/');
    j->dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    j->name = strdup(slash ? slash + 1 : path);
    if (!j->dir || !j->name) return errfmt(err, errlen, "out of memory");
    if (!j->name[0]) return errfmt(err, errlen, "%s: not a file name", path);
    j->dir_fd = trusted_dir_open(j->dir, false, err, errlen);
    return j->dir_fd < 0 ? -1 : 0;
}

/* Two executors on one journal would apply every pending action twice
 * and interleave their records: the second one refuses to start. A lock
 * file of its own, because compaction replaces the journal's inode. */
static int take_lock(journal_t *j, char *err, size_t errlen)
{
    char *lock = suffixed(j->name, ".lock");
    if (!lock) return errfmt(err, errlen, "out of memory");
    j->lock_fd = trusted_openat(j->dir_fd, j->dir, lock, O_RDWR | O_CREAT, err, errlen);
    int rc = j->lock_fd < 0 ? -1 : 0;
    if (rc == 0 && flock(j->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK)
            errfmt(err, errlen, "another kubus-executor holds the journal %s (lock %s/%s): one executor per bus",
                   j->path, j->dir, lock);
        else
            errfmt(err, errlen, "cannot lock %s/%s: %s", j->dir, lock, strerror(errno));
        rc = -1;
    }
    free(lock);
    return rc;
}

/* Replays the journal file, if there is one. */
static int read_existing(journal_t *j, uint64_t now_ms, uint64_t now_unix_ms, journal_replay_t *rp, char *err,
                         size_t errlen)
{
    int fd = trusted_openat(j->dir_fd, j->dir, j->name, O_RDONLY, err, errlen);
    if (fd < 0) return errno == ENOENT ? 0 : -1;
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) < 0) {
        rc = errfmt(err, errlen, "cannot stat %s: %s", j->path, strerror(errno));
    } else if (st.st_size > 0) {
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            rc = errfmt(err, errlen, "cannot map %s: %s", j->path, strerror(errno));
        } else {
            replay(j, m, (size_t)st.st_size, now_ms, now_unix_ms, rp);
            munmap(m, (size_t)st.st_size);
        }
    }
    close(fd);
    return rc;
}

/* Back to memory-only, as before journal_open_file. */
static void forget_file(journal_t *j)
{
    /* Forget what was replayed: the caller does not start. */
    for (jctl_t *c = j->ctls, *next; c; c = next) {
        next = c->next;
        ctl_free(c);
    }
    j->ctls = NULL;
    j->pending_total = 0;
    if (j->lock_fd >= 0) close(j->lock_fd);
    if (j->dir_fd >= 0) close(j->dir_fd);
    j->lock_fd = j->dir_fd = -1;
    free(j->path);
    free(j->server);
    free(j->dir);
    free(j->name);
    j->path = j->server = j->dir = j->name = NULL;
    j->broken = false;
}

int journal_open_file(journal_t *j, const char *path, const char *server, uint64_t now_ms, uint64_t now_unix_ms,
                      journal_replay_t *rp, char *err, size_t errlen)
{
    journal_replay_t dummy;
    if (!rp) rp = &dummy;
    memset(rp, 0, sizeof *rp);
    if (j->path) return snprintf(err, errlen, "the journal already has a file"), -1;
    j->path = strdup(path);
    j->server = strdup(server ? server : "");
    j->unix_offset = (int64_t)now_unix_ms - (int64_t)now_ms;
    int rc = !j->path || !j->server ? errfmt(err, errlen, "out of memory") : open_dir(j, path, err, errlen);
    if (rc == 0) rc = take_lock(j, err, errlen);
    if (rc == 0) rc = read_existing(j, now_ms, now_unix_ms, rp, err, errlen);
    if (rc == 0 && journal_compact(j, now_ms) < 0)
        rc = errfmt(err, errlen, "cannot write the journal %s (see the log)", path);
    if (rc < 0) forget_file(j);
    return rc;
}

void journal_foreach_pending(const journal_t *j, journal_pending_fn fn, void *ud)
{
    for (const jctl_t *c = j->ctls; c; c = c->next)
        for (const jentry_t *e = c->pending.head; e; e = e->next) fn(c->name, e->env->action, ud);
}

uint64_t journal_file_bytes(const journal_t *j) { return j->path ? j->file_bytes : 0; }
void journal_set_compact_bytes(journal_t *j, uint64_t bytes) { j->compact_bytes = bytes; }
