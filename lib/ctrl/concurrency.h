/* ctrl/concurrency.h - how many keys each controller syncs at once by
 * default: kube-controller-manager's --concurrent-<kind>-syncs defaults.
 *
 * Owns: those numbers, once (upstream v1.36:
 * pkg/controller/<kind>/config/v1alpha1/defaults.go). The supervisor passes
 * them to the controllers it starts (supervisor/components.c); a
 * controller's main.c uses the same one as its default when it is started
 * alone, and shows it in its usage text (CTRL_STR).
 */
#ifndef KUBUS_CTRL_CONCURRENCY_H
#define KUBUS_CTRL_CONCURRENCY_H

#define CTRL_CONCURRENT_REPLICASET_SYNCS 5
#define CTRL_CONCURRENT_DEPLOYMENT_SYNCS 5
#define CTRL_CONCURRENT_STATEFULSET_SYNCS 5
#define CTRL_CONCURRENT_DAEMONSET_SYNCS 2
#define CTRL_CONCURRENT_JOB_SYNCS 5
#define CTRL_CONCURRENT_CRON_JOB_SYNCS 5
#define CTRL_CONCURRENT_GC_SYNCS 20
#define CTRL_CONCURRENT_TTL_AFTER_FINISHED_SYNCS 5

/* The literal text of a number macro: "(default " CTRL_STR(CTRL_...) ")". */
#define CTRL_STR(x) CTRL_STR_(x)
#define CTRL_STR_(x) #x

#endif
