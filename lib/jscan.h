/* jscan.h - a validating scanner over JSON text that builds no tree.
 *
 * Owns: walking JSON text in place: the members of an object, the elements
 * of an array, and skipping one value while checking it is what jansson
 * (JSON_REJECT_DUPLICATES, no NUL) would accept: RFC 8259 syntax, UTF-8,
 * escapes and surrogate pairs, no \u0000, integers within int64 and reals
 * that do not overflow, nesting at most JSCAN_MAX_DEPTH deep and, when asked,
 * no key twice in one object. The informer projects list items to their
 * views with it (lib/view.c), so the 10,000 pods of a list never become
 * jansson trees.
 *
 * Keys are compared as they are written (raw, escapes included): the API
 * server writes every key plainly, and a key spelled with an escape only
 * differs from the plain one to this scanner.
 *
 * Cost: O(bytes) for syntax; the duplicate check is O(k^2) for up to 16 keys
 * in an object and O(k log k) above (one allocation). No allocation
 * otherwise.
 */
#ifndef KUBUS_JSCAN_H
#define KUBUS_JSCAN_H

#include <stdbool.h>
#include <stddef.h>

#define JSCAN_MAX_DEPTH 256

typedef struct {
    const char *p, *end;   /* the cursor and the end of the text */
    const char *error;     /* the first error (static text); the scan stops */
    int depth;
} jscan_t;

/* A string as written: the bytes between the quotes, escapes undecoded. */
typedef struct {
    const char *raw;
    size_t len;
    bool escaped;          /* contains a backslash */
} jscan_str_t;

void jscan_init(jscan_t *s, const char *text, size_t len);

/* Skips white space and returns the next byte, '\0' at the end. */
char jscan_peek(jscan_t *s);

/* Checks and skips the value at the cursor. check_dups: refuse an object
 * with a key twice, at any depth. false with s->error set. */
bool jscan_skip(jscan_t *s, bool check_dups);

/* Enters the object (or array) at the cursor: false (no error set) when
 * the next value is not one, the cursor then unmoved. */
bool jscan_enter_object(jscan_t *s);
bool jscan_enter_array(jscan_t *s);

/* The next member of the entered object: 1 with *key read and the cursor at
 * its value (which the caller must skip or walk), 0 at the closing brace
 * (consumed), -1 on error. */
int jscan_next_member(jscan_t *s, jscan_str_t *key);

/* The next element of the entered array: 1 with the cursor at it, 0 at the
 * closing bracket (consumed), -1 on error. */
int jscan_next_element(jscan_t *s);

/* True when everything after the cursor is white space. */
bool jscan_at_end(jscan_t *s);

bool jscan_str_is(const jscan_str_t *str, const char *lit);

/* Decodes str (the raw bytes, validated by the scan) into out as a NUL-
 * terminated UTF-8 string. false when it does not fit. */
bool jscan_str_decode(const jscan_str_t *str, char *out, size_t cap);

#endif
