/* components.c - the table of infrastructure workers and controllers. See components.h. */
#include "components.h"

#include <string.h>

#include "ctrl/concurrency.h"

static const sup_component_t components[SUP_COMPONENT_COUNT] = {
    { "broker", NULL, "kubus-broker", NULL, 0, true, true },
    { "informer", NULL, "kubus-informer", NULL, 0, true, true },
    { "executor", NULL, "kubus-executor", NULL, 0, true, true },
    { "replicaset", "replicaset-controller", "kubus-replicaset",
      "concurrent-replicaset-syncs", CTRL_CONCURRENT_REPLICASET_SYNCS, false, true },
    { "deployment", "deployment-controller", "kubus-deployment",
      "concurrent-deployment-syncs", CTRL_CONCURRENT_DEPLOYMENT_SYNCS, false, true },
    { "statefulset", "statefulset-controller", "kubus-statefulset",
      "concurrent-statefulset-syncs", CTRL_CONCURRENT_STATEFULSET_SYNCS, false, true },
    { "daemonset", "daemonset-controller", "kubus-daemonset",
      "concurrent-daemonset-syncs", CTRL_CONCURRENT_DAEMONSET_SYNCS, false, true },
    { "job", "job-controller", "kubus-job",
      "concurrent-job-syncs", CTRL_CONCURRENT_JOB_SYNCS, false, true },
    { "cronjob", "cronjob-controller", "kubus-cronjob",
      "concurrent-cron-job-syncs", CTRL_CONCURRENT_CRON_JOB_SYNCS, false, true },
    { "garbagecollector", "garbage-collector-controller", "kubus-garbagecollector",
      "concurrent-gc-syncs", CTRL_CONCURRENT_GC_SYNCS, false, true },
    { "ttl-after-finished", "ttl-after-finished-controller", "kubus-ttlafterfinished",
      "concurrent-ttl-after-finished-syncs", CTRL_CONCURRENT_TTL_AFTER_FINISHED_SYNCS, false, true },
};

const sup_component_t *sup_component(size_t i)
{
    return i < SUP_COMPONENT_COUNT ? &components[i] : NULL;
}

int sup_controller_lookup(const char *name)
{
    for (size_t i = SUP_INFRA_COUNT; i < SUP_COMPONENT_COUNT; i++)
        if (strcmp(name, components[i].name) == 0 || strcmp(name, components[i].long_name) == 0)
            return (int)i;
    return -1;
}

int sup_component_by_name(const char *name)
{
    for (size_t i = 0; i < SUP_COMPONENT_COUNT; i++)
        if (strcmp(name, components[i].name) == 0) return (int)i;
    return -1;
}
