/* dep_claim.h - adopting and releasing ReplicaSets (see dep_claim.c). */
#ifndef KUBUS_DEP_CLAIM_H
#define KUBUS_DEP_CLAIM_H

#include <jansson.h>

#include "ctrl/runtime.h"
#include "ctrl/selector.h"
#include "dep_ctrl_priv.h"

/* Releases s's controlled ReplicaSets sel no longer matches and starts
 * adopting matching orphans. 0: go on with the sync; 1: an adoption is
 * under way, stop here; -1: error. */
int dep_claim(dep_sync_t *s, const selector_t *sel);

/* Handler side: an orphan ReplicaSet appeared or changed: queue every
 * Deployment of its namespace whose selector matches it. */
void dep_claim_handle_orphan(ctrl_runtime_t *rt, const json_t *rs);

#endif
