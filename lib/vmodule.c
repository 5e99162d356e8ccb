/* vmodule.c - parsing and matching --vmodule. See vmodule.h. */
#include "vmodule.h"
#include "errfmt.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"

/* Like klog: a pattern without glob characters needs no fnmatch. */
static bool is_literal(const char *p) { return strpbrk(p, "\\*?[]") == NULL; }

/* component-base parses N as an unsigned 31-bit integer. */
static int parse_level(const char *s, int *out)
{
    if (*s < '0' || *s > '9') return -1;
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v > INT32_MAX) return -1;
    *out = (int)v;
    return 0;
}

/* One "pattern=N" item of length n. */
static int parse_item(vmodule_t *m, const char *item, size_t n, char *err, size_t errlen)
{
    const char *eq = memchr(item, '=', n);
    bool two_parts = eq && !memchr(eq + 1, '=', n - (size_t)(eq - item) - 1);
    size_t plen = eq ? (size_t)(eq - item) : 0;
    if (!two_parts || plen == 0 || eq + 1 == item + n)
        return errfmt(err, errlen, "--vmodule: \"%.*s\" does not have the pattern=N format",
                          (int)n, item);
    size_t llen = n - plen - 1;
    char level[16] = "";
    bool fits = llen < sizeof level;
    if (fits) {
        memcpy(level, eq + 1, llen);
        level[llen] = '\0';
    }
    int v = 0;
    if (!fits || parse_level(level, &v) < 0)
        return errfmt(err, errlen, "--vmodule: parsing verbosity in \"%.*s\": not an integer "
                          "between 0 and 2147483647", (int)n, item);
    if (plen >= VMODULE_PATTERN_MAX)
        return errfmt(err, errlen, "--vmodule: pattern of %zu bytes is too long (limit %d)", plen,
                          VMODULE_PATTERN_MAX - 1);
    if (v == 0) return 0;
    if (m->n == VMODULE_MAX)
        return errfmt(err, errlen, "--vmodule: more than %d patterns", VMODULE_MAX);
    vmodule_pat_t *p = &m->p[m->n++];
    memcpy(p->pattern, item, plen);
    p->pattern[plen] = '\0';
    p->literal = is_literal(p->pattern);
    p->level = v;
    return 0;
}

int vmodule_parse(const char *spec, vmodule_t *out, char *err, size_t errlen)
{
    out->n = 0;
    if (!spec) return 0;
    for (const char *s = spec; *s;) {
        size_t n = strcspn(s, ",");
        if (n > 0 && parse_item(out, s, n, err, errlen) < 0) {
            out->n = 0;
            return -1;
        }
        s += n;
        if (*s == ',') s++;
    }
    return 0;
}

/* "dir/name.c" -> "name" into out. */
static void module_name(const char *file, char *out, size_t outlen)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    size_t n = strlen(base);
    const char *dot = strrchr(base, '.');
    if (dot && (strcmp(dot, ".c") == 0 || strcmp(dot, ".h") == 0)) n = (size_t)(dot - base);
    if (n >= outlen) n = outlen - 1;
    memcpy(out, base, n);
    out[n] = '\0';
}

int vmodule_level(const vmodule_t *m, const char *file)
{
    if (m->n == 0 || !file) return -1;
    char name[256];
    module_name(file, name, sizeof name);
    for (size_t i = 0; i < m->n; i++) {
        const vmodule_pat_t *p = &m->p[i];
        bool hit = p->literal ? strcmp(p->pattern, name) == 0 : fnmatch(p->pattern, name, 0) == 0;
        if (hit) return p->level;
    }
    return -1;
}
