/* msg.c - envelope encode/decode with validation. See msg.h. */
#include "msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "errfmt.h"

static int empty(const char *s) { return s == NULL || s[0] == '\0'; }

static int valid_event(const msg_event_t *e, char *err, size_t errlen)
{
    if (e->type <= KUBUS__V1__EVENT_TYPE__EVENT_TYPE_UNSPECIFIED ||
        e->type > KUBUS__V1__EVENT_TYPE__SNAPSHOT)
        return errfmt(err, errlen, "event: unknown type %d", (int)e->type);
    if (empty(e->resource)) return errfmt(err, errlen, "event: no resource");
    if (e->type == KUBUS__V1__EVENT_TYPE__BOOKMARK) return 0;
    if (empty(e->name)) return errfmt(err, errlen, "event: no name");
    if (e->object.len == 0) return errfmt(err, errlen, "event: no object");
    return 0;
}

/* A batch is a run of consecutive live changes of one resource and epoch:
 * every event is checked, and so is every claim of the header. */
static int valid_batch(const Kubus__V1__EventBatch *b, char *err, size_t errlen)
{
    if (b->epoch == 0 || b->first_seq == 0 || empty(b->resource))
        return errfmt(err, errlen, "batch: header without epoch, first seq or resource");
    if (!batch_resource_valid(b->resource, strlen(b->resource)))
        return errfmt(err, errlen, "batch: bad resource name \"%.64s\"", b->resource);
    if (b->count == 0 || b->count != b->n_events)
        return errfmt(err, errlen, "batch: count %u but %zu events", b->count, b->n_events);
    if (b->first_seq > UINT64_MAX - b->count) return errfmt(err, errlen, "batch: seqs overflow");
    for (size_t i = 0; i < b->n_events; i++) {
        const msg_event_t *e = b->events[i];
        if (valid_event(e, err, errlen) < 0) return -1;
        if (e->type > KUBUS__V1__EVENT_TYPE__DELETED)
            return errfmt(err, errlen, "batch: event %zu is a %s, not a live change", i, msg_event_type_name(e->type));
        if (e->epoch != b->epoch || strcmp(e->resource, b->resource) != 0)
            return errfmt(err, errlen, "batch: event %zu of another epoch or resource", i);
        if (e->seq != b->first_seq + i)
            return errfmt(err, errlen, "batch: event %zu has seq %llu, want %llu", i, (unsigned long long)e->seq,
                          (unsigned long long)(b->first_seq + i));
    }
    return 0;
}

static int valid_action(const msg_action_t *a, char *err, size_t errlen)
{
    if (a->verb <= KUBUS__V1__VERB__VERB_UNSPECIFIED || a->verb > KUBUS__V1__VERB__EVENT)
        return errfmt(err, errlen, "action: unknown verb %d", (int)a->verb);
    if (a->id == 0) return errfmt(err, errlen, "action: id 0");
    if (empty(a->controller)) return errfmt(err, errlen, "action: no controller");
    if (empty(a->resource)) return errfmt(err, errlen, "action: no resource");
    if (a->patch_type < 0 || a->patch_type > KUBUS__V1__PATCH_TYPE__STRATEGIC)
        return errfmt(err, errlen, "action: unknown patch type %d", (int)a->patch_type);
    if (a->propagation < 0 || a->propagation > KUBUS__V1__PROPAGATION__ORPHAN)
        return errfmt(err, errlen, "action: unknown propagation %d", (int)a->propagation);
    switch (a->verb) {
    case KUBUS__V1__VERB__CREATE:
    case KUBUS__V1__VERB__EVENT:
        if (a->body.len == 0) return errfmt(err, errlen, "action: %s without body", msg_verb_name(a->verb));
        break;
    case KUBUS__V1__VERB__UPDATE:
    case KUBUS__V1__VERB__UPDATE_STATUS:
        if (a->body.len == 0 || empty(a->name))
            return errfmt(err, errlen, "action: %s needs name and body", msg_verb_name(a->verb));
        break;
    case KUBUS__V1__VERB__PATCH:
        if (a->body.len == 0 || empty(a->name) ||
            a->patch_type == KUBUS__V1__PATCH_TYPE__PATCH_TYPE_UNSPECIFIED)
            return errfmt(err, errlen, "action: PATCH needs name, body and patch type");
        break;
    case KUBUS__V1__VERB__DELETE:
    case KUBUS__V1__VERB__GET:
        if (empty(a->name)) return errfmt(err, errlen, "action: %s needs name", msg_verb_name(a->verb));
        break;
    default:
        break;
    }
    return 0;
}

static int valid_result(const msg_result_t *r, char *err, size_t errlen)
{
    if (r->id == 0) return errfmt(err, errlen, "result: id 0");
    if (r->status > 999) return errfmt(err, errlen, "result: bad status %u", r->status);
    if (r->verb <= KUBUS__V1__VERB__VERB_UNSPECIFIED || r->verb > KUBUS__V1__VERB__EVENT)
        return errfmt(err, errlen, "result: unknown verb %d", (int)r->verb);
    return 0;
}

static int valid_seqs(size_t n, Kubus__V1__ResourceSeq **seqs, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++)
        if (!seqs[i] || empty(seqs[i]->resource)) return errfmt(err, errlen, "resource seq without resource");
    return 0;
}

static int valid_replay_request(const Kubus__V1__ReplayRequest *r, char *err, size_t errlen)
{
    if (r->epoch == 0) return errfmt(err, errlen, "replay request: epoch 0");
    if (r->n_after == 0) return errfmt(err, errlen, "replay request: no resources");
    return valid_seqs(r->n_after, r->after, err, errlen);
}

static int valid_replay_end(const Kubus__V1__ReplayEnd *e, char *err, size_t errlen)
{
    for (size_t i = 0; i < e->n_missed; i++)
        if (empty(e->missed[i])) return errfmt(err, errlen, "replay end: empty missed resource");
    return valid_seqs(e->n_seqs, e->seqs, err, errlen);
}

int msg_validate(const msg_envelope_t *env, char *err, size_t errlen)
{
    if (!env) return errfmt(err, errlen, "no envelope");
    if (env->version != MSG_VERSION)
        return errfmt(err, errlen, "unsupported envelope version %u", env->version);
    switch (env->body_case) {
    case KUBUS__V1__ENVELOPE__BODY_EVENT:
        return valid_event(env->event, err, errlen);
    case KUBUS__V1__ENVELOPE__BODY_SNAPSHOT_REQUEST:
        if (env->snapshot_request->n_resources == 0) return errfmt(err, errlen, "snapshot request: no resources");
        for (size_t i = 0; i < env->snapshot_request->n_resources; i++)
            if (empty(env->snapshot_request->resources[i])) return errfmt(err, errlen, "snapshot request: empty resource");
        return 0;
    case KUBUS__V1__ENVELOPE__BODY_SNAPSHOT_END:
        return valid_seqs(env->snapshot_end->n_seqs, env->snapshot_end->seqs, err, errlen);
    case KUBUS__V1__ENVELOPE__BODY_INFORMER_STATUS:
        if (env->informer_status->epoch == 0) return errfmt(err, errlen, "informer status: epoch 0");
        return valid_seqs(env->informer_status->n_seqs, env->informer_status->seqs, err, errlen);
    case KUBUS__V1__ENVELOPE__BODY_ACTION:
        return valid_action(env->action, err, errlen);
    case KUBUS__V1__ENVELOPE__BODY_ACTION_RESULT:
        return valid_result(env->action_result, err, errlen);
    case KUBUS__V1__ENVELOPE__BODY_EXECUTOR_STATUS:
        if (env->executor_status->epoch == 0) return errfmt(err, errlen, "executor status: epoch 0");
        return 0;
    case KUBUS__V1__ENVELOPE__BODY_INFLIGHT_QUERY:
        if (empty(env->inflight_query->controller)) return errfmt(err, errlen, "inflight query: no controller");
        return 0;
    case KUBUS__V1__ENVELOPE__BODY_INFLIGHT_REPORT:
        for (size_t i = 0; i < env->inflight_report->n_pending; i++)
            if (valid_action(env->inflight_report->pending[i], err, errlen) < 0) return -1;
        for (size_t i = 0; i < env->inflight_report->n_recent; i++)
            if (valid_result(env->inflight_report->recent[i], err, errlen) < 0) return -1;
        return 0;
    case KUBUS__V1__ENVELOPE__BODY_EVENT_BATCH:
        return valid_batch(env->event_batch, err, errlen);
    case KUBUS__V1__ENVELOPE__BODY_REPLAY_REQUEST:
        return valid_replay_request(env->replay_request, err, errlen);
    case KUBUS__V1__ENVELOPE__BODY_REPLAY_END:
        return valid_replay_end(env->replay_end, err, errlen);
    case KUBUS__V1__ENVELOPE__BODY_HEARTBEAT:
        if (empty(env->heartbeat->worker) || env->heartbeat->pid <= 0)
            return errfmt(err, errlen, "heartbeat: no worker or pid");
        if (env->heartbeat->state < 0 || env->heartbeat->state > KUBUS__V1__WORKER_STATE__STOPPING)
            return errfmt(err, errlen, "heartbeat: unknown state %d", (int)env->heartbeat->state);
        return 0;
    default:
        return errfmt(err, errlen, "envelope without a known body (%d)", (int)env->body_case);
    }
}

int msg_encode(const msg_envelope_t *env, uint8_t **out, size_t *out_len)
{
    char err[256];
    if (msg_validate(env, err, sizeof err) < 0) return -1;
    size_t n = kubus__v1__envelope__get_packed_size(env);
    if (n > MSG_MAX_BYTES) return -1;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) return -1;
    size_t packed = kubus__v1__envelope__pack(env, buf);
    if (packed != n) { free(buf); return -1; }
    *out = buf;
    *out_len = n;
    return 0;
}

msg_envelope_t *msg_decode(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
    if (!buf || len == 0) { errfmt(err, errlen, "empty frame"); return NULL; }
    if (len > MSG_MAX_BYTES) { errfmt(err, errlen, "frame of %zu bytes exceeds limit", len); return NULL; }
    msg_envelope_t *env = kubus__v1__envelope__unpack(NULL, len, buf);
    if (!env) { errfmt(err, errlen, "not a protobuf envelope (%zu bytes)", len); return NULL; }
    if (msg_validate(env, err, errlen) < 0) { msg_free(env); return NULL; }
    return env;
}

void msg_free(msg_envelope_t *env)
{
    if (env) kubus__v1__envelope__free_unpacked(env, NULL);
}

const char *msg_event_type_name(int type)
{
    static const char *names[] = { "UNSPECIFIED", "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "SNAPSHOT" };
    return type >= 0 && type <= 5 ? names[type] : "?";
}

const char *msg_verb_name(int verb)
{
    static const char *names[] = { "UNSPECIFIED", "CREATE", "UPDATE", "UPDATE_STATUS",
                                   "PATCH", "DELETE", "GET", "EVENT" };
    return verb >= 0 && verb <= 7 ? names[verb] : "?";
}

const char *msg_body_name(const msg_envelope_t *env)
{
    switch (env ? env->body_case : 0) {
    case KUBUS__V1__ENVELOPE__BODY_EVENT: return "event";
    case KUBUS__V1__ENVELOPE__BODY_SNAPSHOT_REQUEST: return "snapshot_request";
    case KUBUS__V1__ENVELOPE__BODY_SNAPSHOT_END: return "snapshot_end";
    case KUBUS__V1__ENVELOPE__BODY_INFORMER_STATUS: return "informer_status";
    case KUBUS__V1__ENVELOPE__BODY_ACTION: return "action";
    case KUBUS__V1__ENVELOPE__BODY_ACTION_RESULT: return "action_result";
    case KUBUS__V1__ENVELOPE__BODY_EXECUTOR_STATUS: return "executor_status";
    case KUBUS__V1__ENVELOPE__BODY_INFLIGHT_QUERY: return "inflight_query";
    case KUBUS__V1__ENVELOPE__BODY_INFLIGHT_REPORT: return "inflight_report";
    case KUBUS__V1__ENVELOPE__BODY_HEARTBEAT: return "heartbeat";
    case KUBUS__V1__ENVELOPE__BODY_EVENT_BATCH: return "event_batch";
    case KUBUS__V1__ENVELOPE__BODY_REPLAY_REQUEST: return "replay_request";
    case KUBUS__V1__ENVELOPE__BODY_REPLAY_END: return "replay_end";
    default: return "?";
    }
}
