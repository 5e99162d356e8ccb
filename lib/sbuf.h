/* sbuf.h - a growing string (the supervisor's HTTP texts, metrics text).
 *
 * Owns: appending formatted text to a malloc'd buffer that doubles as it
 * grows. On allocation failure the buffer stays failed: further appends do
 * nothing and sbuf_take yields NULL, so callers check once, at the end.
 */
#ifndef KUBUS_SBUF_H
#define KUBUS_SBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct { char *s; size_t len, cap; bool failed; } sbuf_t;

void sbuf_printf(sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbuf_put(sbuf_t *b, const char *s, size_t n);
/* Cuts the text back to its first len bytes (len <= b->len); a way to
 * take back what was appended tentatively. */
void sbuf_truncate(sbuf_t *b, size_t len);
/* The text (the caller frees it), or NULL when an append failed. An
 * empty buffer yields "". */
char *sbuf_take(sbuf_t *b);

#endif
