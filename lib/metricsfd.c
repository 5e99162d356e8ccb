/* metricsfd.c - the worker/supervisor metrics file. See metricsfd.h. */
#include "metricsfd.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define HEADER "kubus-metrics "

int metricsfd_create(const char *name)
{
    return memfd_create(name ? name : "kubus-metrics", MFD_CLOEXEC);
}

/* F_SETLK of the whole file: 0, 1 when another process holds it, -1. */
static int lock(int fd, short type)
{
    struct flock l = { .l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    if (fcntl(fd, F_SETLK, &l) == 0) return 0;
    return errno == EAGAIN || errno == EACCES ? 1 : -1;
}

static void unlock(int fd)
{
    struct flock l = { .l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
    (void)fcntl(fd, F_SETLK, &l);
}

int metricsfd_publish(int fd, const char *text, size_t len, uint64_t mono_ms)
{
    char head[64];
    int hl = snprintf(head, sizeof head, HEADER "%" PRIu64 "\n", mono_ms);
    int rc = lock(fd, F_WRLCK);
    if (rc != 0) return rc;
    struct iovec iov[2] = { { head, (size_t)hl }, { (void *)text, len } };
    size_t want = (size_t)hl + len;
    ssize_t n = pwritev(fd, iov, 2, 0);
    rc = n == (ssize_t)want && ftruncate(fd, (off_t)want) == 0 ? 0 : -1;
    unlock(fd);
    return rc;
}

static int parse(char *buf, size_t len, char **text, uint64_t *mono_ms)
{
    buf[len] = '\0';
    size_t hl = strlen(HEADER);
    char *nl = memchr(buf, '\n', len);
    if (len < hl || strncmp(buf, HEADER, hl) != 0 || !nl) return -1;
    char *end;
    errno = 0;
    unsigned long long ms = strtoull(buf + hl, &end, 10);
    if (errno || end != nl || end == buf + hl) return -1;
    size_t tl = len - (size_t)(nl + 1 - buf);
    memmove(buf, nl + 1, tl + 1);
    *text = buf;
    *mono_ms = ms;
    return 0;
}

int metricsfd_read(int fd, size_t max, char **text, uint64_t *mono_ms)
{
    int rc = lock(fd, F_RDLCK);
    if (rc != 0) return rc;
    struct stat st;
    char *buf = NULL;
    ssize_t n = -1;
    rc = -1;
    if (fstat(fd, &st) == 0 && st.st_size >= 0 && (size_t)st.st_size <= max) {
        if (st.st_size == 0) {
            rc = 1;
        } else if ((buf = malloc((size_t)st.st_size + 1)) != NULL) {
            n = pread(fd, buf, (size_t)st.st_size, 0);
            if (n == st.st_size) rc = 0;
        }
    }
    unlock(fd);
    if (rc == 0 && parse(buf, (size_t)n, text, mono_ms) == 0) return 0;
    free(buf);
    return rc == 1 ? 1 : -1;
}
