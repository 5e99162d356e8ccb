/* leader.h - the supervisor's leader election (--leader-elect), per shard.
 *
 * Owns: the election thread and its API client. The supervisor is not a
 * controller: it does not go through the bus and the executor (those run
 * only while we lead), so it talks to the API server itself, for exactly one
 * object: the Lease --leader-elect-resource-namespace/-name (default
 * kube-system/kubus-shard-<index>-of-<count>). It uses lib/'s kubeconfig and
 * libcurl helpers (khttp) directly: GET, POST and PUT of that Lease, with a
 * timeout per request, nothing else.
 *
 * Why a thread: an API request may take up to seconds; the supervisor's
 * poll() loop must keep reading heartbeats and signals meanwhile. The thread
 * runs the decisions of lease_core.h and tells the loop about a change of
 * leadership by making sup_leader_fd() readable; the loop then asks
 * sup_leader_take() and starts or stops the executor and the controllers.
 * The HTTP reports read a copy of the state (sup_leader_view) under a mutex.
 *
 * Stop: sup_leader_stop() aborts a request in flight, joins the thread and,
 * if we hold the lease, releases it (empty holder, leaseDurationSeconds=1)
 * so a standby takes over at its next try. The supervisor calls it after its
 * workers are down, so two leaders never act at once.
 */
#ifndef KUBUS_SUP_LEADER_H
#define KUBUS_SUP_LEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "lease_core.h"

typedef struct sup_leader sup_leader_t;

typedef struct {
    bool leading;
    char lease[SUP_LEASE_NAME_MAX + 80];        /* "namespace/name" */
    char identity[SUP_LEASE_IDENTITY_MAX];
    char holder[SUP_LEASE_IDENTITY_MAX];        /* last seen, "" if none */
    char last_error[256];
    uint64_t bad_answers, failed_tries, terms;  /* terms: times we became leader */
    uint64_t renewed_ms;                        /* monotonic: last successful acquire/renew */
} sup_leader_view_t;

/* The election parameters of a configuration (identity left empty). */
void sup_leader_lease_config(const sup_config_t *c, sup_lease_config_t *out);

/* Loads the kubeconfig, picks an identity and starts the thread (the first
 * try happens at once). NULL with a message in err. */
sup_leader_t *sup_leader_start(const sup_config_t *c, char *err, size_t errlen);
/* Readable when leadership changed. */
int sup_leader_fd(const sup_leader_t *l);
/* Drains the fd; whether we lead now. */
bool sup_leader_take(sup_leader_t *l);
void sup_leader_view(sup_leader_t *l, sup_leader_view_t *v);
/* Stops the thread and releases the lease if we hold it. NULL-safe. */
void sup_leader_stop(sup_leader_t **l);

#endif
