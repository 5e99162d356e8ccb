/* vmodule.h - klog's --vmodule: per-source-file verbosity.
 *
 * Owns: parsing a "pattern=N,..." list (checked as component-base checks the
 * flag) and finding the level a source file gets from it. lib/log.c keeps
 * the list in force; this file only parses and matches.
 */
#ifndef KUBUS_VMODULE_H
#define KUBUS_VMODULE_H

#include <stdbool.h>
#include <stddef.h>

#define VMODULE_MAX 32
#define VMODULE_PATTERN_MAX 128

typedef struct {
    char pattern[VMODULE_PATTERN_MAX];
    bool literal;      /* no glob characters: compared as a string */
    int level;
} vmodule_pat_t;

typedef struct {
    vmodule_pat_t p[VMODULE_MAX];
    size_t n;
} vmodule_t;

/* Items "pattern=N" separated by commas; empty items are skipped, and so
 * are N = 0 items (klog drops them: they cannot change anything). 0, or -1
 * with the reason in err (out is then empty). */
int vmodule_parse(const char *spec, vmodule_t *out, char *err, size_t errlen);
/* The level of the first pattern matching file's base name without its
 * extension (".../supervisor/config.c" -> "config"); -1 when none does. */
int vmodule_level(const vmodule_t *m, const char *file);

#endif
