#!/usr/bin/env bash
# StatefulSet features beyond the tutorial, against kubus with
# --controllers=statefulset,garbagecollector:
#   - OrderedReady stops behind an unready pod; Parallel creates (and scales
#     down) all pods at once, ready or not (pods that can never be ready:
#     an image tag the fake kubelet answers with ErrImagePull);
#   - RollingUpdate of the image: pods replaced highest ordinal first, one at
#     a time (maxUnavailable 1), `kubectl rollout status` finishes, history
#     shows revisions 1 and 2, status current = update revision;
#   - partition 2: only ordinals >= 2 move to the new revision, then
#     partition 0 finishes the rollout;
#   - rollback (`kubectl rollout undo`): the older revision is reused and
#     renumbered, no new revision is made;
#   - OnDelete: a template change replaces nothing until a pod is deleted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/_statefulset.sh"
. "$KUBUS_ROOT/tests/e2e/kubus.sh"

kns_new sts-features
kubus_start --controllers=statefulset,garbagecollector || fail "kubus did not start"

sts_yaml() {   # NAME REPLICAS POLICY IMAGE
  cat <<YAML
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: $1}
spec:
  serviceName: $1
  replicas: $2
  podManagementPolicy: $3
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $1}}
    spec:
      containers: [{name: nginx, image: "$4"}]
YAML
}
names() { kubectl -n "$NS" get pods -l "app=$1" -o json | jq -r '[.items[] | select(.metadata.deletionTimestamp == null) | .metadata.name] | sort | join(",")'; }
revs_of() {   # "name=revision" of the live pods of app $1
  kubectl -n "$NS" get pods -l "app=$1" -o json | jq -r '[.items[] | select(.metadata.deletionTimestamp == null)
    | "\(.metadata.name)=\(.metadata.labels["controller-revision-hash"])"] | sort | join(",")'
}

# ---- OrderedReady stops behind an unready pod -------------------------------------
sts_yaml ordered 3 OrderedReady nginx:1.9.21 | k apply -f - >/dev/null
wait_until 30 '[ "$(names ordered)" = "ordered-0" ]' "ordered-0 created"
never_within 5 '[ "$(names ordered)" != "ordered-0" ]' "OrderedReady to create ordered-1 while ordered-0 is not ready"
pass "OrderedReady: only ordered-0 exists while it cannot become ready"

# ---- Parallel: all at once, ready or not; scale-down all at once -------------------
sts_yaml par 4 Parallel nginx:1.9.21 | k apply -f - >/dev/null
wait_until 30 '[ "$(names par)" = "par-0,par-1,par-2,par-3" ]' "par-0..3 created without waiting for readiness"
[ "$(pods_ready "$NS" app=par)" = 0 ] || fail "the par pods should not be ready (ErrImagePull)"
wait_until 30 '[ "$(kjq ".status.replicas // 0" sts par)" = 4 ]' "par status.replicas 4"
k scale sts par --replicas=1 >/dev/null
wait_until 30 '[ "$(names par)" = "par-0" ]' "par scaled down to par-0 although no pod is ready"
pass "Parallel: 4 unready pods created at once, scaled down to 1 at once"
k delete sts ordered par >/dev/null

# ---- RollingUpdate: reverse order, one at a time; rollout status; history ------------
sts_yaml web 3 OrderedReady nginx | k apply -f - >/dev/null
wait_until 60 '[ "$(pods_ready "$NS" app=web)" = 3 ]' "web-0..2 ready"
rev1=$(kjq .status.updateRevision sts web)
wait_until 30 '[ "$(kjq .status.currentRevision sts web)" = "$rev1" ] && [ -n "$rev1" ]' "web currentRevision set"
deletes_before=$(sts_audit_writes delete pods | wc -l)
k set image sts web nginx=nginx:1.9.1 >/dev/null
min_ready=3
watch_ready() {
  local r
  r=$(pods_ready "$NS" app=web)
  ((r < min_ready)) && min_ready=$r
  kubectl -n "$NS" get sts web -o json | jq -e '.status.currentRevision == .status.updateRevision and
      .status.updatedReplicas == 3 and .status.readyReplicas == 3 and .status.observedGeneration == .metadata.generation' >/dev/null
}
wait_until 90 'watch_ready' "the rolling update to finish"
out=$(timeout 30 kubectl -n "$NS" rollout status sts web 2>&1) || fail "rollout status did not finish: $out"
grep -q "roll out complete: 3 new pods have been updated" <<<"$out" || fail "unexpected rollout status output: $out"
rev2=$(kjq .status.updateRevision sts web)
[ "$rev2" != "$rev1" ] || fail "the update revision did not change"
[ "$(revs_of web)" = "web-0=$rev2,web-1=$rev2,web-2=$rev2" ] || fail "pods not all at $rev2: $(revs_of web)"
kget pods -l app=web | jq -e 'all(.items[]; .spec.containers[0].image == "nginx:1.9.1")' >/dev/null || fail "not every pod runs nginx:1.9.1"
order=$(sts_audit_writes delete pods | tail -n +$((deletes_before + 1)) | tr '\n' ' ')
[ "$order" = "web-2 web-1 web-0 " ] || fail "rolling update deleted '$order', expected web-2 web-1 web-0"
((min_ready >= 2)) || fail "more than one pod was unavailable at once during the update (ready went down to $min_ready)"
hist=$(k rollout history sts web | awk 'NR > 2 && NF {print $1}' | tr '\n' ' ')
[ "$hist" = "1 2 " ] || fail "rollout history shows '$hist', expected revisions 1 2"
pass "rolling update: web-2, web-1, web-0 replaced in turn (>= 2 ready throughout), rollout status complete, history 1 2"

# ---- partition ------------------------------------------------------------------------
k patch sts web --type=merge -p '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":2}}}}' >/dev/null
k set image sts web nginx=nginx:1.9.2 >/dev/null
wait_until 60 '[ "$(kjq ".status.updatedReplicas // 0" sts web)" = 1 ] && [ "$(pods_ready "$NS" app=web)" = 3 ]' "web-2 updated"
rev3=$(kjq .status.updateRevision sts web)
never_within 5 '[ "$(revs_of web)" != "web-0=$rev2,web-1=$rev2,web-2=$rev3" ]' "pods below the partition to stay at $rev2 (is: $(revs_of web))"
[ "$(kjq .status.currentRevision sts web)" = "$rev2" ] || fail "currentRevision should stay $rev2 while partitioned"
out=$(timeout 30 kubectl -n "$NS" rollout status sts web 2>&1) || fail "rollout status (partitioned) did not finish: $out"
grep -q "partitioned roll out complete: 1 new pods have been updated" <<<"$out" || fail "unexpected partitioned rollout status: $out"
k patch sts web --type=merge -p '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}' >/dev/null
wait_until 90 '[ "$(revs_of web)" = "web-0=$rev3,web-1=$rev3,web-2=$rev3" ] && [ "$(kjq .status.currentRevision sts web)" = "$rev3" ]' \
  "partition 0: every pod at $rev3"
pass "partition 2: only web-2 moved to the new revision; partition 0 finished the rollout"

# ---- rollback -----------------------------------------------------------------------------
n_revs=$(kget controllerrevisions | jq '.items | length')
k rollout undo sts web >/dev/null 2>&1
wait_until 90 '[ "$(revs_of web)" = "web-0=$rev2,web-1=$rev2,web-2=$rev2" ] && [ "$(kjq .status.currentRevision sts web)" = "$rev2" ]' \
  "rollback: every pod back at $rev2"
[ "$(kget controllerrevisions | jq '.items | length')" = "$n_revs" ] || fail "the rollback made a new revision"
[ "$(kjq .revision controllerrevision "$rev2")" = 4 ] || fail "the reused revision $rev2 was not renumbered 4: $(kjq .revision controllerrevision "$rev2")"
pass "rollback: revision $rev2 reused and renumbered 4, no new revision"

# ---- OnDelete ---------------------------------------------------------------------------
k patch sts web --type=merge -p '{"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null}}}' >/dev/null
k set image sts web nginx=nginx:1.9.3 >/dev/null
wait_until 30 '[ "$(kjq .status.updateRevision sts web)" != "$rev2" ]' "a new update revision"
rev5=$(kjq .status.updateRevision sts web)
never_within 5 '[ "$(revs_of web)" != "web-0=$rev2,web-1=$rev2,web-2=$rev2" ]' "OnDelete to leave the pods alone"
k delete pod web-0 --wait=false >/dev/null
wait_until 60 '[ "$(revs_of web)" = "web-0=$rev5,web-1=$rev2,web-2=$rev2" ] && [ "$(pods_ready "$NS" app=web)" = 3 ]' \
  "web-0 re-created at $rev5 (is: $(revs_of web))"
pass "OnDelete: nothing replaced until web-0 was deleted; it came back at the new revision"
