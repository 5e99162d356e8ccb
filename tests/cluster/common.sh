# shellcheck shell=bash
# Shared by the tests/cluster scripts (sourced, never run). Sets:
#   KUBUS_ROOT          repo root
#   KUBUS_CLUSTER_SCRIPTS  this directory
#   KUBUS_CACHE         cache root for built binaries (default ~/.cache/kubus)
#   KUBUS_K8S_BIN       where the pinned binaries live (may not exist yet)
#   KUBUS_CLUSTER_DIR   absolute cluster state dir (default $KUBUS_ROOT/build/cluster)
# and the pins from pins.env.

KUBUS_CLUSTER_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${KUBUS_ROOT:=$(cd "$KUBUS_CLUSTER_SCRIPTS/../.." && pwd)}"
# shellcheck source=pins.env
. "$KUBUS_CLUSTER_SCRIPTS/pins.env"
: "${KUBUS_CACHE:=${HOME:-/root}/.cache/kubus}"
KUBUS_K8S_BIN="$KUBUS_CACHE/$KUBUS_K8S_VERSION/bin"
: "${KUBUS_CLUSTER_DIR:=$KUBUS_ROOT/build/cluster}"
case "$KUBUS_CLUSTER_DIR" in
  /*) ;;
  *) KUBUS_CLUSTER_DIR="$PWD/$KUBUS_CLUSTER_DIR" ;;
esac
KUBUS_CLUSTER_DIR="${KUBUS_CLUSTER_DIR%/}"
export KUBUS_ROOT KUBUS_CACHE KUBUS_K8S_BIN KUBUS_CLUSTER_DIR

# The order processes are started in; stopped in reverse.
KUBUS_COMPONENTS=(etcd kube-apiserver kube-scheduler kube-controller-manager kwok)

cl_log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
cl_die() { printf '[cluster] ERROR: %s\n' "$*" >&2; exit 1; }

# cl_need CMD DEBIAN_PACKAGE: fail with an install hint if CMD is missing.
cl_need() {
  command -v "$1" >/dev/null 2>&1 ||
    cl_die "'$1' is not installed: apt-get install -y $2 (or run tests/cluster/deps.sh)"
}

cl_need_runtime_tools() {
  cl_need openssl openssl
  cl_need curl curl
  cl_need jq jq
  cl_need setsid util-linux
}

# cl_pid_alive NAME: true if the pid recorded for NAME is a live process that
# still belongs to this cluster (its command line mentions the cluster dir,
# which guards against a recycled pid).
cl_pid_alive() {
  local f="$KUBUS_CLUSTER_DIR/run/$1.pid" pid
  [ -s "$f" ] || return 1
  pid=$(cat "$f")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  # zombies do not count
  [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] || return 1
  tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -F >/dev/null -- "$KUBUS_CLUSTER_DIR/"
}

# cl_any_alive: true if any component of this cluster dir is running.
cl_any_alive() {
  local c
  for c in "${KUBUS_COMPONENTS[@]}"; do
    cl_pid_alive "$c" && return 0
  done
  return 1
}

# Pids of processes (other than us) whose command line mentions the cluster dir
# and whose executable is one of the cached control-plane binaries.
cl_stray_pids() {
  local p exe
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [ "$p" = "$$" ] && continue
    exe=$(readlink "/proc/$p/exe" 2>/dev/null) || continue
    case "$exe" in "$KUBUS_K8S_BIN"/*) ;; *) continue ;; esac
    tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -F >/dev/null -- "$KUBUS_CLUSTER_DIR/" && echo "$p"
  done
  return 0
}

# cl_kubectl ARGS...: kubectl as the cluster admin.
cl_kubectl() {
  "$KUBUS_K8S_BIN/kubectl" --kubeconfig "$KUBUS_CLUSTER_DIR/kubeconfig" "$@"
}

# cl_api_ready: kube-apiserver answers /readyz with "ok".
cl_api_ready() {
  local port
  port=$(cl_port apiserver) || return 1
  [ "$(curl -fsS --max-time 3 --cacert "$KUBUS_CLUSTER_DIR/pki/ca.crt" \
        "https://127.0.0.1:$port/readyz" 2>/dev/null)" = ok ]
}

# cl_port NAME: a port recorded in run/ports.env.
cl_port() {
  local v
  v=$(sed -n "s/^$1=//p" "$KUBUS_CLUSTER_DIR/run/ports.env" 2>/dev/null)
  [ -n "$v" ] && echo "$v"
}

# cl_nodes_ready NODE...: every named node has condition Ready=True.
cl_nodes_ready() {
  local out n
  out=$(cl_kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null) || return 1
  for n in "$@"; do
    grep -qx "$n=True" <<<"$out" || return 1
  done
}

# cl_wait SECONDS WHAT CMD...: poll CMD every 0.2 s until it succeeds.
cl_wait() {
  local secs=$1 what=$2 deadline
  shift 2
  deadline=$((SECONDS + secs))
  until "$@"; do
    if ((SECONDS >= deadline)); then
      cl_log "timed out after ${secs}s waiting for $what"
      return 1
    fi
    sleep 0.2
  done
}
