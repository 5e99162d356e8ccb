/* jfile.c - journal record framing and CRC-32. See jfile.h. */
#include "jfile.h"

#include <string.h>

/* Reflected CRC-32, polynomial 0xEDB88320, table built on first use. */
static uint32_t crc_table[256];
static int crc_ready;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1u ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
    crc_ready = 1;
}

uint32_t jfile_crc32(uint32_t crc, const void *data, size_t n)
{
    if (!crc_ready) crc_init();
    const uint8_t *p = data;
    crc = ~crc;
    while (n--) crc = crc_table[(crc ^ *p++) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

size_t jfile_record_size(size_t idlen, size_t payload_len)
{
    return JFILE_FRAME_BYTES + JFILE_BODY_FIXED + idlen + payload_len;
}

int jfile_encode(uint8_t *out, uint8_t type, uint64_t unix_ms, const char *id, size_t idlen,
                 const uint8_t *payload, size_t payload_len)
{
    size_t body = JFILE_BODY_FIXED + idlen + payload_len;
    if (idlen > 0xFFFFu || body > JFILE_MAX_BODY) return -1;
    uint8_t *b = out + JFILE_FRAME_BYTES;
    b[0] = type;
    put_le(b + 1, unix_ms, 8);
    put_le(b + 9, idlen, 2);
    if (idlen) memcpy(b + JFILE_BODY_FIXED, id, idlen);
    if (payload_len) memcpy(b + JFILE_BODY_FIXED + idlen, payload, payload_len);
    put_le(out, body, 4);
    put_le(out + 4, jfile_crc32(0, b, body), 4);
    return 0;
}

jfile_next_t jfile_next(const uint8_t *data, size_t len, size_t *off, jfile_rec_t *rec)
{
    size_t at = *off;
    if (at >= len) return JFILE_END;
    if (len - at < JFILE_FRAME_BYTES) return JFILE_TORN;
    size_t body = (size_t)get_le(data + at, 4);
    uint32_t crc = (uint32_t)get_le(data + at + 4, 4);
    if (body < JFILE_BODY_FIXED || body > JFILE_MAX_BODY) return JFILE_CORRUPT;
    if (len - at - JFILE_FRAME_BYTES < body) return JFILE_TORN;
    const uint8_t *b = data + at + JFILE_FRAME_BYTES;
    if (jfile_crc32(0, b, body) != crc) return JFILE_CORRUPT;
    size_t idlen = (size_t)get_le(b + 9, 2);
    if (idlen > body - JFILE_BODY_FIXED) return JFILE_CORRUPT;
    rec->type = b[0];
    rec->unix_ms = get_le(b + 1, 8);
    rec->id = (const char *)(b + JFILE_BODY_FIXED);
    rec->idlen = idlen;
    rec->payload = b + JFILE_BODY_FIXED + idlen;
    rec->len = body - JFILE_BODY_FIXED - idlen;
    *off = at + JFILE_FRAME_BYTES + body;
    return JFILE_OK;
}
