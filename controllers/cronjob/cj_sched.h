/* cj_sched.h - cron schedules: parsing and "the next time after t".
 *
 * Owns: the schedule language upstream's CronJob controller accepts
 * (robfig/cron v3 ParseStandard): five fields minute hour day-of-month
 * month day-of-week with "*", "?", ranges "a-b", steps "/n", lists "a,b",
 * month names jan..dec and day names sun..sat (any case); the macros
 * @yearly @annually @monthly @weekly @daily @midnight @hourly and
 * @every <Go duration>; an optional "TZ=<zone> " / "CRON_TZ=<zone> " prefix.
 * Day matching follows cron: when both day-of-month and day-of-week are
 * restricted (neither starts with "*" / "?" without a step > 1), a day
 * matches if either does; otherwise both must.
 *
 * Next-time search follows robfig's SpecSchedule.Next field by field
 * (month, day, hour, minute) in the schedule's zone, giving up after five
 * years (CJ_NEVER); wall-clock times become instants as Go's time.Date
 * makes them (cj_zone.h), so DST gaps and overlaps come out as upstream's:
 * a time in a spring-forward gap does not fire that day, one in an autumn
 * overlap fires at both instants, and hourly or minutely schedules keep
 * to absolute hours and minutes. A schedule without a zone runs in the
 * process's local zone (Go's time.Local: TZ, else /etc/localtime, else
 * UTC), as robfig does in kube-controller-manager.
 *
 * Times are unix seconds. Cost: parse O(len); next O(12 + 31 + 24 + 60)
 * steps per year searched.
 */
#ifndef KUBUS_CJ_SCHED_H
#define KUBUS_CJ_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cj_zone.h"

/* "No next time within five years" (robfig's zero time). Compares lower
 * than any real time. */
#define CJ_NEVER (INT64_MIN / 4)

typedef struct {
    uint64_t minute, hour, dom, month, dow;  /* bit i set: value i allowed; bit 63: the field was "*" */
    int64_t every;                           /* > 0: @every, seconds between runs (fields unused) */
    char zone[CJ_ZONE_MAX];                  /* "" = UTC, "Local" = the process's zone */
} cj_sched_t;

/* Parses spec. zone_default is spec.timeZone: NULL (unset) means the
 * process's local zone, "" or "UTC" UTC; a TZ=/CRON_TZ= prefix in the spec
 * wins over it. 0, or -1 with the reason in err (robfig's wording). */
int cj_sched_parse(const char *spec, const char *zone_default, cj_sched_t *out, char *err, size_t errlen);

/* The first schedule time strictly after t (whole seconds), or CJ_NEVER. */
int64_t cj_sched_next(const cj_sched_t *s, int64_t t);

/* Formats t as RFC3339 in zone (NULL/"": UTC, "Z" suffix; otherwise the
 * zone's offset "+hh:mm"), as Go's time.Format(time.RFC3339) would.
 * Length or -1. */
int cj_format_rfc3339(int64_t t, const char *zone, char *out, size_t outlen);

/* Formats t in UTC as Go's RFC1123Z: "Mon, 02 Jan 2006 15:04:05 +0000". */
int cj_format_rfc1123z(int64_t t, char *out, size_t outlen);

#endif
