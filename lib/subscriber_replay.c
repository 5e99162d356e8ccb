/* subscriber_replay.c - gap repair by replay (DEVELOPERS.md, "Events").
 *
 * Owns: the ReplayRequest a subscriber sends when it lost live events of a
 * resource it has (a sequence gap, a heartbeat ahead of it, a refused
 * message on its topic), and applying the reply: the informer's EventBatches
 * from its replay ring, then ReplayEnd. The live events of the resources in
 * the request are held meanwhile and applied after, as during a snapshot.
 * What the replay cannot repair becomes a snapshot: a resource the ring no
 * longer covers (ReplayEnd.missed), a refused request, a reply of another
 * epoch, one that stalls, one that leaves the resource short of the seq
 * ReplayEnd names. So callbacks still see every seq exactly once, + 1 at a
 * time, and a resource is never left behind silently.
 * Cost: the replayed events are decoded and held until ReplayEnd (bounded
 * like a snapshot); one request covers every resource that wants one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "subscriber_priv.h"

void sub_want_replay(subscriber_t *s, res_t *r, const char *why)
{
    if (r->need || r->replay) return;
    r->replay = true;
    LOGI("lost events, asking for a replay", "subscriber", s->name, "resource", r->name, "why", why);
}

void sub_request_replay(subscriber_t *s, uint64_t now)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nres; i++) n += s->res[i].replay && !s->res[i].need;
    if (n == 0 || !s->dealer) return;
    Kubus__V1__ResourceSeq *seqs = calloc(n, sizeof *seqs), **ptrs = calloc(n, sizeof *ptrs);
    Kubus__V1__ReplayRequest req;
    kubus__v1__replay_request__init(&req);
    req.epoch = s->epoch;
    req.request_id = s->request_id + 1;
    req.requester = s->name;
    req.after = ptrs;
    for (size_t i = 0; seqs && ptrs && i < s->nres; i++) {
        if (!s->res[i].replay || s->res[i].need) continue;
        kubus__v1__resource_seq__init(&seqs[req.n_after]);
        seqs[req.n_after].resource = s->res[i].name;
        seqs[req.n_after].seq = s->res[i].seq;
        ptrs[req.n_after] = &seqs[req.n_after];
        req.n_after++;
    }
    msg_envelope_t env;
    kubus__v1__envelope__init(&env);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_REPLAY_REQUEST;
    env.replay_request = &req;
    int rc = req.n_after == n ? bus_send(s->dealer, NULL, &env, true) : -1;
    free(seqs);
    free(ptrs);
    if (rc < 0) { s->retry_at_ms = now + 500; return; }
    s->request_id++;
    s->stats.replays++;
    for (size_t i = 0; i < s->nres; i++) s->res[i].in_replay = s->res[i].replay && !s->res[i].need;
    s->state = S_REPLAY;
    s->snap_last_ms = now;
}

/* Takes ownership of env: an EventBatch on the DEALER, part of a replay. */
void sub_on_replay_batch(subscriber_t *s, msg_envelope_t *env, uint64_t now)
{
    res_t *r = sub_find_res(s, env->event_batch->resource);
    if (s->state != S_REPLAY || !r || !r->in_replay) {   /* late, or not asked for */
        msg_free(env);
        return;
    }
    if (sub_vec_push(&s->snap, env, SUB_REPLY_MAX_MSGS) < 0) {
        LOGW("replay too large to buffer, re-snapshotting", "subscriber", s->name);
        msg_free(env);
        sub_abort_request(s, S_IDLE);
        s->retry_at_ms = now;
    }
}

static const Kubus__V1__ResourceSeq *replayed(const Kubus__V1__ReplayEnd *end, const char *name)
{
    for (size_t i = 0; i < end->n_seqs; i++)
        if (strcmp(end->seqs[i]->resource, name) == 0) return end->seqs[i];
    return NULL;
}

/* r from the replayed batches, then checked against the end's seq. */
static void apply_replay(subscriber_t *s, res_t *r, const Kubus__V1__ResourceSeq *upto)
{
    r->replay = false;
    for (size_t k = 0; k < s->snap.n && !r->need && !r->replay; k++) {
        const msg_batch_t *b = s->snap.v[k]->event_batch;
        if (strcmp(b->resource, r->name) == 0 && b->epoch == s->epoch) sub_apply_env(s, r, s->snap.v[k]);
    }
    if (!r->need && (r->replay || r->seq != upto->seq)) {
        LOGI("replay did not close the gap, re-snapshotting", "subscriber", s->name, "resource", r->name);
        r->need = true;
    }
    if (r->need) {
        r->replay = false;
        s->stats.replay_misses++;
    } else {
        s->stats.replay_hits++;
    }
}

void sub_on_replay_end(subscriber_t *s, const Kubus__V1__ReplayEnd *end, uint64_t now)
{
    (void)now;
    if (s->state != S_REPLAY || end->request_id != s->request_id) return; /* a stale reply */
    bool usable = !(end->error && end->error[0]) && end->epoch == s->epoch;
    if (!usable) LOGW("replay refused, re-snapshotting", "subscriber", s->name, "why",
                      end->error && end->error[0] ? end->error : "another epoch");
    for (size_t i = 0; i < s->nres; i++) {
        res_t *r = &s->res[i];
        if (!r->in_replay) continue;
        const Kubus__V1__ResourceSeq *upto = usable ? replayed(end, r->name) : NULL;
        if (upto && !r->need) {
            apply_replay(s, r, upto);
        } else {
            if (!r->need) s->stats.replay_misses++;
            r->need = true;   /* missed (no longer in the ring) or refused: the full snapshot */
            r->replay = false;
        }
        r->in_replay = false;
    }
    sub_apply_held_live(s);
    sub_vec_clear(&s->snap);
    sub_vec_clear(&s->live);
    s->state = S_IDLE;
}
