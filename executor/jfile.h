/* jfile.h - the on-disk framing of the executor's journal (journal.c).
 *
 * Owns: the record format, a CRC-32 and the parser that tells a whole
 * record from a torn or corrupt one. No I/O here: journal.c writes and
 * reads the file.
 *
 * A record is
 *     u32 len   (little endian) bytes of body
 *     u32 crc   CRC-32 (IEEE 802.3, as zlib's crc32) of the body
 *     body:     u8 type, u64 unix_ms (LE), u16 idlen (LE), id, payload
 * where id is the controller's routing id and payload the packed protobuf
 * (Action, ActionResult) or, for the header, the API server URL.
 * The file starts with a JFILE_HEADER record. A SIGKILL can leave the last
 * record half written: the parser reports it as torn (len beyond the end or
 * CRC mismatch), and the reader stops there.
 */
#ifndef KUBUS_EXECUTOR_JFILE_H
#define KUBUS_EXECUTOR_JFILE_H

#include <stddef.h>
#include <stdint.h>

enum {
    JFILE_HEADER = 1,   /* payload: the API server URL the journal is about */
    JFILE_ACTION = 2,   /* payload: a packed Action, id: its controller routing id */
    JFILE_RESULT = 3,   /* payload: a packed ActionResult */
    JFILE_DIGEST = 4,   /* payload: u64 action id, u64 digest of its Action (LE);
                         * after a compacted RESULT, whose Action is gone */
};

#define JFILE_FRAME_BYTES 8u       /* len + crc */
#define JFILE_BODY_FIXED 11u       /* type + unix_ms + idlen */
#define JFILE_MAX_BODY (80u * 1024u * 1024u) /* above MSG_MAX_BYTES: anything larger is corrupt */

typedef struct {
    uint8_t type;
    uint64_t unix_ms;
    const char *id;            /* not NUL-terminated: idlen bytes */
    size_t idlen;
    const uint8_t *payload;
    size_t len;
} jfile_rec_t;

uint32_t jfile_crc32(uint32_t crc, const void *data, size_t n);

/* Size of the whole record for an id and a payload. */
size_t jfile_record_size(size_t idlen, size_t payload_len);
/* Writes one record into out (jfile_record_size bytes). -1 if idlen > 65535. */
int jfile_encode(uint8_t *out, uint8_t type, uint64_t unix_ms, const char *id, size_t idlen,
                 const uint8_t *payload, size_t payload_len);

typedef enum {
    JFILE_OK = 0,    /* *rec filled, *off advanced */
    JFILE_END,       /* clean end of the data */
    JFILE_TORN,      /* a record starts at *off but is incomplete */
    JFILE_CORRUPT,   /* length out of bounds, CRC mismatch or bad body */
} jfile_next_t;

/* Parses the record at data[*off]. rec borrows data. */
jfile_next_t jfile_next(const uint8_t *data, size_t len, size_t *off, jfile_rec_t *rec);

#endif
