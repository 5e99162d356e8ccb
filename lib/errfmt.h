/* errfmt.h - the error-reason convention every parser and checker in kubus
 * follows: a function that can refuse its input takes (char *err, size_t
 * errlen) and, when it refuses, writes why into err and returns -1.
 *
 * Owns: errfmt, which writes that reason and returns -1, so a refusal is
 * one line: `return errfmt(err, errlen, "spec.replicas: %s", why);`.
 * err may be NULL or errlen 0 (the caller does not want the reason); a
 * reason that does not fit is cut, never overflows.
 */
#ifndef KUBUS_ERRFMT_H
#define KUBUS_ERRFMT_H

#include <stddef.h>

/* Formats the reason into err (when given); always returns -1. */
int errfmt(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
