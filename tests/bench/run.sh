#!/usr/bin/env bash
# make bench: issue 4's benchmark. Prints, and writes to $KUBUS_BUILD/bench/results.txt,
# one "name: value unit" line per figure ("# " lines say what was measured):
#
#  1 bus       kubus-bench-pub (a synthetic informer: PUB + InformerStatus + snapshot
#              ROUTER, no API server) -> kubus-broker -> kubus-bench-sub (lib/subscriber.c):
#              BENCH_EVENTS ADDED events of 1024-byte pods, sent as fast as the PUB takes them
#              in EventBatches as the informer sends them, twice: the subscriber parsing every
#              object (bus_), and with that JSON parse deferred (bus_noparse_: the transport).
#  1b full     kubus-bench-fakeapi (plain-HTTP watch stream, the same events) -> the real
#              kubus-informer -> kubus-broker -> kubus-bench-sub.
#  2 latency   real cluster: BENCH_LAT_PODS pods (1 KiB annotation, nodeSelector that matches
#              no node, so the scheduler marks them Unschedulable) created and then deleted
#              through kubus-act -> broker -> kubus-executor (rate limits lifted); for every
#              event of them, now - WatchEvent.recv_unix_us at the subscriber's callback.
#  4 executor  the same creates and deletes, timed: actions/s.
#  3 snapshot  BENCH_SNAP_PODS pods (never scheduled: schedulerName nobody runs) in the
#              informer's cache; a fresh kubus-bench-sub from subscriber_create to synced;
#              VmRSS of the informer and of the subscriber.
#  5 yardstick a ReplicaSet 0 -> BENCH_RS_REPLICAS, then deleted: kubus
#              (kubus-controller-manager --controllers=replicaset,garbagecollector) on the
#              shared cluster vs upstream kube-controller-manager on a private cluster
#              (KUBUS_UPSTREAM=all). Time to all ready, to all pods gone; VmRSS and CPU time.
#  6 scale     BENCH_SCALE_PODS pods in BENCH_SCALE_RS ReplicaSets: kubus vs upstream
#              kube-controller-manager (the same 8 controllers) from a fresh start on the same
#              cluster: CPU to sync, PSS, idle CPU; kubus controllers' SIGKILL -> ready
#              (tests/bench/scale.sh says exactly what).
#  7 rollout   kubus vs upstream, same cluster, one side at a time: a ReplicaSet 0 -> 1000 with
#              rate limits lifted, and 100 Deployments x 10 created and then rolled out at the
#              default rate limits: time, CPU, kube-apiserver CPU (tests/bench/rollout.sh).
#
# Isolation on the shared cluster: every namespace is private (kubus-bench-*), and every
# kubus process here runs as shard fnv1a32(ns) % 65536 of 65536 (DEVELOPERS.md, Sharding),
# so it sees, caches and acts on its own namespace only (plus cluster-scoped objects).
#
# Env: KUBUS_BUILD (default build), KUBUS_BIN (default $KUBUS_BUILD/bin),
#   BENCH_PHASES (default "bus full latency snapshot yardstick scale rollout"), BENCH_EVENTS (200000),
#   BENCH_LAT_PODS (2000), BENCH_SNAP_PODS (10000), BENCH_RS_REPLICAS (200), BENCH_RS_ROUNDS (2),
#   BENCH_SCALE_PODS (10000), BENCH_SCALE_RS (1000), BENCH_SCALE_NS (10), BENCH_SCALE_KILLS (5),
#   BENCH_SCALE_IDLE (30), BENCH_BURST_REPLICAS (1000), BENCH_BURST_QPS (1000),
#   BENCH_ROLLOUT_DEPLOYMENTS (100), BENCH_ROLLOUT_REPLICAS (10), BENCH_ROLLOUT_SIDES ("kubus upstream"),
#   BENCH_KEEP=1 keeps the work dir (logs) also on success.
# Everything started is stopped, every namespace deleted and the extra cluster torn
# down on exit, also on failure or Ctrl-C (then the work dir with the logs is kept).
set -euo pipefail
# shellcheck disable=SC2016 # wait_for takes shell code to evaluate later

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${KUBUS_BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
BIN=${KUBUS_BIN:-$BUILD/bin}
TBIN=$BUILD/tests
OUT=$BUILD/bench
RESULTS=$OUT/results.txt
PHASES=${BENCH_PHASES:-bus full latency snapshot yardstick scale rollout}
EVENTS=${BENCH_EVENTS:-200000}
LAT_PODS=${BENCH_LAT_PODS:-2000}
SNAP_PODS=${BENCH_SNAP_PODS:-10000}
RS_REPLICAS=${BENCH_RS_REPLICAS:-200}
RS_ROUNDS=${BENCH_RS_ROUNDS:-2}
SHARDS=65536

# shellcheck source=../cluster/env.sh
. "$ROOT/tests/cluster/env.sh"   # KUBECONFIG, pinned kubectl on PATH

W=$(mktemp -d /tmp/kubus-bench.XXXXXX)
declare -A PID=()
NAMESPACES=()
UPSTREAM_DIR=
OK=0

# ---- helpers -------------------------------------------------------------------------

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
res() { printf '%s\n' "$*" | tee -a "$RESULTS"; }
note() { res "# $*"; }
die() {
  log "FAILED: $*"
  local f
  for f in "$W"/*.log; do [ -s "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }; done
  exit 1
}
now_us() { echo "${EPOCHREALTIME/./}"; }
# secs_since T0_US: seconds since T0_US, 3 decimals
secs_since() { awk -v a="$1" -v b="$(now_us)" 'BEGIN { printf "%.3f", (b - a) / 1e6 }'; }
per_sec() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }'; }

# spawn NAME CMD...: background, stdout to $W/NAME.out, stderr to $W/NAME.log
spawn() {
  local name=$1
  shift
  "$@" >"$W/$name.out" 2>"$W/$name.log" &
  PID[$name]=$!
}
stop() { # stop NAME: TERM, KILL after 10 s
  local p=${PID[$1]:-} i
  [ -n "$p" ] || return 0
  kill -TERM "$p" 2>/dev/null || true
  for i in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
  unset "PID[$1]"
}
alive() { kill -0 "${PID[$1]}" 2>/dev/null || die "$1 exited"; }
# wait_for SECS 'COND' WHAT
wait_for() {
  local end=$(($(date +%s) + $1))
  until eval "$2"; do
    (($(date +%s) < end)) || die "timed out after $1 s waiting for: $3"
    sleep 0.1
  done
}

# fnv1a32 STRING: the shard hash of DEVELOPERS.md (bytes of an ASCII name)
fnv1a32() {
  local s=$1 h=2166136261 i c
  for ((i = 0; i < ${#s}; i++)); do
    printf -v c '%d' "'${s:i:1}"
    h=$(((h ^ c) * 16777619 & 0xffffffff))
  done
  echo "$h"
}
shard_of() { echo $(($(fnv1a32 "$1") % SHARDS)); }

# cpu_ticks PID...: utime + stime (clock ticks) summed; rss_kib PID...: VmRSS summed
cpu_ticks() {
  local p t=0 f
  for p in "$@"; do
    f=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || continue
    read -r -a f <<<"$f" # fields after the command: state is f[0], utime f[11], stime f[12]
    t=$((t + f[11] + f[12]))
  done
  echo "$t"
}
# proc_kib FIELD FILE PID...: a "FIELD: N kB" line of /proc/PID/FILE summed
proc_kib() {
  local field=$1 file=$2 p t=0 v
  shift 2
  for p in "$@"; do
    v=$(awk -v f="$field:" '$1 == f {print $2}' "/proc/$p/$file" 2>/dev/null) || continue
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
rss_kib() { proc_kib VmRSS status "$@"; }
TCK=$(getconf CLK_TCK)
ticks_to_s() { awk -v t="$1" -v h="$TCK" 'BEGIN { printf "%.2f", t / h }'; }

new_ns() { # new_ns PREFIX: a private namespace in $NEW_NS, deleted on exit
  local ns i
  ns="kubus-bench-$1-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  NAMESPACES+=("$KUBECONFIG|$ns")
  kubectl create namespace "$ns" >/dev/null || die "cannot create namespace $ns"
  kubectl label namespace "$ns" kubus.bench=true >/dev/null
  for i in $(seq 150); do
    kubectl -n "$ns" get serviceaccount default >/dev/null 2>&1 && break
    sleep 0.2
  done
  NEW_NS=$ns
}

cleanup() {
  local rc=$? name entry
  set +e
  trap - EXIT INT TERM
  for name in "${!PID[@]}"; do stop "$name"; done
  for entry in "${NAMESPACES[@]}"; do
    KUBECONFIG=${entry%%|*} kubectl delete namespace "${entry#*|}" --wait=false --ignore-not-found >/dev/null 2>&1
  done
  if [ -n "$UPSTREAM_DIR" ]; then
    KUBUS_UPSTREAM=all KUBUS_CLUSTER_DIR=$UPSTREAM_DIR bash "$ROOT/tests/cluster/down.sh" >/dev/null 2>&1
    rm -rf "$UPSTREAM_DIR"
  fi
  if [ "$OK" = 1 ] && [ "${BENCH_KEEP:-0}" != 1 ]; then
    rm -rf "$W"
  else
    log "logs kept in $W"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- header --------------------------------------------------------------------------

header() {
  mkdir -p "$OUT"
  : >"$RESULTS"
  note "kubus benchmark (make bench, tests/bench/run.sh); phases: $PHASES"
  res "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  local dirty=
  git -C "$ROOT" diff --quiet HEAD -- lib proto broker informer executor supervisor controllers 2>/dev/null ||
    dirty=" (+ uncommitted changes in the sources)"
  res "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$dirty"
  res "nproc: $(nproc)"
  res "cpu: $(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
  res "memory: $(awk '/^MemTotal:/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  res "kernel: $(uname -sr)"
  res "load_average_at_start: $(cut -d' ' -f1-3 /proc/loadavg)"
  note "the machine is shared: other builds and tests may run meanwhile (see the load averages)"
}

# ---- 1: bus throughput -----------------------------------------------------------------

# run_throughput PREFIX PUBLISHER-NAME [SUB-FLAGS...]: the broker is up, the publisher waits
# for $D/go; runs kubus-bench-sub until the pods seq reaches $EVENTS, reports its lines + CPU.
run_throughput() {
  local prefix=$1 pub=$2 t0 b0
  shift 2
  b0=$(cpu_ticks "${PID[broker]}" "${PID[$pub]}")
  /usr/bin/time -f '%U %S' -o "$W/$prefix.time" timeout 300 "$TBIN/kubus-bench-sub" --bus-dir="$D/bus" \
    --name="bench-$prefix" --mode=throughput --expect="$EVENTS" --ready-file="$D/go" --prefix="$prefix" "$@" \
    >"$W/$prefix.sub.out" 2>"$W/$prefix.sub.log" || die "kubus-bench-sub ($prefix) failed"
  grep -q "^${prefix}_seconds:" "$W/$prefix.sub.out" || die "$prefix: the subscriber did not reach seq $EVENTS"
  while read -r line; do res "$line"; done <"$W/$prefix.sub.out"
  res "${prefix}_cpu_subscriber: $(awk '{printf "%.2f", $1 + $2}' "$W/$prefix.time") s"
  res "${prefix}_cpu_broker_and_publisher: $(ticks_to_s $(($(cpu_ticks "${PID[broker]}" "${PID[$pub]}") - b0))) s"
}

# bus_run PREFIX [SUB-FLAGS...]: one bus throughput run on a fresh broker.
bus_run() {
  local prefix=$1
  shift
  D=$W/$prefix
  mkdir -p "$D"
  spawn broker "$BIN/kubus-broker" --bus-dir="$D/bus"
  sleep 0.3
  spawn pub "$TBIN/kubus-bench-pub" --bus-dir="$D/bus" --events="$EVENTS" --object-bytes=1024 --go-file="$D/go"
  log "$prefix: $EVENTS events, synthetic informer -> broker -> subscriber"
  run_throughput "$prefix" pub "$@"
  stop pub
  grep -E '^pub_' "$W/pub.out" | sed "s/^/${prefix}_/" | while read -r line; do res "$line"; done
  stop broker
}

phase_bus() {
  note "1. bus throughput: kubus-bench-pub (synthetic informer: PUB to events-in with per-resource seqs,"
  note "   InformerStatus every second, a snapshot ROUTER; no API server) -> kubus-broker -> kubus-bench-sub"
  note "   (lib/subscriber.c, callbacks keep nothing). $EVENTS ADDED events of 1024-byte pod JSON, published as"
  note "   fast as the PUB takes them once the subscriber is synced. Rate = live callbacks / time from the first"
  note "   to the one that completes seq $EVENTS (a resync after lost messages counts inside that time)."
  note "   gaps/resyncs: messages lost on the way (a ZeroMQ PUB/XPUB drops at its high-water mark, e.g. the"
  note "   broker's 4096 batches towards a subscriber that lags, lib/bus.h) and what repaired them (a replay,"
  note "   as deep as the informer's replay ring (8 MiB by default), else a re-snapshot)."
  note "   bus_: EventBatches (64 KiB, 256 events per publisher turn), the subscriber parses every object's JSON"
  note "   (jansson) as controllers need it; bus_noparse_: the same with the parse deferred (the transport:"
  note "   broker, subscriber's decode and ordering)."
  res "load_average_before_bus: $(cut -d' ' -f1-3 /proc/loadavg)"
  bus_run bus
  res "load_average_before_bus_noparse: $(cut -d' ' -f1-3 /proc/loadavg)"
  bus_run bus_noparse --no-parse
}

phase_full() {
  D=$W/full
  mkdir -p "$D"
  note "1b. full path: kubus-bench-fakeapi (plain HTTP; an empty pods list, then one watch stream of $EVENTS"
  note "    ADDED lines of 1024-byte pods, written once the subscriber is synced) -> the real kubus-informer"
  note "    (--resources=pods) -> kubus-broker -> kubus-bench-sub. Same figures as 1."
  res "load_average_before_full: $(cut -d' ' -f1-3 /proc/loadavg)"
  spawn fakeapi "$TBIN/kubus-bench-fakeapi" --events="$EVENTS" --object-bytes=1024 --go-file="$D/go" \
    --kubeconfig="$D/kubeconfig"
  wait_for 60 '[ -s "$W/fakeapi.out" ]' "the fake API server's port"
  spawn broker "$BIN/kubus-broker" --bus-dir="$D/bus"
  sleep 0.3
  spawn informer "$BIN/kubus-informer" --bus-dir="$D/bus" --kubeconfig="$D/kubeconfig" --resources=pods \
    --stats-file="$D/stats.json"
  log "full: $EVENTS events, watch stream -> informer -> broker -> subscriber"
  run_throughput full informer
  res "full_informer_dropped: $(jq -r .dropped "$D/stats.json") events"
  res "full_informer_batches: $(jq -r .batches "$D/stats.json")"
  stop informer
  stop broker
  stop fakeapi
}

# ---- 2 + 4: latency and executor ---------------------------------------------------------

# pod_lines PREFIX COUNT EXTRA-SPEC: kubus-act CREATE lines, pods PREFIX-00001..., 1 KiB annotation
pod_lines() {
  awk -v ns="$NS" -v p="$1" -v n="$2" -v extra="$3" 'BEGIN {
    pad = sprintf("%1024s", ""); gsub(/ /, "x", pad)
    for (i = 1; i <= n; i++) {
      name = sprintf("%s-%05d", p, i)
      printf "{\"verb\":\"CREATE\",\"resource\":\"pods\",\"namespace\":\"%s\",\"name\":\"%s\",\"body\":{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\",\"labels\":{\"app\":\"kubus-bench\"},\"annotations\":{\"kubus.bench/pad\":\"%s\"}},\"spec\":{%s\"nodeSelector\":{\"kubernetes.io/hostname\":\"nowhere\"},\"containers\":[{\"name\":\"c\",\"image\":\"registry.k8s.io/pause:3.9\"}]}}}\n", ns, name, name, ns, pad, extra
    }
  }'
}
delete_lines() { jq -c '{verb:"DELETE",resource:"pods",namespace:.namespace,name:.name,precondition_uid:.object.metadata.uid}' "$1"; }

# act NAME EXPECTED-STATUS: runs kubus-act on $W/NAME.in; checks every status; sets ACT_SECS
# and ACT_CPU (CPU seconds the executor and the kube-apiserver used meanwhile)
act() {
  local t0 n ok c0 a0 api
  n=$(wc -l <"$W/$1.in")
  api=$(cat "$KUBUS_CLUSTER_DIR/run/kube-apiserver.pid" 2>/dev/null || echo 0)
  c0=$(cpu_ticks "${PID[executor]}")
  a0=$(cpu_ticks "$api")
  t0=$(now_us)
  "$BIN/kubus-act" --bus-dir="$D/bus" --controller=replicaset --timeout=600s --resend-after=600s <"$W/$1.in" >"$W/$1.out" 2>"$W/$1.log" ||
    die "kubus-act $1 failed"
  ACT_SECS=$(secs_since "$t0")
  ACT_CPU="executor $(ticks_to_s $(($(cpu_ticks "${PID[executor]}") - c0))) s, kube-apiserver $(ticks_to_s $(($(cpu_ticks "$api") - a0))) s"
  ok=$(jq -r --argjson s "$2" 'select(.status == $s) | .name' "$W/$1.out" | wc -l)
  [ "$ok" = "$n" ] || die "kubus-act $1: $ok of $n actions answered $2; first others: $(jq -c --argjson s "$2" 'select(.status != $s) | [.status,.reason,.message]' "$W/$1.out" | head -3)"
}

# The bus of phases 2-4: broker, executor (rate limits lifted), informer (pods of $NS's shard).
start_cluster_bus() {
  D=$W/cluster
  mkdir -p "$D"
  new_ns p
  NS=$NEW_NS
  SHARD=$(shard_of "$NS")
  local sh=(--shard-index="$SHARD" --shard-count="$SHARDS")
  spawn broker "$BIN/kubus-broker" --bus-dir="$D/bus"
  sleep 0.3
  spawn executor "$BIN/kubus-executor" --bus-dir="$D/bus" --kubeconfig="$KUBECONFIG" \
    --kube-api-qps=1000000 --kube-api-burst=1000000 "${sh[@]}"
  spawn informer "$BIN/kubus-informer" --bus-dir="$D/bus" --kubeconfig="$KUBECONFIG" --resources=pods \
    --stats-file="$D/stats.json" "${sh[@]}"
  wait_for 60 'alive informer; [ "$(jq -r .ready "$D/stats.json" 2>/dev/null)" = true ]' "the informer's first list"
  # warm-up: one GET through the whole action path (connections, TLS)
  echo "{\"verb\":\"GET\",\"resource\":\"namespaces\",\"name\":\"$NS\"}" >"$W/warmup.in"
  act warmup 200
}

phase_latency() {
  note "2+4. real cluster (kube-apiserver $KUBUS_K8S_VERSION + etcd + kwok), namespace of its own; kubus-broker,"
  note "   kubus-executor (--kube-api-qps=1000000 --kube-api-burst=1000000, --max-in-flight 64 default),"
  note "   kubus-informer (--resources=pods), all as the shard of the namespace (they see only its pods, though"
  note "   the informer's watch carries every pod of the cluster). $LAT_PODS pods with a 1 KiB annotation and a nodeSelector no node"
  note "   matches are created by one kubus-act (all actions sent at once) -> broker -> executor, then deleted"
  note "   the same way (with UID preconditions). Wall time of each kubus-act run -> actions/s."
  note "   Latency: for every event of those pods (ADDED, the scheduler's Unschedulable MODIFIED, DELETED), at"
  note "   the subscriber's callback: now - WatchEvent.recv_unix_us (the informer stamps it when it publishes,"
  note "   in the curl write callback that read the watch line). Same machine, CLOCK_REALTIME on both ends."
  res "load_average_before_latency: $(cut -d' ' -f1-3 /proc/loadavg)"
  spawn latsub "$TBIN/kubus-bench-sub" --bus-dir="$D/bus" --name=bench-latency --mode=latency --ns="$NS" \
    --prefix=latency --ready-file="$D/lat.ready" --progress-file="$D/lat.progress"
  wait_for 30 'alive latsub; [ -s "$D/lat.ready" ]' "the latency subscriber's snapshot"
  pod_lines lat "$LAT_PODS" "" >"$W/create.in"
  log "latency/executor: creating $LAT_PODS pods through the executor"
  act create 201
  res "executor_create_pods: $LAT_PODS actions"
  res "executor_create_seconds: $ACT_SECS s"
  res "executor_create_per_s: $(per_sec "$LAT_PODS" "$ACT_SECS") actions/s"
  res "executor_create_cpu: $ACT_CPU"
  wait_for 120 '[ "$(jq -r ".objects.pods" "$D/stats.json")" -ge "$LAT_PODS" ]' "the informer to see $LAT_PODS pods"
  delete_lines "$W/create.out" >"$W/delete.in"
  log "latency/executor: deleting them"
  act delete 200
  res "executor_delete_pods: $LAT_PODS actions"
  res "executor_delete_seconds: $ACT_SECS s"
  res "executor_delete_per_s: $(per_sec "$LAT_PODS" "$ACT_SECS") actions/s"
  res "executor_delete_cpu: $ACT_CPU"
  wait_for 120 'alive latsub; [ "$(cut -d" " -f2 "$D/lat.progress" 2>/dev/null)" -ge "$LAT_PODS" ] 2>/dev/null' \
    "the subscriber to see $LAT_PODS deletions"
  sleep 1
  stop latsub
  while read -r line; do res "$line"; done <"$W/latsub.out"
}

# ---- 3: snapshot -----------------------------------------------------------------------

phase_snapshot() {
  note "3. snapshot: $SNAP_PODS pods (1 KiB annotation, spec.schedulerName that no scheduler serves, so"
  note "   nothing touches them) created through kubus-act -> executor as in 4, then, once the informer holds them"
  note "   and its seq has been still for 2 s, a fresh kubus-bench-sub: subscriber_create -> synced for pods."
  note "   The informer is the one of 2+4 (sharded: its pods cache holds exactly these pods); rss = VmRSS."
  note "   create_to_synced includes the wait for the informer's next heartbeat (sent once a second);"
  note "   request_to_synced starts at that heartbeat, when the SnapshotRequest goes out."
  res "load_average_before_snapshot: $(cut -d' ' -f1-3 /proc/loadavg)"
  pod_lines snap "$SNAP_PODS" '"schedulerName":"kubus-bench-nobody",' >"$W/snapcreate.in"
  log "snapshot: creating $SNAP_PODS pods through the executor"
  act snapcreate 201
  res "executor_create_${SNAP_PODS}_seconds: $ACT_SECS s"
  res "executor_create_${SNAP_PODS}_per_s: $(per_sec "$SNAP_PODS" "$ACT_SECS") actions/s"
  res "executor_create_${SNAP_PODS}_cpu: $ACT_CPU"
  rm -f "$W/snapcreate.out" # ~20 MB of objects
  wait_for 120 '[ "$(jq -r ".objects.pods" "$D/stats.json")" -ge "$SNAP_PODS" ]' "the informer to hold $SNAP_PODS pods"
  local prev=-1 cur
  for _ in $(seq 60); do
    cur=$(jq -r '.seq.pods' "$D/stats.json")
    [ "$cur" = "$prev" ] && break
    prev=$cur
    sleep 2
  done
  res "snapshot_informer_objects: $(jq -r '.objects.pods' "$D/stats.json") pods"
  res "snapshot_informer_rss: $(rss_kib "${PID[informer]}") KiB"
  log "snapshot: a fresh subscriber"
  "$TBIN/kubus-bench-sub" --bus-dir="$D/bus" --name=bench-snapshot --mode=snapshot --prefix=snapshot \
    >"$W/snapsub.out" 2>"$W/snapsub.log" || die "the snapshot subscriber failed"
  while read -r line; do res "$line"; done <"$W/snapsub.out"
  res "snapshot_informer_rss_after: $(rss_kib "${PID[informer]}") KiB"
}

stop_cluster_bus() {
  local name
  for name in informer executor broker; do stop "$name"; done
  log "deleting namespace $NS"
  kubectl delete namespace "$NS" --wait=false >/dev/null 2>&1 || true
}

# ---- 5: yardstick ----------------------------------------------------------------------

rs_manifest() {
  cat <<YAML
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: bench-rs, namespace: $1}
spec:
  replicas: $RS_REPLICAS
  selector: {matchLabels: {app: bench-rs}}
  template:
    metadata: {labels: {app: bench-rs}}
    spec: {containers: [{name: c, image: registry.k8s.io/pause:3.9}]}
YAML
}

# rs_run SIDE NS PIDS...: create the ReplicaSet, wait for all ready, delete it, wait until every
# pod is terminating (the garbage collector's part) and then gone (kwok's part); the PIDS are
# sampled for CPU (create..gone) and RSS (when all are ready).
rs_run() {
  local side=$1 ns=$2 t0 c0 ready_s rss issued_s uid
  shift 2
  c0=$(cpu_ticks "$@")
  t0=$(now_us)
  rs_manifest "$ns" | kubectl apply -f - >/dev/null
  kubectl -n "$ns" wait rs/bench-rs --for=jsonpath='{.status.readyReplicas}'="$RS_REPLICAS" --timeout=300s \
    >/dev/null || die "$side: $RS_REPLICAS ready pods within 300 s"
  ready_s=$(secs_since "$t0")
  rss=$(rss_kib "$@")
  uid=$(kubectl -n "$ns" get rs bench-rs -o jsonpath='{.metadata.uid}')
  t0=$(now_us)
  kubectl -n "$ns" delete rs bench-rs --wait=false >/dev/null
  wait_for 300 '[ "$(kubectl -n "$ns" get pods -l app=bench-rs -o json |
      jq "[.items[] | select(.metadata.deletionTimestamp == null)] | length")" = 0 ]' "$side: every pod terminating"
  issued_s=$(secs_since "$t0")
  wait_for 300 '[ "$(kubectl -n "$ns" get pods -l app=bench-rs -o name | wc -l)" = 0 ]' "$side: no pods left"
  res "yardstick_${side}_ready_seconds: $ready_s s"
  res "yardstick_${side}_all_terminating_seconds: $issued_s s"
  res "yardstick_${side}_all_gone_seconds: $(secs_since "$t0") s"
  res "yardstick_${side}_rss: $rss KiB"
  res "yardstick_${side}_cpu: $(ticks_to_s $(($(cpu_ticks "$@") - c0))) s"
  res "yardstick_${side}_events: $(kubectl -n "$ns" get events -o json | jq -r --arg uid "$uid" '
    [.items[] | select(.reason == "SuccessfulCreate" and .involvedObject.uid == $uid)]
    | "\(length) SuccessfulCreate Event objects, count sum \(map(.count // 1) | add // 0)"')"
}

phase_yardstick() {
  note "5. yardstick: ReplicaSet 0 -> $RS_REPLICAS replicas (pause pods on the kwok nodes; kwok makes a bound pod"
  note "   Ready ~1 s later), time until .status.readyReplicas = $RS_REPLICAS (kubectl wait, a watch); then"
  note "   kubectl delete rs (background propagation): time until every pod is terminating (the garbage"
  note "   collector's deletes; kubectl polled) and until none is left (then kwok's part). rss = VmRSS when all"
  note "   were ready; cpu = utime+stime over create..gone. Both sides at their default --kube-api-qps=20"
  note "   --kube-api-burst=30. events: that ReplicaSet's SuccessfulCreate Events, counted afterwards."
  note "   kubus: kubus-controller-manager --controllers=replicaset,garbagecollector on the shared cluster, shard"
  note "   of its namespace (so it caches that namespace + cluster-scoped objects); rss/cpu = supervisor +"
  note "   broker + informer + executor + replicaset + garbagecollector."
  note "   upstream: kube-controller-manager --controllers='*' (every controller, as shipped) on a private"
  note "   cluster (KUBUS_UPSTREAM=all tests/cluster/up.sh); rss/cpu = that one process."
  note "   $RS_ROUNDS rounds, alternating kubus and upstream; both stay up between rounds (figures per round)."
  local ns uns port sup pids kcm r
  new_ns rs
  ns=$NEW_NS
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  spawn kubus "$BIN/kubus-controller-manager" --kubeconfig="$KUBECONFIG" --bus-dir="$W/kubus-bus" \
    --port="$port" --controllers=replicaset,garbagecollector --shard-index="$(shard_of "$ns")" --shard-count=$SHARDS
  wait_for 60 'alive kubus; curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1' "kubus /readyz"
  sup=${PID[kubus]}
  pids=$(cat /proc/"$sup"/task/*/children)
  [ "$(wc -w <<<"$pids")" -ge 5 ] || die "kubus: expected 5 workers, have: $pids"
  res "yardstick_kubus_processes: $(($(wc -w <<<"$pids") + 1))"

  log "yardstick: starting a private upstream cluster (KUBUS_UPSTREAM=all)"
  UPSTREAM_DIR=$(mktemp -d /tmp/kubus-bench-upstream.XXXXXX)
  KUBUS_UPSTREAM=all KUBUS_CLUSTER_DIR=$UPSTREAM_DIR bash "$ROOT/tests/cluster/up.sh" >"$W/upstream-up.log" 2>&1 ||
    die "the upstream cluster did not come up"
  kcm=$(cat "$UPSTREAM_DIR/run/kube-controller-manager.pid")
  KUBECONFIG=$UPSTREAM_DIR/kubeconfig new_ns rs
  uns=$NEW_NS

  for r in $(seq "$RS_ROUNDS"); do
    res "load_average_before_yardstick_round$r: $(cut -d' ' -f1-3 /proc/loadavg)"
    log "yardstick round $r: kubus, $RS_REPLICAS replicas"
    # shellcheck disable=SC2086
    rs_run "round${r}_kubus" "$ns" "$sup" $pids
    log "yardstick round $r: upstream kube-controller-manager, $RS_REPLICAS replicas"
    KUBECONFIG=$UPSTREAM_DIR/kubeconfig rs_run "round${r}_upstream" "$uns" "$kcm"
  done
  local p by=
  for p in "$sup" $pids; do by+=" $(cat "/proc/$p/comm")=$(rss_kib "$p")"; done
  res "yardstick_kubus_rss_by_process_kib:$by"
  stop kubus
}

# ---- 6: scale (tests/bench/scale.sh) ------------------------------------------------

# shellcheck source=scale.sh
. "$ROOT/tests/bench/scale.sh"
# shellcheck source=rollout.sh
. "$ROOT/tests/bench/rollout.sh"

# ---- main ----------------------------------------------------------------------------

for t in "$TBIN/kubus-bench-sub" "$TBIN/kubus-bench-pub" "$TBIN/kubus-bench-fakeapi" "$BIN/kubus-informer" \
  "$BIN/kubus-broker" "$BIN/kubus-executor" "$BIN/kubus-act" "$BIN/kubus-controller-manager"; do
  [ -x "$t" ] || die "missing $t (make build)"
done
command -v jq >/dev/null || die "jq is missing"
T_START=$(now_us)
header
case " $PHASES " in *" bus "*) phase_bus ;; esac
case " $PHASES " in *" full "*) phase_full ;; esac
if [[ " $PHASES " == *" latency "* || " $PHASES " == *" snapshot "* ]]; then
  kubectl get --raw /readyz >/dev/null 2>&1 || die "no cluster at $KUBECONFIG (make cluster-up)"
  start_cluster_bus
  case " $PHASES " in *" latency "*) phase_latency ;; esac
  case " $PHASES " in *" snapshot "*) phase_snapshot ;; esac
  stop_cluster_bus
fi
case " $PHASES " in *" yardstick "*) phase_yardstick ;; esac
if [[ " $PHASES " == *" scale "* ]]; then
  kubectl get --raw /readyz >/dev/null 2>&1 || die "no cluster at $KUBECONFIG (make cluster-up)"
  phase_scale
fi
if [[ " $PHASES " == *" rollout "* ]]; then
  kubectl get --raw /readyz >/dev/null 2>&1 || die "no cluster at $KUBECONFIG (make cluster-up)"
  phase_rollout
fi
res "load_average_at_end: $(cut -d' ' -f1-3 /proc/loadavg)"
res "bench_wall_seconds: $(secs_since "$T_START") s"
OK=1
log "results in $RESULTS"
