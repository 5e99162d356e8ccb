/* job_sync.h - the Job controller on the runtime: handlers, sync, results.
 *
 * Owns: per-Job working state (the committed pod-failure back-off record,
 * the pods whose tracking-finalizer removal is expected, the slow-start
 * create plan, the status write in flight and the resourceVersion it made
 * stale) and turning job_core's decisions into actions. Work keys are
 * "ns/name" of a Job, or "pod:ns/name" for a pod whose job-tracking
 * finalizer must go because its Job is gone or finished (upstream's
 * orphan queue). State is dropped when the Job leaves the cache.
 */
#ifndef KUBUS_JOB_SYNC_H
#define KUBUS_JOB_SYNC_H

#include "ctrl/runtime.h"

typedef struct job_ctrl job_ctrl_t;

job_ctrl_t *job_ctrl_new(void);
void job_ctrl_destroy(job_ctrl_t **c);
/* The runtime config of the Job controller over c: jobs + pods, job_sync,
 * and upstream's work-queue back-off for the Job controller (1 s doubling
 * to 60 s per key, no overall bucket; DefaultJobApiBackOff /
 * MaxJobApiBackOff). concurrent_syncs is left 0. */
void job_ctrl_config(job_ctrl_t *c, ctrl_config_t *cfg);
/* Registers the handlers on rt (after ctrl_runtime_new). 0 or -1. */
int job_ctrl_attach(job_ctrl_t *c, ctrl_runtime_t *rt);
/* The ctrl_sync_fn (ud = the job_ctrl_t). */
int job_sync(ctrl_runtime_t *rt, const char *key, void *ud);

#endif
