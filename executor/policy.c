/* policy.c - the per-controller grants. See policy.h.
 *
 * The table follows kube-controller-manager's bootstrap controller roles
 * (the rules that matter to writes and gets; list and watch are the
 * informer's business). Every role also has the events rule (create,
 * update, patch of events). A controller kubus does not run has no row and
 * may do nothing.
 */
#include "policy.h"

#include <string.h>

#include "errfmt.h"

enum {
    P_GET = 1u << 0,
    P_CREATE = 1u << 1,
    P_UPDATE = 1u << 2,
    P_PATCH = 1u << 3,
    P_DELETE = 1u << 4,
};

#define P_WRITE (P_CREATE | P_UPDATE | P_PATCH | P_DELETE)
#define ANY "*"   /* any resource, or any subresource */

typedef struct {
    const char *resource;
    const char *subresource;   /* "" the object itself; ANY any */
    unsigned verbs;
} rule_t;

typedef struct {
    const char *controller;    /* kubus's name: Action.controller, routing id prefix */
    const char *role;          /* the upstream role, system:controller:<role> */
    const rule_t *rules;       /* ends with a NULL resource */
} grant_t;

#define EVENTS_RULE { "events", "", P_CREATE | P_UPDATE | P_PATCH }
#define OWNED_BY(res) { res, "status", P_UPDATE }, { res, "finalizers", P_UPDATE }
#define END { NULL, NULL, 0 }

static const rule_t replicaset_rules[] = {
    { "replicasets", "", P_GET | P_UPDATE }, OWNED_BY("replicasets"),
    { "pods", "", P_CREATE | P_PATCH | P_DELETE }, EVENTS_RULE, END,
};
static const rule_t deployment_rules[] = {
    { "deployments", "", P_GET | P_UPDATE }, OWNED_BY("deployments"),
    { "replicasets", "", P_GET | P_WRITE }, { "pods", "", P_GET | P_UPDATE }, EVENTS_RULE, END,
};
static const rule_t statefulset_rules[] = {
    { "statefulsets", "", P_GET }, OWNED_BY("statefulsets"),
    { "pods", "", P_GET | P_WRITE }, { "pods", "finalizers", P_UPDATE },
    { "controllerrevisions", "", P_GET | P_WRITE },
    /* patch beyond the role: kubus sets claims' ownerReferences by a merge
     * patch carrying the resourceVersion (upstream updates them) */
    { "persistentvolumeclaims", "", P_GET | P_CREATE | P_UPDATE | P_PATCH | P_DELETE }, EVENTS_RULE, END,
};
static const rule_t daemonset_rules[] = {
    { "daemonsets", "", P_GET }, OWNED_BY("daemonsets"),
    { "pods", "", P_CREATE | P_PATCH | P_DELETE }, { "pods", "binding", P_CREATE },
    { "controllerrevisions", "", P_GET | P_WRITE }, EVENTS_RULE, END,
};
static const rule_t job_rules[] = {
    { "jobs", "", P_GET | P_UPDATE | P_PATCH }, OWNED_BY("jobs"),
    { "pods", "", P_CREATE | P_PATCH | P_DELETE }, EVENTS_RULE, END,
};
static const rule_t cronjob_rules[] = {
    { "cronjobs", "", P_GET | P_UPDATE }, OWNED_BY("cronjobs"),
    { "jobs", "", P_GET | P_WRITE }, { "pods", "", P_DELETE }, EVENTS_RULE, END,
};
static const rule_t ttl_rules[] = {
    { "jobs", "", P_GET | P_DELETE }, EVENTS_RULE, END,
};
/* The collector reads and rewrites the metadata of any object. */
static const rule_t gc_rules[] = {
    { ANY, ANY, P_GET | P_UPDATE | P_PATCH | P_DELETE }, EVENTS_RULE, END,
};

static const grant_t grants[] = {
    { "replicaset", "replicaset-controller", replicaset_rules },
    { "deployment", "deployment-controller", deployment_rules },
    { "statefulset", "statefulset-controller", statefulset_rules },
    { "daemonset", "daemon-set-controller", daemonset_rules },
    { "job", "job-controller", job_rules },
    { "cronjob", "cronjob-controller", cronjob_rules },
    { "ttl-after-finished", "ttl-after-finished-controller", ttl_rules },
    { "garbagecollector", "generic-garbage-collector", gc_rules },
};

int policy_name_check(const char *name, char *err, size_t errlen)
{
    if (!name || !*name) return errfmt(err, errlen, "empty controller name");
    size_t n = strlen(name);
    if (n > POLICY_NAME_MAX) return errfmt(err, errlen, "controller name longer than %d bytes", POLICY_NAME_MAX);
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return errfmt(err, errlen, "controller name has a byte outside [a-z0-9-] at offset %zu", i);
    }
    return 0;
}

static const grant_t *grant_of(const char *controller)
{
    if (!controller) return NULL;
    for (size_t i = 0; i < sizeof grants / sizeof grants[0]; i++)
        if (strcmp(grants[i].controller, controller) == 0) return &grants[i];
    return NULL;
}

const char *policy_role(const char *controller)
{
    const grant_t *g = grant_of(controller);
    return g ? g->role : NULL;
}

typedef struct {
    unsigned verb;
    const char *name;          /* the RBAC verb, for messages */
    const char *resource, *subresource;
} request_kind_t;

static int kind_of(const msg_action_t *a, request_kind_t *k)
{
    k->resource = a->resource ? a->resource : "";
    k->subresource = a->subresource ? a->subresource : "";
    switch (a->verb) {
    case KUBUS__V1__VERB__CREATE: k->verb = P_CREATE, k->name = "create"; break;
    case KUBUS__V1__VERB__UPDATE: k->verb = P_UPDATE, k->name = "update"; break;
    case KUBUS__V1__VERB__UPDATE_STATUS: k->verb = P_UPDATE, k->name = "update", k->subresource = "status"; break;
    case KUBUS__V1__VERB__PATCH: k->verb = P_PATCH, k->name = "patch"; break;
    case KUBUS__V1__VERB__DELETE: k->verb = P_DELETE, k->name = "delete"; break;
    case KUBUS__V1__VERB__GET: k->verb = P_GET, k->name = "get"; break;
    case KUBUS__V1__VERB__EVENT: k->verb = P_CREATE, k->name = "create", k->resource = "events", k->subresource = ""; break;
    default: return -1;
    }
    return 0;
}

static bool rule_allows(const rule_t *r, const request_kind_t *k)
{
    if (!(r->verbs & k->verb)) return false;
    if (strcmp(r->resource, ANY) != 0 && strcmp(r->resource, k->resource) != 0) return false;
    return strcmp(r->subresource, ANY) == 0 || strcmp(r->subresource, k->subresource) == 0;
}

int policy_check(const msg_action_t *a, char *err, size_t errlen)
{
    request_kind_t k;
    if (kind_of(a, &k) < 0) return errfmt(err, errlen, "verb %d is not one the executor knows", (int)a->verb);
    const grant_t *g = grant_of(a->controller);
    const char *sep = *k.subresource ? "/" : "";
    if (!g)
        return errfmt(err, errlen, "controller \"%s\" is not one kubus runs: it may not %s %s%s%s",
                      a->controller ? a->controller : "", k.name, k.resource, sep, k.subresource);
    for (const rule_t *r = g->rules; r->resource; r++)
        if (rule_allows(r, &k)) return 0;
    return errfmt(err, errlen, "controller \"%s\" (role system:controller:%s) may not %s %s%s%s", g->controller,
                  g->role, k.name, k.resource, sep, k.subresource);
}
