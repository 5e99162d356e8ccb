# Shared by the supervisor integration tests (sourced, not run: the glob in
# tests/CMakeLists.txt only picks up tests/integration/*.sh).
#
# sup_start [flags...]   start kubus-controller-manager on a private bus dir,
#                        port and bin dir (symlinks to the workers that exist
#                        in $KUBUS_BIN and stay up, see sup_pick_workers);
#                        stdout and stderr go to $SUP_DIR/sup.log, stdout to
#                        $SUP_STDOUT instead when that is set
# sup_statusz            the /statusz text
# sup_field NAME COL     one column of a worker's /statusz row
#                        (2 state, 3 pid, 4 generation, 5 restarts, 7 last exit)
# sup_wait_for SECS CMD  poll CMD every 50 ms until it succeeds or SECS pass
# sup_get PATH           GET PATH: status in SUP_CODE, body in $SUP_DIR/body,
#                        headers in $SUP_DIR/headers
# sup_check_name WORKER  its health check's name (upstream's controller name)
# sup_alive PID          true if PID is a live (non-zombie) process
# fail MSG               print MSG and the supervisor log tail, exit 1
# Cleanup (EXIT trap) kills whatever is left of this test's processes by pid.

set -euo pipefail

KUBUS_BIN=${KUBUS_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/build/bin}
SUP_DIR=$(mktemp -d /tmp/kubus-it.XXXXXX)
SUP_PID=
SUP_PORT=
SUP_WORKERS=()       # worker names in the private bin dir
SUP_CONTROLLERS=""   # the --controllers value matching SUP_WORKERS

fail() {
  echo "FAIL: $*" >&2
  if [ -n "$SUP_PORT" ]; then curl -s "http://127.0.0.1:$SUP_PORT/statusz" >&2 || true; fi
  [ -f "$SUP_DIR/sup.log" ] && { echo "--- supervisor log (tail) ---" >&2; tail -n 60 "$SUP_DIR/sup.log" >&2; }
  exit 1
}

sup_alive() {
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# Every process whose command line mentions our private directory: the
# supervisor and its workers (they get --bus-dir=$SUP_DIR/bus).
sup_our_pids() {
  local p
  for p in /proc/[0-9]*; do
    [ -r "$p/cmdline" ] || continue
    if tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -F >/dev/null "$SUP_DIR/"; then
      sup_alive "${p#/proc/}" && echo "${p#/proc/}"
    fi
  done
  return 0
}

sup_cleanup() {
  local rc=$?
  if [ -n "$SUP_PID" ]; then kill -KILL "$SUP_PID" 2>/dev/null || true; wait "$SUP_PID" 2>/dev/null || true; fi
  local p
  for p in $(sup_our_pids); do kill -KILL "$p" 2>/dev/null || true; done
  # Sanitized builds: a report from the supervisor or any worker fails the test.
  if [ -f "$SUP_DIR/sup.log" ] &&
     grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$SUP_DIR/sup.log"; then
    echo "FAIL: sanitizer report in the supervisor/worker log:" >&2
    grep -E -A20 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$SUP_DIR/sup.log" | head -60 >&2
    rc=1
  fi
  if [ "$rc" -ne 0 ] || [ -n "${KUBUS_KEEP_LOGS:-}" ]; then
    echo "logs kept in $SUP_DIR" >&2
  else
    rm -rf "$SUP_DIR"
  fi
  exit "$rc"
}
trap sup_cleanup EXIT

sup_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

sup_statusz() { curl -fsS --max-time 2 "http://127.0.0.1:$SUP_PORT/statusz"; }

sup_field() {
  { sup_statusz 2>/dev/null || true; } | awk -v n="$1" -v c="$2" 'NR>1 && $1==n {print $c}'
}

sup_wait_for() {
  local secs=$1; shift
  local end=$(( $(date +%s%N) + secs * 1000000000 ))
  while [ "$(date +%s%N)" -lt "$end" ]; do
    if "$@"; then return 0; fi
    sleep 0.05
  done
  "$@"
}

# The supervisor itself serves (its workers may still be starting, or be
# crash-looping on purpose): /livez.
sup_healthy() { curl -fsS --max-time 1 "http://127.0.0.1:$SUP_PORT/livez" >/dev/null 2>&1; }

sup_get() {
  SUP_CODE=$(curl -s --max-time 2 -D "$SUP_DIR/headers" -o "$SUP_DIR/body" -w '%{http_code}' \
    "http://127.0.0.1:$SUP_PORT$1") || SUP_CODE=000
}

sup_check_name() {
  case $1 in
    broker|informer|executor) echo "$1" ;;
    garbagecollector) echo garbage-collector-controller ;;
    *) echo "$1-controller" ;;
  esac
}

# Links the chosen workers into a private bin dir, so processes others are
# still writing never get started by accident.
sup_make_bin() {
  rm -rf "$SUP_DIR/bin"
  mkdir -p "$SUP_DIR/bin"
  ln -s "$KUBUS_BIN/kubus-controller-manager" "$SUP_DIR/bin/kubus-controller-manager"
  local w
  SUP_CONTROLLERS=""
  for w in "${SUP_WORKERS[@]}"; do
    ln -s "$KUBUS_BIN/kubus-$w" "$SUP_DIR/bin/kubus-$w"
    case $w in broker|informer|executor) ;; *) SUP_CONTROLLERS=$w ;; esac
  done
}

sup_start() {
  [ -x "$KUBUS_BIN/kubus-controller-manager" ] || fail "no $KUBUS_BIN/kubus-controller-manager (build first)"
  sup_make_bin
  SUP_PORT=$(sup_free_port)
  # A kubeconfig that points nowhere: workers that talk to the API server
  # must keep running and retry, not exit.
  cat >"$SUP_DIR/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: none, user: {token: "x"}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
current-context: none
KC
  "$SUP_DIR/bin/kubus-controller-manager" --bus-dir="$SUP_DIR/bus" --port="$SUP_PORT" \
    --bin-dir="$SUP_DIR/bin" --kubeconfig="$SUP_DIR/kubeconfig" \
    --controllers="$SUP_CONTROLLERS" "$@" >>"${SUP_STDOUT:-$SUP_DIR/sup.log}" 2>>"$SUP_DIR/sup.log" &
  SUP_PID=$!
  sup_wait_for 10 sup_healthy || fail "supervisor did not serve /livez within 10 s"
}

sup_stop() {
  [ -n "$SUP_PID" ] || return 0
  kill -TERM "$SUP_PID" 2>/dev/null || true
  wait "$SUP_PID" 2>/dev/null || true
  SUP_PID=
}

sup_running() { # NAME: state up or starting with a pid
  local st
  st=$(sup_field "$1" 2)
  [ "$st" = up ] || [ "$st" = starting ]
}

# Chooses the workers for a test: the broker always, plus kubus-informer,
# kubus-executor and kubus-replicaset when they are built. Each must stay up
# for 3 s against an unreachable API server without a restart: one that
# crashes fails the test (it is a bug, not a reason to test less).
sup_pick_workers() {
  local w
  SUP_WORKERS=(broker)
  for w in informer executor replicaset; do
    [ -x "$KUBUS_BIN/kubus-$w" ] && SUP_WORKERS+=("$w")
  done
  [ ${#SUP_WORKERS[@]} -eq 1 ] && { echo "note: only kubus-broker is built; testing with it alone"; return 0; }
  sup_start
  sleep 3
  local unstable=()
  for w in "${SUP_WORKERS[@]}"; do
    if ! sup_running "$w" || [ "$(sup_field "$w" 5)" != 0 ]; then
      unstable+=("kubus-$w (state $(sup_field "$w" 2), restarts $(sup_field "$w" 5), last exit $(sup_field "$w" 7))")
    fi
  done
  ((${#unstable[@]} == 0)) ||
    fail "workers that do not stay up for 3 s without an API server: ${unstable[*]}"
  sup_stop
  echo "workers under test: ${SUP_WORKERS[*]}"
}

sup_all_up() {
  local w
  for w in "${SUP_WORKERS[@]}"; do sup_running "$w" || return 1; done
}

sup_worker_pids() {
  local w
  for w in "${SUP_WORKERS[@]}"; do sup_field "$w" 3; done | grep -E '^[0-9]+$' || true
}
