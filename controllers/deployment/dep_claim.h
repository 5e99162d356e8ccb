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

/* The adopter of orphan ReplicaSets (dep_ctrl_t's). */
ctrl_adopter_t *dep_claim_adopter_new(void);

#endif
