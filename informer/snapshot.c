/* snapshot.c - the informer's snapshot server (Clone pattern, DEVELOPERS.md).
 *
 * Owns: the ROUTER bound at BUS_EP_SNAPSHOT (reading requests, sending
 * replies) and answering SnapshotRequests on it:
 *   [id][WatchEvent SNAPSHOT]... then [id][SnapshotEnd{epoch, request_id, seqs, count}]
 * or only [id][SnapshotEnd{error}] when a resource is not watched here.
 * Resources the requester reads from the store (SnapshotRequest.stored)
 * get no objects: the SnapshotEnd's seqs say which committed state of the
 * store the stream continues from.
 * ReplayRequests are read here and answered by replay.c.
 * Snapshots stay one object per message: they go straight to one DEALER
 * (no broker), and a subscriber parses each object's JSON anyway, which
 * costs far more than the message. Measured with kubus-bench-pub (a
 * 50,000-pod snapshot of 1 KiB pods): subscriber_create -> synced 0.82 s,
 * of which the subscriber's JSON parse is 0.6 s of CPU; with the parse
 * deferred the whole transfer (encode, one message each, decode) takes
 * 0.22-0.29 s, the most batching could shave part of.
 * The loop is single-threaded, so no change can slip in between the objects
 * and the seqs they are valid at. Routing ids are binary (libzmq makes them
 * up for anonymous DEALERs), so frames are handled raw here.
 * Cost: one encode + send per object; SNDHWM is unlimited so a 10,000-pod
 * snapshot is never cut, and sends never block (ZMQ_DONTWAIT).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "informer.h"
#include "kubus.pb-c.h"
#include "msg.h"

#define MAX_ID 256

typedef struct {
    informer_t *in;
    const uint8_t *id;
    size_t idlen;
    reflector_t *r;
    uint64_t count;
    int failed;
} reply_t;

int informer_reply_raw(informer_t *in, const uint8_t *id, size_t idlen, const void *data, size_t len)
{
    if (zmq_send(in->router, id, idlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_send(in->router, data, len, ZMQ_DONTWAIT) < 0)
        return -1;
    return 0;
}

int informer_reply(informer_t *in, const uint8_t *id, size_t idlen, const msg_envelope_t *env)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (msg_encode(env, &buf, &len) < 0) return -1;
    int rc = informer_reply_raw(in, id, idlen, buf, len);
    int saved = errno;
    free(buf);
    errno = saved;
    return rc;
}

static int send_to(reply_t *rp, const msg_envelope_t *env) { return informer_reply(rp->in, rp->id, rp->idlen, env); }

static int send_object(void *ctx, const objcache_entry_t *e)
{
    reply_t *rp = ctx;
    msg_envelope_t env;
    msg_event_t ev;
    informer_event_fill(rp->in, rp->r, KUBUS__V1__EVENT_TYPE__SNAPSHOT, e, &env, &ev);
    if (!e->json) {   /* kept in the store only (a requester that does not read the store) */
        const char *json;
        size_t len;
        if (informer_stored_bytes(rp->in, rp->r, e, &json, &len) < 0) {
            rp->failed = EIO;
            return 1;
        }
        ev.object.data = (uint8_t *)json;
        ev.object.len = len;
    }
    if (send_to(rp, &env) < 0) {
        rp->failed = errno ? errno : EIO;
        return 1;
    }
    rp->count++;
    return 0;
}

static int send_end(reply_t *rp, const Kubus__V1__SnapshotRequest *req, const char *error)
{
    Kubus__V1__SnapshotEnd end;
    kubus__v1__snapshot_end__init(&end);
    end.epoch = rp->in->epoch;
    end.request_id = req->request_id;
    end.count = rp->count;
    end.error = (char *)(error ? error : "");
    Kubus__V1__ResourceSeq seqs[INFORMER_MAX_RESOURCES], *ptrs[INFORMER_MAX_RESOURCES];
    if (!error) {
        for (size_t i = 0; i < req->n_resources; i++) {
            reflector_t *r = informer_find(rp->in, req->resources[i]);
            kubus__v1__resource_seq__init(&seqs[i]);
            seqs[i].resource = (char *)reflector_resource(r);
            seqs[i].seq = reflector_seq(r);
            seqs[i].synced = reflector_synced(r);
            ptrs[i] = &seqs[i];
        }
        end.n_seqs = req->n_resources;
        end.seqs = ptrs;
    }
    msg_envelope_t env;
    kubus__v1__envelope__init(&env);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_SNAPSHOT_END;
    env.snapshot_end = &end;
    return send_to(rp, &env);
}

const char *informer_check_resources(const informer_t *in, char *const *names, size_t n, char *buf, size_t buflen)
{
    if (n > INFORMER_MAX_RESOURCES) return "too many resources";
    for (size_t i = 0; i < n; i++) {
        if (!informer_find(in, names[i])) {
            snprintf(buf, buflen, "unknown resource \"%s\" (not watched by this informer)", names[i]);
            return buf;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(names[i], names[j]) == 0) return "resource listed twice";
    }
    return NULL;
}

/* Is resource among req->stored? */
static bool wants_stored(const Kubus__V1__SnapshotRequest *req, const char *resource)
{
    for (size_t i = 0; i < req->n_stored; i++)
        if (strcmp(req->stored[i], resource) == 0) return true;
    return false;
}

/* Every stored resource asked for must be one of the request's resources
 * and kept in this informer's store. NULL, or why not (into buf). */
static const char *check_stored(const informer_t *in, const Kubus__V1__SnapshotRequest *req, char *buf,
                                size_t buflen)
{
    for (size_t i = 0; i < req->n_stored; i++) {
        bool listed = false;
        for (size_t j = 0; j < req->n_resources; j++) listed = listed || strcmp(req->stored[i], req->resources[j]) == 0;
        int k = informer_index(in, informer_find(in, req->stored[i]));
        if (!listed || k < 0 || !in->stored[k]) {
            snprintf(buf, buflen, "resource \"%s\" is not kept in this informer's store", req->stored[i]);
            return buf;
        }
    }
    return NULL;
}

static void answer(informer_t *in, const uint8_t *id, size_t idlen, const Kubus__V1__SnapshotRequest *req)
{
    reply_t rp = { .in = in, .id = id, .idlen = idlen };
    char why[256];
    const char *error = informer_check_resources(in, req->resources, req->n_resources, why, sizeof why);
    if (!error) error = check_stored(in, req, why, sizeof why);
    if (error) in->refused_requests++;
    informer_commit_store(in);   /* the SnapshotEnd's seqs name the store's state too */
    /* Before a resource's first list is complete the requester will ask
     * again (SnapshotEnd synced=false): the objects so far would be thrown
     * away, so only the end is sent. */
    bool complete = true;
    for (size_t i = 0; !error && i < req->n_resources; i++)
        complete = complete && reflector_synced(informer_find(in, req->resources[i]));
    for (size_t i = 0; !error && complete && !rp.failed && i < req->n_resources; i++) {
        if (wants_stored(req, req->resources[i])) continue;   /* the requester reads the store */
        rp.r = informer_find(in, req->resources[i]);
        objcache_each(reflector_cache(rp.r), send_object, &rp);
    }
    if (!rp.failed && send_end(&rp, req, error) < 0) rp.failed = errno ? errno : EIO;
    in->snapshots++;
    in->snapshot_events += rp.count;
    if (rp.failed) {
        LOGV(1, "snapshot reply abandoned (requester gone?)", "requester", req->requester, "error",
             zmq_strerror(rp.failed));
        return;
    }
    LOGV(1, "snapshot served", "requester", req->requester, "error", error ? error : "");
}

/* Reads one [id][envelope] message. 1 read (maybe refused), 0 none, -1 error. */
static int serve_one(informer_t *in)
{
    uint8_t id[MAX_ID];
    int idlen = zmq_recv(in->router, id, sizeof id, ZMQ_DONTWAIT);
    if (idlen < 0) return errno == EAGAIN ? 0 : -1;
    int more = 0;
    size_t ml = sizeof more;
    zmq_getsockopt(in->router, ZMQ_RCVMORE, &more, &ml);
    zmq_msg_t body;
    zmq_msg_init(&body);
    int frames = 0;
    while (more) { /* keep the last frame; a valid request has exactly one after the id */
        zmq_msg_close(&body);
        zmq_msg_init(&body);
        if (zmq_msg_recv(&body, in->router, 0) < 0) { zmq_msg_close(&body); return -1; }
        frames++;
        more = zmq_msg_more(&body);
    }
    char err[256] = "expected [id][envelope]";
    msg_envelope_t *env = NULL;
    if (frames == 1 && (size_t)idlen <= sizeof id)
        env = msg_decode(zmq_msg_data(&body), zmq_msg_size(&body), err, sizeof err);
    zmq_msg_close(&body);
    if (env && env->body_case == KUBUS__V1__ENVELOPE__BODY_SNAPSHOT_REQUEST) {
        answer(in, id, (size_t)idlen, env->snapshot_request);
    } else if (env && env->body_case == KUBUS__V1__ENVELOPE__BODY_REPLAY_REQUEST) {
        informer_answer_replay(in, id, (size_t)idlen, env->replay_request);
    } else {
        in->refused_requests++;
        if (log_limit_allow(&in->bad_log))
            LOGW("refused a message on the snapshot socket", "error", env ? "not a Snapshot- or ReplayRequest" : err);
    }
    msg_free(env);
    return 1;
}

void informer_serve_snapshots(informer_t *in)
{
    for (;;) {
        int events = 0;
        size_t len = sizeof events;
        if (zmq_getsockopt(in->router, ZMQ_EVENTS, &events, &len) < 0 || !(events & ZMQ_POLLIN)) return;
        if (serve_one(in) <= 0) return;
    }
}
