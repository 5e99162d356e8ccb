/* journal.h - what the executor owes and recently did, per controller.
 *
 * Owns: the actions in flight (queued or sent) and the results of the last
 * JOURNAL_RECENT_MS, per controller routing id; the deduplication of
 * re-sent actions; the InflightReport a restarted controller asks for.
 *
 * An action is admitted once: a repeat of an id still pending is not applied
 * again (its one result will go out when it completes), a repeat of an id
 * with a recent result gets that result re-sent. "A repeat" means the same
 * content too (a digest of the packed Action, kept with the result and in
 * the file): an id known with other content (another life of the
 * controller that drew the same id) is JOURNAL_ID_REUSED, neither applied
 * nor answered with the other action's result. The journal owns the
 * envelope of every pending action; the engine borrows the Action until
 * journal_complete().
 *
 * Persistence (journal_open_file): an append-only file of records (jfile.h)
 * replayed when the next executor starts, so that a restarted executor still
 * knows what its predecessor applied in the last 60 s (a restarted
 * controller's InflightReport needs it: its informer may not show those
 * changes yet) and re-applies what was pending at its death (creates are
 * idempotent by name, deletes carry uid preconditions, updates
 * resourceVersions). One executor per file, enforced by a flock.
 *
 * Bounds: recent results per controller by count and bytes (oldest dropped
 * first), by age on journal_expire(); controllers with nothing pending or
 * recent are forgotten. Cost: O(1) expected per admit/complete (id hash),
 * O(controllers) to find a controller (tens).
 */
#ifndef KUBUS_EXECUTOR_JOURNAL_H
#define KUBUS_EXECUTOR_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"

#define JOURNAL_RECENT_MS 60000u
#define JOURNAL_MAX_RECENT 10000u
#define JOURNAL_MAX_RECENT_BYTES (64u * 1024u * 1024u)
/* InflightReport budget, well under MSG_MAX_BYTES; recent results go without
 * their objects (the report only feeds expectations). */
#define JOURNAL_REPORT_BYTES (6u * 1024u * 1024u)
/* The file is rewritten with only the live records when it has grown this
 * much beyond the last rewrite's size. */
#define JOURNAL_FILE_COMPACT_BYTES (64u * 1024u * 1024u)
#define JOURNAL_COMPACT_RETRY_MS 10000u
/* Actions pending at a death longer ago than this are not re-applied: past
 * the expectations' lifetime (5 min) a controller may have acted again. */
#define JOURNAL_PENDING_REPLAY_MS (5u * 60u * 1000u)

typedef struct journal journal_t;

typedef enum {
    JOURNAL_ADMITTED = 0,  /* new: the journal took the envelope */
    JOURNAL_DUP_PENDING,   /* already in flight: not applied twice */
    JOURNAL_DUP_DONE,      /* already done: re-send *done */
    JOURNAL_ID_REUSED,     /* the id is known with other content: refuse */
    JOURNAL_ERROR,         /* out of memory */
} journal_admit_t;

journal_t *journal_new(size_t max_recent, size_t max_recent_bytes, uint64_t recent_ms);
void journal_destroy(journal_t **j);

/* env must hold an Action. On ADMITTED the journal owns it and *env is set
 * to NULL; otherwise the caller keeps it. On DUP_DONE *done points at the
 * stored result until the journal next changes. */
journal_admit_t journal_admit(journal_t *j, const char *controller, msg_envelope_t **env, uint64_t now_ms,
                              const msg_result_t **done);
/* Moves the action res->id of controller from pending to recent (a deep copy
 * of res is kept) and frees its envelope. Returns how many duplicate
 * submissions it had absorbed, or -1 if it was not pending. */
int journal_complete(journal_t *j, const char *controller, const msg_result_t *res, uint64_t now_ms);
/* The same, but the action's envelope is handed to *env (the caller frees
 * it) instead of freed: res may go on borrowing from it, e.g. to be sent
 * after it is journaled. *env is NULL when the action was not pending. */
int journal_complete_keep(journal_t *j, const char *controller, const msg_result_t *res, uint64_t now_ms,
                          msg_envelope_t **env);
/* Drops recent results older than the window and forgets idle controllers. */
void journal_expire(journal_t *j, uint64_t now_ms);

size_t journal_pending_count(const journal_t *j, const char *controller);
size_t journal_recent_count(const journal_t *j, const char *controller);
size_t journal_pending_total(const journal_t *j);

/* Builds the report for controller (pending in arrival order, recent in
 * completion order, objects stripped, within JOURNAL_REPORT_BYTES). The
 * report borrows journal memory: encode it before the journal changes, then
 * journal_report_clear(). 0, or -1 when out of memory. */
int journal_report(const journal_t *j, const char *controller, uint64_t epoch,
                   Kubus__V1__InflightReport *out);
void journal_report_clear(Kubus__V1__InflightReport *r);

/* ---- the file ---- */

typedef struct {
    size_t records;     /* whole records read (a result's digest not counted) */
    size_t pending;     /* actions pending again (their outcome is unknown) */
    size_t recent;      /* results within the window */
    size_t skipped;     /* too old, duplicate or undecodable */
    size_t torn_bytes;  /* ignored at the end: a torn or corrupt record */
    bool foreign;       /* written for another API server: ignored */
} journal_replay_t;

/* Makes j persistent at path (j must be new and empty): its directory must
 * exist, and it, path, path.lock and path.tmp are opened as trusted.h says
 * (no symbolic link, ours, 0700/0600: else -1, err says which and why);
 * takes the exclusive lock path.lock (an executor holding it: -1, err says
 * so), replays path
 * (records of another server are ignored), rewrites it with the live
 * records, and from then on appends every admission and completion.
 * now_unix_ms is the wall clock at now_ms (the file holds wall-clock times).
 * On -1 j is unchanged and memory-only. */
int journal_open_file(journal_t *j, const char *path, const char *server, uint64_t now_ms, uint64_t now_unix_ms,
                      journal_replay_t *replayed, char *err, size_t errlen);
/* Rewrites the file with only the live records (temporary file + rename).
 * journal_expire() does it when the file has grown past its threshold or a
 * write failed. 0, or -1 (logged; retried later). */
int journal_compact(journal_t *j, uint64_t now_ms);
uint64_t journal_file_bytes(const journal_t *j);
void journal_set_compact_bytes(journal_t *j, uint64_t bytes);

/* Every pending action in arrival order per controller; fn must not change
 * the journal. */
typedef void (*journal_pending_fn)(const char *controller, const msg_action_t *a, void *ud);
void journal_foreach_pending(const journal_t *j, journal_pending_fn fn, void *ud);

#endif
