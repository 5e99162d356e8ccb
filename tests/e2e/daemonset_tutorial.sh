#!/usr/bin/env bash
# Section 4 of the tutorial (examples/README.md) (fluentd.yaml), against kubus
# (--controllers=daemonset,garbagecollector):
#   with nodes master and worker: exactly one fluentd pod per node, named
#   fluentd-xxxxx with a controller ownerReference, bound to its node by a
#   matchFields metadata.name term, carrying controller-revision-hash and
#   pod-template-generation and the default DaemonSet tolerations;
#   `kubectl get ds` DESIRED/CURRENT/READY 2/2/2; SuccessfulCreate events;
#   a third node gets a pod with no other action (3/3/3);
#   `kubectl delete ds --all` removes every fluentd pod.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/_daemonset.sh"

manifest=$(tutorial_manifest fluentd.yaml)

for n in master worker; do
  kubectl get node "$n" >/dev/null 2>&1 || fail "the cluster has no node $n"
done
[ "$(kubectl get nodes -o name | wc -l)" = 2 ] || fail "expected exactly the nodes master and worker, have: $(kubectl get nodes -o name | tr '\n' ' ')"

. "$KUBUS_ROOT/tests/e2e/kubus.sh"
kubus_start --controllers=daemonset,garbagecollector || fail "kubus did not start"

kns_new ds-tutorial
sel=name=fluentd

# ---- 1. apply: one pod per node, 2/2/2 ------------------------------------------------
k apply -f "$manifest" >/dev/null
wait_until 60 '[ "$(ds_pods_by_node $sel | tr "\n" " ")" = "master 1 worker 1 " ]' \
  "one fluentd pod on master and one on worker (have: $(ds_pods_by_node $sel | tr '\n' ' '))"
wait_until 60 '[ "$(pods_ready "$NS" $sel)" = 2 ]' "2 ready fluentd pods"
uid=$(kjq .metadata.uid ds fluentd)
kget pods -l $sel | jq -e --arg uid "$uid" '
  .items | length == 2 and all(.[];
    (.metadata.name | test("^fluentd-[bcdfghjklmnpqrstvwxz2456789]{5}$")) and
    .metadata.generateName == "fluentd-" and
    ([.metadata.ownerReferences[] | select(.controller == true and .kind == "DaemonSet" and .apiVersion == "apps/v1"
        and .name == "fluentd" and .uid == $uid and .blockOwnerDeletion == true)] | length == 1) and
    .metadata.labels["pod-template-generation"] == "1" and
    (.metadata.labels["controller-revision-hash"] | length > 0) and
    (.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms
       == [{matchFields: [{key: "metadata.name", operator: "In", values: [.spec.nodeName]}]}]) and
    ([.spec.tolerations[] | "\(.key):\(.operator):\(.effect)"] as $t |
       ["node.kubernetes.io/not-ready:Exists:NoExecute", "node.kubernetes.io/unreachable:Exists:NoExecute",
        "node.kubernetes.io/disk-pressure:Exists:NoSchedule", "node.kubernetes.io/memory-pressure:Exists:NoSchedule",
        "node.kubernetes.io/pid-pressure:Exists:NoSchedule", "node.kubernetes.io/unschedulable:Exists:NoSchedule"]
       | all(. as $x | $t | index($x))))' >/dev/null \
  || fail "pods are not fluentd-xxxxx, owned, labelled, bound and tolerating as upstream makes them: $(kget pods -l $sel | jq -c '[.items[] | {n: .metadata.name, l: .metadata.labels, node: .spec.nodeName}]')"
hash=$(kjq '.items[0].metadata.labels["controller-revision-hash"]' pods -l $sel)
kget controllerrevisions | jq -e --arg uid "$uid" --arg h "$hash" '
  [.items[] | select(.metadata.ownerReferences[]? | .controller == true and .uid == $uid)]
  | length == 1 and .[0].metadata.name == "fluentd-\($h)" and .[0].revision == 1
    and .[0].metadata.labels["controller-revision-hash"] == $h
    and .[0].data.spec.template["$patch"] == "replace"' >/dev/null \
  || fail "no ControllerRevision fluentd-$hash (revision 1, the template patch): $(kget controllerrevisions | jq -c '[.items[] | {n: .metadata.name, r: .revision}]')"
wait_until 30 '[ "$(ds_status fluentd)" = "2 2 2 2 2 0 1 1" ]' "status 2 desired/current/ready/available/updated at generation 1 (is: $(ds_status fluentd))"
k get ds fluentd --no-headers | awk '$2 == 2 && $3 == 2 && $4 == 2 {ok=1} END {exit !ok}' \
  || fail "kubectl get ds does not show DESIRED 2 CURRENT 2 READY 2: $(k get ds fluentd --no-headers)"
never_within 3 '[ "$(pods_count "$NS" $sel)" != 2 ]' "the pod count to stay 2"
pass "apply: one pod per node (master, worker), named, owned, bound, tolerating; DESIRED 2 CURRENT 2 READY 2"

wait_until 30 '[ "$(kget events --field-selector involvedObject.kind=DaemonSet,involvedObject.name=fluentd,reason=SuccessfulCreate | jq "[.items[] | select(.message | test(\"^Created pod: fluentd-[a-z0-9]{5}$\"))] | length")" -ge 1 ]' \
  "SuccessfulCreate events 'Created pod: NAME'"
kget events --field-selector involvedObject.name=fluentd | jq -e '[.items[] | select(.source.component == "daemonset-controller")] | length >= 1' >/dev/null \
  || fail "events do not come from daemonset-controller"
pass "events: SuccessfulCreate 'Created pod: NAME' from daemonset-controller"

# ---- 2. a third node gets a pod ---------------------------------------------------------
third="ds-tut-$(head -c 3 /dev/urandom | od -An -tx1 | tr -d ' \n')"
ds_add_node "$third"
want3=$(printf '%s 1\n' master worker "$third" | sort | tr '\n' ' ')
wait_until 60 '[ "$(ds_pods_by_node $sel | tr "\n" " ")" = "$want3" ]' \
  "a fluentd pod on $third too (have: $(ds_pods_by_node $sel | tr '\n' ' '))"
wait_until 60 '[ "$(ds_status fluentd)" = "3 3 3 3 3 0 1 1" ]' "status 3/3/3 (is: $(ds_status fluentd))"
k get ds fluentd --no-headers | awk '$2 == 3 && $3 == 3 && $4 == 3 {ok=1} END {exit !ok}' \
  || fail "kubectl get ds does not show DESIRED 3 CURRENT 3 READY 3: $(k get ds fluentd --no-headers)"
never_within 3 '[ "$(pods_count "$NS" $sel)" != 3 ]' "the pod count to stay 3"
pass "third node $third: a pod appeared there with no other action; DESIRED 3 CURRENT 3 READY 3"

# ---- 3. delete ds --all: every pod goes --------------------------------------------------
k delete ds --all --wait=false >/dev/null
wait_until 60 '[ "$(kget pods -l $sel | jq ".items | length")" = 0 ]' "every fluentd pod gone"
wait_until 30 '[ "$(kget ds | jq ".items | length")" = 0 ]' "the DaemonSet gone"
pass "delete ds --all: the DaemonSet and all its pods are gone"
