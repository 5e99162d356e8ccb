/* trusted.h - the directories and files kubus trusts on disk.
 *
 * Owns: opening the bus dir, the journal dir and the files in them (locks,
 * the executor's journal and its temporary file) so that another user cannot
 * have put them there or change them: the last path component is never a
 * symbolic link followed (O_NOFOLLOW; files by openat on the directory's
 * descriptor), and what was opened must be ours (our euid) and closed to
 * group and others (a directory 0700, a file 0600 at most). Anything else is
 * refused with a message naming the path and the fix; nothing is chmod'ed
 * or chown'ed behind the user's back. Directories further up the path are
 * the user's choice (their own sticky /tmp, a volume) and are not checked.
 */
#ifndef KUBUS_TRUSTED_H
#define KUBUS_TRUSTED_H

#include <stdbool.h>
#include <stddef.h>

/* Opens directory path (created 0700 when missing and create is set) and
 * checks it. A descriptor (O_RDONLY | O_DIRECTORY | O_CLOEXEC), or -1 with
 * a message in err and errno set (ELOOP a link, EPERM owner or mode). */
int trusted_dir_open(const char *path, bool create, char *err, size_t errlen);

/* Opens name in the directory dirfd (dir is its path, for messages) with
 * flags | O_NOFOLLOW | O_CLOEXEC, creating it 0600 under O_CREAT, and checks
 * it is a regular file of ours, 0600 at most. fd, or -1 with err and errno
 * (ENOENT untouched, so that callers can tell "not there yet"). */
int trusted_openat(int dirfd, const char *dir, const char *name, int flags, char *err, size_t errlen);

#endif
