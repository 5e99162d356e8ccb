/* journal_fixture: see journal_fixture.h. */
#include "journal_fixture.h"

#include <stdio.h>

#include "tmpdir_fixture.h"

int journal_fixture_file(const journal_fixture_t *f, const char *name, char *out, size_t len)
{
    int n = snprintf(out, len, "%s/%s", f->dir, name);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

int journal_fixture_make(journal_fixture_t *f, const char *tag)
{
    if (tmpdir_make(f->dir, sizeof f->dir, tag) < 0) return -1;
    if (journal_fixture_file(f, "executor.journal", f->path, sizeof f->path) == 0) return 0;
    (void)tmpdir_remove(f->dir);
    return -1;
}

int journal_fixture_remove(const journal_fixture_t *f)
{
    return tmpdir_remove(f->dir);
}
