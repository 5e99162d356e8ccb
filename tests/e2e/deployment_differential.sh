#!/usr/bin/env bash
# Differential test (issue 6): the tutorial's Deployment scenario under kubus
# (on the fixture cluster) and under upstream kube-controller-manager (on a
# private cluster this test starts with KUBUS_UPSTREAM=all and always tears
# down), the same steps on both sides:
#   1. apply mydeploy.yaml (10 x nginx);
#   2. set image nginx:1.9.1, rollout status;
#   3. set image nginx:1.9.21 (never pulls), progressDeadlineSeconds patched
#      to 15, until Progressing=False ProgressDeadlineExceeded;
#   4. rollout undo, rollout status;  5. rollout undo --to-revision=1, rollout status.
# After each step, once settled, compared between the sides: the revisions
# `kubectl rollout history` lists (in order), the ReplicaSets (how many; per
# revision: replicas, status counts, image, revision-history), the
# Deployment's conditions (type/status/reason), status counters and revision,
# the pods (count, images, readiness, ownerReferences shape). At the end also
# the Deployment's event reasons. pod-template-hash values are not compared
# (only that each ReplicaSet's name and selector agree with its own). The API
# writes each side made in the namespace (audit logs) are printed as
# information, not asserted.
. "$(dirname "$0")/lib.sh"
. "$KUBUS_ROOT/tests/e2e/kubus.sh"
. "$KUBUS_ROOT/tests/e2e/_differential.sh"

manifest=$(tutorial_manifest mydeploy.yaml)
D=mydeploy

# One `get deploy,rs,pods` call: the whole observable state of the scenario,
# as a few lines of JSON without names, uids, hashes or times.
state() {
  kubectl get deploy,rs,pods -n "$NS" -o json | jq -c --arg d "$D" '
    def ready: any(.status.conditions[]?; .type == "Ready" and .status == "True");
    def rev: (.metadata.annotations["deployment.kubernetes.io/revision"] // "none");
    [.items[] | select(.kind == "Deployment" and .metadata.name == $d)][0] as $dep |
    [.items[] | select(.kind == "ReplicaSet")] as $rss |
    [.items[] | select(.kind == "Pod")] as $pods |
    [$pods[] | select(.metadata.deletionTimestamp == null)] as $active |
    {deployment: {
       generation: $dep.metadata.generation,
       observedCurrent: ($dep.status.observedGeneration == $dep.metadata.generation),
       revision: ($dep | rev),
       image: $dep.spec.template.spec.containers[0].image,
       status: ($dep.status | del(.conditions, .observedGeneration)),
       conditions: [$dep.status.conditions[]? | "\(.type)=\(.status) \(.reason)"] | sort}},
    {replicaSets: [$rss[] | {
       revision: (rev | tonumber? // .),
       revisionHistory: .metadata.annotations["deployment.kubernetes.io/revision-history"],
       desiredReplicas: .metadata.annotations["deployment.kubernetes.io/desired-replicas"],
       maxReplicas: .metadata.annotations["deployment.kubernetes.io/max-replicas"],
       image: .spec.template.spec.containers[0].image,
       spec: .spec.replicas,
       observedCurrent: (.status.observedGeneration == .metadata.generation),
       status: (.status | del(.observedGeneration, .conditions)),
       nameIsDeploymentPlusHash: (.metadata.name == $d + "-" + .metadata.labels["pod-template-hash"]),
       selectorHasHash: (.spec.selector.matchLabels["pod-template-hash"] == .metadata.labels["pod-template-hash"]),
       ownerReferences: [.metadata.ownerReferences[]? |
         {apiVersion, kind, controller, blockOwnerDeletion, isTheDeployment: (.uid == $dep.metadata.uid)}]}]
     | sort_by(.revision)},
    {pods: {
       active: ($active | length),
       ready: ([$active[] | select(ready)] | length),
       terminating: ([$pods[] | select(.metadata.deletionTimestamp != null)] | length),
       images: ([$active[] | .spec.containers[0].image] | group_by(.) | map({(.[0]): length}) | add // {}),
       shapes: ([$active[] | .metadata.labels["pod-template-hash"] as $h |
         {generateNameIsRsName: (.metadata.generateName == $d + "-" + $h + "-"),
          ownerReferences: [.metadata.ownerReferences[]? | {apiVersion, kind, controller, blockOwnerDeletion}]}]
         | unique)}}'
}

# settled: nothing terminating, every object observed at its generation and
# status counts that agree with the pods.
settled() {
  state | jq -s -e '
    (.[0].deployment) as $d | (.[1].replicaSets) as $r | (.[2].pods) as $p |
    $p.terminating == 0 and $d.observedCurrent and all($r[]; .observedCurrent) and
    all($r[]; (.status.replicas // 0) == .spec) and
    ($d.status.replicas // 0) == $p.active and ($d.status.readyReplicas // 0) == $p.ready and
    ([$r[].spec] | add // 0) == $p.active' >/dev/null
}

history_revisions() {
  k rollout history deployment "$D" | awk 'NR > 2 && $1 ~ /^[0-9]+$/ {print $1}' | tr '\n' ' ' | sed 's/ $//'
}
progressing_reason() {
  kjq '.status.conditions[]? | select(.type == "Progressing") | .reason' deploy "$D"
}
rollout_ok() {
  local out
  out=$(k rollout status deployment "$D" --timeout=120s 2>&1) ||
    fail "$DIFF_SIDE: rollout status failed: $out"
  grep -q "successfully rolled out" <<<"$out" || fail "$DIFF_SIDE: rollout status said: $out"
}

# step LABEL: wait until settled, then record the (stable) state and history.
step() {
  local label=$1 t0=$SECONDS
  until settled; do
    ((SECONDS - t0 < 120)) || fail "$DIFF_SIDE: '$label' did not settle within 120s; state: $(state)"
    sleep 0.3
  done
  {
    echo "== $label"
    diff_stable 30 state
    echo "history: $(history_revisions)"
  } >>"$DIFF_OUT/steps"
  info "$DIFF_SIDE: $label settled in $((SECONDS - t0))s"
}

# The scenario, identical on both sides.
scenario() {
  local t0=$SECONDS
  diff_ns
  k apply -f "$manifest" >/dev/null
  wait_until 120 '[ "$(progressing_reason)" = NewReplicaSetAvailable ]' "$DIFF_SIDE: the first rollout"
  step "1. apply"

  k set image deployment "$D" nginx=nginx:1.9.1 >/dev/null
  rollout_ok
  step "2. set image nginx:1.9.1"

  k set image deployment "$D" nginx=nginx:1.9.21 >/dev/null
  k patch deployment "$D" -p '{"spec":{"progressDeadlineSeconds":15}}' >/dev/null
  wait_until 90 '[ "$(progressing_reason)" = ProgressDeadlineExceeded ]' \
    "$DIFF_SIDE: Progressing reason ProgressDeadlineExceeded"
  step "3. set image nginx:1.9.21, deadline 15s"

  # (kubectl warns that undo does not update last-applied-configuration)
  k rollout undo deployment "$D" >/dev/null 2>&1 || fail "$DIFF_SIDE: rollout undo failed"
  rollout_ok
  step "4. rollout undo"

  k rollout undo deployment "$D" --to-revision=1 >/dev/null 2>&1 || fail "$DIFF_SIDE: rollout undo --to-revision=1 failed"
  rollout_ok
  step "5. rollout undo --to-revision=1"

  sleep 2   # the event recorders are asynchronous
  diff_events_record Deployment "$D" events
  diff_writes >"$DIFF_OUT/writes"
  info "$DIFF_SIDE: scenario done in $((SECONDS - t0))s"
}

diff_upstream_start   # comes up in the background while the kubus side runs

diff_side kubus
kubus_start --controllers=replicaset,deployment,garbagecollector || fail "kubus did not start"
diff_run_both scenario

bad=0
diff_compare steps || bad=1
diff_events_compare events || bad=1
((bad == 0)) || fail "kubus and upstream differ (see above)"
last=$(grep '^{"pods"' "$DIFF_DIR/kubus/steps" | tail -n 1 | jq -c '.pods | {active, images}')
pass "kubus and upstream agree after each of 5 steps (history, ReplicaSets, conditions, counters, pods); final pods $last; event reasons: $(tr '\n' ',' <"$DIFF_DIR/kubus/events" | sed 's/,$//')"
