#!/usr/bin/env bash
# The upstream controllers kubus replaces are switched off in the reference
# cluster: their objects get no dependents unless kubus runs.
# Skipped (exit 77) when the cluster runs upstream's controllers on purpose
# (KUBUS_UPSTREAM=all) and when a kubus works on this cluster (the behaviour
# check cannot tell who acted then); never passed without having checked.
. "$(dirname "$0")/lib.sh"

mode=$(cat "$KUBUS_CLUSTER_DIR/run/controllers" 2>/dev/null || echo unknown)
[ "$mode" != all ] || skip "cluster started with KUBUS_UPSTREAM=all (every upstream controller on)"

# The controller-manager's own command line must say so.
kcm_pid=$(cat "$KUBUS_CLUSTER_DIR/run/kube-controller-manager.pid" 2>/dev/null) ||
  fail "no kube-controller-manager pid file in $KUBUS_CLUSTER_DIR/run"
cmdline=$(tr '\0' ' ' <"/proc/$kcm_pid/cmdline" 2>/dev/null) || fail "kube-controller-manager (pid $kcm_pid) is not running"
for c in replicaset deployment statefulset daemonset job cronjob garbage-collector ttl-after-finished; do
  grep -q -- "-$c-controller" <<<"$cmdline" || fail "kube-controller-manager runs with $c-controller on: $cmdline"
done
pass "kube-controller-manager runs without the controllers kubus replaces"

# Behaviour: nothing acts on these objects. Only meaningful while no kubus
# works on this cluster (another test or `make run` may be running one).
kubus_on_cluster() {
  local p exe
  for p in /proc/[0-9]*; do
    exe=$(readlink "$p/exe" 2>/dev/null) || continue
    case "${exe##*/}" in kubus-*) ;; *) continue ;; esac
    if tr '\0' '\n' 2>/dev/null <"$p/cmdline" | grep -F >/dev/null -- "$KUBUS_CLUSTER_DIR/" ||
      tr '\0' '\n' 2>/dev/null <"$p/environ" | grep -F >/dev/null -- "$KUBUS_CLUSTER_DIR/"; then
      echo "${p#/proc/} $exe"
      return 0
    fi
  done
  return 1
}
if who=$(kubus_on_cluster); then
  skip "behaviour check: kubus is working on this cluster (pid $who)"
fi
kns_new
k apply -f - >/dev/null <<'YAML'
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs}
spec:
  replicas: 2
  selector: {matchLabels: {app: rs}}
  template:
    metadata: {labels: {app: rs}}
    spec: {containers: [{name: c, image: nginx:1.25}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: dep}
spec:
  replicas: 1
  selector: {matchLabels: {app: dep}}
  template:
    metadata: {labels: {app: dep}}
    spec: {containers: [{name: c, image: nginx:1.25}]}
---
apiVersion: batch/v1
kind: Job
metadata: {name: job}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox:1.36}]
YAML
# Counts, failing the test when kubectl does (an error is not "none").
count() {
  local out
  out=$(kubectl get "$1" -n "$NS" -o name) || fail "kubectl get $1 -n $NS failed"
  grep -c . <<<"$out" || true
}
[ "$(count replicasets)" = 1 ] || fail "the ReplicaSet rs is not there (apply failed?)"
end=$((SECONDS + 10))
while ((SECONDS < end)); do
  if [ "$(count pods,replicasets)" != 1 ]; then
    if who=$(kubus_on_cluster); then
      skip "behaviour check: kubus started working on this cluster meanwhile (pid $who)"
    fi
    fail "pods or a second ReplicaSet appeared although no kubus runs: an upstream controller kubus replaces is active"
  fi
  sleep 0.2
done
[ "$(count pods)" = 0 ] || fail "pods exist"
pass "a ReplicaSet, a Deployment and a Job got no dependents in 10s"
