/* libFuzzer target for lib/msg.c: msg_decode must refuse or accept any bytes
 * without crashing, and whatever it accepts must encode again (the encoder
 * runs the same validation, so accept-then-refuse would be a contract bug).
 *
 * Known protobuf-c quirk, not asserted here: a field numbered 0 whose tag is
 * a non-minimal varint ("80 00") is accepted as an unknown field and packed
 * back as "00", which the unpacker then refuses. So the re-decode check only
 * applies to envelopes without unknown fields at any depth. Nobody on the bus
 * re-encodes a received envelope (the broker forwards bytes), so this costs a
 * refused message at worst. */
/* The unit under test is compiled into this target so that libFuzzer's
 * coverage instrumentation (-fsanitize=fuzzer applies to this file only,
 * not to libkubus) sees its branches; the archive's copy is then not linked. */
#include "../../lib/msg.c"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "msg.h"

/* True if m or any message inside it kept unknown fields. */
static int has_unknown(const ProtobufCMessage *m)
{
    if (!m) return 0;
    if (m->n_unknown_fields) return 1;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE) continue;
        const char *base = (const char *)m;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            ProtobufCMessage *const *arr = *(ProtobufCMessage *const *const *)(base + f->offset);
            for (size_t k = 0; k < n; k++)
                if (has_unknown(arr[k])) return 1;
        } else if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            if (*(const uint32_t *)(base + f->quantifier_offset) == f->id &&
                has_unknown(*(ProtobufCMessage *const *)(base + f->offset)))
                return 1;
        } else if (has_unknown(*(ProtobufCMessage *const *)(base + f->offset))) {
            return 1;
        }
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    msg_envelope_t *env = msg_decode(data, size, err, sizeof err);
    if (!env) return 0;
    uint8_t *out = NULL;
    size_t len = 0;
    if (msg_encode(env, &out, &len) != 0) abort();
    msg_envelope_t *again = msg_decode(out, len, err, sizeof err);
    if (!again && !has_unknown(&env->base)) abort();
    msg_free(again);
    free(out);
    msg_free(env);
    return 0;
}
