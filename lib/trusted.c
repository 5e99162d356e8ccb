/* trusted.c - no links, ours, 0700/0600. See trusted.h. */
#include "trusted.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errfmt.h"

/* Why fd (at path) is not to be trusted, or 0. */
static int check(int fd, const char *path, bool dir, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(fd, &st) < 0) return errfmt(err, errlen, "%s: cannot stat: %s", path, strerror(errno));
    if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
        errno = EPERM;
        return errfmt(err, errlen, "%s: not a %s", path, dir ? "directory" : "regular file");
    }
    if (st.st_uid != geteuid()) {
        errno = EPERM;
        return errfmt(err, errlen, "%s: owned by uid %u, not by this process's uid %u: refusing to trust it", path,
                      (unsigned)st.st_uid, (unsigned)geteuid());
    }
    if (st.st_mode & 077) {
        errno = EPERM;
        return errfmt(err, errlen, "%s: mode %04o lets other users in; it must be %s (chmod %s %s)", path,
                      (unsigned)(st.st_mode & 07777), dir ? "0700" : "0600", dir ? "0700" : "0600", path);
    }
    return 0;
}

/* The message for a failed open with O_NOFOLLOW. */
static int open_failed(const char *path, char *err, size_t errlen)
{
    int saved = errno;
    struct stat st;
    if ((saved == ELOOP || saved == ENOTDIR) && lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        errfmt(err, errlen, "%s: a symbolic link; kubus does not follow links to its bus and journal files "
                            "(give the real path)", path);
        saved = ELOOP;
    } else {
        errfmt(err, errlen, "%s: cannot open: %s", path, strerror(saved));
    }
    errno = saved;
    return -1;
}

/* fd (just opened at path, -1 if that failed) once checked, or -1. */
static int checked(int fd, const char *path, bool dir, char *err, size_t errlen)
{
    if (fd < 0) return open_failed(path, err, errlen);
    if (check(fd, path, dir, err, errlen) == 0) return fd;
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

int trusted_dir_open(const char *path, bool create, char *err, size_t errlen)
{
    if (create && mkdir(path, 0700) < 0 && errno != EEXIST)
        return errfmt(err, errlen, "%s: cannot create: %s", path, strerror(errno));
    return checked(open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), path, true, err, errlen);
}

int trusted_openat(int dirfd, const char *dir, const char *name, int flags, char *err, size_t errlen)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return checked(openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, 0600), path, false, err, errlen);
}
