/* flags.h - scanning command-line flags and checking their values.
 *
 * Owns: the flag syntax every kubus program accepts ("--flag=value",
 * "--flag value", one or two dashes, "-v=N", '_' in a name read as '-'
 * as upstream's commands normalize it) and the value checks (integers
 * in a range, numbers, booleans, durations, bounded strings). Shared by
 * worker_main (lib/worker.c) and the supervisor, so both refuse bad input
 * with the same kind of message: which flag, what was given, and why.
 *
 * Every check returns 0, or -1 with a message in err naming the flag.
 */
#ifndef KUBUS_FLAGS_H
#define KUBUS_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLAGS_NAME_MAX 64

typedef struct {
    int argc;
    char **argv;
    int next;                 /* index of the argument to look at next */
} flags_iter_t;

typedef struct {
    const char *arg;          /* the argument as given, for messages */
    char name[FLAGS_NAME_MAX];/* without the dashes, '_' as '-': "kube-api-qps", "v" */
    const char *value;        /* after '=', else the next argument, else NULL */
    bool inline_value;        /* value came from "--flag=value" */
} flags_arg_t;

/* Scans argv[first..argc). */
void flags_iter_init(flags_iter_t *it, int argc, char **argv, int first);
/* 1: *a holds the next flag; 0: no more arguments; -1: the next argument is
 * not a flag (or a malformed one), err says which. */
int flags_iter_next(flags_iter_t *it, flags_arg_t *a, char *err, size_t errlen);
/* Call after using a->value when it was not inline: skips the argument that
 * supplied it. */
void flags_iter_took_value(flags_iter_t *it, const flags_arg_t *a);

/* Value checks. `flag` is the name used in messages (without dashes). */
int flags_need_value(const flags_arg_t *a, char *err, size_t errlen);
int flags_long(const char *flag, const char *value, long min, long max, long *out,
               char *err, size_t errlen);
int flags_double(const char *flag, const char *value, double min, double max, double *out,
                 char *err, size_t errlen);
/* "true"/"false"/"1"/"0"/"yes"/"no"; NULL counts as true (a bare --flag). */
int flags_bool(const char *flag, const char *value, bool *out, char *err, size_t errlen);
/* Go's time.ParseDuration syntax: an optional sign, then one or more
 * number+unit pairs ("10s", "1m30s", "1.5h", "500ms", "-2us"; units ns, us,
 * µs, ms, s, m, h), or "0". Result in milliseconds. */
int flags_go_duration(const char *flag, const char *value, double *ms, char *err, size_t errlen);
/* A Go duration (above) or a bare number of seconds, within [min_ms, max_ms]. */
int flags_duration_ms(const char *flag, const char *value, uint64_t min_ms, uint64_t max_ms,
                      uint64_t *out, char *err, size_t errlen);
/* Copies value into out; refuses a value that does not fit (never truncates)
 * and, unless allow_empty, an empty one. */
int flags_string(const char *flag, const char *value, char *out, size_t outlen, bool allow_empty,
                 char *err, size_t errlen);

/* Trims ASCII white space around s in place; returns the first kept byte. */
char *flags_trim(char *s);

#endif
