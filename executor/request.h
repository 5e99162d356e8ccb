/* request.h - from an Action to the HTTP request that carries it out.
 *
 * Owns: the checks an action must pass before the executor spends a request
 * on it (known resource and group/version, namespace rules, safe path
 * segments, a JSON body of the right shape, a CREATE body naming the chosen
 * name) and the request itself: method, path, content type and body
 * (DeleteOptions with preconditions and propagationPolicy for DELETE).
 * Also the ownership test behind "409 AlreadyExists is success when the
 * existing object has our controller ownerReference". Pure functions.
 */
#ifndef KUBUS_EXECUTOR_REQUEST_H
#define KUBUS_EXECUTOR_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "evagg.h"
#include "msg.h"

#define REQUEST_PATH_MAX 1024

typedef struct {
    const char *method;         /* "POST", "PUT", "PATCH", "DELETE", "GET" */
    char path[REQUEST_PATH_MAX];
    const char *body;           /* NULL: no body */
    size_t body_len;
    char *owned_body;           /* set when body was built here (freed by request_clear) */
    const char *content_type;   /* NULL when there is no body */
} request_t;

/* 0 when a can be applied; -1 with the reason (for a 400 BadRequest) in err.
 * For a CREATE, *owner_uid (if owner_uid is non-NULL) receives a malloc'd
 * copy of the body's controller ownerReference uid, or NULL when it has none. */
int request_check(const msg_action_t *a, char **owner_uid, char *err, size_t errlen);

/* The request of a checked, non-EVENT action. 0 or -1 (out of memory). The
 * request borrows a's body: keep a alive while it is in use. */
int request_build(const msg_action_t *a, request_t *out);
/* GET of the object a names (the executor's own lookups). 0 or -1. */
int request_build_lookup(const msg_action_t *a, request_t *out);
/* The request for a planned Event (borrows p->body). 0 or -1. */
int request_build_event(const evagg_plan_t *p, request_t *out);
void request_clear(request_t *r);

/* True when obj (JSON) has an ownerReference with controller=true and this uid. */
bool request_owned_by(const void *obj, size_t len, const char *uid);

#endif
