/* components.h - the workers kubus-controller-manager knows how to run.
 *
 * Owns: the table of infrastructure workers (started first, in this order:
 * broker, informer, executor; stopped last, in reverse) and controllers
 * (upstream kube-controller-manager names, short aliases, the binary that
 * implements each, and its --concurrent-*-syncs flag and default).
 */
#ifndef KUBUS_SUP_COMPONENTS_H
#define KUBUS_SUP_COMPONENTS_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    const char *name;             /* worker name and short alias: "replicaset" */
    const char *long_name;        /* upstream --controllers name; NULL for infra */
    const char *binary;           /* "kubus-replicaset" */
    const char *concurrency_flag; /* "concurrent-replicaset-syncs"; NULL for infra */
    int default_concurrency;
    bool infra;
    bool default_on;              /* enabled by "*" */
} sup_component_t;

#define SUP_INFRA_COUNT 3
#define SUP_COMPONENT_COUNT 11

/* Index 0..SUP_INFRA_COUNT-1 are infra in start order; then controllers. */
const sup_component_t *sup_component(size_t i);
/* A controller by upstream name or alias; -1 if there is none. */
int sup_controller_lookup(const char *name);
/* A component index by its worker name; -1 if none. */
int sup_component_by_name(const char *name);

#endif
