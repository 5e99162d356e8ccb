#!/usr/bin/env bash
# Differential test: the same DaemonSet life run under kubus (on the fixture
# cluster) and under upstream kube-controller-manager (on a private cluster
# this test starts with KUBUS_UPSTREAM=all and always tears down), on the
# nodes master and worker:
#   apply (RollingUpdate, maxUnavailable 1) -> set image -> rollout undo,
#   each step waited for until settled.
# Compared after every step: the status counters (desired, current, ready,
# available, updated, misscheduled, observedGeneration == generation), the
# pods per node and their images, the revisions (numbers, which one the pods
# carry), `kubectl rollout history`; at the end the pods' shape (labels with
# the hash value masked: kubus's hash is its own, ownerReferences, generateName,
# node binding, tolerations) and the event reasons and total count.
. "$(dirname "$0")/lib.sh"
. "$KUBUS_ROOT/tests/e2e/kubus.sh"
. "$KUBUS_ROOT/tests/e2e/_differential.sh"

DS=diffds

ds_state() {
  kubectl get ds,pods,controllerrevisions -n "$NS" -o json | jq -c --arg ds "$DS" '
    ([.items[] | select(.kind == "DaemonSet" and .metadata.name == $ds)][0] // {}) as $d |
    [.items[] | select(.kind == "Pod")] as $pods |
    [$pods[] | select(.metadata.deletionTimestamp == null)] as $live |
    [.items[] | select(.kind == "ControllerRevision")] as $crs |
    ([$crs[] | {key: .metadata.labels["controller-revision-hash"], value: .revision}] | from_entries) as $rev |
    {status: {desired: $d.status.desiredNumberScheduled, current: $d.status.currentNumberScheduled,
              ready: $d.status.numberReady, available: $d.status.numberAvailable,
              updated: $d.status.updatedNumberScheduled, misscheduled: $d.status.numberMisscheduled,
              unavailable: ($d.status.numberUnavailable // 0),
              observedCurrent: ($d.status.observedGeneration == $d.metadata.generation)},
     generation: $d.metadata.generation,
     terminating: ([$pods[] | select(.metadata.deletionTimestamp != null)] | length),
     pods: ([$live[] | {node: .spec.nodeName, image: .spec.containers[0].image,
                       ready: any(.status.conditions[]?; .type == "Ready" and .status == "True"),
                       revision: $rev[.metadata.labels["controller-revision-hash"]],
                       generationLabel: .metadata.labels["pod-template-generation"]}] | sort_by(.node)),
     revisions: ([$crs[].revision] | sort)}'
}

# settled IMAGE: both nodes run one ready pod with IMAGE, nothing terminating,
# and the status says so at the current generation.
settled() {
  ds_state | jq -e --arg img "$1" '
    .terminating == 0 and (.pods | length) == 2 and all(.pods[]; .image == $img and .ready) and
    .status.observedCurrent and .status.desired == 2 and .status.current == 2 and .status.ready == 2 and
    .status.available == 2 and .status.updated == 2' >/dev/null
}

step() {
  local label=$1 img=$2 t0=$SECONDS
  until settled "$img"; do
    ((SECONDS - t0 < 90)) || fail "$DIFF_SIDE: '$label' not settled within 90s; state: $(ds_state)"
    sleep 0.3
  done
  diff_stable 20 ds_state | jq -c --arg l "$label" '{step: $l} + .' >>"$DIFF_OUT/steps"
  k rollout history ds/"$DS" | awk '$1 ~ /^[0-9]+$/ {print $1}' | paste -sd' ' | sed "s/^/$label: /" >>"$DIFF_OUT/history"
  info "$DIFF_SIDE: $label settled in $((SECONDS - t0))s"
}

scenario() {
  local t0=$SECONDS
  diff_ns
  kubectl apply -n "$NS" -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: $DS}
spec:
  selector: {matchLabels: {app: diffds}}
  updateStrategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 1}}
  template:
    metadata: {labels: {app: diffds, tier: agent}}
    spec:
      hostNetwork: true
      containers: [{name: c, image: "registry.k8s.io/pause:3.9"}]
YAML
  step "apply" registry.k8s.io/pause:3.9
  k set image ds/"$DS" c=registry.k8s.io/pause:3.10 >/dev/null
  step "set image" registry.k8s.io/pause:3.10
  k rollout undo ds/"$DS" >/dev/null 2>&1 || fail "$DIFF_SIDE: rollout undo failed"
  step "rollout undo" registry.k8s.io/pause:3.9

  kget pods | jq -c --arg ds "$DS" --arg uid "$(kjq .metadata.uid ds "$DS")" '
    .items[] | select(.metadata.deletionTimestamp == null) |
    {generateName: .metadata.generateName,
     nameIsGenerateNamePlus5: (.metadata.generateName as $g | $g != null and
       (.metadata.name | test("^" + $g + "[bcdfghjklmnpqrstvwxz2456789]{5}$"))),
     labels: (.metadata.labels | with_entries(if .key == "controller-revision-hash" then .value = "HASH" else . end)),
     boundToItsNode: (.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms
       == [{matchFields: [{key: "metadata.name", operator: "In", values: [.spec.nodeName]}]}]),
     tolerations: .spec.tolerations,
     ownerReferences: [.metadata.ownerReferences[]? |
       {apiVersion, kind, controller, blockOwnerDeletion, isTheDaemonSet: (.name == $ds and .uid == $uid)}]}' |
    sort | uniq -c | diff_record pods
  kget controllerrevisions | jq -c --arg ds "$DS" '.items[] |
    {nameIsDsPlusHash: (.metadata.name == "\($ds)-\(.metadata.labels["controller-revision-hash"])"),
     labels: (.metadata.labels | with_entries(if .key == "controller-revision-hash" then .value = "HASH" else . end)),
     patch: .data.spec.template["$patch"], owner: [.metadata.ownerReferences[]? | {kind, controller}]}' |
    sort | uniq -c | diff_record revisions
  sleep 2
  diff_events_record DaemonSet "$DS" events
  diff_writes >"$DIFF_OUT/writes"
  info "$DIFF_SIDE: scenario done in $((SECONDS - t0))s"
}

diff_upstream_start

diff_side kubus
[ "$(kubectl get nodes -o name | wc -l)" = 2 ] || fail "expected exactly the nodes master and worker"
kubus_start --controllers=daemonset,garbagecollector || fail "kubus did not start"
diff_run_both scenario

bad=0
diff_compare steps history pods revisions || bad=1
diff_events_compare events || bad=1
if ! cmp -s "$DIFF_DIR/kubus/events" "$DIFF_DIR/upstream/events" ||
   [ "$(cat "$DIFF_DIR/kubus/events.total")" != "$(cat "$DIFF_DIR/upstream/events.total")" ]; then
  echo "--- events differ: kubus $(paste -sd, "$DIFF_DIR/kubus/events") (count $(cat "$DIFF_DIR/kubus/events.total")), upstream $(paste -sd, "$DIFF_DIR/upstream/events") (count $(cat "$DIFF_DIR/upstream/events.total"))" >&2
  bad=1
fi
((bad == 0)) || fail "kubus and upstream differ (see above)"
pass "kubus and upstream agree: $(wc -l <"$DIFF_DIR/kubus/steps") steps' status, pods, revisions and rollout history, pod and revision shape, event reasons ($(tr '\n' ',' <"$DIFF_DIR/kubus/events" | sed 's/,$//'))"
