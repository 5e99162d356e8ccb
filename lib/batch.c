/* batch.c - EventBatch frames, built and header-checked on the wire. See batch.h.
 *
 * Protobuf wire format used here: a field is a varint key (number << 3 |
 * wire type) and then a varint (type 0), 8 bytes (1), a varint length and
 * that many bytes (2) or 4 bytes (5). Envelope.version is field 1,
 * Envelope.event_batch field 20; EventBatch's epoch 1, resource 2,
 * first_seq 3, count 4, events 5 (see proto/kubus.proto).
 */
#include "batch.h"

#include <stdlib.h>
#include <string.h>

#include "errfmt.h"

#define HEAD 112u              /* envelope prefix (<= 9) + batch header (<= 93) */
#define FIRST_CAP (16u * 1024u)
#define F_ENV_VERSION 1u
#define F_ENV_BATCH 20u
#define F_ENV_BODY_FIRST 10u   /* Envelope's oneof body: fields 10..22 */
#define F_ENV_BODY_LAST 22u
#define WT_VARINT 0u
#define WT_LEN 2u

/* ---- frames ---- */

void batch_frame_free(batch_frame_t *f)
{
    if (!f) return;
    free(f->mem);
    *f = (batch_frame_t){ 0 };
}

/* ---- writing ---- */

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) { v >>= 7; n++; }
    return n;
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) { p[n++] = (uint8_t)(v | 0x80); v >>= 7; }
    p[n++] = (uint8_t)v;
    return n;
}

bool batch_resource_valid(const char *s, size_t n)
{
    if (!s || n == 0 || n > BATCH_RESOURCE_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) return false;
    }
    return true;
}

void batch_builder_init(batch_builder_t *b) { memset(b, 0, sizeof *b); }

void batch_builder_fini(batch_builder_t *b)
{
    free(b->buf);
    memset(b, 0, sizeof *b);
}

size_t batch_size(const batch_builder_t *b) { return b->count ? b->len : 0; }

size_t batch_event_size(const msg_event_t *ev)
{
    size_t n = kubus__v1__watch_event__get_packed_size(ev);
    return 1 + varint_len(n) + n;
}

static int reserve(batch_builder_t *b, size_t n)
{
    if (b->len + n <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : FIRST_CAP;
    while (cap < b->len + n) cap *= 2;
    uint8_t *p = realloc(b->buf, cap);
    if (!p) return -1;
    b->buf = p;
    b->cap = cap;
    return 0;
}

static int check_event(const batch_builder_t *b, const msg_event_t *ev, char *err, size_t errlen)
{
    msg_envelope_t env = KUBUS__V1__ENVELOPE__INIT;
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_EVENT;
    env.event = (msg_event_t *)ev;
    if (msg_validate(&env, err, errlen) < 0) return -1;
    if (ev->type < KUBUS__V1__EVENT_TYPE__ADDED || ev->type > KUBUS__V1__EVENT_TYPE__DELETED)
        return errfmt(err, errlen, "batch: a %s event is not a live change", msg_event_type_name(ev->type));
    if (ev->epoch == 0 || ev->seq == 0) return errfmt(err, errlen, "batch: event without epoch or seq");
    if (!batch_resource_valid(ev->resource, strlen(ev->resource)))
        return errfmt(err, errlen, "batch: bad resource name \"%.64s\"", ev->resource);
    if (b->count == 0) return 0;
    if (ev->epoch != b->epoch || strcmp(ev->resource, b->resource) != 0)
        return errfmt(err, errlen, "batch: event of another epoch or resource");
    if (ev->seq != b->first_seq + b->count)
        return errfmt(err, errlen, "batch: seq %llu after %llu", (unsigned long long)ev->seq,
                      (unsigned long long)(b->first_seq + b->count - 1));
    return 0;
}

int batch_add(batch_builder_t *b, const msg_event_t *ev, char *err, size_t errlen)
{
    if (check_event(b, ev, err, errlen) < 0) return -1;
    if (b->count == UINT32_MAX) return errfmt(err, errlen, "batch: full");
    size_t n = kubus__v1__watch_event__get_packed_size(ev);
    if (b->count == 0) b->len = HEAD;
    if (reserve(b, 1 + varint_len(n) + n) < 0) return errfmt(err, errlen, "batch: out of memory");
    uint8_t *p = b->buf + b->len;
    size_t k = 0;
    p[k++] = (uint8_t)(5u << 3 | WT_LEN);
    k += put_varint(p + k, n);
    if (kubus__v1__watch_event__pack(ev, p + k) != n) return errfmt(err, errlen, "batch: pack failed");
    b->len += k + n;
    if (b->count++ == 0) {
        b->epoch = ev->epoch;
        b->first_seq = ev->seq;
        memcpy(b->resource, ev->resource, strlen(ev->resource) + 1);
    }
    return 0;
}

/* The batch's header fields 1..4, in field order, into out (>= 93 bytes). */
static size_t put_header(const batch_builder_t *b, uint8_t *out)
{
    size_t n = 0, rl = strlen(b->resource);
    out[n++] = 1u << 3 | WT_VARINT;
    n += put_varint(out + n, b->epoch);
    out[n++] = 2u << 3 | WT_LEN;
    n += put_varint(out + n, rl);
    memcpy(out + n, b->resource, rl);
    n += rl;
    out[n++] = 3u << 3 | WT_VARINT;
    n += put_varint(out + n, b->first_seq);
    out[n++] = 4u << 3 | WT_VARINT;
    n += put_varint(out + n, b->count);
    return n;
}

int batch_finish(batch_builder_t *b, batch_frame_t *out)
{
    if (b->count == 0 || !b->buf) return -1;
    uint8_t hdr[HEAD], pre[16];
    size_t h = put_header(b, hdr), p = 0;
    pre[p++] = F_ENV_VERSION << 3 | WT_VARINT;
    p += put_varint(pre + p, MSG_VERSION);
    p += put_varint(pre + p, F_ENV_BATCH << 3 | WT_LEN);
    p += put_varint(pre + p, h + (b->len - HEAD));
    /* The buffer grew by doubling: give back a slack over 25 % (in place, a
     * split of the chunk) so that a held frame costs about its size. */
    if (b->cap - b->len > b->len / 4) {
        uint8_t *shrunk = realloc(b->buf, b->len);
        if (shrunk) b->buf = shrunk;
    }
    size_t off = HEAD - h - p;
    memcpy(b->buf + off, pre, p);
    memcpy(b->buf + off + p, hdr, h);
    *out = (batch_frame_t){ .mem = b->buf, .off = off, .len = b->len - off };
    memset(b, 0, sizeof *b);
    return 0;
}

/* ---- reading ---- */

typedef struct {
    const uint8_t *p, *end;
} rd_t;

static int rd_varint(rd_t *r, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned shift = 0; shift < 64 && r->p < r->end; shift += 7) {
        uint8_t c = *r->p++;
        if (shift == 63 && c > 1) return -1;   /* more than 64 bits */
        x |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) { *v = x; return 0; }
    }
    return -1;
}

/* Reads a length prefix and returns the slice it announces. */
static int rd_slice(rd_t *r, rd_t *slice)
{
    uint64_t n;
    if (rd_varint(r, &n) < 0 || n > (uint64_t)(r->end - r->p)) return -1;
    *slice = (rd_t){ r->p, r->p + n };
    r->p += n;
    return 0;
}

static int rd_skip(rd_t *r, unsigned wt)
{
    uint64_t v;
    rd_t s;
    size_t fixed = wt == 1 ? 8 : wt == 5 ? 4 : 0;
    if (wt == WT_VARINT) return rd_varint(r, &v);
    if (wt == WT_LEN) return rd_slice(r, &s);
    if (!fixed || fixed > (size_t)(r->end - r->p)) return -1;   /* groups (3, 4) are not ours */
    r->p += fixed;
    return 0;
}

static int rd_key(rd_t *r, unsigned *field, unsigned *wt)
{
    uint64_t key;
    if (rd_varint(r, &key) < 0 || key >> 3 == 0 || key >> 3 > UINT32_MAX) return -1;
    *field = (unsigned)(key >> 3);
    *wt = (unsigned)(key & 7);
    return 0;
}

typedef struct {
    uint64_t version;
    rd_t body;
    bool versioned, batch, other;
} env_scan_t;

typedef struct {
    unsigned seen;        /* bit f: header field f was read */
    uint64_t events;
} scan_t;

/* One field of an EventBatch body into h. */
static int batch_field(rd_t *r, unsigned f, unsigned wt, batch_header_t *h, scan_t *sc, char *err, size_t errlen)
{
    uint64_t v = 0;
    rd_t s;
    if (f == 5) {
        if (wt != WT_LEN || rd_slice(r, &s) < 0) return errfmt(err, errlen, "batch: event %llu cut short",
                                                               (unsigned long long)sc->events);
        if (s.p == s.end) return errfmt(err, errlen, "batch: empty event");
        sc->events++;
        return 0;
    }
    if (f > 4) return rd_skip(r, wt) < 0 ? errfmt(err, errlen, "batch: unknown field %u cut short", f) : 0;
    if (sc->seen & 1u << f) return errfmt(err, errlen, "batch: header field %u twice", f);
    sc->seen |= 1u << f;
    if (f == 2) {
        if (wt != WT_LEN || rd_slice(r, &s) < 0 || !batch_resource_valid((const char *)s.p, (size_t)(s.end - s.p)))
            return errfmt(err, errlen, "batch: bad resource name");
        memcpy(h->resource, s.p, (size_t)(s.end - s.p));
        h->resource[s.end - s.p] = '\0';
        return 0;
    }
    if (wt != WT_VARINT || rd_varint(r, &v) < 0) return errfmt(err, errlen, "batch: bad header field %u", f);
    if (f == 1) h->epoch = v;
    else if (f == 3) h->first_seq = v;
    else if (v > UINT32_MAX) return errfmt(err, errlen, "batch: count %llu", (unsigned long long)v);
    else h->count = (uint32_t)v;
    return 0;
}

static int read_batch(rd_t r, batch_header_t *h, char *err, size_t errlen)
{
    scan_t sc = { 0 };
    memset(h, 0, sizeof *h);
    while (r.p < r.end) {
        unsigned f, wt;
        if (rd_key(&r, &f, &wt) < 0) return errfmt(err, errlen, "batch: bad field key");
        if (batch_field(&r, f, wt, h, &sc, err, errlen) < 0) return -1;
    }
    if (h->epoch == 0 || h->first_seq == 0 || !h->resource[0])
        return errfmt(err, errlen, "batch: header without epoch, first seq or resource");
    if (h->count == 0 || h->count != sc.events)
        return errfmt(err, errlen, "batch: count %u but %llu events", h->count, (unsigned long long)sc.events);
    if (h->first_seq > UINT64_MAX - h->count) return errfmt(err, errlen, "batch: seqs overflow");
    return 1;
}

/* One top-level Envelope field: the version, the batch body, or skipped
 * (noting whether it was another oneof body). */
static int env_field(rd_t *r, unsigned f, unsigned wt, env_scan_t *e, char *err, size_t errlen)
{
    int rc;
    if (f == F_ENV_VERSION || f == F_ENV_BATCH) {
        bool *seen = f == F_ENV_VERSION ? &e->versioned : &e->batch;
        unsigned want = f == F_ENV_VERSION ? WT_VARINT : WT_LEN;
        if (*seen || wt != want) return errfmt(err, errlen, "envelope: field %u twice or of wire type %u", f, wt);
        *seen = true;
        rc = f == F_ENV_VERSION ? rd_varint(r, &e->version) : rd_slice(r, &e->body);
    } else {
        e->other |= f >= F_ENV_BODY_FIRST && f <= F_ENV_BODY_LAST;
        rc = rd_skip(r, wt);
    }
    return rc < 0 ? errfmt(err, errlen, "envelope: field %u cut short", f) : 0;
}

int batch_header_read(const uint8_t *buf, size_t len, batch_header_t *h, char *err, size_t errlen)
{
    if (!buf || len == 0) return errfmt(err, errlen, "empty frame");
    if (len > MSG_MAX_BYTES) return errfmt(err, errlen, "frame of %zu bytes exceeds limit", len);
    rd_t r = { buf, buf + len };
    env_scan_t e = { 0 };
    while (r.p < r.end) {
        unsigned f, wt;
        if (rd_key(&r, &f, &wt) < 0) return errfmt(err, errlen, "envelope: bad field key");
        if (env_field(&r, f, wt, &e, err, errlen) < 0) return -1;
    }
    if (!e.batch) return 0;
    if (e.other) return errfmt(err, errlen, "envelope: a batch and another body");
    if (e.version != MSG_VERSION)
        return errfmt(err, errlen, "unsupported envelope version %llu", (unsigned long long)e.version);
    return read_batch(e.body, h, err, errlen);
}
