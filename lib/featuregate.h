/* featuregate.h - --feature-gates, with the gates kube-controller-manager knows.
 *
 * Owns: the one list of known gates (featuregate_table.c, generated from
 * upstream v1.36.3 by tools/gen_feature_gates.py: name, default, stage,
 * locked), parsing a --feature-gates value the way upstream does, the
 * record of the gates that were set, and answering whether a gate is on.
 *
 * Syntax, as kube-controller-manager v1.36 takes it: a comma list of
 * "Name=BOOL" items, each optionally prefixed "kube:" (the only component
 * kubus has); the flag may be given several times and accumulates; empty
 * items are skipped; spaces around names and values are trimmed; BOOL is
 * Go's strconv.ParseBool (1 t T TRUE true True 0 f F FALSE false False).
 * Refused, with upstream's reasons: an unknown gate ("unrecognized feature
 * gate: X"), a missing or bad value, a locked gate set away from its
 * default, another component prefix, and mixing bare and "kube:" items.
 * AllAlpha / AllBeta set every alpha / beta gate not set by name. Not
 * checked (upstream does): dependencies between gates.
 */
#ifndef KUBUS_FEATUREGATE_H
#define KUBUS_FEATUREGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { FG_ALPHA, FG_BETA, FG_GA, FG_DEPRECATED } fg_stage_t;

typedef struct {
    const char *name;
    bool default_on;
    fg_stage_t stage;
    bool locked;            /* LockToDefault: only its default may be set */
} fg_gate_t;

#define FG_GATE_COUNT 241
extern const fg_gate_t fg_gates[FG_GATE_COUNT];   /* sorted by name */

typedef struct {
    int8_t value[FG_GATE_COUNT];  /* -1: not set; 0 / 1: set false / true */
    uint8_t spelling;             /* 0: nothing set yet; 1: bare names; 2: "kube:" */
} fg_set_t;

void fg_set_init(fg_set_t *s);
/* Index of a known gate, or -1. */
int fg_lookup(const char *name);
/* Adds one --feature-gates value to s. 0, or -1 with upstream's reason in
 * err (s is then unchanged). */
int fg_parse(fg_set_t *s, const char *value, char *err, size_t errlen);
bool fg_enabled(const fg_set_t *s, int gate);
/* By name; an unknown name is off (and a programming error). */
bool fg_enabled_name(const fg_set_t *s, const char *name);
/* The gates set, "A=true,B=false" in name order ("" when none): what the
 * supervisor passes to its workers. 0, or -1 when it does not fit (every
 * gate set fits in FG_FORMAT_MAX). */
#define FG_FORMAT_MAX 8192
int fg_format(const fg_set_t *s, char *out, size_t outlen);
/* The stage as upstream's kubernetes_feature_enabled metric labels it:
 * "ALPHA", "BETA", "" (GA), "DEPRECATED". */
const char *fg_stage_label(fg_stage_t stage);

#endif
