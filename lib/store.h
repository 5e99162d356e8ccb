/* store.h - the shard's shared copy of current state (LMDB), one writer
 * (the informer), many readers (the controllers), DEVELOPERS.md "Store".
 *
 * Owns: an LMDB environment in <bus dir>/store-<epoch hex>/ holding the
 * objects of the resources that travel as views (pods), each as a record
 * with the fields the indexes need, plus
 *   o/<resource>   "ns/name"                 -> record
 *   c/<resource>   "<controller uid>\0ns/name" -> ""   (orphans: uid "")
 *   u/<resource>   "<uid>"                   -> "ns/name"
 *   meta           "epoch" -> u64, "seq/<resource>" -> u64 (the last seq
 *                  of that resource the committed state contains)
 * One environment per informer epoch: a new informer fills a new one, so a
 * reader of the old epoch never sees a half-built store; the writer removes
 * the older ones (a reader that still maps one keeps reading its frozen
 * pages: unlinked files live while mapped).
 *
 * Writer protocol (informer): store_put / store_del go into one write
 * transaction, begun by the first of them; store_commit makes them visible
 * and must run before the events that carry the same seqs are published or
 * a SnapshotEnd names them. Readers: store_read_begin opens a read
 * transaction (an MVCC snapshot: nothing changes under it), records point
 * into the map and die with store_read_end; keep transactions short (a
 * loop turn), or the writer cannot reuse pages.
 *
 * Cost: a put is O(log n) page work plus up to 3 index updates; a read is
 * a B-tree lookup with no copy. Memory: the file's pages, shared by every
 * process that maps them (counted once in PSS over all of them), about the
 * views' bytes plus 30 %. No fsync: a store dies with its epoch anyway.
 * Bad input: a record whose lengths do not add up is refused (-1, err),
 * never read past.
 */
#ifndef KUBUS_STORE_H
#define KUBUS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store store_t;

/* One object as stored: pointers into the map (reader) or the caller's
 * buffers (writer); none NUL-terminated. owner_len 0: no controller. */
typedef struct {
    const char *key;   size_t key_len;     /* "ns/name" */
    const char *uid;   size_t uid_len;
    const char *owner; size_t owner_len;   /* controller ownerReference uid */
    const char *rv;    size_t rv_len;
    const char *json;  size_t json_len;    /* the object's (view's) JSON */
} store_rec_t;

/* "<dir>/store-<epoch as 16 hex digits>". 0, or -1 if it does not fit. */
int store_path(char *out, size_t outlen, const char *bus_dir, uint64_t epoch);

/* The writer: creates the directory (0700) and a fresh environment for
 * epoch with every resource's tables, records the epoch, and removes the
 * stores of other epochs under bus_dir. NULL + err on failure. */
store_t *store_create(const char *bus_dir, uint64_t epoch, const char *const *resources, char *err,
                      size_t errlen);
/* A reader of epoch's store (read-only map). NULL + err when it is
 * missing, not readable, or of another epoch. */
store_t *store_open(const char *bus_dir, uint64_t epoch, const char *const *resources, char *err,
                    size_t errlen);
void store_close(store_t **s);
uint64_t store_epoch(const store_t *s);

/* ---- writer ---- */
/* Adds or replaces rec under rec->key (keeping the indexes in step), and
 * records seq as the resource's. 0, or -1 + err (the write transaction is
 * then aborted: nothing since the last commit is kept). */
int store_put(store_t *s, const char *resource, const store_rec_t *rec, uint64_t seq, char *err, size_t errlen);
/* Removes key (absent: fine) and records seq. 0 or -1 + err as above. */
int store_del(store_t *s, const char *resource, const char *key, uint64_t seq, char *err, size_t errlen);
/* Publishes everything put or deleted since the last commit. No-op when
 * nothing is pending. 0 or -1 + err. */
int store_commit(store_t *s, char *err, size_t errlen);
/* Readers that died inside a transaction pin pages: clear their slots. */
void store_reap_readers(store_t *s);

/* ---- reader ---- */
int store_read_begin(store_t *s, char *err, size_t errlen);
void store_read_end(store_t *s);
bool store_reading(const store_t *s);
/* Counts read transactions begun: what was read under another generation
 * may be older than what the store holds now. */
uint64_t store_read_generation(const store_t *s);
/* The resource's seq in the open read transaction (0 if none yet). */
uint64_t store_seq(const store_t *s, const char *resource);
/* 1 found (rec filled), 0 absent, -1 error or corrupt record (err). */
int store_get(store_t *s, const char *resource, const char *key, store_rec_t *rec, char *err, size_t errlen);
/* The key of the object with this uid into key (NUL-terminated):
 * 1 found, 0 absent (or key too long), -1 error. */
int store_key_of_uid(store_t *s, const char *resource, const char *uid, char *key, size_t keylen);
/* Calls fn for every object (ns NULL) or those of namespace ns, in key
 * order, until fn returns false. 0, or -1 + err. */
typedef bool (*store_visit_fn)(const store_rec_t *rec, void *ud);
int store_scan(store_t *s, const char *resource, const char *ns, store_visit_fn fn, void *ud, char *err,
               size_t errlen);
/* The same over the objects controlled by owner_uid ("" : the orphans)
 * whose key starts with ns + "/" (ns NULL: any namespace). */
int store_scan_owned(store_t *s, const char *resource, const char *owner_uid, const char *ns, store_visit_fn fn,
                     void *ud, char *err, size_t errlen);
/* Objects of the resource in the open transaction. */
size_t store_count(store_t *s, const char *resource);

#endif
