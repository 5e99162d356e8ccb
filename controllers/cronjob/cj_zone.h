/* cj_zone.h - time zones for cron schedules, as Go's time package has them.
 *
 * Owns: which zone a name means and how wall-clock times map to instants
 * in it, the way upstream's CronJob controller sees them through Go:
 *   - names: "" and "UTC" are UTC; "Local" is the process's local zone;
 *     anything else a TZif file of the system tz database ($TZDIR or
 *     /usr/share/zoneinfo), read by the C library;
 *   - the local zone is Go's time.Local: TZ unset -> /etc/localtime (UTC
 *     when it is absent or not a TZif file); TZ="" or "UTC" -> UTC;
 *     TZ=":x" is TZ="x"; an absolute path -> that file; a name -> that
 *     zone; one that does not load -> UTC (Go never reads POSIX rule
 *     strings such as "CET-1CEST", so neither do we);
 *   - wall clock -> instant is Go's time.Date: in a DST gap or overlap it
 *     takes the offset in force at the instant "wall clock minus the offset
 *     in force at the wall clock read as UTC" (so 02:30 in New York's
 *     spring gap is 01:30 EST, in Berlin's 03:30 CEST; 01:30 in New
 *     York's autumn overlap is the EDT one, 02:30 in Berlin's the CET one),
 *     where the C library's mktime may choose otherwise.
 * A zone is entered by setting TZ for the duration of one computation and
 * restoring it after, so none of this is thread-safe (the controller is
 * single-threaded).
 */
#ifndef KUBUS_CJ_ZONE_H
#define KUBUS_CJ_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CJ_ZONE_MAX 128

typedef struct {
    bool utc;
    bool had_tz;
    char saved[256];
} cj_zone_ctx_t;

/* Enters zone name (see above; NULL = UTC) until cj_zone_leave. */
void cj_zone_enter(cj_zone_ctx_t *z, const char *name);
void cj_zone_leave(cj_zone_ctx_t *z);
/* The wall clock of instant t in the entered zone. */
void cj_zone_civil(const cj_zone_ctx_t *z, int64_t t, struct tm *tm);
/* Go's time.Date in the entered zone: the instant of a wall-clock time
 * (fields out of range are normalised, as Go does). */
int64_t cj_zone_date(const cj_zone_ctx_t *z, int year, int mon0, int mday, int hour, int min, int sec);

/* Is name a zone we can load? "", "UTC" and "Local" always are (Go's
 * LoadLocation); API validation refuses "Local" for spec.timeZone. 0, or
 * -1 with Go's wording ("unknown time zone X" / "invalid location name")
 * in err. */
int cj_zone_check(const char *name, char *err, size_t errlen);

/* The process's local zone (Go's time.Local from TZ and /etc/localtime):
 * "" for UTC, else a zone name or an absolute TZif path. Resolved again
 * when TZ changes; the pointer stays valid until then. */
const char *cj_local_zone(void);
/* The same from explicit inputs: tz = TZ's value (NULL: unset), and the
 * file that stands in for /etc/localtime. Writes "" for UTC. */
void cj_local_zone_resolve(const char *tz, const char *localtime_path, char *out, size_t outlen);

#endif
