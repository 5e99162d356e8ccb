/* route.c - per-path message checks of the broker. See route.h. */
#include "route.h"

#include <stdio.h>
#include <string.h>

#include "bus.h"
#include "errfmt.h"

bool broker_id_is_controller(const void *id, size_t idlen, const char *controller)
{
    if (!controller || !*controller || idlen == 0 || idlen > BUS_ID_MAX) return false;
    size_t n = strlen(controller);
    const char *s = id;
    return idlen > n + 1 && memcmp(s, controller, n) == 0 && s[n] == '.';
}

static bool frame_is(const void *frame, size_t len, const char *s)
{
    return len == strlen(s) && memcmp(frame, s, len) == 0;
}

static int check_batch_topic(const void *topic, size_t topiclen, const char *resource, char *err, size_t errlen)
{
    char want[BUS_TOPIC_MAX];
    if (bus_topic_resource(want, sizeof want, resource) < 0) return errfmt(err, errlen, "batch topic would be too long");
    if (!frame_is(topic, topiclen, want)) return errfmt(err, errlen, "batch for %s published under another topic", want);
    return 0;
}

int broker_check_batch(const void *topic, size_t topiclen, const batch_header_t *h, char *err, size_t errlen)
{
    return check_batch_topic(topic, topiclen, h->resource, err, errlen);
}

int broker_check_publish(const void *topic, size_t topiclen, const msg_envelope_t *env,
                         char *err, size_t errlen)
{
    if (topiclen == 0 || topiclen >= BUS_TOPIC_MAX) return errfmt(err, errlen, "bad topic length %zu", topiclen);
    switch (env->body_case) {
    case KUBUS__V1__ENVELOPE__BODY_EVENT: {
        char want[BUS_TOPIC_MAX];
        const msg_event_t *e = env->event;
        if (bus_topic_event(want, sizeof want, e->resource, e->namespace_) < 0)
            return errfmt(err, errlen, "event topic would be too long");
        if (!frame_is(topic, topiclen, want))
            return errfmt(err, errlen, "event for %s published under another topic", want);
        return 0;
    }
    case KUBUS__V1__ENVELOPE__BODY_EVENT_BATCH:
        return check_batch_topic(topic, topiclen, env->event_batch->resource, err, errlen);
    case KUBUS__V1__ENVELOPE__BODY_INFORMER_STATUS:
        if (!frame_is(topic, topiclen, BUS_TOPIC_INFORMER))
            return errfmt(err, errlen, "informer status not under " BUS_TOPIC_INFORMER);
        return 0;
    case KUBUS__V1__ENVELOPE__BODY_EXECUTOR_STATUS:
        if (!frame_is(topic, topiclen, BUS_TOPIC_EXECUTOR))
            return errfmt(err, errlen, "executor status not under " BUS_TOPIC_EXECUTOR);
        return 0;
    default:
        return errfmt(err, errlen, "a %s is not published", msg_body_name(env));
    }
}

int broker_check_from_controller(const void *id, size_t idlen, const msg_envelope_t *env,
                                 char *err, size_t errlen)
{
    const char *who;
    switch (env->body_case) {
    case KUBUS__V1__ENVELOPE__BODY_ACTION: who = env->action->controller; break;
    case KUBUS__V1__ENVELOPE__BODY_INFLIGHT_QUERY: who = env->inflight_query->controller; break;
    default: return errfmt(err, errlen, "a controller may not send a %s", msg_body_name(env));
    }
    if (!broker_id_is_controller(id, idlen, who))
        return errfmt(err, errlen, "%s for controller \"%s\" from routing id \"%.*s\"",
                      msg_body_name(env), who, (int)(idlen > 64 ? 64 : idlen), (const char *)id);
    return 0;
}

int broker_check_to_controller(const void *id, size_t idlen, const msg_envelope_t *env,
                               char *err, size_t errlen)
{
    const char *who;
    switch (env->body_case) {
    case KUBUS__V1__ENVELOPE__BODY_ACTION_RESULT: who = env->action_result->controller; break;
    case KUBUS__V1__ENVELOPE__BODY_INFLIGHT_REPORT: who = env->inflight_report->controller; break;
    default: return errfmt(err, errlen, "the executor may not send a %s", msg_body_name(env));
    }
    if (!broker_id_is_controller(id, idlen, who))
        return errfmt(err, errlen, "%s for controller \"%s\" addressed to \"%.*s\"",
                      msg_body_name(env), who ? who : "", (int)(idlen > 64 ? 64 : idlen),
                      (const char *)id);
    return 0;
}

bool broker_is_subscription(const void *frame, size_t len)
{
    const unsigned char *b = frame;
    return len >= 1 && len <= BUS_TOPIC_MAX && (b[0] == 0 || b[0] == 1);
}
