#!/usr/bin/env bash
# Section 2 of the tutorial (examples/README.md), the Deployment walkthrough:
#   1. apply mydeploy.yaml -> one ReplicaSet mydeploy-<pod-template-hash> owned by
#      the Deployment, 10 pods, READY 10/10, UP-TO-DATE 10, AVAILABLE 10;
#   2. set image nginx:1.9.1 -> rollout status "successfully rolled out";
#   3. set image nginx:1.9.21 -> new pods in ErrImagePull, >= 8 available, <= 13
#      pods, never completes; progressDeadlineSeconds patched to 15 s ->
#      Progressing=False ProgressDeadlineExceeded;
#   4. rollout history -> 1, 2, 3 with CHANGE-CAUSE where annotated;
#   5. rollout undo -> nginx:1.9.1, history 1, 3, 4 (2 became 4, revision-history 2);
#   6. rollout undo --to-revision=1 -> nginx;
#   7. scale 5, then 10;  8. patch replicas 3;
#   9. delete deploy --all -> Deployment, ReplicaSets and pods gone (the
#      garbage collector's cascade).
# During steps 2-6 a watcher samples the pods every 0.2 s and the test fails if
# any sample had more than replicas + maxSurge (13) pods not being deleted, or
# fewer than replicas - maxUnavailable (8) ready ones.
. "$(dirname "$0")/lib.sh"

manifest=$(tutorial_manifest mydeploy.yaml)

# Another kubus against the same cluster acts on this test's objects too (two
# ReplicaSet controllers both fill the same gap): say so, it explains failures.
others=$(ps -eo args= | awk '{n = split($1, p, "/")} p[n] == "kubus-replicaset" {c++} END {print c + 0}')
((others == 0)) || info "NOTE: $others other kubus-replicaset process(es) run against this cluster"

# Every kubus binary is built together: the supervisor and the garbage
# collector are always there.
. "$KUBUS_ROOT/tests/e2e/kubus.sh"
# shellcheck disable=SC2086
kubus_start --controllers=replicaset,deployment,garbagecollector ${KUBUS_E2E_FLAGS:-} || fail "kubus did not start"

SEL=run=nginx
dep_field() { kjq "$1" deploy mydeploy; }
image() { dep_field '.spec.template.spec.containers[0].image'; }
# "replicas updated ready available" of the Deployment's status
dep_counts() { dep_field '[.status.replicas // 0, .status.updatedReplicas // 0, .status.readyReplicas // 0, .status.availableReplicas // 0] | join(" ")'; }
progressing_reason() { dep_field '.status.conditions[]? | select(.type == "Progressing") | .reason'; }
# revisions in `kubectl rollout history` order, as "1 2 3"
history_revisions() { k rollout history deployment mydeploy | awk 'NR > 2 && $1 ~ /^[0-9]+$/ {print $1}' | tr '\n' ' ' | sed 's/ $//'; }
change_cause() { k rollout history deployment mydeploy | awk -v r="$1" '$1 == r {$1 = ""; sub(/^ +/, ""); print}'; }
rs_of_revision() {
  kget rs -l "$SEL" | jq -r --arg r "$1" '.items[] | select(.metadata.annotations["deployment.kubernetes.io/revision"] == $r) | .metadata.name'
}
rollout_ok() {
  local out
  out=$(k rollout status deployment mydeploy --timeout=120s 2>&1) || fail "rollout status failed: $out"
  grep -q "successfully rolled out" <<<"$out" || fail "rollout status said: $out"
}

# ---- the bounds watcher --------------------------------------------------------
# A pod watch records every change; afterwards the pods are re-counted after
# every event, so each state the API server passed through is checked (polling
# could miss a short excess). Counting starts once the watch has replayed the
# 10 ready pods it started with.
watch_raw=$(mktemp /tmp/kubus-deploy-watch.XXXXXX)
on_exit "rm -f '$watch_raw'"
start_watcher() {
  kubectl get pods -n "$NS" -l "$SEL" -w --output-watch-events -o json >"$watch_raw" 2>/dev/null &
  watcher_pid=$!
  on_exit "kill $watcher_pid 2>/dev/null"
  wait_until 30 '[ "$(grep -c "\"ADDED\"" "$watch_raw")" -ge 10 ]' "the pod watch to start"
}
stop_watcher() {
  kill "$watcher_pid" 2>/dev/null || true
  wait "$watcher_pid" 2>/dev/null || true
}
# One line per event: "pods ready event pod resourceVersion hash:pods/ready ..."
watch_counts() {
  jq -n -r '
    def ready: any(.status.conditions[]?; .type == "Ready" and .status == "True");
    foreach (inputs | select(.object.kind? == "Pod")) as $e ({};
      if $e.type == "DELETED" then del(.[$e.object.metadata.name])
      else .[$e.object.metadata.name] = $e.object end;
      [.[] | select(.metadata.deletionTimestamp == null)] |
      "\(length) \([.[] | select(ready)] | length) \($e.type) \($e.object.metadata.name) \($e.object.metadata.resourceVersion) " +
      (group_by(.metadata.labels["pod-template-hash"])
       | map("\(.[0].metadata.labels["pod-template-hash"]):\(length)/\([.[] | select(ready)] | length)")
       | join(" ")))' "$watch_raw"
}
check_bounds() {   # max_pods min_ready start_pods
  local counts n bad
  counts=$(watch_counts) || fail "could not read the pod watch"
  n=$(grep -c . <<<"$counts" || true)
  ((n >= 100)) || fail "the watcher saw only $n pod events"
  bad=$(awk -v max="$1" -v min="$2" -v start="$3" '
          !on && $1 == start && $2 == start {on = 1}
          on && ($1 > max || $2 < min)' <<<"$counts" | head -5)
  [ -z "$bad" ] || fail "bounds broken (pods > $1 or ready < $2) after events [pods ready event pod rv hash:pods/ready...]: $bad"
  pass "$n pod events watched: pods <= $1 and ready >= $2 after every one"
}

# ---- 1. apply -------------------------------------------------------------------
kns_new deployment-tutorial
k apply -f "$manifest" >/dev/null
wait_until 90 '[ "$(dep_counts)" = "10 10 10 10" ]' "READY 10/10 (status replicas/updated/ready/available: $(dep_counts))"
duid=$(dep_field .metadata.uid)
kget rs -l "$SEL" | jq -e --arg uid "$duid" '
  .items | length == 1 and all(.[];
    (.metadata.name | test("^mydeploy-[bcdfghjklmnpqrstvwxz2456789]{1,10}$")) and
    .metadata.name == "mydeploy-" + .metadata.labels["pod-template-hash"] and
    .spec.selector.matchLabels["pod-template-hash"] == .metadata.labels["pod-template-hash"] and
    .spec.template.metadata.labels["pod-template-hash"] == .metadata.labels["pod-template-hash"] and
    .metadata.annotations["deployment.kubernetes.io/revision"] == "1" and
    ([.metadata.ownerReferences[] | select(.controller == true and .blockOwnerDeletion == true
       and .kind == "Deployment" and .apiVersion == "apps/v1" and .uid == $uid)] | length == 1))' >/dev/null \
  || fail "expected one ReplicaSet mydeploy-<hash>, hash-labelled and owned by the Deployment: $(k get rs -o wide)"
[ "$(pods_count "$NS" "$SEL")" = 10 ] || fail "expected 10 pods, have $(pods_count "$NS" "$SEL")"
k get deploy mydeploy --no-headers | awk '$2 == "10/10" && $3 == 10 && $4 == 10 {ok=1} END {exit !ok}' \
  || fail "kubectl get deploy: $(k get deploy mydeploy --no-headers)"
[ "$(dep_field '.metadata.annotations["deployment.kubernetes.io/revision"]')" = 1 ] || fail "deployment revision annotation is not 1"
pass "apply: one ReplicaSet mydeploy-<hash> owned by the Deployment, READY 10/10 UP-TO-DATE 10 AVAILABLE 10"

start_watcher

# ---- 2. set image nginx:1.9.1 -------------------------------------------------------
k set image deployment mydeploy nginx=nginx:1.9.1 >/dev/null
k annotate deployment mydeploy kubernetes.io/change-cause="set image nginx:1.9.1" >/dev/null
rollout_ok
[ "$(image)" = nginx:1.9.1 ] || fail "image is $(image)"
wait_until 30 '[ "$(kget rs -l "$SEL" | jq "[.items[] | select(.spec.replicas > 0)] | length")" = 1 ]' "one active ReplicaSet"
pass "set image nginx:1.9.1: successfully rolled out"

# ---- 3. set image nginx:1.9.21 (does not exist) ----------------------------------------
k set image deployment mydeploy nginx=nginx:1.9.21 >/dev/null
k annotate deployment mydeploy --overwrite kubernetes.io/change-cause="set image nginx:1.9.21" >/dev/null
new_pulling() {
  kget pods -l "$SEL" | jq '[.items[] | select(.metadata.deletionTimestamp == null)
     | select(.spec.containers[0].image == "nginx:1.9.21")
     | select(any(.status.containerStatuses[]?; .state.waiting.reason == "ErrImagePull" or .state.waiting.reason == "ImagePullBackOff"))] | length'
}
wait_until 60 '[ "$(new_pulling)" -ge 1 ]' "new pods in ErrImagePull"
# the rollout stalls: let it settle, then it must stay within the bounds
sleep 5
[ "$(pods_count "$NS" "$SEL")" -le 13 ] || fail "more than 13 pods: $(pods_count "$NS" "$SEL")"
[ "$(pods_ready "$NS" "$SEL")" -ge 8 ] || fail "fewer than 8 ready pods: $(pods_ready "$NS" "$SEL")"
[ "$(progressing_reason)" != NewReplicaSetAvailable ] || fail "a broken rollout reported complete"
k patch deployment mydeploy -p '{"spec":{"progressDeadlineSeconds":15}}' >/dev/null
wait_until 60 '[ "$(progressing_reason)" = ProgressDeadlineExceeded ]' "Progressing reason ProgressDeadlineExceeded (is: $(progressing_reason))"
[ "$(dep_field '.status.conditions[] | select(.type == "Progressing") | .status')" = False ] || fail "Progressing is not False"
if out=$(k rollout status deployment mydeploy --timeout=20s 2>&1); then fail "rollout status succeeded on a stuck rollout: $out"; fi
grep -q "exceeded its progress deadline" <<<"$out" || fail "rollout status did not report the deadline: $out"
pass "set image nginx:1.9.21: ErrImagePull, $(pods_ready "$NS" "$SEL") ready, $(pods_count "$NS" "$SEL") pods, ProgressDeadlineExceeded"

# ---- 4. history ------------------------------------------------------------------------
wait_until 20 '[ "$(history_revisions)" = "1 2 3" ]' "history 1 2 3 (is: $(history_revisions))"
[ "$(change_cause 2)" = "set image nginx:1.9.1" ] || fail "revision 2 change-cause: '$(change_cause 2)'"
wait_until 20 '[ "$(change_cause 3)" = "set image nginx:1.9.21" ]' "revision 3 change-cause (is: '$(change_cause 3)')"
[ "$(change_cause 1)" = "<none>" ] || fail "revision 1 change-cause: '$(change_cause 1)'"
pass "rollout history: 1, 2, 3 with CHANGE-CAUSE"

# ---- 5. undo -> 1.9.1, revision 2 becomes 4 ---------------------------------------------
rs2=$(rs_of_revision 2)
[ -n "$rs2" ] || fail "no ReplicaSet with revision 2"
k rollout undo deployment mydeploy >/dev/null
rollout_ok
[ "$(image)" = nginx:1.9.1 ] || fail "after undo image is $(image)"
wait_until 20 '[ "$(history_revisions)" = "1 3 4" ]' "history 1 3 4 (is: $(history_revisions))"
[ "$(rs_of_revision 4)" = "$rs2" ] || fail "revision 4 is $(rs_of_revision 4), not the old revision 2 ($rs2)"
[ "$(kjq '.metadata.annotations["deployment.kubernetes.io/revision-history"]' rs "$rs2")" = 2 ] \
  || fail "revision-history of $rs2 is not 2"
[ "$(dep_field '.metadata.annotations["deployment.kubernetes.io/revision"]')" = 4 ] || fail "deployment revision is not 4"
pass "rollout undo: back to nginx:1.9.1, history 1 3 4, $rs2 revision 4 with revision-history 2"

# ---- 6. undo --to-revision=1 -> nginx --------------------------------------------------
k rollout undo deployment mydeploy --to-revision=1 >/dev/null
rollout_ok
[ "$(image)" = nginx ] || fail "after undo --to-revision=1 image is $(image)"
wait_until 20 '[ "$(history_revisions)" = "3 4 5" ]' "history 3 4 5 (is: $(history_revisions))"
pass "rollout undo --to-revision=1: back to nginx, history 3 4 5"

stop_watcher
check_bounds 13 8 10

# ---- 7. scale 5 then 10 ------------------------------------------------------------------
k scale deployment mydeploy --replicas 5 >/dev/null
wait_until 60 '[ "$(pods_count "$NS" "$SEL")" = 5 ] && [ "$(dep_counts)" = "5 5 5 5" ]' "5 pods (status: $(dep_counts))"
k scale deployment mydeploy --replicas=10 >/dev/null
wait_until 60 '[ "$(pods_count "$NS" "$SEL")" = 10 ] && [ "$(dep_counts)" = "10 10 10 10" ]' "10 pods (status: $(dep_counts))"
pass "scale 5 then 10"

# ---- 8. patch replicas 3 -------------------------------------------------------------------
k patch deployment mydeploy -p '{"spec":{"replicas":3}}' >/dev/null
wait_until 60 '[ "$(pods_count "$NS" "$SEL")" = 3 ] && [ "$(dep_counts)" = "3 3 3 3" ]' "3 pods (status: $(dep_counts))"
[ "$(kget rs -l "$SEL" | jq '[.items[].spec.replicas] | add')" = 3 ] || fail "ReplicaSets do not add up to 3"
pass "patch replicas 3: 3 pods"

# ---- 9. delete deploy --all -----------------------------------------------------------------
k delete deploy --all --wait=false >/dev/null
wait_until 90 '[ "$(kget deploy,rs,pods | jq ".items | length")" = 0 ]' "Deployment, ReplicaSets and pods gone (left: $(k get deploy,rs,pods --no-headers 2>/dev/null | wc -l))"
pass "delete deploy --all: everything gone"
