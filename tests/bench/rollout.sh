# shellcheck shell=bash
# Sourced by tests/bench/run.sh: phase `rollout` (issue 9), kubus and upstream
# kube-controller-manager side by side on the same cluster, one side at a time, each from a
# fresh start in namespaces of its own, both with the same 8 controllers:
#
#   burst    a ReplicaSet 0 -> BENCH_BURST_REPLICAS (pods never scheduled: schedulerName
#            nobody runs) with --kube-api-qps/--kube-api-burst BENCH_BURST_QPS: time from
#            create until .status.replicas reaches it (every pod made and seen), CPU of the
#            side and of kube-apiserver over that time.
#   rollout  at the default qps 20 / burst 30: BENCH_ROLLOUT_DEPLOYMENTS Deployments x
#            BENCH_ROLLOUT_REPLICAS replicas (pause pods on the kwok nodes, Ready ~1 s after
#            binding), time and CPU until every one is available; then the image of all of
#            them changed in one request, time and CPU until every one is rolled out
#            (observedGeneration current, updated = available = replicas = spec).
# Each side is started, left until its CPU is quiet, then measured; its namespaces are
# deleted after it stops. Needs run.sh's helpers and scale.sh's (scale_start_kubus,
# tree_pids, quiet_ticks).

BURST_REPLICAS=${BENCH_BURST_REPLICAS:-1000}
BURST_QPS=${BENCH_BURST_QPS:-1000}
ROLLOUT_DEPLOYMENTS=${BENCH_ROLLOUT_DEPLOYMENTS:-100}
ROLLOUT_REPLICAS=${BENCH_ROLLOUT_REPLICAS:-10}

apiserver_pid() { cat "$KUBUS_CLUSTER_DIR/run/kube-apiserver.pid"; }

# rollout_start SIDE NAME EXTRA-FLAGS...: the side from a fresh start; sets SIDE_PIDS_CMD
rollout_start() {
  local side=$1 name=$2
  shift 2
  if [ "$side" = kubus ]; then
    scale_start_kubus "$name" "$@"
    SIDE_PIDS_CMD="tree_pids ${PID[$name]}"
    wait_for 60 'alive '"$name"'; curl -fsS "http://127.0.0.1:$SCALE_PORT/readyz" >/dev/null 2>&1' "$name /readyz"
  else
    local D=$KUBUS_CLUSTER_DIR port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    spawn "$name" "$KUBUS_K8S_BIN/kube-controller-manager" --kubeconfig "$D/kube-controller-manager.kubeconfig" \
      --authentication-kubeconfig "$D/kube-controller-manager.kubeconfig" \
      --authorization-kubeconfig "$D/kube-controller-manager.kubeconfig" \
      --bind-address 127.0.0.1 --secure-port "$port" --leader-elect=false --profiling=false \
      --controllers "$SCALE_CONTROLLERS" --use-service-account-credentials \
      --root-ca-file "$D/pki/ca.crt" --service-account-private-key-file "$D/pki/sa.key" --v 1 "$@"
    SIDE_PIDS_CMD="echo ${PID[$name]}"
    wait_for 60 'alive '"$name"'; curl -fsSk "https://127.0.0.1:'"$port"'/healthz" >/dev/null 2>&1' "$name /healthz"
  fi
  quiet_ticks "$SIDE_PIDS_CMD" >/dev/null
}

# span_begin / span_end KEY: wall time, the side's CPU and kube-apiserver's CPU over a span
span_begin() {
  local p
  SPAN_T0=$(now_us)
  declare -gA SPAN_BY=()
  for p in $(eval "$SIDE_PIDS_CMD"); do SPAN_BY[$p]=$(cpu_ticks "$p"); done
  # shellcheck disable=SC2046
  SPAN_C0=$(cpu_ticks $(eval "$SIDE_PIDS_CMD"))
  SPAN_A0=$(cpu_ticks "$(apiserver_pid)")
}
span_end() {
  local key=$1 secs
  secs=$(secs_since "$SPAN_T0")
  res "${key}_seconds: $secs s"
  # shellcheck disable=SC2046
  res "${key}_cpu: $(ticks_to_s $(($(cpu_ticks $(eval "$SIDE_PIDS_CMD")) - SPAN_C0))) s"
  res "${key}_apiserver_cpu: $(ticks_to_s $(($(cpu_ticks "$(apiserver_pid)") - SPAN_A0))) s"
  local p by=   # per process (one that restarted meanwhile counts from 0)
  for p in $(eval "$SIDE_PIDS_CMD"); do
    by+=" $(cat /proc/"$p"/comm 2>/dev/null)=$(ticks_to_s $(($(cpu_ticks "$p") - ${SPAN_BY[$p]:-0})))"
  done
  res "${key}_cpu_by_process_s:$by"
}

burst_manifest() {
  cat <<YAML
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: burst, namespace: $1}
spec:
  replicas: $BURST_REPLICAS
  selector: {matchLabels: {app: burst}}
  template:
    metadata: {labels: {app: burst}}
    spec:
      schedulerName: kubus-bench-nobody
      containers: [{name: c, image: registry.k8s.io/pause:3.9}]
YAML
}

deployments_manifest() {
  local ns=$1 i
  for ((i = 0; i < ROLLOUT_DEPLOYMENTS; i++)); do
    cat <<YAML
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d-$i, namespace: $ns}
spec:
  replicas: $ROLLOUT_REPLICAS
  selector: {matchLabels: {app: d-$i}}
  template:
    metadata: {labels: {app: d-$i}}
    spec: {containers: [{name: c, image: registry.k8s.io/pause:3.9}]}
YAML
  done
}

# deployments_done NS IMAGE: how many Deployments of NS run IMAGE fully rolled out
# (a poll costs a kubectl and a jq: the waits below poll once a second, not 10 times)
deployments_done() {
  kubectl -n "$1" get deployments -o json | jq --arg img "$2" --argjson r "$ROLLOUT_REPLICAS" '
    [.items[] | select(.spec.template.spec.containers[0].image == $img
      and (.status.observedGeneration // 0) >= .metadata.generation
      and (.status.updatedReplicas // 0) == $r and (.status.availableReplicas // 0) == $r
      and (.status.replicas // 0) == $r)] | length'
}

rollout_side() { # rollout_side kubus|upstream
  local side=$1 ns
  res "load_average_before_${side}_burst: $(cut -d' ' -f1-3 /proc/loadavg)"
  log "rollout: $side, ReplicaSet 0 -> $BURST_REPLICAS at qps/burst $BURST_QPS"
  new_ns burst
  ns=$NEW_NS
  rollout_start "$side" "burst-$side" --kube-api-qps="$BURST_QPS" --kube-api-burst="$BURST_QPS"
  span_begin
  burst_manifest "$ns" | kubectl create -f - >/dev/null || die "rollout: create the ReplicaSet"
  wait_for 600 '[ "$(kubectl -n '"$ns"' get rs burst -o jsonpath="{.status.replicas}")" = '"$BURST_REPLICAS"' ]' \
    "$side: $BURST_REPLICAS pods made"
  span_end "burst_${side}"
  stop "burst-$side"
  kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true

  res "load_average_before_${side}_rollout: $(cut -d' ' -f1-3 /proc/loadavg)"
  log "rollout: $side, $ROLLOUT_DEPLOYMENTS Deployments x $ROLLOUT_REPLICAS at the default qps/burst"
  new_ns rollout
  ns=$NEW_NS
  rollout_start "$side" "rollout-$side"
  span_begin
  deployments_manifest "$ns" | kubectl create -f - >/dev/null || die "rollout: create the Deployments"
  wait_for 1200 '[ "$(deployments_done '"$ns"' registry.k8s.io/pause:3.9)" = '"$ROLLOUT_DEPLOYMENTS"' ] || { sleep 0.9; false; }' \
    "$side: every Deployment available"
  span_end "rollout_${side}_create"
  span_begin
  kubectl -n "$ns" set image deployment --all c=registry.k8s.io/pause:3.10 >/dev/null || die "rollout: set image"
  wait_for 1800 '[ "$(deployments_done '"$ns"' registry.k8s.io/pause:3.10)" = '"$ROLLOUT_DEPLOYMENTS"' ] || { sleep 0.9; false; }' \
    "$side: every Deployment rolled out"
  span_end "rollout_${side}_update"
  stop "rollout-$side"
  kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
  # the next side starts on a cluster without these pods
  wait_for 600 '! kubectl get namespace '"$ns"' >/dev/null 2>&1' "namespace $ns deleted"
}

phase_rollout() {
  note "rollout: one side at a time on the same cluster, each from a fresh start left until its CPU is quiet:"
  note "   kubus (kubus-controller-manager, all 8 controllers) and upstream kube-controller-manager"
  note "   (--controllers=$SCALE_CONTROLLERS --use-service-account-credentials), the same flags."
  note "   burst: ReplicaSet 0 -> $BURST_REPLICAS (pods never scheduled), --kube-api-qps=--kube-api-burst=$BURST_QPS,"
  note "   create until .status.replicas = $BURST_REPLICAS. rollout (default qps 20 / burst 30): $ROLLOUT_DEPLOYMENTS"
  note "   Deployments x $ROLLOUT_REPLICAS (kwok pods, Ready ~1 s after binding) until all available (create), then"
  note "   kubectl set image on all until all rolled out (update). cpu = the side's processes; apiserver_cpu ="
  note "   kube-apiserver's over the same span (the scheduler and kwok work the same for both sides)."
  local side
  for side in ${BENCH_ROLLOUT_SIDES:-kubus upstream}; do rollout_side "$side"; done
  res "load_average_after_rollout: $(cut -d' ' -f1-3 /proc/loadavg)"
}
