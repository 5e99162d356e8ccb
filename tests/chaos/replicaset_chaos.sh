#!/usr/bin/env bash
# Chaos: scale a ReplicaSet 0 -> 300 -> 50 -> 200 while a random kubus worker
# (broker, informer, executor, replicaset, garbagecollector) is SIGKILLed every
# second. When the kills stop, within 30 s the ReplicaSet must have exactly its
# replicas as active pods, a matching status, and no pod may be left without
# an owner. Pods created beyond the minimum (300 + 150) are counted as surplus
# (from the API server's audit log) and reported; a restart must not cause a
# double create. On a cluster started with KUBUS_UPSTREAM=all the same run is
# made against upstream's controllers without kills (the yardstick).
. "$(dirname "$0")/../e2e/lib.sh"
. "$KUBUS_ROOT/tests/e2e/kubus.sh"
CHAOS_WORK=$(mktemp -d /tmp/kubus-rs-chaos.XXXXXX)
on_exit "rm -rf '$CHAOS_WORK'"
. "$(dirname "$0")/_chaos.sh"

kns_new chaos-rs
# shellcheck disable=SC2086
chaos_kubus_start ${CHAOS_KUBUS_FLAGS:-}

results=${KUBUS_BUILD:-$KUBUS_ROOT/build}/chaos
mkdir -p "$results"

k apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: chaos}
spec:
  replicas: 0
  selector: {matchLabels: {app: chaos}}
  template:
    metadata: {labels: {app: chaos}}
    spec:
      terminationGracePeriodSeconds: 0
      containers: [{name: c, image: nginx}]
YAML

active() { pods_count "$NS" app=chaos; }
step() {
  local n=$1
  info "scale to $n under chaos"
  k scale rs chaos --replicas="$n" >/dev/null
  wait_until 240 "[ \"\$(active)\" = $n ]" "$n active pods while workers are being killed"
}
start=$(date +%s)
# shellcheck disable=SC2086
chaos_start ${CHAOS_VICTIMS:-broker informer executor replicaset garbagecollector}
step 300
step 50
step 200
chaos_stop
kills=$(chaos_kill_count)
chaos_end=$(date +%s)
info "kills stopped after $kills kills; waiting for convergence"

status_ok() {
  kjq '[.spec.replicas, .status.replicas, .status.readyReplicas, .status.availableReplicas,
        .status.observedGeneration == .metadata.generation] | @tsv' rs chaos |
    grep -qx $'200\t200\t200\t200\ttrue'
}
wait_until 30 "[ \"\$(active)\" = 200 ] && status_ok" "200 active pods and a matching status within 30 s of the last kill"
converged=$(($(date +%s) - chaos_end))

orphans=$(kubectl get pods -n "$NS" -o json |
  jq '[.items[] | select(.metadata.deletionTimestamp == null)
       | select([.metadata.ownerReferences[]? | select(.controller == true)] | length == 0)] | length')
[ "$orphans" = 0 ] || fail "$orphans pods without a controller owner"

# Stay still for 5 s: no more creates or deletes once converged.
never_within 5 "[ \"\$(active)\" != 200 ]" "the pod count moved after convergence"

# Every pod the API server really created in the namespace (its audit log).
total_created=$(audit_made '^chaos-')
((total_created >= 450)) || fail "the audit log shows only $total_created pod creates; at least 450 were needed"
surplus=$((total_created - 450))
{
  echo "replicaset chaos [$(chaos_side)]: kills=$kills duration=$((chaos_end - start))s converge_after_last_kill=${converged}s"
  echo "replicaset chaos [$(chaos_side)]: pods_created=$total_created minimum=450 surplus=$surplus"
  chaos_kills_by_victim "replicaset chaos"
} | tee "$results/replicaset.txt"
# A double create from a restart would show up here. Allow none.
[ "$surplus" = 0 ] || fail "$surplus surplus pods were created (double creates after restarts)"
pass "converged to 200 after $kills kills, ${converged}s after the last kill, no surplus pods"
