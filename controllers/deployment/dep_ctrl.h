/* dep_ctrl.h - the Deployment controller on the controller runtime.
 *
 * Owns: the process-wide controller object: its event handlers (which
 * Deployment to look at again when a Deployment, ReplicaSet or pod changes)
 * and the sync function the runtime calls per Deployment key. The sizing,
 * revision and status rules are in the pure core (dep_scale.h,
 * dep_revision.h, dep_status.h, dep_template.h); this layer reads the caches
 * and issues actions.
 */
#ifndef KUBUS_DEP_CTRL_H
#define KUBUS_DEP_CTRL_H

#include "ctrl/runtime.h"

typedef struct dep_ctrl dep_ctrl_t;

dep_ctrl_t *dep_ctrl_new(void);
void dep_ctrl_destroy(dep_ctrl_t **c);
/* Registers the handlers on rt (after ctrl_runtime_new). 0 or -1. */
int dep_ctrl_attach(dep_ctrl_t *c, ctrl_runtime_t *rt);
/* The ctrl_sync_fn (ud = the dep_ctrl_t). */
int dep_sync(ctrl_runtime_t *rt, const char *key, void *ud);

#endif
