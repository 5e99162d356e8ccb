/* policy.h - what each controller may make the executor do.
 *
 * Owns: the one table of (resource, subresource, verbs) per kubus
 * controller, the same grants as the bootstrap RBAC ClusterRole of its
 * kube-controller-manager counterpart (system:controller:<role>), and the
 * check of controller names (they travel in routing ids, logs and the
 * User-Agent header: only [a-z0-9-], at most POLICY_NAME_MAX bytes).
 *
 * An action is mapped to the RBAC verb it becomes: CREATE create, UPDATE
 * update, UPDATE_STATUS update of "<resource>/status", PATCH patch, DELETE
 * delete, GET get, EVENT create of events. The executor's own follow-up
 * lookups (a GET after a create whose answer was lost) are not actions and
 * are not checked here. Pure functions, no state.
 */
#ifndef KUBUS_EXECUTOR_POLICY_H
#define KUBUS_EXECUTOR_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "msg.h"

#define POLICY_NAME_MAX 63

/* 0 when name is a usable controller name; -1 with the reason. */
int policy_name_check(const char *name, char *err, size_t errlen);

/* The upstream role controller runs as ("replicaset-controller"), or NULL
 * for a name the table does not know. */
const char *policy_role(const char *controller);

/* 0 when a->controller may apply a; -1 with a message naming controller,
 * verb and resource (for a 403 Forbidden result). */
int policy_check(const msg_action_t *a, char *err, size_t errlen);

#endif
