#!/usr/bin/env bash
# deploy/ as a user applies it: `kubectl apply -k deploy/` on the local
# cluster succeeds and its pods land on the fake nodes (this proves the
# manifests, not the image: kwok runs no containers). kubus itself (the local
# binaries) reconciles the shard Deployments.
#   - kubus-system (Pod Security "restricted" enforced: the pods' restricted
#     securityContext is admitted), ServiceAccount kubus, one ClusterRole per
#     controller + the informer's, bound to kubus, the leader-election Role;
#   - shards/2: Deployments kubus-shard-0-of-2 and -1-of-2, 2 replicas each,
#     pods Running on master/worker with --leader-elect and their index and
#     count, priority system-cluster-critical; a PDB per shard (expected 2,
#     minAvailable 1); the metrics Service selects all 4 pods;
#   - tools/deploy-shards.sh renders what is committed (no drift), renders a
#     3-shard set that kustomize builds into 3 Deployments, refuses count 0;
#   - `kubectl delete -k deploy/` removes it all.
. "$(dirname "$0")/lib.sh"
. "$KUBUS_ROOT/tests/e2e/kubus.sh"

deploy=$KUBUS_ROOT/deploy
tmp=$(mktemp -d /tmp/kubus-deploy-e2e.XXXXXX)
on_exit "rm -rf '$tmp'"

# ---- the shard renderer: committed sets are its output; bad counts refused ----
for n in $(ls "$deploy/shards"); do
  mkdir -p "$tmp/render"
  bash "$KUBUS_ROOT/tools/deploy-shards.sh" "$n" "$tmp/render" >/dev/null || fail "deploy-shards.sh $n failed"
  diff -r "$deploy/shards/$n" "$tmp/render/shards/$n" >&2 ||
    fail "deploy/shards/$n differs from what tools/deploy-shards.sh $n writes"
done
rc=0; bash "$KUBUS_ROOT/tools/deploy-shards.sh" 0 "$tmp/render" 2>"$tmp/err" || rc=$?
[ "$rc" = 2 ] && grep -q "COUNT must be" "$tmp/err" || fail "deploy-shards.sh 0: exit $rc, $(cat "$tmp/err")"
cp -r "$deploy" "$tmp/d3"
bash "$KUBUS_ROOT/tools/deploy-shards.sh" 3 "$tmp/d3" >/dev/null
sed -i 's|^- shards/2$|- shards/3|' "$tmp/d3/kustomization.yaml"
kubectl kustomize "$tmp/d3" >"$tmp/d3.yaml" || fail "kubectl kustomize of a 3-shard deploy/ failed"
got=$(grep -c '^kind: Deployment$' "$tmp/d3.yaml" || true)
[ "$got" = 3 ] || fail "3-shard render: $got Deployments"
grep -q 'KUBUS_SHARD_COUNT: "3"' "$tmp/d3.yaml" || fail "3-shard render: no KUBUS_SHARD_COUNT 3"
pass "tools/deploy-shards.sh: committed sets match, 3 shards render, count 0 refused (exit 2)"

# ---- apply ----
kubus_start || fail "kubus did not start"
wait_until 90 '! kubectl get namespace kubus-system >/dev/null 2>&1' "an earlier kubus-system to be gone"
on_exit "kubectl delete -k '$deploy' --ignore-not-found --wait=false >/dev/null 2>&1"
kubectl apply -k "$deploy" >"$tmp/apply.out" 2>&1 || fail "kubectl apply -k deploy/ failed: $(cat "$tmp/apply.out")"
pass "kubectl apply -k deploy/: $(wc -l <"$tmp/apply.out") objects"
NS=kubus-system

sa=system:serviceaccount:kubus-system:kubus
for r in replicaset-controller deployment-controller statefulset-controller daemon-set-controller \
         job-controller cronjob-controller ttl-after-finished-controller generic-garbage-collector informer; do
  [ "$(kjq '.subjects[0].name + "/" + .subjects[0].namespace + " " + .roleRef.name' clusterrolebinding "kubus:$r")" \
    = "kubus/kubus-system kubus:$r" ] || fail "ClusterRoleBinding kubus:$r does not bind kubus:$r to the kubus SA"
done
# A few grants and denials, as the API server's RBAC decides them.
can() { kubectl auth can-i --as="$sa" "$@" 2>/dev/null || true; }
[ "$(can create pods -n default)" = yes ] || fail "kubus SA cannot create pods"
[ "$(can update replicasets/status -n default)" = yes ] || fail "kubus SA cannot update replicasets/status"
[ "$(can watch pods --all-namespaces)" = yes ] || fail "kubus SA cannot watch pods"
[ "$(can update leases -n kubus-system)" = yes ] || fail "kubus SA cannot update leases in kubus-system"
[ "$(can create leases -n kube-system)" = no ] || fail "kubus SA may create leases outside kubus-system"
[ "$(can create secrets -n default)" = no ] || fail "kubus SA may create secrets"
[ "$(can list secrets -n default)" = no ] || fail "kubus SA may list secrets"
[ "$(can create nodes)" = no ] || fail "kubus SA may create nodes"
pass "RBAC: 9 ClusterRoleBindings to the kubus SA; it may create pods, watch, lease in kubus-system; no secrets"

shard_ok() { # shard_ok I: 2 Running pods of the shard, on fake nodes, Deployment available 2
  local d=kubus-shard-$1-of-2
  [ "$(kjq '.status.availableReplicas // 0' deploy "$d")" = 2 ] || return 1
  [ "$(kget pods -l "kubus.io/shard=$1-of-2" | jq '[.items[] | select(.status.phase == "Running"
      and (.spec.nodeName == "master" or .spec.nodeName == "worker"))] | length')" = 2 ]
}
wait_until 90 'shard_ok 0 && shard_ok 1' "both shard Deployments 2/2 with Running pods on the fake nodes"
pass "kubus-shard-0-of-2 and -1-of-2: 2/2 available, pods Running on $(kget pods -l app.kubernetes.io/name=kubus | jq -r '[.items[].spec.nodeName] | unique | join(",")')"

pod=$(kget pods -l kubus.io/shard=1-of-2 | jq -c '.items[0]')
jq -e '.spec.priorityClassName == "system-cluster-critical" and .spec.priority == 2000000000' <<<"$pod" >/dev/null ||
  fail "pod priority: $(jq -c '[.spec.priorityClassName, .spec.priority]' <<<"$pod")"
jq -e '.spec.serviceAccountName == "kubus" and
       (.spec.containers[0].securityContext | .readOnlyRootFilesystem and .runAsNonRoot
          and .allowPrivilegeEscalation == false and .capabilities.drop == ["ALL"]
          and .seccompProfile.type == "RuntimeDefault") and
       (.spec.volumes[] | select(.name == "bus") | .emptyDir.medium == "Memory") and
       (.spec.containers[0].args | index("--leader-elect") != null) and
       (.spec.containers[0].livenessProbe.httpGet.path == "/healthz") and
       (.spec.containers[0].readinessProbe.httpGet.path == "/readyz")' <<<"$pod" >/dev/null ||
  fail "pod spec lacks the restricted securityContext, bus emptyDir, --leader-elect or probes: $(jq -c .spec <<<"$pod")"
cm=$(jq -r '.spec.containers[0].envFrom[0].configMapRef.name' <<<"$pod")
[ "$(kjq '.data.KUBUS_SHARD_INDEX + "/" + .data.KUBUS_SHARD_COUNT' configmap "$cm")" = 1/2 ] ||
  fail "shard 1's ConfigMap $cm does not say index 1 of 2"
pass "pods: restricted securityContext, /healthz and /readyz probes, memory emptyDir, --leader-elect, shard 1 of 2"

pdb_ok() { [ "$(kjq '"\(.spec.minAvailable) \(.status.expectedPods // 0) \(.status.currentHealthy // 0)"' pdb "kubus-shard-$1-of-2")" = "1 2 2" ]; }
wait_until 60 'pdb_ok 0 && pdb_ok 1' "PDBs minAvailable 1 over 2 healthy pods"
eps() { kget endpointslices -l kubernetes.io/service-name=kubus-metrics | jq '[.items[].endpoints[]?] | length'; }
wait_until 60 '[ "$(eps)" = 4 ]' "metrics Service endpoints for the 4 pods"
pass "PDB per shard (minAvailable 1, 2 healthy); Service kubus-metrics has 4 endpoints"

# ---- delete ----
kubectl delete -k "$deploy" --wait=false >/dev/null || fail "kubectl delete -k deploy/ failed"
wait_until 90 '! kubectl get namespace kubus-system >/dev/null 2>&1' "namespace kubus-system gone"
[ -z "$(kubectl get clusterroles -o name | grep '^clusterrole.rbac.authorization.k8s.io/kubus:' || true)" ] ||
  fail "ClusterRoles left after delete -k"
pass "kubectl delete -k deploy/ removed the namespace, its pods and the ClusterRoles"
