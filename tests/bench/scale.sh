# shellcheck shell=bash
# Sourced by tests/bench/run.sh: phase `scale` (issue 9), kubus and upstream
# kube-controller-manager side by side on the same cluster, one after the other:
#
#   setup   BENCH_SCALE_NS namespaces x BENCH_SCALE_RS/BENCH_SCALE_NS ReplicaSets of
#           BENCH_SCALE_PODS/BENCH_SCALE_RS replicas each (pods ~1 KiB, schedulerName nobody
#           runs, so they stay Pending and nothing else changes them), made by a kubus with
#           rate limits lifted; then that kubus stops.
#   sync    a fresh kubus-controller-manager (all 8 controllers, default flags), then a fresh
#           upstream kube-controller-manager with the same 8 controllers
#           (--controllers=<them> --use-service-account-credentials, default qps/burst):
#           from start until its CPU is quiet (< 3 ticks in 2 s): wall time, CPU seconds; then
#           PSS and RSS of all its processes; then CPU over BENCH_SCALE_IDLE seconds, per minute.
#   restart for kubus: SIGKILL each pod-caching controller BENCH_SCALE_KILLS times; kill -> the
#           new process's "controller ready" log line (klog stamps it, with the new pid).
#   profiles: BENCH_SCALE_PERF=NAME records kubus-NAME's start; BENCH_SCALE_PERF_RESTART=NAME
#           records all CPUs over NAME's first restart (perf report --comm kubus-NAME, 15 chars).
# Needs the helpers of run.sh (res, note, spawn, stop, wait_for, cpu_ticks, rss_kib, ...).

SCALE_PODS=${BENCH_SCALE_PODS:-10000}
SCALE_RS=${BENCH_SCALE_RS:-1000}
SCALE_NS=${BENCH_SCALE_NS:-10}
SCALE_KILLS=${BENCH_SCALE_KILLS:-5}
SCALE_IDLE=${BENCH_SCALE_IDLE:-30}
SCALE_CONTROLLERS=replicaset-controller,deployment-controller,statefulset-controller,daemonset-controller
SCALE_CONTROLLERS+=,job-controller,cronjob-controller,garbage-collector-controller,ttl-after-finished-controller

# pss_kib PID...: Pss summed (smaps_rollup), KiB
pss_kib() { proc_kib Pss smaps_rollup "$@"; }

# tree_pids PID: PID and its children (the supervisor and its workers)
tree_pids() { echo "$1" $(cat /proc/"$1"/task/*/children 2>/dev/null); }

# quiet_ticks 'PIDS-CMD': waits until the processes used < 3 CPU ticks in 2 s; prints their
# ticks then. PIDS-CMD is re-evaluated (workers may restart).
quiet_ticks() {
  local prev now end=$(($(date +%s) + 900))
  prev=$(cpu_ticks $(eval "$1"))
  while :; do
    sleep 2
    now=$(cpu_ticks $(eval "$1"))
    ((now - prev < 3)) && { echo "$now"; return 0; }
    (($(date +%s) < end)) || die "not quiet within 900 s"
    prev=$now
  done
}

scale_manifests() { # the ReplicaSets of one namespace
  local ns=$1 per_ns=$2 replicas=$3 pad i
  pad=$(head -c 700 /dev/zero | tr '\0' 'x')
  for ((i = 0; i < per_ns; i++)); do
    cat <<EOF
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs-$i, namespace: $ns}
spec:
  replicas: $replicas
  selector: {matchLabels: {app: rs-$i}}
  template:
    metadata: {labels: {app: rs-$i}, annotations: {kubus.bench/pad: "$pad"}}
    spec:
      schedulerName: kubus-bench-nobody
      containers: [{name: c, image: registry.k8s.io/pause:3.9}]
EOF
  done
}

scale_pods_made() { # pods the ReplicaSets report, summed
  local n=0 ns c
  for ns in "${SCALE_NAMESPACES[@]}"; do
    c=$(kubectl -n "$ns" get rs -o json | jq '[.items[].status.replicas // 0] | add // 0')
    n=$((n + c))
  done
  echo "$n"
}

scale_start_kubus() { # scale_start_kubus NAME EXTRA-FLAGS...: kubus-controller-manager, all controllers
  local name=$1
  shift
  SCALE_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  # shellcheck disable=SC2086 # BENCH_SCALE_KUBUS_ENV: NAME=VALUE words for kubus's environment (experiments)
  spawn "$name" env ${BENCH_SCALE_KUBUS_ENV:-} "$BIN/kubus-controller-manager" --kubeconfig="$KUBECONFIG" --bus-dir="$W/scale-bus-$name" \
    --port="$SCALE_PORT" "$@"
}

scale_setup() {
  local per_ns=$((SCALE_RS / SCALE_NS)) replicas=$((SCALE_PODS / SCALE_RS)) i
  SCALE_NAMESPACES=()
  for ((i = 0; i < SCALE_NS; i++)); do
    new_ns scale
    SCALE_NAMESPACES+=("$NEW_NS")
    scale_manifests "$NEW_NS" "$per_ns" "$replicas" >"$W/scale-$i.yaml"
  done
  log "scale: setup: $SCALE_RS ReplicaSets x $replicas pods in $SCALE_NS namespaces (kubus, limits lifted)"
  scale_start_kubus scale-setup --kube-api-qps=100000 --kube-api-burst=100000
  for ((i = 0; i < SCALE_NS; i++)); do kubectl create -f "$W/scale-$i.yaml" >/dev/null || die "scale: create RS"; done
  wait_for 1800 '[ "$(scale_pods_made)" -ge '"$SCALE_PODS"' ]' "scale: $SCALE_PODS pods made"
  sleep 5   # the last status writes
  stop scale-setup
}

# scale_measure SIDE 'PIDS-CMD' T0_US TICKS0: the sync, memory and idle figures of one side
scale_measure() {
  local side=$1 pids_cmd=$2 t0=$3 c0=$4 quiet pids i0
  quiet=$(quiet_ticks "$pids_cmd")
  res "scale_${side}_sync_seconds: $(secs_since "$t0") s (until 2 s of quiet)"
  res "scale_${side}_sync_cpu: $(ticks_to_s $((quiet - c0))) s"
  pids=$(eval "$pids_cmd")
  local p by=
  for p in $pids; do by+=" $(cat /proc/"$p"/comm 2>/dev/null)=$(ticks_to_s "$(cpu_ticks "$p")")"; done
  res "scale_${side}_sync_cpu_by_process_s:$by"
  res "scale_${side}_processes: $(wc -w <<<"$pids")"
  # shellcheck disable=SC2086
  res "scale_${side}_pss: $(pss_kib $pids) KiB"
  # shellcheck disable=SC2086
  res "scale_${side}_rss: $(rss_kib $pids) KiB"
  # shellcheck disable=SC2086
  i0=$(cpu_ticks $pids)
  sleep "$SCALE_IDLE"
  # shellcheck disable=SC2086
  res "scale_${side}_idle_cpu_per_minute: $(awk -v t=$(($(cpu_ticks $pids) - i0)) -v h="$TCK" -v s="$SCALE_IDLE" \
    'BEGIN { printf "%.3f", t / h * 60 / s }') s"
}

# klog's "I1202 06:36:41.314822" of a line, as unix microseconds (this year, local time)
klog_us() {
  local md=${1:1:4} tm=${1:6:15}
  TZ=UTC date -d "$(date -u +%Y)-${md:0:2}-${md:2:2} ${tm}" +%s%6N 2>/dev/null || echo 0
}

worker_pid() { # worker_pid SUP NAME: the supervisor's child running kubus-NAME (comm is cut at 15)
  local p want="kubus-$2"
  for p in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
    [ "$(cat /proc/"$p"/comm 2>/dev/null)" = "${want:0:15}" ] && { echo "$p"; return 0; }
  done
  return 0
}

# ready_us LOG PID: klog time of PID's "controller ready" line, or nothing yet
ready_us() {
  local line
  line=$(grep -F " $2 " "$1" | grep -m1 "controller ready") || return 1
  klog_us "${line:0:21}"
}

scale_restarts() { # kubus only: kill -> ready of each pod-caching controller
  local sup=$1 w k pid new t0 us end samples
  for w in replicaset deployment statefulset daemonset job garbagecollector; do
    samples=()
    for ((k = 0; k < SCALE_KILLS; k++)); do
      pid=$(worker_pid "$sup" "$w")
      [ -n "$pid" ] || die "scale: no kubus-$w under the supervisor"
      if ((k == 0)) && [ "${BENCH_SCALE_PERF_RESTART:-}" = "$w" ]; then   # a profile of this restart, all CPUs
        perf record -a -F 2000 --call-graph "${BENCH_SCALE_PERF_CALLGRAPH:-fp}" -o "$OUT/$w-restart.perf" \
          -- sleep 3 >/dev/null 2>&1 &
        sleep 0.5
      fi
      t0=$(now_us)
      kill -KILL "$pid"
      end=$(($(date +%s) + 30))
      us=
      while [ -z "$us" ]; do
        (($(date +%s) < end)) || die "scale: kubus-$w not ready 30 s after SIGKILL"
        sleep 0.05
        new=$(worker_pid "$sup" "$w")
        if [ -n "$new" ] && [ "$new" != "$pid" ]; then us=$(ready_us "$W/scale-kubus.log" "$new") || us=; fi
      done
      samples+=($(((us - t0) / 1000)))
      sleep 1
    done
    res "scale_kubus_restart_${w}_ms: $(printf '%s\n' "${samples[@]}" | sort -n | awk '
      { v[NR] = $1 } END { printf "p50 %d, max %d (%d kills)", v[int((NR + 1) / 2)], v[NR], NR }')"
  done
}

phase_scale() {
  note "scale: $SCALE_PODS pods (~1 KiB, never scheduled) in $SCALE_RS ReplicaSets over $SCALE_NS namespaces,"
  note "   made once by kubus; then from a fresh start, one side at a time on the same cluster: kubus"
  note "   (kubus-controller-manager, all 8 controllers, its default flags) and upstream kube-controller-manager"
  note "   (--controllers=$SCALE_CONTROLLERS --use-service-account-credentials, default qps/burst)."
  note "   sync = start until 2 s with < 3 CPU ticks; pss/rss after that, summed over all processes of the side;"
  note "   idle = CPU over the next $SCALE_IDLE s, per minute. restart: SIGKILL of one kubus controller until the"
  note "   new process logs 'controller ready' (klog time stamp), $SCALE_KILLS kills per controller."
  res "load_average_before_scale: $(cut -d' ' -f1-3 /proc/loadavg)"
  scale_setup
  res "scale_pods: $(scale_pods_made)"

  log "scale: kubus from a fresh start"
  local t0 sup kcm port
  t0=$(now_us)
  scale_start_kubus scale-kubus
  sup=${PID[scale-kubus]}
  if [ -n "${BENCH_SCALE_PERF:-}" ]; then   # a profile of one worker's start (kubus-NAME)
    local pp=
    for _ in $(seq 100); do pp=$(worker_pid "$sup" "$BENCH_SCALE_PERF"); [ -n "$pp" ] && break; sleep 0.05; done
    [ -n "$pp" ] && perf record -F 2000 --call-graph "${BENCH_SCALE_PERF_CALLGRAPH:-fp}" -o "$OUT/$BENCH_SCALE_PERF.perf" -p "$pp" -- sleep 10 >/dev/null 2>&1 &
  fi
  scale_measure kubus "tree_pids $sup" "$t0" 0
  # shellcheck disable=SC2046
  res "scale_kubus_pss_by_process_kib:$(for p in $(tree_pids "$sup"); do printf ' %s=%s' "$(cat /proc/"$p"/comm)" "$(pss_kib "$p")"; done)"
  res "load_average_before_scale_restarts: $(cut -d' ' -f1-3 /proc/loadavg)"
  scale_restarts "$sup"
  stop scale-kubus
  cp "$W/scale-kubus.log" "$OUT/scale-kubus.log"   # the restarts' timelines, for reading after the run

  log "scale: upstream kube-controller-manager from a fresh start"
  local D=$KUBUS_CLUSTER_DIR
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  t0=$(now_us)
  spawn scale-upstream "$KUBUS_K8S_BIN/kube-controller-manager" --kubeconfig "$D/kube-controller-manager.kubeconfig" \
    --authentication-kubeconfig "$D/kube-controller-manager.kubeconfig" \
    --authorization-kubeconfig "$D/kube-controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$port" --leader-elect=false --profiling=false \
    --controllers "$SCALE_CONTROLLERS" --use-service-account-credentials \
    --root-ca-file "$D/pki/ca.crt" --service-account-private-key-file "$D/pki/sa.key" --v 1
  kcm=${PID[scale-upstream]}
  scale_measure upstream "echo $kcm" "$t0" 0
  stop scale-upstream
  res "load_average_after_scale: $(cut -d' ' -f1-3 /proc/loadavg)"
}
