#!/usr/bin/env bash
# DaemonSet update strategies and adoption, against kubus
# (--controllers=daemonset,garbagecollector), on the nodes master and worker:
#   - RollingUpdate with maxSurge 1, maxUnavailable 0: a new pod starts beside
#     the old one before it goes (polled: every node keeps a ready pod, and
#     some node had two), `kubectl rollout status` finishes;
#   - OnDelete: a new image replaces nothing by itself (updatedNumberScheduled
#     0 at the new generation); a pod deleted by hand comes back with it;
#   - `kubectl delete ds --cascade=orphan`, then the same DaemonSet again: it
#     adopts the running pods (and its history) instead of creating new ones.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/_daemonset.sh"

. "$KUBUS_ROOT/tests/e2e/kubus.sh"
kubus_start --controllers=daemonset,garbagecollector || fail "kubus did not start"
kns_new ds-strategies
[ "$(kubectl get nodes -o name | wc -l)" = 2 ] || fail "expected exactly the nodes master and worker, have: $(kubectl get nodes -o name | tr '\n' ' ')"

ds_apply() {   # NAME STRATEGY-YAML IMAGE
  k apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: $1}
spec:
  selector: {matchLabels: {app: $1}}
  updateStrategy: $2
  template:
    metadata: {labels: {app: $1}}
    spec:
      containers: [{name: c, image: "$3"}]
YAML
}

# ---- maxSurge ------------------------------------------------------------------------------
ds_apply surge '{type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}' registry.k8s.io/pause:3.9
wait_until 60 '[ "$(ds_status surge)" = "2 2 2 2 2 0 1 1" ]' "surge: status 2/2/2 (is: $(ds_status surge))"
poll_out="$(mktemp /tmp/ds-surge.XXXXXX)"
on_exit "rm -f '$poll_out'"
# "<nodes without a ready live pod> <live pods>" per poll
(
  while :; do
    kubectl get pods -n "$NS" -l app=surge -o json 2>/dev/null | jq -r '
      [.items[] | select(.metadata.deletionTimestamp == null)] as $live
      | ([$live[] | select(any(.status.conditions[]?; .type == "Ready" and .status == "True")) | .spec.nodeName]) as $ok
      | "\(["master", "worker"] | map(select(. as $n | $ok | index($n) | not)) | length) \($live | length)"' \
      >>"$poll_out" 2>/dev/null || true
    sleep 0.1
  done
) &
poller=$!
on_exit "kill $poller 2>/dev/null; wait $poller 2>/dev/null"
k set image ds/surge c=registry.k8s.io/pause:3.10 >/dev/null
k rollout status ds/surge --timeout=60s >/dev/null || fail "rollout status ds/surge did not finish: $(ds_status surge)"
kill "$poller" 2>/dev/null; wait "$poller" 2>/dev/null || true
[ -s "$poll_out" ] || fail "the poller recorded nothing"
max_missing=$(awk '{print $1}' "$poll_out" | sort -n | tail -1)
max_live=$(awk '{print $2}' "$poll_out" | sort -n | tail -1)
[ "$max_missing" = 0 ] || fail "with maxUnavailable 0, a node was without a ready pod during the update"
[ "$max_live" -ge 3 ] || fail "with maxSurge 1, no node ever ran a new pod beside the old one (max live pods $max_live)"
# (no upper bound: a delete and the next node's create go out in one sync, as upstream's,
# and the API server may apply the create first)
kget pods -l app=surge | jq -e '.items | length == 2 and all(.[]; .spec.containers[0].image == "registry.k8s.io/pause:3.10")' >/dev/null \
  || fail "not every surge pod runs the new image"
pass "maxSurge 1 / maxUnavailable 0: new pods started beside old ones, every node kept a ready pod"

# ---- OnDelete --------------------------------------------------------------------------------
ds_apply ondel '{type: OnDelete}' registry.k8s.io/pause:3.9
wait_until 60 '[ "$(ds_status ondel)" = "2 2 2 2 2 0 1 1" ]' "ondel: status 2/2/2 (is: $(ds_status ondel))"
before=$(pod_names "$NS" app=ondel | tr '\n' ' ')
ds_apply ondel '{type: OnDelete}' registry.k8s.io/pause:3.10
wait_until 30 '[ "$(ds_status ondel)" = "2 2 2 2 0 0 2 2" ]' "ondel: updated 0 at generation 2 (is: $(ds_status ondel))"
never_within 3 '[ "$(pod_names "$NS" app=ondel | tr "\n" " ")" != "$before" ]' "OnDelete pods replaced without being deleted"
victim=$(pod_names "$NS" app=ondel | head -1)
k delete pod "$victim" --wait=false >/dev/null
wait_until 60 '[ "$(kget pods -l app=ondel | jq "[.items[] | select(.metadata.deletionTimestamp == null and .spec.containers[0].image == \"registry.k8s.io/pause:3.10\")] | length")" = 1 ] && [ "$(pods_count "$NS" app=ondel)" = 2 ]' \
  "a replacement for $victim with the new image"
wait_until 30 '[ "$(ds_status ondel)" = "2 2 2 2 1 0 2 2" ]' "ondel: updated 1 (is: $(ds_status ondel))"
pass "OnDelete: nothing replaced by the update itself; the deleted pod came back with the new template"

# ---- orphan, then adopt ----------------------------------------------------------------------------
pods_before=$(pod_names "$NS" app=ondel | tr '\n' ' ')
k delete ds ondel --cascade=orphan >/dev/null
wait_until 30 '[ "$(kget ds | jq "[.items[] | select(.metadata.name == \"ondel\")] | length")" = 0 ]' "the DaemonSet ondel gone"
wait_until 30 '[ "$(kget pods -l app=ondel | jq "[.items[] | select(.metadata.ownerReferences | length > 0)] | length")" = 0 ]' \
  "the orphaned pods without ownerReferences"
ds_apply ondel '{type: OnDelete}' registry.k8s.io/pause:3.10
nuid=$(kjq .metadata.uid ds ondel)
wait_until 30 '[ "$(kget pods -l app=ondel | jq --arg u "$nuid" "[.items[] | select(.metadata.ownerReferences[]? | .controller and .uid == \$u)] | length")" = 2 ]' \
  "both pods adopted by the new DaemonSet"
wait_until 30 '[ "$(kget controllerrevisions | jq --arg u "$nuid" "[.items[] | select(.metadata.ownerReferences[]? | .controller and .uid == \$u)] | length")" = 2 ]' \
  "both revisions adopted by the new DaemonSet"
never_within 3 '[ "$(pod_names "$NS" app=ondel | tr "\n" " ")" != "$pods_before" ]' "pods created or deleted around the adoption"
# Upstream's IsPodUpdated also accepts a matching pod-template-generation label: the
# re-created DaemonSet is at template generation 1 again, so the old pod counts as updated.
wait_until 30 '[ "$(ds_status ondel)" = "2 2 2 2 2 0 1 1" ]' "ondel after adoption: 2/2/2, updated 2 (is: $(ds_status ondel))"
pass "orphan + re-create: the running pods and the history were adopted, no pod replaced"
