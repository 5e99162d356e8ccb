#!/usr/bin/env bash
# The Deployment controller beyond the tutorial, each observable through the API:
#   A. proportional scaling of a stuck rollout (old 8 + new 5 of 10, scaled to 20
#      -> 15 + 10: shares by the max-replicas annotation, 20 + 25% surge);
#   B. rollout pause (a template change makes no ReplicaSet, scaling still works,
#      Progressing reason DeploymentPaused), resume (the rollout happens);
#   C. rollout restart (a new ReplicaSet whose template has restartedAt);
#   D. Recreate: a new pod never exists while an old one does;
#   E. revisionHistoryLimit 1: old ReplicaSets beyond it are deleted;
#   F. minReadySeconds reaches the ReplicaSets;
#   G. delete --cascade=orphan, then apply again: the old ReplicaSet is adopted,
#      its pods kept, no new ReplicaSet (needs kubus-garbagecollector for the
#      orphaning; SKIPped without it).
. "$(dirname "$0")/lib.sh"

# Another kubus against the same cluster acts on this test's objects too (two
# ReplicaSet controllers both fill the same gap): say so, it explains failures.
others=$(ps -eo args= | awk '{n = split($1, p, "/")} p[n] == "kubus-replicaset" {c++} END {print c + 0}')
((others == 0)) || info "NOTE: $others other kubus-replicaset process(es) run against this cluster"
# Every kubus binary is built together: the supervisor and the garbage
# collector are always there.
. "$KUBUS_ROOT/tests/e2e/kubus.sh"
# shellcheck disable=SC2086
kubus_start --controllers=replicaset,deployment,garbagecollector ${KUBUS_E2E_FLAGS:-} || fail "kubus did not start"

kns_new deployment-features

# deploy NAME REPLICAS IMAGE [STRATEGY-YAML] [EXTRA-SPEC-YAML]
deploy() {
  local strategy=${4:-"type: RollingUpdate"}
  k apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $1
spec:
  replicas: $2
  selector:
    matchLabels:
      app: $1
  strategy:
    $strategy
  ${5:-}
  template:
    metadata:
      labels:
        app: $1
    spec:
      containers:
      - name: c
        image: $3
YAML
}
counts() { kjq '[.status.replicas // 0, .status.updatedReplicas // 0, .status.readyReplicas // 0, .status.availableReplicas // 0] | join(" ")' deploy "$1"; }
# "spec.replicas" of the ReplicaSets of $1 whose image is $2, summed
rs_size() { kget rs -l "app=$1" | jq --arg img "$2" '[.items[] | select(.spec.template.spec.containers[0].image == $img) | .spec.replicas] | add // 0'; }
rs_count() { kget rs -l "app=$1" | jq '.items | length'; }
reason() { kjq '.status.conditions[]? | select(.type == "Progressing") | .reason' deploy "$1"; }
rollout_ok() {
  local out
  out=$(k rollout status deployment "$1" --timeout=120s 2>&1) || fail "rollout status $1 failed: $out"
}

# ---- A. proportional scaling of a stuck rollout ------------------------------------
deploy prop 10 nginx
wait_until 90 '[ "$(counts prop)" = "10 10 10 10" ]' "prop ready 10/10 (is: $(counts prop))"
k set image deployment prop c=nginx:1.9.21 >/dev/null
wait_until 60 '[ "$(rs_size prop nginx)" = 8 ] && [ "$(rs_size prop nginx:1.9.21)" = 5 ]' \
  "stuck at old 8 + new 5 (is: $(rs_size prop nginx) + $(rs_size prop nginx:1.9.21))"
k scale deployment prop --replicas=20 >/dev/null
wait_until 60 '[ "$(rs_size prop nginx)" = 15 ] && [ "$(rs_size prop nginx:1.9.21)" = 10 ]' \
  "proportional 15 + 10 (is: $(rs_size prop nginx) + $(rs_size prop nginx:1.9.21))"
kget rs -l app=prop | jq -e 'all(.items[]; .metadata.annotations["deployment.kubernetes.io/desired-replicas"] == "20"
    and .metadata.annotations["deployment.kubernetes.io/max-replicas"] == "25")' >/dev/null \
  || fail "replica annotations not 20/25: $(kget rs -l app=prop | jq -c '[.items[].metadata.annotations]')"
wait_until 60 '[ "$(pods_ready "$NS" app=prop)" = 15 ]' "15 old pods ready"
never_within 5 '[ "$(pods_count "$NS" app=prop)" -gt 25 ] || [ "$(pods_ready "$NS" app=prop)" -lt 15 ]' "more than 25 pods or fewer than 15 ready"
k rollout undo deployment prop >/dev/null
rollout_ok prop
[ "$(rs_size prop nginx)" = 20 ] || fail "after undo old has $(rs_size prop nginx)"
pass "proportional scaling: stuck 8+5 scaled to 20 became 15+10 (max-replicas 25); undo finished at 20"

# ---- B. pause and resume ----------------------------------------------------------------
deploy pause 4 nginx
wait_until 90 '[ "$(counts pause)" = "4 4 4 4" ]' "pause ready 4/4"
k rollout pause deployment pause >/dev/null
k set image deployment pause c=nginx:1.9.1 >/dev/null
wait_until 20 '[ "$(reason pause)" = DeploymentPaused ]' "Progressing DeploymentPaused (is: $(reason pause))"
never_within 4 '[ "$(rs_count pause)" != 1 ]' "a ReplicaSet made while paused"
k scale deployment pause --replicas=6 >/dev/null
wait_until 60 '[ "$(rs_size pause nginx)" = 6 ] && [ "$(pods_ready "$NS" app=pause)" = 6 ]' "paused deployment scaled to 6"
k rollout resume deployment pause >/dev/null
rollout_ok pause
[ "$(rs_size pause nginx:1.9.1)" = 6 ] && [ "$(rs_size pause nginx)" = 0 ] || fail "resume did not roll out"
pass "pause: no rollout, scaling works, DeploymentPaused; resume rolls out"

# ---- C. rollout restart ---------------------------------------------------------------------
before=$(rs_count pause)
k rollout restart deployment pause >/dev/null
rollout_ok pause
[ "$(rs_count pause)" = $((before + 1)) ] || fail "restart did not make a new ReplicaSet"
kget rs -l app=pause | jq -e '[.items[] | select(.spec.replicas == 6)
    | .spec.template.metadata.annotations["kubectl.kubernetes.io/restartedAt"] // empty] | length == 1' >/dev/null \
  || fail "the active ReplicaSet has no restartedAt template annotation"
pass "rollout restart: a new ReplicaSet with restartedAt, rolled out"

# ---- D. Recreate --------------------------------------------------------------------------------
deploy recr 3 nginx "type: Recreate"
wait_until 90 '[ "$(counts recr)" = "3 3 3 3" ]' "recr ready 3/3"
raw=$(mktemp /tmp/kubus-recreate-watch.XXXXXX)
on_exit "rm -f '$raw'"
kubectl get pods -n "$NS" -l app=recr -w --output-watch-events -o json >"$raw" 2>/dev/null &
wpid=$!
on_exit "kill $wpid 2>/dev/null"
wait_until 30 '[ "$(grep -c "\"ADDED\"" "$raw")" -ge 3 ]' "the pod watch to start"
k set image deployment recr c=nginx:1.9.1 >/dev/null
rollout_ok recr
kill "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null || true
mixed=$(jq -n -r 'foreach (inputs | select(.object.kind? == "Pod")) as $e ({};
          if $e.type == "DELETED" then del(.[$e.object.metadata.name]) else .[$e.object.metadata.name] = $e.object end;
          [.[] | .spec.containers[0].image] | unique | select(length > 1) | join(","))' "$raw" | head -3)
[ -z "$mixed" ] || fail "old and new pods existed together: $mixed"
[ "$(rs_size recr nginx:1.9.1)" = 3 ] && [ "$(rs_size recr nginx)" = 0 ] || fail "recreate did not finish"
pass "Recreate: old pods all gone before any new pod"

# ---- E. revisionHistoryLimit -----------------------------------------------------------------------
k patch deployment recr -p '{"spec":{"revisionHistoryLimit":1}}' >/dev/null
for img in nginx:1.9.2 nginx:1.9.3; do
  k set image deployment recr c=$img >/dev/null
  rollout_ok recr
done
wait_until 30 '[ "$(rs_count recr)" = 2 ]' "1 old ReplicaSet kept (have $(rs_count recr))"
kget rs -l app=recr | jq -e '[.items[].spec.template.spec.containers[0].image] | sort == ["nginx:1.9.2", "nginx:1.9.3"]' >/dev/null \
  || fail "kept the wrong ReplicaSets: $(kget rs -l app=recr | jq -c '[.items[].spec.template.spec.containers[0].image]')"
pass "revisionHistoryLimit 1: the oldest ReplicaSets deleted, newest old one kept"

# ---- F. minReadySeconds ------------------------------------------------------------------------------
k patch deployment recr -p '{"spec":{"minReadySeconds":2}}' >/dev/null
wait_until 30 '[ "$(kget rs -l app=recr | jq "[.items[] | select(.spec.replicas > 0) | .spec.minReadySeconds] | first")" = 2 ]' \
  "minReadySeconds on the new ReplicaSet"
pass "minReadySeconds reaches the ReplicaSet"

# ---- G. orphan and adopt ---------------------------------------------------------------------------------
deploy orph 3 nginx
wait_until 90 '[ "$(counts orph)" = "3 3 3 3" ]' "orph ready 3/3"
rs=$(kget rs -l app=orph | jq -r '.items[0].metadata.name')
pods_before=$(pod_names "$NS" app=orph | tr '\n' ' ')
k delete deployment orph --cascade=orphan >/dev/null
wait_until 60 '! k get deployment orph >/dev/null 2>&1' "Deployment orph gone"
wait_until 60 '[ "$(kjq ".metadata.ownerReferences // [] | length" rs "$rs")" = 0 ]' "ReplicaSet $rs orphaned"
deploy orph 3 nginx
# shellcheck disable=SC2034  # used in the wait_until condition
duid=$(kjq .metadata.uid deploy orph)
wait_until 60 '[ "$(kjq ".metadata.ownerReferences[]? | select(.controller == true) | .uid" rs "$rs")" = "$duid" ]' "ReplicaSet $rs adopted"
rollout_ok orph
[ "$(rs_count orph)" = 1 ] || fail "a new ReplicaSet was made instead of adopting: $(k get rs -l app=orph --no-headers)"
[ "$(pod_names "$NS" app=orph | tr '\n' ' ')" = "$pods_before" ] || fail "pods were replaced"
pass "orphaned ReplicaSet adopted by the re-created Deployment, pods kept"
