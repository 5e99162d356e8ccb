# shellcheck shell=bash
# Helpers for the DaemonSet end-to-end tests (sourced after lib.sh).
#   ds_add_node NAME            add a fake node kwok makes Ready; removed on exit
#   ds_pods_by_node SELECTOR    "node count" lines of live pods (not being deleted)
#   ds_status NAME              "desired current ready available updated misscheduled observedGeneration generation"
#   ds_nodes_of SELECTOR        the nodes live pods run on (or are bound to), sorted

ds_add_node() {
  local name=$1
  on_exit "kubectl delete node '$name' --ignore-not-found --wait=false >/dev/null 2>&1"
  "$KUBUS_ROOT/tests/cluster/add-node" "$name" --wait >/dev/null || fail "could not add node $name"
}

# The node a pod is for: spec.nodeName, else its matchFields binding.
_ds_target='(.spec.nodeName // (.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].values[0]) // "")'

ds_pods_by_node() {
  kget pods -l "$1" | jq -r "[.items[] | select(.metadata.deletionTimestamp == null) | $_ds_target]
      | group_by(.) | map(\"\(.[0]) \(length)\") | .[]"
}

ds_nodes_of() {
  kget pods -l "$1" | jq -r ".items[] | select(.metadata.deletionTimestamp == null) | $_ds_target" | sort
}

ds_status() {
  kjq '[.status.desiredNumberScheduled // 0, .status.currentNumberScheduled // 0, .status.numberReady // 0,
        .status.numberAvailable // 0, .status.updatedNumberScheduled // 0, .status.numberMisscheduled // 0,
        .status.observedGeneration // 0, .metadata.generation] | join(" ")' ds "$1"
}
