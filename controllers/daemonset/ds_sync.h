/* ds_sync.h - the DaemonSet controller on the runtime: handlers and sync.
 *
 * Owns: per-DaemonSet working state (the slow-start create plan, pods
 * waiting for adoption, the last warned generation), the failed-pod
 * back-off table, and turning ds_core's and ds_history's decisions into
 * actions. State is keyed by "ns/name" and dropped when the DaemonSet
 * leaves the cache.
 */
#ifndef KUBUS_DS_SYNC_H
#define KUBUS_DS_SYNC_H

#include "ctrl/runtime.h"

#define DS_RESOURCE "daemonsets"
#define DS_POD_RESOURCE "pods"
#define DS_NODE_RESOURCE "nodes"
#define DS_CR_RESOURCE "controllerrevisions"

typedef struct ds_ctrl ds_ctrl_t;

ds_ctrl_t *ds_ctrl_new(void);
void ds_ctrl_destroy(ds_ctrl_t **c);
/* Registers the handlers on rt (after ctrl_runtime_new). 0 or -1. */
int ds_ctrl_attach(ds_ctrl_t *c, ctrl_runtime_t *rt);
/* The ctrl_sync_fn (ud = the ds_ctrl_t). */
int ds_sync(ctrl_runtime_t *rt, const char *key, void *ud);

#endif
