/* job_priv.h - what job_sync.c (state, routing, the sync) and job_act.c
 * (actions and their results) share. Not for use outside controllers/job. */
#ifndef KUBUS_JOB_PRIV_H
#define KUBUS_JOB_PRIV_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "ctrl/claim.h"
#include "ctrl/ownerstate.h"
#include "ctrl/runtime.h"
#include "strmap.h"
#include "job_core.h"
#include "job_metrics.h"
#include "job_sync.h"
#include "log.h"

#define JOB_RESOURCE "jobs"
#define POD_RESOURCE "pods"
#define ORPHAN_KEY_PREFIX "pod:"
/* A sync that waits for the event of its own status write gives up
 * waiting after this long (the event can only be late, not lost, but a
 * wedged key must never be possible). */
#define JOB_STALE_WAIT_MS 10000u
/* upstream DefaultJobApiBackOff and MaxJobApiBackOff: the work queue's
 * per-key back-off when a sync fails */
#define JOB_API_BACKOFF_MS 1000u
#define JOB_API_BACKOFF_MAX_MS 60000u

typedef struct {
    ctrl_ostate_t base;         /* the Job this state is about (ctrl/ownerstate.h) */
    job_backoff_t backoff;      /* committed with each status write that counted pods */
    bool backoff_seeded;        /* rebuilt from the pods already counted (first sync of this life) */
    strmap_t *rm_fin;           /* pod uid -> (void*)1: finalizer removal expected */
    char *stale_rv;             /* resourceVersion our last status write replaced */
    uint64_t stale_since_ms;
    /* the status write in flight (one at a time: the key is in sync until its result) */
    bool write_backoff;
    job_backoff_t write_backoff_rec;
    char *write_from_rv;
    json_t *finish_cond;        /* the final condition this write sets: events on success */
    bool too_many_succeeded;
    bool write_indexed;         /* the Job's completion mode, for the metrics */
    int64_t write_new_s, write_new_f;   /* pods the write moves into succeeded / failed */
    /* slow-start creates */
    json_t *create_plan;        /* the pods still to create: job_act_plan_add's entries */
    int creates_in_flight;
    int batch;
    bool create_failed;
    int patches_in_flight;      /* tracking-finalizer removals */
} job_state_t;

struct job_ctrl {
    ctrl_ostates_t *states;     /* job key -> job_state_t */
    ctrl_owner_t owner;         /* Jobs as owners of pods: the tracking finalizer, batched routing */
    ctrl_adopter_t *adopter;    /* orphan pods, adopted after a live GET */
    log_limit_t bad_log, fail_log;
    job_metrics_t *metrics;     /* job_controller_* (NULL: out of memory, none) */
};

job_state_t *job_state_get(job_ctrl_t *c, const char *key);

/* ---- job_act.c ------------------------------------------------------------------ */

/* Adds a pod to s's create plan: its completion index (-1: NonIndexed)
 * and, with backoffLimitPerIndex, the failure counts it carries (failures
 * -1: none). 0 or -1 (OOM). */
int job_act_plan_add(job_state_t *s, int32_t index, int32_t failures, int32_t ignored);
/* Creates pods for the plan in s (slow start: 1, 2, 4, ... each batch after
 * the previous one fully succeeded). */
void job_act_start_creates(job_ctrl_t *c, ctrl_runtime_t *rt, job_state_t *s, const char *key);
/* upstream deleteJobPods: remove the tracking finalizer, then delete (so
 * the pod is not counted as failed). */
void job_act_remove_and_delete(job_ctrl_t *c, ctrl_runtime_t *rt, const char *key, const json_t *pod);
/* upstream deleteActivePods: delete keeping the finalizer (the pod is
 * counted as failed); no delete expectation, as upstream. */
void job_act_delete_keep(job_ctrl_t *c, ctrl_runtime_t *rt, const char *key, const json_t *pod);
/* Removes the tracking finalizer, expecting to observe it gone. */
void job_act_remove_finalizer(job_ctrl_t *c, ctrl_runtime_t *rt, job_state_t *s, const char *key,
                              const json_t *pod);
/* The same for an orphan pod (key "pod:ns/name"), no expectation. */
void job_act_remove_orphan_finalizer(ctrl_runtime_t *rt, const char *key, const json_t *pod);
/* Writes status (taken) onto a copy of job; s->write_* say what to do on success. */
void job_act_write_status(job_ctrl_t *c, ctrl_runtime_t *rt, job_state_t *s, const char *key, const json_t *job,
                          json_t **status);

#endif
