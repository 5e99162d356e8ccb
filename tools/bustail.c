/* bustail.c - kubus-bus-tail: subscribe to the bus like a controller does and
 * print what arrives. For people (what is the informer saying?) and for the
 * end-to-end tests (does a subscriber end up with the API server's state?).
 *
 * stdout: one JSON line per event, in delivery order:
 *   {"seq":12,"epoch":"8419...","type":"ADDED","resource":"pods","ns":"default","name":"web-1","rv":"4711"}
 *   SNAPSHOT lines come between {"resync":"begin",...} and {"resync":"end",...}.
 * --cache-dump=FILE: at exit, the cache rebuilt from those callbacks, sorted,
 *   one "RESOURCE NS/NAME RV" line per object (NAME alone when cluster-scoped).
 * --exit-after-sync: exit once every resource has had its snapshot.
 * --objects: add each event's object to its line ("object":{...}).
 * The epoch is printed as a string: 64-bit values do not survive JSON doubles.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include <jansson.h>

#include "kubus.pb-c.h"
#include "subscriber.h"
#include "worker.h"

#define DEFAULT_RESOURCES                                                                              \
    "pods,nodes,namespaces,persistentvolumeclaims,replicasets,deployments,statefulsets,daemonsets," \
    "controllerrevisions,jobs,cronjobs"
#define MAX_RESOURCES 32

typedef struct {
    char resources_csv[1024];
    char dump_path[1024];
    bool exit_after_sync, no_events, objects;
    json_t *cache;            /* "resource\tns/name" -> rv */
    subscriber_t *sub;
} tail_t;

static tail_t g_tail;

static int tail_flag(void *state, const char *flag, const char *value, bool *used)
{
    tail_t *t = state;
    *used = false;
    if (strcmp(flag, "exit-after-sync") == 0) { t->exit_after_sync = true; return WORKER_FLAG_OK; }
    if (strcmp(flag, "no-events") == 0) { t->no_events = true; return WORKER_FLAG_OK; }
    if (strcmp(flag, "objects") == 0) { t->objects = true; return WORKER_FLAG_OK; }
    char *dst = strcmp(flag, "resources") == 0 ? t->resources_csv : strcmp(flag, "cache-dump") == 0 ? t->dump_path : NULL;
    if (!dst) return WORKER_FLAG_UNKNOWN;
    if (!value || !*value || strlen(value) >= sizeof t->dump_path) return WORKER_FLAG_BAD;
    *used = true;
    snprintf(dst, sizeof t->dump_path, "%s", value);
    return WORKER_FLAG_OK;
}

static void cache_key(char *out, size_t n, const char *resource, const char *ns, const char *name)
{
    snprintf(out, n, "%s\t%s%s%s", resource, ns, *ns ? "/" : "", name);
}

static void print_event(const tail_t *t, const subscriber_event_t *ev, json_t *obj)
{
    if (t->no_events) return;
    char epoch[24];
    snprintf(epoch, sizeof epoch, "%" PRIu64, ev->epoch);
    json_t *line = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "seq", (json_int_t)ev->seq, "epoch", epoch,
                             "type", msg_event_type_name(ev->type), "resource", ev->resource, "ns", ev->ns, "name",
                             ev->name, "rv", ev->resource_version, "uid", ev->uid);
    if (line && t->objects) json_object_set(line, "object", obj);
    if (line) json_dumpf(line, stdout, JSON_COMPACT);
    json_decref(line);
    fputc('\n', stdout);
    fflush(stdout);
}

static void on_event(void *ctx, const subscriber_event_t *ev, json_t *obj)
{
    tail_t *t = ctx;
    char key[1024];
    cache_key(key, sizeof key, ev->resource, ev->ns, ev->name);
    if (ev->type == KUBUS__V1__EVENT_TYPE__DELETED) json_object_del(t->cache, key);
    else json_object_set_new(t->cache, key, json_string(ev->resource_version));
    print_event(t, ev, obj);
}

static void print_resync(const tail_t *t, const char *what, const char *resource, uint64_t epoch)
{
    if (t->no_events) return;
    printf("{\"resync\":\"%s\",\"resource\":\"%s\",\"epoch\":\"%" PRIu64 "\",\"seq\":%" PRIu64 "}\n", what, resource,
           epoch, subscriber_seq(t->sub, resource));
    fflush(stdout);
}

/* The whole state of the resource follows, so forget what we had of it. */
static void on_resync_begin(void *ctx, const char *resource, uint64_t epoch)
{
    tail_t *t = ctx;
    size_t rl = strlen(resource);
    const char *key;
    json_t *v, *tmp;
    json_object_foreach_safe(t->cache, tmp, key, v) {
        if (strncmp(key, resource, rl) == 0 && key[rl] == '\t') json_object_del(t->cache, key);
    }
    print_resync(t, "begin", resource, epoch);
}

static void on_resync_end(void *ctx, const char *resource, uint64_t epoch)
{
    print_resync(ctx, "end", resource, epoch);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int dump_cache(const tail_t *t)
{
    FILE *f = fopen(t->dump_path, "we");
    if (!f) { LOGE("cannot write the cache dump", "path", t->dump_path); return -1; }
    size_t n = json_object_size(t->cache), i = 0;
    const char **keys = calloc(n ? n : 1, sizeof *keys);
    const char *key;
    json_t *v;
    json_object_foreach(t->cache, key, v) if (keys) keys[i++] = key;
    if (keys) qsort(keys, n, sizeof *keys, cmp_str);
    for (i = 0; keys && i < n; i++) {
        const char *tab = strchr(keys[i], '\t');
        fprintf(f, "%.*s %s %s\n", (int)(tab - keys[i]), keys[i], tab + 1,
                json_string_value(json_object_get(t->cache, keys[i])));
    }
    free(keys);
    return fclose(f) == 0 && keys ? 0 : -1;
}

static int tail_init(worker_t *w, void *state)
{
    tail_t *t = state;
    static char csv[1024];
    static const char *names[MAX_RESOURCES + 1];
    snprintf(csv, sizeof csv, "%s", t->resources_csv[0] ? t->resources_csv : DEFAULT_RESOURCES);
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(csv, ",", &save); tok && n < MAX_RESOURCES; tok = strtok_r(NULL, ",", &save))
        names[n++] = tok;
    names[n] = NULL;
    t->cache = json_object();
    subscriber_config_t cfg = {
        .zctx = worker_zctx(w), .bus = &worker_opts(w)->bus, .name = worker_opts(w)->name, .resources = names,
        .cb = { .on_event = on_event, .on_resync_begin = on_resync_begin, .on_resync_end = on_resync_end, .ctx = t },
    };
    char err[256];
    t->sub = t->cache ? subscriber_create(&cfg, err, sizeof err) : NULL;
    if (!t->sub) { LOGE("cannot subscribe", "error", t->cache ? err : "out of memory"); return -1; }
    return 0;
}

static int tail_run(worker_t *w, void *state)
{
    tail_t *t = state;
    bool was_synced = false;
    while (worker_tick(w)) {
        zmq_pollitem_t items[4];
        int n = subscriber_poll_items(t->sub, items, 4);
        if (zmq_poll(items, n, 100) < 0 && zmq_errno() != EINTR) return 1;
        if (subscriber_process(t->sub) < 0) { LOGE("bus socket failed"); return 1; }
        subscriber_tick(t->sub, now_mono_ms());
        bool synced = subscriber_synced(t->sub);
        if (synced && !was_synced) worker_set_ready(w, true);
        was_synced = synced;
        if (synced && t->exit_after_sync) break;
    }
    return 0;
}

static void tail_fini(worker_t *w, void *state)
{
    (void)w;
    tail_t *t = state;
    if (t->sub) {
        subscriber_stats_t st;
        subscriber_stats(t->sub, &st);
        fprintf(stderr,
                "bus-tail: events=%" PRIu64 " snapshot_events=%" PRIu64 " snapshots=%" PRIu64 " gaps=%" PRIu64
                " epoch_changes=%" PRIu64 " refused=%" PRIu64 " parse_failures=%" PRIu64 " batches=%" PRIu64
                " replays=%" PRIu64 " replay_hits=%" PRIu64 " replay_misses=%" PRIu64 "\n",
                st.events, st.snapshot_events, st.snapshots, st.gaps, st.epoch_changes, st.refused,
                st.parse_failures, st.batches, st.replays, st.replay_hits, st.replay_misses);
    }
    if (t->dump_path[0] && t->cache) dump_cache(t);
    subscriber_destroy(&t->sub);
    json_decref(t->cache);
    t->cache = NULL;
}

int main(int argc, char **argv)
{
    const worker_hooks_t hooks = {
        .name = "bus-tail",
        .usage = "  --resources=LIST     resources to follow (default " DEFAULT_RESOURCES ")\n"
                 "  --cache-dump=FILE    at exit, write the rebuilt cache (sorted \"RESOURCE NS/NAME RV\")\n"
                 "  --exit-after-sync    exit once every resource has its snapshot\n"
                 "  --no-events          do not print event lines\n"
                 "  --objects            include each event's object in its line\n",
        .parse_flag = tail_flag,
        .init = tail_init,
        .run = tail_run,
        .fini = tail_fini,
        .state = &g_tail,
    };
    return worker_main(argc, argv, &hooks);
}
