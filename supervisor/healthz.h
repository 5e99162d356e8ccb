/* healthz.h - /healthz, /livez and /readyz as k8s.io/apiserver's healthz
 * package answers them.
 *
 * Owns: a list of named check results and the responses built from it,
 * word for word as upstream writes them (pure; no HTTP here):
 *   GET /<ep>            200 "ok" when every check passes (not excluded),
 *                        else 500 with one line per check and
 *                        "<ep> check failed"
 *   GET /<ep>?verbose    200 with the lines and "<ep> check passed"
 *   lines                "[+]name ok", "[-]name failed: reason withheld",
 *                        "[+]name excluded: ok"
 *   ?exclude=NAME        (repeatable) skips that check; names that match no
 *                        check give "warn: some health checks cannot be
 *                        excluded: no matches for "a","b""
 *   GET /<ep>/<name>     200 "ok", or 500 "internal server error: <reason>"
 *                        (the reason is shown here, as upstream shows it);
 *                        404 for a name that is no check
 * Upstream withholds the reasons from the root page and logs them at V(2);
 * the caller, which has the list, does that logging.
 */
#ifndef KUBUS_SUP_HEALTHZ_H
#define KUBUS_SUP_HEALTHZ_H

#include <stdbool.h>
#include <stddef.h>

#define SUP_CHECK_NAME_MAX 64
#define SUP_CHECK_REASON_MAX 192
#define SUP_CHECKS_MAX 24
#define SUP_HEALTHZ_EXCLUDE_MAX 32

typedef struct {
    char name[SUP_CHECK_NAME_MAX];
    bool ok;
    char reason[SUP_CHECK_REASON_MAX];   /* why it failed */
} sup_check_t;

typedef struct {
    sup_check_t c[SUP_CHECKS_MAX];
    size_t n;
} sup_checks_t;

/* Appends a check; a list that is full keeps its first SUP_CHECKS_MAX. */
void sup_checks_add(sup_checks_t *l, const char *name, bool ok, const char *reason_fmt, ...)
    __attribute__((format(printf, 4, 5)));
const sup_check_t *sup_checks_find(const sup_checks_t *l, const char *name);

typedef struct {
    bool verbose;
    const char *exclude[SUP_HEALTHZ_EXCLUDE_MAX];
    size_t nexclude;
} sup_healthz_query_t;

typedef struct {
    int status;     /* 200, 404 or 500 */
    char *body;     /* malloc'd; NULL only when out of memory */
} sup_healthz_reply_t;

/* GET /<endpoint> ("healthz", "livez", "readyz"). */
sup_healthz_reply_t sup_healthz_root(const sup_checks_t *l, const char *endpoint,
                                     const sup_healthz_query_t *q);
/* GET /<endpoint>/<name>. */
sup_healthz_reply_t sup_healthz_one(const sup_checks_t *l, const char *name);

#endif
