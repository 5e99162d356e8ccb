/* reflector.h - list-then-watch of one resource into its objcache.
 *
 * Owns: the request cycle of one resource on the shared curl multi handle:
 *   paged LIST (limit/continue)  ->  WATCH from the list's resourceVersion
 *   (allowWatchBookmarks, timeoutSeconds random in [300,600])
 *   -> on a normal end, WATCH again from the last resourceVersion seen
 *   -> on 410 Gone/Expired, LIST again and publish the difference against
 *      the cache (ADDED new, MODIFIED changed resourceVersion, DELETED gone).
 * Errors back off 800 ms doubling to 30 s with jitter (Retry-After honoured
 * on 429); an expired continue token restarts the list. Bad input (not JSON,
 * an object without name or resourceVersion, unknown event types, a Status
 * in the stream, an HTML page) is logged rate-limited, counted, and the
 * stream resynchronised: re-watch from the last good resourceVersion, and
 * relist after three bad streams in a row. Every change the cache takes is
 * published through the sink with seq = ++seq, in the order it was applied.
 *
 * Invariant: the cache only ever holds validated objects of this shard, and
 * every change to it was published exactly once.
 */
#ifndef KUBUS_INFORMER_REFLECTOR_H
#define KUBUS_INFORMER_REFLECTOR_H

#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>

#include "kapi.h"
#include "kubeconfig.h"
#include "log.h"
#include "objcache.h"

typedef struct reflector reflector_t;

/* One change as the reflector applied it; everything borrowed for the call. */
typedef struct {
    int type;                    /* KUBUS__V1__EVENT_TYPE__{ADDED,MODIFIED,DELETED} */
    const objcache_entry_t *e;   /* the entry as it is now (DELETED: its last state, removed after the call) */
    const char *old_json;        /* MODIFIED: the previous state's bytes; else NULL */
    size_t old_len;
    const char *owner_uid;       /* ADDED/MODIFIED: the controller ownerReference's uid, NULL if none */
} reflector_change_t;

typedef struct {
    void (*publish)(void *ctx, reflector_t *r, const reflector_change_t *ch);
    void *ctx;
} reflector_sink_t;

typedef struct {
    CURLM *multi;
    kubeconfig_t *kc;          /* shared; its token may be reloaded on 401 */
    int page_size;
    int shard_index, shard_count;
    reflector_sink_t sink;
    log_limit_t *bad_log;      /* shared rate limit for bad-input logs */
} reflector_env_t;

typedef struct {
    uint64_t lists, watches;           /* API requests started */
    uint64_t relists;                  /* lists after the first */
    uint64_t relist_added, relist_modified, relist_deleted;
    uint64_t expired;                  /* 410s seen (watch or continue) */
    uint64_t bad_input;                /* refused lines/objects/bodies */
    uint64_t errors;                   /* failed requests */
    uint64_t other_shard;              /* objects dropped by sharding */
} reflector_stats_t;

reflector_t *reflector_new(const kapi_resource_t *res, const reflector_env_t *env);
void reflector_destroy(reflector_t **r);

/* Starts the next request when it is due. */
void reflector_tick(reflector_t *r, uint64_t now_ms);
/* A transfer of this reflector (CURLOPT_PRIVATE) finished. */
void reflector_done(reflector_t *r, CURL *easy, CURLcode result, uint64_t now_ms);

/* When idle: when the next request is due; UINT64_MAX while one runs. */
uint64_t reflector_due_ms(const reflector_t *r);

/* Test hook: restart the watch from resourceVersion "1" (too old: 410). */
void reflector_test_stale_rv(reflector_t *r, uint64_t now_ms);

const char *reflector_resource(const reflector_t *r);
const kapi_resource_t *reflector_kapi(const reflector_t *r);
uint64_t reflector_seq(const reflector_t *r);
bool reflector_synced(const reflector_t *r);
const objcache_t *reflector_cache(const reflector_t *r);
const reflector_stats_t *reflector_stats(const reflector_t *r);
/* From now on an added or modified object's bytes are freed once the sink
 * has had them: the sink keeps them (the informer's store), the cache keeps
 * what relists and routing need (key, uid, resourceVersion). Entries then
 * have json NULL, except a deleted object's final state for its call. */
void reflector_forget_bytes(reflector_t *r);

#endif
