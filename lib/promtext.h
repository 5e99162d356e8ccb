/* promtext.h - the Prometheus text exposition format (version 0.0.4).
 *
 * Owns: writing metric families (HELP and TYPE lines, samples, histograms
 * with cumulative buckets, _sum and _count) with floats formatted as
 * Prometheus's Go client formats them (le="1e-08", "0.005", "+Inf"), and
 * merging several such texts (one per worker) into one in which every
 * family appears once: its HELP/TYPE from the first text that has it, then
 * the samples of every text in order. Label values are written as given:
 * callers pass names they checked (queue names, controller names, codes).
 */
#ifndef KUBUS_PROMTEXT_H
#define KUBUS_PROMTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "sbuf.h"

#define PROM_BUCKETS_MAX 16

typedef struct {
    const double *bounds;            /* upper bounds, ascending, without +Inf */
    size_t n;                        /* <= PROM_BUCKETS_MAX */
    uint64_t counts[PROM_BUCKETS_MAX]; /* observations <= bounds[i] (not cumulative) */
    uint64_t count;                  /* all observations (the +Inf bucket) */
    double sum;
} prom_hist_t;

/* A histogram over bounds (kept by pointer: static storage). */
void prom_hist_init(prom_hist_t *h, const double *bounds, size_t n);
void prom_hist_observe(prom_hist_t *h, double v);

/* Writes v the way the Go client does: shortest text that reads back as v,
 * exponent form below 1e-4 and from 1e21, "+Inf", "-Inf", "NaN". */
void prom_float(char *out, size_t len, double v);

/* "# HELP name help\n# TYPE name type\n". */
void prom_family(sbuf_t *b, const char *name, const char *type, const char *help);
/* "name{labels} v\n" ("name v" when labels is NULL or ""); labels is the
 * text between the braces, e.g. "name=\"replicaset\"". */
void prom_sample(sbuf_t *b, const char *name, const char *labels, double v);
/* name_bucket{labels,le="..."} for every bound and +Inf, name_sum, name_count. */
void prom_histogram(sbuf_t *b, const char *name, const char *labels, const prom_hist_t *h);

/* Copies v into out as a label value: backslash, double quote and newline
 * escaped as the text format wants (\\, \", \n); cut short (never
 * mid-escape) when out is too small. */
void prom_label_value(char *out, size_t len, const char *v);

/* Merges n texts (NULL entries skipped) as said above. Lines that are not
 * a comment or a sample of the family they follow are dropped. Returns a
 * malloc'd text, or NULL when out of memory. */
char *prom_merge(const char *const *texts, size_t n);

#endif
