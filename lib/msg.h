/* msg.h - the bus protocol's envelopes: build, encode, decode and validate.
 *
 * Owns: the rules for what a well-formed envelope is. Every decoder refuses
 * (returns NULL with a reason) rather than passing on something malformed:
 * wrong version, no body, unknown enum values, missing required fields,
 * oversized frames. Types are the protobuf-c ones generated from
 * proto/kubus.proto (Kubus__V1__*); this header gives them short names.
 */
#ifndef KUBUS_MSG_H
#define KUBUS_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "kubus.pb-c.h"

#define MSG_VERSION 1u
/* Largest envelope accepted: a Kubernetes object is at most ~1.5 MiB in etcd;
 * snapshots are streamed one object per message, live events in batches of
 * at most 64 KiB (lib/batch.h) unless one object alone is bigger. Every
 * receiving socket of the bus refuses larger frames (ZMQ_MAXMSGSIZE). */
#define MSG_MAX_BYTES (8u * 1024u * 1024u)

typedef Kubus__V1__Envelope msg_envelope_t;
typedef Kubus__V1__WatchEvent msg_event_t;
typedef Kubus__V1__EventBatch msg_batch_t;
typedef Kubus__V1__Action msg_action_t;
typedef Kubus__V1__ActionResult msg_result_t;
typedef Kubus__V1__Heartbeat msg_heartbeat_t;

/* Encodes into a malloc'd buffer the caller frees. Returns 0, -1 on failure
 * (including an envelope that would not pass msg_decode's checks). */
int msg_encode(const msg_envelope_t *env, uint8_t **out, size_t *out_len);

/* Decodes and validates. On failure returns NULL and writes a reason into
 * err (if errlen > 0). Free the result with msg_free. */
msg_envelope_t *msg_decode(const uint8_t *buf, size_t len, char *err, size_t errlen);
void msg_free(msg_envelope_t *env);

/* Checks an already-built envelope (used by msg_encode and msg_decode). */
int msg_validate(const msg_envelope_t *env, char *err, size_t errlen);

/* Short names for enums in logs: "ADDED", "CREATE", ... ("?" if unknown). */
const char *msg_event_type_name(int type);
const char *msg_verb_name(int verb);
const char *msg_body_name(const msg_envelope_t *env);

#endif
