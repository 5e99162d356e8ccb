/* replay.c - the informer's answer to a ReplayRequest (proto/kubus.proto).
 *
 * Owns: turning "every event of resource r after seq s" into replies from
 * the replay ring (ring.h):
 *   [id][EventBatch]... (the frames as they were published, oldest first)
 *   [id][ReplayEnd{epoch, request_id, seqs, missed, error}]
 * A resource goes to `missed` when the ring no longer holds every event
 * after s, when s is ahead of the resource's seq, or when the request is of
 * another epoch (this informer's seqs are not the ones the subscriber has);
 * the subscriber then asks for a snapshot of it. The first batch sent may
 * start before s + 1: the subscriber skips what it has.
 * Runs on the loop after the pending batches were flushed, so the ring ends
 * at the resource's current seq (ReplayEnd.seqs). Cost: one scan of the
 * ring per requested resource, one send (a copy) per batch replayed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#include "informer.h"

typedef struct {
    informer_t *in;
    const uint8_t *id;
    size_t idlen;
    uint64_t batches;
    int failed;           /* errno of a failed send */
} replay_t;

static int send_batch(void *ctx, const batch_frame_t *f)
{
    replay_t *rp = ctx;
    if (informer_reply_raw(rp->in, rp->id, rp->idlen, batch_frame_data(f), f->len) < 0) {
        rp->failed = errno ? errno : EIO;
        return 1;
    }
    rp->batches++;
    return 0;
}

/* Whether resource i can be replayed after seq (and then does so). */
static bool replay_one(replay_t *rp, int i, uint64_t seq, bool same_epoch)
{
    informer_t *in = rp->in;
    if (!same_epoch || seq > reflector_seq(in->refl[i]) || !replay_ring_covers(in->ring, i, seq)) return false;
    replay_ring_each(in->ring, i, seq, send_batch, rp);
    in->replay_events += reflector_seq(in->refl[i]) - seq;
    return true;
}

static void log_done(const informer_t *in, const Kubus__V1__ReplayRequest *req, const replay_t *rp, size_t missed)
{
    if (rp->failed) {
        LOGV(1, "replay reply abandoned (requester gone?)", "requester", req->requester, "error",
             zmq_strerror(rp->failed));
        return;
    }
    char b[24], m[24];
    snprintf(b, sizeof b, "%llu", (unsigned long long)rp->batches);
    snprintf(m, sizeof m, "%zu", missed);
    LOGV(1, "replay served", "requester", req->requester, "batches", b, "missed", m);
    (void)in;
}

void informer_answer_replay(informer_t *in, const uint8_t *id, size_t idlen, const Kubus__V1__ReplayRequest *req)
{
    char *names[INFORMER_MAX_RESOURCES], why[256];
    const char *error = req->n_after > INFORMER_MAX_RESOURCES ? "too many resources" : NULL;
    for (size_t i = 0; !error && i < req->n_after; i++) names[i] = req->after[i]->resource;
    if (!error) error = informer_check_resources(in, names, req->n_after, why, sizeof why);
    Kubus__V1__ReplayEnd end;
    Kubus__V1__ResourceSeq seqs[INFORMER_MAX_RESOURCES], *sp[INFORMER_MAX_RESOURCES];
    char *missed[INFORMER_MAX_RESOURCES];
    kubus__v1__replay_end__init(&end);
    end.epoch = in->epoch;
    end.request_id = req->request_id;
    end.error = (char *)(error ? error : "");
    end.seqs = sp;
    end.missed = missed;
    replay_t rp = { .in = in, .id = id, .idlen = idlen };
    for (size_t k = 0; !error && !rp.failed && k < req->n_after; k++) {
        int i = informer_index(in, informer_find(in, names[k]));
        if (!replay_one(&rp, i, req->after[k]->seq, req->epoch == in->epoch)) {
            missed[end.n_missed++] = names[k];
            continue;
        }
        kubus__v1__resource_seq__init(&seqs[end.n_seqs]);
        seqs[end.n_seqs].resource = names[k];
        seqs[end.n_seqs].seq = reflector_seq(in->refl[i]);
        seqs[end.n_seqs].synced = reflector_synced(in->refl[i]);
        sp[end.n_seqs] = &seqs[end.n_seqs];
        end.n_seqs++;
    }
    msg_envelope_t env;
    kubus__v1__envelope__init(&env);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_REPLAY_END;
    env.replay_end = &end;
    if (!rp.failed && informer_reply(in, id, idlen, &env) < 0) rp.failed = errno ? errno : EIO;
    if (error) in->refused_requests++;
    in->replays++;
    in->replay_misses += end.n_missed;
    log_done(in, req, &rp, end.n_missed);
}
