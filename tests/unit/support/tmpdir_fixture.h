/* tmpdir_fixture: the private scratch directory a unit test works in.
 * It owns making one under /tmp (mode 0700, named after the test) and
 * removing it with everything below it, without a shell: the store, cache
 * and bus tests each used to build an "rm -rf" command line for system(). */
#ifndef KUBUS_TEST_TMPDIR_FIXTURE_H
#define KUBUS_TEST_TMPDIR_FIXTURE_H

#include <stddef.h>

/* Makes /tmp/kubus-<tag>-XXXXXX into dir (len >= 64 is plenty for a short
 * tag). 0, or -1 (dir too small, or mkdtemp failed). */
int tmpdir_make(char *dir, size_t len, const char *tag);

/* Removes dir and all it holds, not following symlinks. 0, or -1 when
 * something could not be removed. */
int tmpdir_remove(const char *dir);

#endif
