/* store.c - the shard's shared state in LMDB. See store.h.
 * Invariant (writer): for every record R under key K in o/<res>,
 * c/<res> holds exactly "<R.owner>\0K" and u/<res> holds R.uid -> K (when
 * R has a uid); store_put and store_del are the only writers and change
 * all three tables in one transaction. */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errfmt.h"

#define STORE_MAX_RESOURCES 8
#define STORE_MAP_BYTES ((size_t)8 << 30)   /* address space only; pages come as used */
#define STORE_REC_VERSION 1
#define STORE_HDR 16u                        /* version, 3 pad, 3 x u32 lengths */
#define STORE_ID_MAX 128u                    /* uid / owner uid bytes (API uids: 36) */
#define STORE_KEY_MAX 320u                   /* ns (63) + '/' + name (253) */

typedef struct {
    char *name;
    MDB_dbi obj, owned, by_uid;
} table_t;

struct store {
    MDB_env *env;
    MDB_dbi meta;
    table_t t[STORE_MAX_RESOURCES];
    int nt;
    bool writer;
    MDB_txn *wtxn;     /* writer: open between the first change and commit */
    MDB_txn *rtxn;     /* reader: kept for renew */
    bool reading;
    uint64_t read_gen;  /* reader: read transactions begun so far */
    uint64_t epoch;
};

int store_path(char *out, size_t outlen, const char *bus_dir, uint64_t epoch)
{
    int n = snprintf(out, outlen, "%s/store-%016" PRIx64, bus_dir ? bus_dir : "", epoch);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

static int lmdb_fail(char *err, size_t errlen, const char *what, int rc)
{
    return errfmt(err, errlen, "store: %s: %s", what, mdb_strerror(rc));
}

static table_t *table_of(store_t *s, const char *resource)
{
    for (int i = 0; s && resource && i < s->nt; i++)
        if (strcmp(s->t[i].name, resource) == 0) return &s->t[i];
    return NULL;
}

uint64_t store_epoch(const store_t *s) { return s ? s->epoch : 0; }
bool store_reading(const store_t *s) { return s && s->reading; }
uint64_t store_read_generation(const store_t *s) { return s ? s->read_gen : 0; }

/* ---- opening ---- */

/* Removes dir/name if it is a store directory of ours (its two files, then
 * itself); entries are unlinked, never followed. */
static void remove_store_dir(int dfd, const char *name)
{
    int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return;
    unlinkat(fd, "data.mdb", 0);
    unlinkat(fd, "lock.mdb", 0);
    close(fd);
    unlinkat(dfd, name, AT_REMOVEDIR);
}

/* Every "store-*" under bus_dir but keep (its basename) goes. */
static void remove_other_stores(const char *bus_dir, const char *keep)
{
    int dfd = open(bus_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) return;
    DIR *d = fdopendir(dfd);
    if (!d) { close(dfd); return; }
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strncmp(de->d_name, "store-", 6) == 0 && (!keep || strcmp(de->d_name, keep) != 0))
            remove_store_dir(dirfd(d), de->d_name);
    closedir(d);
}

static int open_tables(store_t *s, MDB_txn *txn, const char *const *resources, char *err, size_t errlen)
{
    unsigned flags = s->writer ? MDB_CREATE : 0;
    int rc = mdb_dbi_open(txn, "meta", flags, &s->meta);
    if (rc) return lmdb_fail(err, errlen, "meta table", rc);
    for (int i = 0; resources && resources[i]; i++) {
        if (s->nt >= STORE_MAX_RESOURCES) return errfmt(err, errlen, "store: too many resources");
        table_t *t = &s->t[s->nt];
        char name[96];
        const char *kinds = "ocu";
        MDB_dbi *dbis[3] = { &t->obj, &t->owned, &t->by_uid };
        for (int k = 0; k < 3; k++) {
            if (snprintf(name, sizeof name, "%c/%s", kinds[k], resources[i]) >= (int)sizeof name)
                return errfmt(err, errlen, "store: resource name too long");
            if ((rc = mdb_dbi_open(txn, name, flags, dbis[k])) != 0) return lmdb_fail(err, errlen, name, rc);
        }
        if (!(t->name = strdup(resources[i]))) return errfmt(err, errlen, "store: out of memory");
        s->nt++;
    }
    return 0;
}

static int meta_get_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t *out)
{
    MDB_val k = { strlen(key), (void *)key }, v;
    int rc = mdb_get(txn, dbi, &k, &v);
    if (rc) return rc;
    if (v.mv_size != sizeof *out) return MDB_CORRUPTED;
    memcpy(out, v.mv_data, sizeof *out);
    return 0;
}

static int meta_put_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t val)
{
    MDB_val k = { strlen(key), (void *)key }, v = { sizeof val, &val };
    return mdb_put(txn, dbi, &k, &v, 0);
}

/* The env of path with the flags of a writer or a reader. */
static int env_open(store_t *s, const char *path, char *err, size_t errlen)
{
    int rc = mdb_env_create(&s->env);
    if (rc) return lmdb_fail(err, errlen, "create", rc);
    mdb_env_set_maxdbs(s->env, 1 + 3 * STORE_MAX_RESOURCES);
    mdb_env_set_mapsize(s->env, STORE_MAP_BYTES);
    unsigned flags = MDB_NOTLS | (s->writer ? MDB_NOSYNC | MDB_NOMETASYNC : MDB_RDONLY);
    if ((rc = mdb_env_open(s->env, path, flags, 0600)) != 0)
        return errfmt(err, errlen, "store: open %s: %s", path, mdb_strerror(rc));
    mdb_filehandle_t fd;
    if (mdb_env_get_fd(s->env, &fd) == 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
    return 0;
}

static store_t *open_common(const char *bus_dir, uint64_t epoch, const char *const *resources, bool writer,
                            char *err, size_t errlen)
{
    char path[512];
    if (!bus_dir || !*bus_dir || store_path(path, sizeof path, bus_dir, epoch) < 0) {
        errfmt(err, errlen, "store: bad bus directory");
        return NULL;
    }
    store_t *s = calloc(1, sizeof *s);
    if (!s) { errfmt(err, errlen, "store: out of memory"); return NULL; }
    s->writer = writer;
    s->epoch = epoch;
    if (writer) {
        remove_other_stores(bus_dir, NULL);   /* ours too: a fresh epoch starts empty */
        if (mkdir(path, 0700) < 0 && errno != EEXIST) {
            errfmt(err, errlen, "store: mkdir %s: %s", path, strerror(errno));
            free(s);
            return NULL;
        }
    }
    MDB_txn *txn = NULL;
    int rc = 0;
    if (env_open(s, path, err, errlen) < 0) goto fail;
    if ((rc = mdb_txn_begin(s->env, NULL, writer ? 0 : MDB_RDONLY, &txn)) != 0) {
        lmdb_fail(err, errlen, "begin", rc);
        goto fail;
    }
    if (open_tables(s, txn, resources, err, errlen) < 0) goto fail;
    if (writer) {
        rc = meta_put_u64(txn, s->meta, "epoch", epoch);
    } else {
        uint64_t got = 0;
        rc = meta_get_u64(txn, s->meta, "epoch", &got);
        if (rc == 0 && got != epoch) {
            errfmt(err, errlen, "store: %s holds epoch %" PRIu64 ", not %" PRIu64, path, got, epoch);
            goto fail;
        }
    }
    if (rc) { lmdb_fail(err, errlen, "epoch", rc); goto fail; }
    rc = mdb_txn_commit(txn);
    txn = NULL;
    if (rc) { lmdb_fail(err, errlen, "commit", rc); goto fail; }
    return s;
fail:
    if (txn) mdb_txn_abort(txn);
    store_close(&s);
    return NULL;
}

store_t *store_create(const char *bus_dir, uint64_t epoch, const char *const *resources, char *err,
                      size_t errlen)
{
    return open_common(bus_dir, epoch, resources, true, err, errlen);
}

store_t *store_open(const char *bus_dir, uint64_t epoch, const char *const *resources, char *err,
                    size_t errlen)
{
    return open_common(bus_dir, epoch, resources, false, err, errlen);
}

void store_close(store_t **sp)
{
    if (!sp || !*sp) return;
    store_t *s = *sp;
    if (s->wtxn) mdb_txn_abort(s->wtxn);
    if (s->rtxn) mdb_txn_abort(s->rtxn);
    if (s->env) mdb_env_close(s->env);
    for (int i = 0; i < s->nt; i++) free(s->t[i].name);
    free(s);
    *sp = NULL;
}

/* ---- records ---- */

static void put_u32(unsigned char *p, size_t v)
{
    uint32_t x = (uint32_t)v;
    memcpy(p, &x, 4);
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t x;
    memcpy(&x, p, 4);
    return x;
}

/* rec's fields from a stored value; -1 when the lengths do not add up. */
static int rec_decode(const MDB_val *k, const MDB_val *v, store_rec_t *rec)
{
    const unsigned char *p = v->mv_data;
    if (v->mv_size < STORE_HDR || p[0] != STORE_REC_VERSION) return -1;
    size_t ul = get_u32(p + 4), ol = get_u32(p + 8), rl = get_u32(p + 12);
    if (ul > STORE_ID_MAX || ol > STORE_ID_MAX || rl > v->mv_size || STORE_HDR + ul + ol + rl > v->mv_size)
        return -1;
    const char *c = (const char *)p + STORE_HDR;
    *rec = (store_rec_t){ .key = k->mv_data, .key_len = k->mv_size,
                          .uid = c, .uid_len = ul, .owner = c + ul, .owner_len = ol,
                          .rv = c + ul + ol, .rv_len = rl, .json = c + ul + ol + rl,
                          .json_len = v->mv_size - STORE_HDR - ul - ol - rl };
    return 0;
}

/* "<owner>\0<key>" into out; its length, or 0 if it does not fit. */
static size_t owned_key(char *out, size_t outlen, const char *owner, size_t ol, const char *key, size_t kl)
{
    if (ol + 1 + kl > outlen) return 0;
    memcpy(out, owner, ol);
    out[ol] = '\0';
    memcpy(out + ol + 1, key, kl);
    return ol + 1 + kl;
}

/* ---- writer ---- */

static int write_txn(store_t *s, char *err, size_t errlen)
{
    if (!s || !s->writer) return errfmt(err, errlen, "store: not the writer");
    if (s->wtxn) return 0;
    int rc = mdb_txn_begin(s->env, NULL, 0, &s->wtxn);
    return rc ? lmdb_fail(err, errlen, "begin write", rc) : 0;
}

static int write_fail(store_t *s, char *err, size_t errlen, const char *what, int rc)
{
    mdb_txn_abort(s->wtxn);
    s->wtxn = NULL;
    return lmdb_fail(err, errlen, what, rc);
}

static int put_seq(store_t *s, const char *resource, uint64_t seq)
{
    char key[96];
    snprintf(key, sizeof key, "seq/%s", resource);
    return meta_put_u64(s->wtxn, s->meta, key, seq);
}

/* Drops the index entries of the record now under key (if any). */
static int unindex_old(store_t *s, const table_t *t, const MDB_val *k)
{
    MDB_val v;
    int rc = mdb_get(s->wtxn, t->obj, (MDB_val *)k, &v);
    if (rc == MDB_NOTFOUND) return 0;
    if (rc) return rc;
    store_rec_t old;
    if (rec_decode(k, &v, &old) < 0) return MDB_CORRUPTED;
    char ok[STORE_ID_MAX + 1 + STORE_KEY_MAX];
    char uid[STORE_ID_MAX];
    size_t ul = old.uid_len;
    memcpy(uid, old.uid, ul);   /* the value's pages may move under the deletes */
    size_t okl = owned_key(ok, sizeof ok, old.owner, old.owner_len, k->mv_data, k->mv_size);
    MDB_val ov = { okl, ok };
    if (okl && (rc = mdb_del(s->wtxn, t->owned, &ov, NULL)) != 0 && rc != MDB_NOTFOUND) return rc;
    MDB_val uv = { ul, uid };
    if (ul && (rc = mdb_del(s->wtxn, t->by_uid, &uv, NULL)) != 0 && rc != MDB_NOTFOUND) return rc;
    return 0;
}

static int check_rec(const store_rec_t *r, char *err, size_t errlen)
{
    if (!r || !r->key || !r->key_len || r->key_len > STORE_KEY_MAX) return errfmt(err, errlen, "store: bad key");
    if (r->uid_len > STORE_ID_MAX || r->owner_len > STORE_ID_MAX)
        return errfmt(err, errlen, "store: uid longer than %u bytes", STORE_ID_MAX);
    if (!r->json || !r->json_len) return errfmt(err, errlen, "store: record without object");
    return 0;
}

int store_put(store_t *s, const char *resource, const store_rec_t *r, uint64_t seq, char *err, size_t errlen)
{
    table_t *t = table_of(s, resource);
    if (!t) return errfmt(err, errlen, "store: resource %s not stored", resource ? resource : "?");
    if (check_rec(r, err, errlen) < 0 || write_txn(s, err, errlen) < 0) return -1;
    MDB_val k = { r->key_len, (void *)r->key };
    int rc = unindex_old(s, t, &k);
    if (rc) return write_fail(s, err, errlen, "unindex", rc);
    MDB_val v = { STORE_HDR + r->uid_len + r->owner_len + r->rv_len + r->json_len, NULL };
    if ((rc = mdb_put(s->wtxn, t->obj, &k, &v, MDB_RESERVE)) != 0) return write_fail(s, err, errlen, "put", rc);
    unsigned char *p = v.mv_data;
    memset(p, 0, STORE_HDR);
    p[0] = STORE_REC_VERSION;
    put_u32(p + 4, r->uid_len); put_u32(p + 8, r->owner_len); put_u32(p + 12, r->rv_len);
    p += STORE_HDR;
    memcpy(p, r->uid, r->uid_len); p += r->uid_len;
    memcpy(p, r->owner, r->owner_len); p += r->owner_len;
    memcpy(p, r->rv, r->rv_len); p += r->rv_len;
    memcpy(p, r->json, r->json_len);
    char ok[STORE_ID_MAX + 1 + STORE_KEY_MAX];
    MDB_val ov = { owned_key(ok, sizeof ok, r->owner, r->owner_len, r->key, r->key_len), ok }, empty = { 0, "" };
    if ((rc = mdb_put(s->wtxn, t->owned, &ov, &empty, 0)) != 0) return write_fail(s, err, errlen, "index", rc);
    MDB_val uv = { r->uid_len, (void *)r->uid };
    if (r->uid_len && (rc = mdb_put(s->wtxn, t->by_uid, &uv, &k, 0)) != 0)
        return write_fail(s, err, errlen, "uid index", rc);
    if ((rc = put_seq(s, resource, seq)) != 0) return write_fail(s, err, errlen, "seq", rc);
    return 0;
}

int store_del(store_t *s, const char *resource, const char *key, uint64_t seq, char *err, size_t errlen)
{
    table_t *t = table_of(s, resource);
    if (!t) return errfmt(err, errlen, "store: resource %s not stored", resource ? resource : "?");
    if (!key || !*key || strlen(key) > STORE_KEY_MAX) return errfmt(err, errlen, "store: bad key");
    if (write_txn(s, err, errlen) < 0) return -1;
    MDB_val k = { strlen(key), (void *)key };
    int rc = unindex_old(s, t, &k);
    if (rc) return write_fail(s, err, errlen, "unindex", rc);
    if ((rc = mdb_del(s->wtxn, t->obj, &k, NULL)) != 0 && rc != MDB_NOTFOUND)
        return write_fail(s, err, errlen, "del", rc);
    if ((rc = put_seq(s, resource, seq)) != 0) return write_fail(s, err, errlen, "seq", rc);
    return 0;
}

int store_commit(store_t *s, char *err, size_t errlen)
{
    if (!s || !s->wtxn) return 0;
    int rc = mdb_txn_commit(s->wtxn);
    s->wtxn = NULL;
    return rc ? lmdb_fail(err, errlen, "commit", rc) : 0;
}

void store_reap_readers(store_t *s)
{
    int dead = 0;
    if (s && s->env) mdb_reader_check(s->env, &dead);
}

/* ---- reader ---- */

/* The transaction reads go through: the writer's own, or the read one. */
static MDB_txn *read_txn(const store_t *s)
{
    if (!s) return NULL;
    if (s->writer) return s->wtxn;
    return s->reading ? s->rtxn : NULL;
}

int store_read_begin(store_t *s, char *err, size_t errlen)
{
    if (!s) return errfmt(err, errlen, "store: none");
    if (s->writer) return write_txn(s, err, errlen);
    if (s->reading) return 0;
    int rc = s->rtxn ? mdb_txn_renew(s->rtxn) : mdb_txn_begin(s->env, NULL, MDB_RDONLY, &s->rtxn);
    if (rc) return lmdb_fail(err, errlen, "begin read", rc);
    s->reading = true;
    s->read_gen++;
    return 0;
}

void store_read_end(store_t *s)
{
    if (!s || s->writer || !s->reading) return;
    mdb_txn_reset(s->rtxn);
    s->reading = false;
}

uint64_t store_seq(const store_t *s, const char *resource)
{
    MDB_txn *txn = read_txn(s);
    char key[96];
    uint64_t seq = 0;
    if (txn && resource && snprintf(key, sizeof key, "seq/%s", resource) < (int)sizeof key)
        meta_get_u64(txn, s->meta, key, &seq);
    return seq;
}

static int get_by_val(store_t *s, const table_t *t, MDB_val *k, store_rec_t *rec, char *err, size_t errlen)
{
    MDB_val v;
    int rc = mdb_get(read_txn(s), t->obj, k, &v);
    if (rc == MDB_NOTFOUND) return 0;
    if (rc) return lmdb_fail(err, errlen, "get", rc);
    if (rec_decode(k, &v, rec) < 0)
        return errfmt(err, errlen, "store: corrupt record %.*s", (int)k->mv_size, (const char *)k->mv_data);
    return 1;
}

int store_get(store_t *s, const char *resource, const char *key, store_rec_t *rec, char *err, size_t errlen)
{
    table_t *t = table_of(s, resource);
    if (!t || !read_txn(s)) return errfmt(err, errlen, "store: no read transaction for %s", resource ? resource : "?");
    if (!key || !*key || strlen(key) > STORE_KEY_MAX) return 0;
    MDB_val k = { strlen(key), (void *)key };
    return get_by_val(s, t, &k, rec, err, errlen);
}

int store_key_of_uid(store_t *s, const char *resource, const char *uid, char *key, size_t keylen)
{
    table_t *t = table_of(s, resource);
    if (!t || !read_txn(s)) return -1;
    if (!uid || !*uid || strlen(uid) > STORE_ID_MAX) return 0;
    MDB_val k = { strlen(uid), (void *)uid }, v;
    int rc = mdb_get(read_txn(s), t->by_uid, &k, &v);
    if (rc == MDB_NOTFOUND) return 0;
    if (rc) return -1;
    if (v.mv_size >= keylen) return 0;
    memcpy(key, v.mv_data, v.mv_size);
    key[v.mv_size] = '\0';
    return 1;
}

/* Walks dbi from prefix on while keys start with it; fn gets each key and
 * value. 0, or an LMDB error. */
typedef int (*walk_fn)(const MDB_val *k, const MDB_val *v, void *ud);   /* 1 go on, 0 stop, -1 error */
static int walk_prefix(store_t *s, MDB_dbi dbi, const char *prefix, size_t plen, walk_fn fn, void *ud)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(read_txn(s), dbi, &cur);
    if (rc) return rc;
    MDB_val k = { plen, (void *)prefix }, v;
    rc = mdb_cursor_get(cur, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
    while (rc == 0) {
        if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0) break;
        int go = fn(&k, &v, ud);
        if (go < 0) { rc = MDB_CORRUPTED; break; }
        if (go == 0) break;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

typedef struct {
    store_t *s;
    const table_t *t;
    store_visit_fn fn;
    void *ud;
    bool cluster_only;   /* ns "": keys without a namespace */
} scan_t;

static int visit_obj(const MDB_val *k, const MDB_val *v, void *ud)
{
    scan_t *sc = ud;
    if (sc->cluster_only && memchr(k->mv_data, '/', k->mv_size)) return 1;
    store_rec_t rec;
    if (rec_decode(k, v, &rec) < 0) return -1;
    return sc->fn(&rec, sc->ud) ? 1 : 0;
}

int store_scan(store_t *s, const char *resource, const char *ns, store_visit_fn fn, void *ud, char *err,
               size_t errlen)
{
    table_t *t = table_of(s, resource);
    if (!t || !read_txn(s) || !fn) return errfmt(err, errlen, "store: no read transaction for %s", resource ? resource : "?");
    char prefix[STORE_KEY_MAX + 2];
    size_t plen = 0;
    if (ns && *ns) {
        int n = snprintf(prefix, sizeof prefix, "%s/", ns);
        if (n < 0 || (size_t)n >= sizeof prefix) return 0;
        plen = (size_t)n;
    }
    scan_t sc = { s, t, fn, ud, ns && !*ns };
    int rc = walk_prefix(s, t->obj, prefix, plen, visit_obj, &sc);
    return rc ? lmdb_fail(err, errlen, "scan", rc) : 0;
}

static int visit_owned(const MDB_val *k, const MDB_val *v, void *ud)
{
    (void)v;
    scan_t *sc = ud;
    const char *nul = memchr(k->mv_data, '\0', k->mv_size);
    if (!nul) return -1;
    size_t off = (size_t)(nul + 1 - (const char *)k->mv_data);
    MDB_val ok = { k->mv_size - off, (void *)(nul + 1) };
    store_rec_t rec;
    char err[128];
    int rc = get_by_val(sc->s, sc->t, &ok, &rec, err, sizeof err);
    if (rc < 0) return -1;
    if (rc == 0) return 1;   /* cannot happen (one transaction); skip */
    return sc->fn(&rec, sc->ud) ? 1 : 0;
}

int store_scan_owned(store_t *s, const char *resource, const char *owner_uid, const char *ns, store_visit_fn fn,
                     void *ud, char *err, size_t errlen)
{
    table_t *t = table_of(s, resource);
    if (!t || !read_txn(s) || !fn) return errfmt(err, errlen, "store: no read transaction for %s", resource ? resource : "?");
    char prefix[STORE_ID_MAX + 1 + STORE_KEY_MAX + 2];
    size_t ol = owner_uid ? strlen(owner_uid) : 0;
    if (ol > STORE_ID_MAX) return 0;
    memcpy(prefix, owner_uid ? owner_uid : "", ol);
    prefix[ol] = '\0';
    size_t plen = ol + 1;
    if (ns) {
        int n = snprintf(prefix + plen, sizeof prefix - plen, "%s/", ns);
        if (n < 0 || (size_t)n >= sizeof prefix - plen) return 0;
        plen += (size_t)n;
    }
    scan_t sc = { s, t, fn, ud, false };
    int rc = walk_prefix(s, t->owned, prefix, plen, visit_owned, &sc);
    return rc ? lmdb_fail(err, errlen, "scan", rc) : 0;
}

size_t store_count(store_t *s, const char *resource)
{
    table_t *t = table_of(s, resource);
    MDB_stat st;
    if (!t || !read_txn(s) || mdb_stat(read_txn(s), t->obj, &st) != 0) return 0;
    return st.ms_entries;
}
