/* tmpdir_fixture: see tmpdir_fixture.h. */
#define _XOPEN_SOURCE 700
#include "tmpdir_fixture.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

int tmpdir_make(char *dir, size_t len, const char *tag)
{
    int n = snprintf(dir, len, "/tmp/kubus-%s-XXXXXX", tag);
    if (n < 0 || (size_t)n >= len) return -1;
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path) == 0 ? 0 : -1;
}

int tmpdir_remove(const char *dir)
{
    /* depth first (children before their directory), symlinks not followed */
    return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
