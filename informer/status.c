/* status.c - what the informer tells about itself: the InformerStatus
 * heartbeat on H/informer, the --stats-file JSON (tests read it to count API
 * requests) and the periodic log line. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "informer.h"
#include "kubus.pb-c.h"
#include "msg.h"

void informer_send_status(informer_t *in)
{
    Kubus__V1__InformerStatus st;
    Kubus__V1__ResourceSeq seqs[INFORMER_MAX_RESOURCES], *ptrs[INFORMER_MAX_RESOURCES];
    kubus__v1__informer_status__init(&st);
    st.epoch = in->epoch;
    st.unix_ms = now_unix_ms();
    for (int i = 0; i < in->nrefl; i++) {
        kubus__v1__resource_seq__init(&seqs[i]);
        seqs[i].resource = (char *)reflector_resource(in->refl[i]);
        seqs[i].seq = reflector_seq(in->refl[i]);
        seqs[i].synced = reflector_synced(in->refl[i]);
        ptrs[i] = &seqs[i];
    }
    st.n_seqs = (size_t)in->nrefl;
    st.seqs = ptrs;
    msg_envelope_t env;
    kubus__v1__envelope__init(&env);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_INFORMER_STATUS;
    env.informer_status = &st;
    if (bus_send(in->pub, BUS_TOPIC_INFORMER, &env, true) < 0) in->dropped++;
}

static void totals(const informer_t *in, uint64_t *lists, uint64_t *watches, uint64_t *bad)
{
    *lists = *watches = *bad = 0;
    for (int i = 0; i < in->nrefl; i++) {
        const reflector_stats_t *s = reflector_stats(in->refl[i]);
        *lists += s->lists;
        *watches += s->watches;
        *bad += s->bad_input;
    }
}

static json_t *per_resource(const informer_t *in, const char *what)
{
    json_t *o = json_object();
    for (int i = 0; o && i < in->nrefl; i++) {
        const reflector_t *r = in->refl[i];
        const reflector_stats_t *s = reflector_stats(r);
        json_t *v;
        if (strcmp(what, "seq") == 0) v = json_integer((json_int_t)reflector_seq(r));
        else if (strcmp(what, "synced") == 0) v = json_boolean(reflector_synced(r));
        else if (strcmp(what, "objects") == 0) v = json_integer((json_int_t)objcache_count(reflector_cache(r)));
        else if (strcmp(what, "relists") == 0) v = json_integer((json_int_t)s->relists);
        else if (strcmp(what, "relist_deleted") == 0) v = json_integer((json_int_t)s->relist_deleted);
        else if (strcmp(what, "expired") == 0) v = json_integer((json_int_t)s->expired);
        else v = json_integer((json_int_t)s->bad_input);
        json_object_set_new(o, reflector_resource(r), v);
    }
    return o;
}

static json_t *stats_json(const informer_t *in)
{
    uint64_t lists, watches, bad;
    totals(in, &lists, &watches, &bad);
    char epoch[24];
    snprintf(epoch, sizeof epoch, "%" PRIu64, in->epoch);
    json_t *j = json_pack("{s:s, s:{s:I, s:I}, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:b}",
                     "epoch", epoch, "requests", "list", (json_int_t)lists, "watch", (json_int_t)watches,
                     "seq", per_resource(in, "seq"), "synced", per_resource(in, "synced"),
                     "objects", per_resource(in, "objects"), "relists", per_resource(in, "relists"),
                     "relist_deleted", per_resource(in, "relist_deleted"), "expired", per_resource(in, "expired"),
                     "bad_input", per_resource(in, "bad_input"), "published", (json_int_t)in->published,
                     "dropped", (json_int_t)in->dropped, "snapshots", (json_int_t)in->snapshots,
                     "snapshot_events", (json_int_t)in->snapshot_events, "ready", in->ready);
    json_t *more = json_pack("{s:I, s:I, s:I, s:I, s:I}", "batches", (json_int_t)in->batches, "replays",
                             (json_int_t)in->replays, "replay_misses", (json_int_t)in->replay_misses,
                             "replay_events", (json_int_t)in->replay_events, "replay_ring_bytes",
                             (json_int_t)(in->ring ? replay_ring_bytes(in->ring) : 0));
    if (j && more) json_object_update(j, more);
    json_decref(more);
    return j;
}

/* Written to PATH.tmp then renamed, so a reader never sees half a file. */
void informer_write_stats(const informer_t *in)
{
    json_t *j = stats_json(in);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    char tmp[sizeof in->stats_file + 16];
    snprintf(tmp, sizeof tmp, "%s.tmp", in->stats_file);
    int fd = text ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
    bool ok = fd >= 0;
    if (ok) {
        size_t len = strlen(text), off = 0;
        while (ok && off < len) {
            ssize_t n = write(fd, text + off, len - off);
            if (n < 0 && errno == EINTR) continue;
            ok = n > 0;
            if (ok) off += (size_t)n;
        }
        ok = ok && write(fd, "\n", 1) == 1;
        ok = close(fd) == 0 && ok;
        ok = ok && rename(tmp, in->stats_file) == 0;
    }
    if (!ok) {
        static log_limit_t lim = LOG_LIMIT_INIT(0.1, 1.0);
        if (log_limit_allow(&lim)) LOGW("cannot write the stats file", "path", in->stats_file, "error", strerror(errno));
        if (fd >= 0) unlink(tmp);
    }
    free(text);
}

void informer_log_stats(const informer_t *in)
{
    uint64_t lists, watches, bad, objects = 0;
    totals(in, &lists, &watches, &bad);
    for (int i = 0; i < in->nrefl; i++) objects += objcache_count(reflector_cache(in->refl[i]));
    char l[24], w[24], b[24], o[24], p[24], d[24], s[24], bt[24], rp[24], rm[24];
    snprintf(l, sizeof l, "%" PRIu64, lists);
    snprintf(w, sizeof w, "%" PRIu64, watches);
    snprintf(b, sizeof b, "%" PRIu64, bad);
    snprintf(o, sizeof o, "%" PRIu64, objects);
    snprintf(p, sizeof p, "%" PRIu64, in->published);
    snprintf(d, sizeof d, "%" PRIu64, in->dropped);
    snprintf(s, sizeof s, "%" PRIu64, in->snapshots);
    snprintf(bt, sizeof bt, "%" PRIu64, in->batches);
    snprintf(rp, sizeof rp, "%" PRIu64, in->replays);
    snprintf(rm, sizeof rm, "%" PRIu64, in->replay_misses);
    LOGI("informer stats", "listRequests", l, "watchRequests", w, "objects", o, "published", p, "dropped", d,
         "badInput", b, "snapshots", s, "batches", bt, "replays", rp, "replayMisses", rm);
}
