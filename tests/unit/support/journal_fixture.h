/* journal_fixture: an executor journal file for a unit test to open.
 * It owns the scratch directory it lives in (tmpdir_fixture) and its name
 * there, the one the executor gives it (executor.journal), so the journal
 * and engine tests set it up one way, with the paths' lengths checked. */
#ifndef KUBUS_TEST_JOURNAL_FIXTURE_H
#define KUBUS_TEST_JOURNAL_FIXTURE_H

#include <stddef.h>

typedef struct {
    char dir[64];                /* /tmp/kubus-<tag>-XXXXXX */
    char path[128];              /* <dir>/executor.journal (not made: the journal creates it) */
} journal_fixture_t;

/* Makes the directory and names the journal in it. 0, or -1. */
int journal_fixture_make(journal_fixture_t *f, const char *tag);
/* <dir>/<name> into out: another file beside the journal. 0, or -1 when
 * out is too small. */
int journal_fixture_file(const journal_fixture_t *f, const char *name, char *out, size_t len);
/* Removes the directory and all it holds. 0, or -1. */
int journal_fixture_remove(const journal_fixture_t *f);

#endif
