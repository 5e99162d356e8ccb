/* procmetrics.c - process_* from /proc. See procmetrics.h. */
#include "procmetrics.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "promtext.h"

int procstat_parse(const char *text, procstat_t *out)
{
    const char *s = text ? strrchr(text, ')') : NULL;
    if (!s) return -1;
    s++;
    /* after the command: field 3 (state) is the first */
    uint64_t v[25] = { 0 };
    int field = 2;
    while (*s && field < 24) {
        while (*s == ' ') s++;
        if (!*s || *s == '\n') break;
        field++;
        char *end;
        if (field == 3) {
            end = (char *)s + 1;
        } else {
            long long x = strtoll(s, &end, 10);
            if (end == s) return -1;
            v[field] = (uint64_t)x;
        }
        s = end;
    }
    if (field < 24) return -1;
    out->utime = v[14];
    out->stime = v[15];
    out->starttime = v[22];
    out->vsize = v[23];
    out->rss = (int64_t)v[24];
    return 0;
}

/* The whole of a small /proc file into buf; its length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0) return -1;
    buf[n] = '\0';
    return n;
}

static int stat_of(const char *pid, procstat_t *st)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%s/stat", pid);
    if (read_small(path, buf, sizeof buf) < 0) return -1;
    return procstat_parse(buf, st);
}

static long count_fds(const char *pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%s/fd", pid);
    DIR *d = opendir(path);
    if (!d) return -1;
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

/* /proc/stat's btime: boot time in unix seconds, 0 if unknown. */
static uint64_t boot_time(void)
{
    char buf[16384];
    if (read_small("/proc/stat", buf, sizeof buf) < 0) return 0;
    const char *b = strstr(buf, "\nbtime ");
    return b ? strtoull(b + 7, NULL, 10) : 0;
}

static void add_process(procmetrics_t *m, const char *pid, double tick, double page)
{
    procstat_t st;
    if (stat_of(pid, &st) < 0) return;
    m->cpu_seconds += (double)(st.utime + st.stime) / tick;
    m->virtual_bytes += (double)st.vsize;
    m->resident_bytes += (double)st.rss * page;
    long fds = count_fds(pid);
    if (fds > 0) m->open_fds += (double)fds;
}

void procmetrics_read(const pid_t *pids, size_t n, procmetrics_t *m)
{
    memset(m, 0, sizeof *m);
    long t = sysconf(_SC_CLK_TCK), p = sysconf(_SC_PAGESIZE);
    double tick = t > 0 ? (double)t : 100, page = p > 0 ? (double)p : 4096;
    add_process(m, "self", tick, page);
    char pid[24];
    for (size_t i = 0; i < n; i++) {
        if (pids[i] <= 0) continue;
        snprintf(pid, sizeof pid, "%d", (int)pids[i]);
        add_process(m, pid, tick, page);
    }
    struct rusage ru;
    if (getrusage(RUSAGE_CHILDREN, &ru) == 0)
        m->cpu_seconds += (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                          (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) m->max_fds = rl.rlim_cur == RLIM_INFINITY ? -1 : (double)rl.rlim_cur;
    procstat_t self;
    if (stat_of("self", &self) == 0) m->start_time_seconds = (double)boot_time() + (double)self.starttime / tick;
}

void procmetrics_render(const procmetrics_t *m, sbuf_t *b)
{
    prom_family(b, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
    prom_sample(b, "process_cpu_seconds_total", NULL, m->cpu_seconds);
    prom_family(b, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
    prom_sample(b, "process_max_fds", NULL, m->max_fds);
    prom_family(b, "process_open_fds", "gauge", "Number of open file descriptors.");
    prom_sample(b, "process_open_fds", NULL, m->open_fds);
    prom_family(b, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    prom_sample(b, "process_resident_memory_bytes", NULL, m->resident_bytes);
    prom_family(b, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
    prom_sample(b, "process_start_time_seconds", NULL, m->start_time_seconds);
    prom_family(b, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
    prom_sample(b, "process_virtual_memory_bytes", NULL, m->virtual_bytes);
}
