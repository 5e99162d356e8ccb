/* jscan.c - validating JSON scanner without a tree. See jscan.h. */
#include "jscan.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SMALL_KEYS 16

static bool fail(jscan_t *s, const char *why)
{
    if (!s->error) s->error = why;
    return false;
}

void jscan_init(jscan_t *s, const char *text, size_t len)
{
    s->p = text;
    s->end = text + len;
    s->error = NULL;
    s->depth = 0;
}

static void skip_ws(jscan_t *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\r' || *s->p == '\t')) s->p++;
}

char jscan_peek(jscan_t *s)
{
    skip_ws(s);
    return s->p < s->end ? *s->p : '\0';
}

bool jscan_at_end(jscan_t *s)
{
    skip_ws(s);
    return s->p == s->end;
}

/* ---- strings ---- */

static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/* One \uXXXX escape at p (after the backslash and 'u'), with its low half
 * when it is a high surrogate. Returns the bytes consumed after the 'u', or
 * -1. *cp gets the code point. */
static int unicode_escape(const char *p, const char *end, uint32_t *cp)
{
    if (end - p < 4) return -1;
    int hi = hex4(p);
    if (hi < 0 || hi == 0) return -1;                     /* bad hex, or \u0000 */
    if (hi >= 0xDC00 && hi <= 0xDFFF) return -1;          /* a lone low half */
    if (hi < 0xD800 || hi > 0xDBFF) { *cp = (uint32_t)hi; return 4; }
    if (end - p < 10 || p[4] != '\\' || p[5] != 'u') return -1;
    int lo = hex4(p + 6);
    if (lo < 0xDC00 || lo > 0xDFFF) return -1;
    *cp = 0x10000u + (((uint32_t)hi - 0xD800u) << 10) + ((uint32_t)lo - 0xDC00u);
    return 10;
}

/* Length of the UTF-8 sequence at p (its first byte >= 0x80), 0 if it is
 * not well formed (overlong, a surrogate, above U+10FFFF, cut short). */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (n == 0 || (size_t)(end - p) < n) return 0;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && p[1] < 0xA0) return 0;               /* overlong */
    if (c == 0xED && p[1] > 0x9F) return 0;               /* U+D800..DFFF */
    if (c == 0xF0 && p[1] < 0x90) return 0;               /* overlong */
    if (c == 0xF4 && p[1] > 0x8F) return 0;               /* above U+10FFFF */
    return n;
}

static bool scan_escape(jscan_t *s)
{
    if (s->end - s->p < 2) return fail(s, "string ends inside an escape");
    char c = s->p[1];
    if (c == 'u') {
        uint32_t cp;
        int n = unicode_escape(s->p + 2, s->end, &cp);
        if (n < 0) return fail(s, "invalid \\u escape");
        s->p += 2 + n;
        return true;
    }
    if (!strchr("\"\\/bfnrt", c) || c == '\0') return fail(s, "invalid escape in a string");
    s->p += 2;
    return true;
}

/* Bytes a string holds as they are: printable ASCII but the quote and the
 * backslash. Looked up, 8 at a time, on the hot path (pods' long
 * annotation values are most of a list's bytes). */
static const bool plain_byte[256] = {
    [' '] = 1, ['!'] = 1, ['#' ... '['] = 1, [']' ... 0x7F] = 1,
};

static const char *skip_plain(const char *p, const char *end)
{
    const unsigned char *u = (const unsigned char *)p;
    while (end - (const char *)u >= 8 && plain_byte[u[0]] && plain_byte[u[1]] && plain_byte[u[2]] &&
           plain_byte[u[3]] && plain_byte[u[4]] && plain_byte[u[5]] && plain_byte[u[6]] && plain_byte[u[7]])
        u += 8;
    while ((const char *)u < end && plain_byte[*u]) u++;
    return (const char *)u;
}

/* The string at the cursor (at its opening quote). */
static bool scan_string(jscan_t *s, jscan_str_t *out)
{
    if (s->p >= s->end || *s->p != '"') return fail(s, "expected a string");
    s->p++;
    const char *start = s->p;
    bool escaped = false;
    while ((s->p = skip_plain(s->p, s->end)) < s->end) {
        unsigned char c = (unsigned char)*s->p;
        if (c == '"') {
            if (out) *out = (jscan_str_t){ .raw = start, .len = (size_t)(s->p - start), .escaped = escaped };
            s->p++;
            return true;
        }
        if (c == '\\') {
            escaped = true;
            if (!scan_escape(s)) return false;
        } else if (c < 0x20) {
            return fail(s, "control character in a string");
        } else if (c >= 0x80) {
            size_t n = utf8_len((const unsigned char *)s->p, (const unsigned char *)s->end);
            if (!n) return fail(s, "invalid UTF-8 in a string");
            s->p += n;
        } else {
            s->p++;
        }
    }
    return fail(s, "unterminated string");
}

/* ---- numbers and literals ---- */

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static const char *digits(const char *p, const char *end)
{
    while (p < end && is_digit(*p)) p++;
    return p;
}

/* The range checks jansson makes: an integer must fit int64 and a real
 * must not overflow. */
static bool number_in_range(jscan_t *s, const char *start, size_t n, bool real)
{
    char tmp[64];
    if (n >= sizeof tmp) return fail(s, "number too long");
    memcpy(tmp, start, n);
    tmp[n] = '\0';
    errno = 0;
    if (real) {
        double d = strtod(tmp, NULL);
        if (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL)) return fail(s, "real number overflow");
    } else {
        (void)strtoll(tmp, NULL, 10);
        if (errno == ERANGE) return fail(s, "integer out of range");
    }
    return true;
}

static bool scan_number(jscan_t *s)
{
    const char *start = s->p, *p = s->p, *e = s->end;
    bool real = false;
    if (p < e && *p == '-') p++;
    if (p < e && *p == '0') p++;
    else if (p < e && *p >= '1' && *p <= '9') p = digits(p, e);
    else return fail(s, "invalid number");
    if (p < e && *p == '.') {
        real = true;
        const char *q = digits(p + 1, e);
        if (q == p + 1) return fail(s, "invalid number");
        p = q;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        real = true;
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        const char *q = digits(p, e);
        if (q == p) return fail(s, "invalid number");
        p = q;
    }
    if (!number_in_range(s, start, (size_t)(p - start), real)) return false;
    s->p = p;
    return true;
}

static bool scan_literal(jscan_t *s, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0) return fail(s, "invalid literal");
    s->p += n;
    return true;
}

/* ---- objects and arrays ---- */

static int key_cmp(const void *a, const void *b)
{
    const jscan_str_t *x = a, *y = b;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    return memcmp(x->raw, y->raw, x->len);
}

static bool has_duplicate(const jscan_str_t *keys, size_t n)
{
    if (n <= SMALL_KEYS) {
        for (size_t i = 1; i < n; i++)
            for (size_t j = 0; j < i; j++)
                if (key_cmp(&keys[i], &keys[j]) == 0) return true;
        return false;
    }
    qsort((void *)keys, n, sizeof *keys, key_cmp);
    for (size_t i = 1; i < n; i++)
        if (key_cmp(&keys[i], &keys[i - 1]) == 0) return true;
    return false;
}

/* Collected keys of one object: on the stack, spilled to the heap past
 * SMALL_KEYS. */
typedef struct {
    jscan_str_t small[SMALL_KEYS];
    jscan_str_t *v;
    size_t n, cap;
} keyset_t;

static bool keyset_add(keyset_t *k, const jscan_str_t *key)
{
    if (k->n == k->cap) {
        size_t cap = k->cap * 2;
        jscan_str_t *v = k->v == k->small ? malloc(cap * sizeof *v) : realloc(k->v, cap * sizeof *v);
        if (!v) return false;
        if (k->v == k->small) memcpy(v, k->small, sizeof k->small);
        k->v = v;
        k->cap = cap;
    }
    k->v[k->n++] = *key;
    return true;
}

static bool skip_value(jscan_t *s, bool check_dups);

static bool skip_members(jscan_t *s, bool check_dups, keyset_t *keys)
{
    jscan_str_t key;
    int r;
    while ((r = jscan_next_member(s, &key)) == 1) {
        if (check_dups && !keyset_add(keys, &key)) return fail(s, "out of memory");
        if (!skip_value(s, check_dups)) return false;
    }
    if (r < 0) return false;
    if (check_dups && has_duplicate(keys->v, keys->n)) return fail(s, "duplicate object key");
    return true;
}

static bool skip_object(jscan_t *s, bool check_dups)
{
    if (!jscan_enter_object(s)) return fail(s, "expected an object");
    keyset_t keys = { .n = 0, .cap = SMALL_KEYS };
    keys.v = keys.small;
    bool ok = skip_members(s, check_dups, &keys);
    if (keys.v != keys.small) free(keys.v);
    return ok;
}

static bool skip_array(jscan_t *s, bool check_dups)
{
    if (!jscan_enter_array(s)) return fail(s, "expected an array");
    int r;
    while ((r = jscan_next_element(s)) == 1)
        if (!skip_value(s, check_dups)) return false;
    return r == 0;
}

static bool skip_value(jscan_t *s, bool check_dups)
{
    switch (jscan_peek(s)) {
    case '{': return skip_object(s, check_dups);
    case '[': return skip_array(s, check_dups);
    case '"': return scan_string(s, NULL);
    case 't': return scan_literal(s, "true");
    case 'f': return scan_literal(s, "false");
    case 'n': return scan_literal(s, "null");
    case '\0': return fail(s, "unexpected end of text");
    default: return scan_number(s);
    }
}

bool jscan_skip(jscan_t *s, bool check_dups)
{
    return !s->error && skip_value(s, check_dups);
}

static bool enter(jscan_t *s, char open)
{
    if (s->error || jscan_peek(s) != open) return false;
    if (s->depth >= JSCAN_MAX_DEPTH) return fail(s, "nesting too deep");
    s->depth++;
    s->p++;
    return true;
}

bool jscan_enter_object(jscan_t *s) { return enter(s, '{'); }
bool jscan_enter_array(jscan_t *s) { return enter(s, '['); }

/* Right after entering, the byte before the cursor is the opening bracket
 * (no value ends with one), so no separator is due yet. Else a comma or the
 * close. 1 an item follows, 0 closed, -1 error. */
static int next_item(jscan_t *s, char open, char close)
{
    if (s->error) return -1;
    bool first = s->p[-1] == open;
    char c = jscan_peek(s);
    if (c == close) {
        s->p++;
        s->depth--;
        return 0;
    }
    if (!first) {
        if (c != ',') return fail(s, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'"), -1;
        s->p++;
        c = jscan_peek(s);
    }
    if (c == '\0') return fail(s, "unexpected end of text"), -1;
    return 1;
}

int jscan_next_member(jscan_t *s, jscan_str_t *key)
{
    int r = next_item(s, '{', '}');
    if (r != 1) return r;
    if (!scan_string(s, key)) return -1;
    if (jscan_peek(s) != ':') return fail(s, "expected ':'"), -1;
    s->p++;
    if (jscan_peek(s) == '\0') return fail(s, "unexpected end of text"), -1;
    return 1;
}

int jscan_next_element(jscan_t *s)
{
    return next_item(s, '[', ']');
}

bool jscan_str_is(const jscan_str_t *str, const char *lit)
{
    size_t n = strlen(lit);
    return !str->escaped && str->len == n && memcmp(str->raw, lit, n) == 0;
}

static size_t put_utf8(char *out, uint32_t cp)
{
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) { out[0] = (char)(0xC0 | (cp >> 6)); out[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static char simple_escape(char c)
{
    switch (c) {
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    default: return c;   /* " \ / */
    }
}

bool jscan_str_decode(const jscan_str_t *str, char *out, size_t cap)
{
    const char *p = str->raw, *end = str->raw + str->len;
    size_t n = 0;
    while (p < end) {
        char tmp[4];
        size_t k = 1;
        if (*p != '\\') {
            tmp[0] = *p++;
        } else if (p[1] == 'u') {
            uint32_t cp = 0;
            int used = unicode_escape(p + 2, end, &cp);
            if (used < 0) return false;
            k = put_utf8(tmp, cp);
            p += 2 + used;
        } else {
            tmp[0] = simple_escape(p[1]);
            p += 2;
        }
        if (n + k >= cap) return false;
        memcpy(out + n, tmp, k);
        n += k;
    }
    if (n >= cap) return false;
    out[n] = '\0';
    return true;
}
