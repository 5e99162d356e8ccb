#!/usr/bin/env bash
# DaemonSet features beyond the tutorial, against kubus
# (--controllers=daemonset,garbagecollector). Two fake nodes are added (and
# removed on exit): A, labelled kubus-ds-test=<run>, and B, tainted
# kubus-ds-test=<run>:NoSchedule.
#   - nodeSelector kubus-ds-test=<run>: a pod on A only (desired 1); when A's
#     label changes, that pod is deleted (desired 0);
#   - a DaemonSet without toleration gets no pod on B (desired 3: master,
#     worker, A); one tolerating the taint gets one there too (desired 4);
#   - RollingUpdate (maxUnavailable 1): a new image replaces the pods one node
#     at a time (polled: never more than one node without a ready pod),
#     `kubectl rollout status` finishes, `rollout history` lists 2 revisions,
#     and `rollout undo` brings the first template back as revision 3;
#   - a deleted node no longer counts (desired drops).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/_daemonset.sh"

. "$KUBUS_ROOT/tests/e2e/kubus.sh"
kubus_start --controllers=daemonset,garbagecollector || fail "kubus did not start"
kns_new ds-features

run=$(head -c 3 /dev/urandom | od -An -tx1 | tr -d ' \n')
node_a="ds-feat-a-$run"
node_b="ds-feat-b-$run"
ds_add_node "$node_a"
ds_add_node "$node_b"
kubectl label node "$node_a" "kubus-ds-test=$run" >/dev/null
kubectl taint node "$node_b" "kubus-ds-test=$run:NoSchedule" >/dev/null

ds_manifest() {   # NAME [extra pod spec yaml lines, indented 6]
  cat <<YAML
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: $1}
spec:
  selector: {matchLabels: {app: $1}}
  updateStrategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 1}}
  template:
    metadata: {labels: {app: $1}}
    spec:
      containers: [{name: c, image: "registry.k8s.io/pause:3.9"}]
${2:-}
YAML
}

# ---- nodeSelector -------------------------------------------------------------------------
ds_manifest sel "      nodeSelector: {kubus-ds-test: \"$run\"}" | k apply -f - >/dev/null
wait_until 60 '[ "$(ds_nodes_of app=sel | tr "\n" " ")" = "$node_a " ]' "one pod, on $node_a only (have: $(ds_nodes_of app=sel | tr '\n' ' '))"
wait_until 30 '[ "$(ds_status sel)" = "1 1 1 1 1 0 1 1" ]' "status desired 1 (is: $(ds_status sel))"
pass "nodeSelector: one pod, on the only matching node $node_a"

# ---- taints ------------------------------------------------------------------------------------
ds_manifest plain | k apply -f - >/dev/null
ds_manifest tol "      tolerations: [{key: kubus-ds-test, operator: Exists, effect: NoSchedule}]" | k apply -f - >/dev/null
want_plain=$(printf '%s\n' master worker "$node_a" | sort | tr '\n' ' ')
want_tol=$(printf '%s\n' master worker "$node_a" "$node_b" | sort | tr '\n' ' ')
wait_until 60 '[ "$(ds_nodes_of app=plain | tr "\n" " ")" = "$want_plain" ]' "pods of plain on master, worker, $node_a (have: $(ds_nodes_of app=plain | tr '\n' ' '))"
wait_until 60 '[ "$(ds_nodes_of app=tol | tr "\n" " ")" = "$want_tol" ]' "pods of tol on all four nodes (have: $(ds_nodes_of app=tol | tr '\n' ' '))"
wait_until 30 '[ "$(ds_status plain)" = "3 3 3 3 3 0 1 1" ] && [ "$(ds_status tol)" = "4 4 4 4 4 0 1 1" ]' \
  "status plain 3, tol 4 (are: $(ds_status plain) / $(ds_status tol))"
never_within 3 'ds_nodes_of app=plain | grep -x >/dev/null "$node_b"' "a pod of plain on the tainted node $node_b"
pass "taints: no pod on tainted $node_b without toleration (desired 3); with the toleration, one there too (desired 4)"

# ---- a node that stops matching loses its pod ---------------------------------------------------
kubectl label node "$node_a" "kubus-ds-test=other" --overwrite >/dev/null
wait_until 60 '[ "$(pods_count "$NS" app=sel)" = 0 ]' "the pod of sel on $node_a deleted once the label stopped matching"
wait_until 30 '[ "$(ds_status sel)" = "0 0 0 0 0 0 1 1" ]' "status desired 0 (is: $(ds_status sel))"
wait_until 30 '[ "$(kget events --field-selector involvedObject.name=sel,reason=SuccessfulDelete | jq "[.items[] | select(.message | test(\"^Deleted pod: sel-[a-z0-9]{5}$\"))] | length")" -ge 1 ]' \
  "a SuccessfulDelete event 'Deleted pod: NAME'"
pass "node no longer eligible: its pod deleted (SuccessfulDelete), desired 0"

# ---- rolling update ------------------------------------------------------------------------------
old_hash=$(kget pods -l app=plain | jq -r '.items[0].metadata.labels["controller-revision-hash"]')
poll_out="$(mktemp /tmp/ds-roll.XXXXXX)"
on_exit "rm -f '$poll_out'"
# Nodes that should run plain's pod but have no ready pod that is not being deleted.
(
  while :; do
    kubectl get pods -n "$NS" -l app=plain -o json 2>/dev/null | jq -r --arg nodes "$want_plain" '
      ($nodes | split(" ") | map(select(length > 0))) as $all
      | [.items[] | select(.metadata.deletionTimestamp == null)
           | select(any(.status.conditions[]?; .type == "Ready" and .status == "True")) | .spec.nodeName] as $ok
      | [$all[] | select(. as $n | $ok | index($n) | not)] | length' >>"$poll_out" 2>/dev/null || true
    sleep 0.1
  done
) &
poller=$!
on_exit "kill $poller 2>/dev/null; wait $poller 2>/dev/null"
k set image ds/plain c=registry.k8s.io/pause:3.10 >/dev/null
k rollout status ds/plain --timeout=75s >/dev/null || fail "kubectl rollout status ds/plain did not finish: $(ds_status plain)"
kill "$poller" 2>/dev/null; wait "$poller" 2>/dev/null || true
max_unavail=$(sort -n "$poll_out" | tail -1)
[ -n "$max_unavail" ] || fail "the availability poller recorded nothing"
[ "$max_unavail" -le 1 ] || fail "at some point $max_unavail nodes had no ready pod (maxUnavailable 1)"
kget pods -l app=plain | jq -e --arg old "$old_hash" '.items | length == 3 and all(.[];
    .spec.containers[0].image == "registry.k8s.io/pause:3.10" and .metadata.labels["controller-revision-hash"] != $old
    and .metadata.labels["pod-template-generation"] == "2")' >/dev/null \
  || fail "not every pod runs the new template: $(kget pods -l app=plain | jq -c '[.items[] | {n: .metadata.name, i: .spec.containers[0].image, h: .metadata.labels}]')"
wait_until 30 '[ "$(ds_status plain)" = "3 3 3 3 3 0 2 2" ]' "status updated 3 at generation 2 (is: $(ds_status plain))"
pass "rolling update: every pod replaced, never more than $max_unavail node(s) without a ready pod; rollout status finished"

hist=$(k rollout history ds/plain | awk '$1 ~ /^[0-9]+$/ {print $1}' | tr '\n' ' ')
[ "$hist" = "1 2 " ] || fail "kubectl rollout history ds/plain lists revisions '$hist', expected '1 2 '"
pass "rollout history: revisions 1 and 2"

k rollout undo ds/plain >/dev/null 2>&1 || fail "kubectl rollout undo ds/plain failed"
k rollout status ds/plain --timeout=75s >/dev/null || fail "rollout status after undo did not finish: $(ds_status plain)"
kget pods -l app=plain | jq -e --arg old "$old_hash" '.items | length == 3 and all(.[];
    .spec.containers[0].image == "registry.k8s.io/pause:3.9" and .metadata.labels["controller-revision-hash"] == $old)' >/dev/null \
  || fail "after undo the pods do not run the first template again"
wait_until 30 '[ "$(k rollout history ds/plain | awk '"'"'$1 ~ /^[0-9]+$/ {print $1}'"'"' | tr "\n" " ")" = "2 3 " ]' \
  "rollout history after undo to list revisions 2 3 (is: $(k rollout history ds/plain | awk '$1 ~ /^[0-9]+$/ {print $1}' | tr '\n' ' '))"
pass "rollout undo: the first template is back (same hash) as revision 3"

# ---- a node deleted: the DaemonSets that ran there count one node fewer --------------------------
kubectl delete node "$node_b" --wait=false >/dev/null
wait_until 30 '[ "$(ds_status tol | cut -d" " -f1-3)" = "3 3 3" ]' "tol after $node_b was deleted: desired/current/ready 3 (is: $(ds_status tol))"
pass "node $node_b deleted: desired 3 for the DaemonSet that tolerated it"
