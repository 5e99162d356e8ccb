# Sourced by end-to-end and chaos tests: start and stop kubus for one test.
#   kubus_start [extra kubus-controller-manager flags...]
#       starts the supervisor with a private bus dir and HTTP port, waits
#       until /readyz answers 200, and stops it on EXIT (trap chain kept).
#   kubus_stop                    SIGTERM, wait up to 10 s
#   kubus_worker_pid NAME         pid of a worker from /statusz (empty if none)
#   kubus_worker_pids             "name pid" lines of running workers
#   kubus_statusz                 the /statusz text
# Further supervisors in one test (e.g. leader election: a leader and a standby):
#   kubus_start_instance ID [flags...]
#       starts one more kubus-controller-manager with its own bus dir, port and
#       log ($KUBUS_TEST_DIR/ID/kubus.log), waits until its /readyz answers 200,
#       sets KUBUS_PID_<ID> and KUBUS_PORT_<ID> (ID: letters, digits, _) and
#       stops it on EXIT. Several IDs may run at once, with or without kubus_start.
#   kubus_stop_instance ID [SIGNAL]  SIGNAL (default TERM), wait up to 10 s, SIGKILL
#   kubus_statusz_instance ID        its /statusz text
# Needs: tests/e2e/lib.sh sourced first (KUBUS_BIN, KUBECONFIG, on_exit).

kubus_free_port() {
  python3 - <<'PY'
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

# _kubus_wait_ready PID PORT LOG: until /readyz answers 200 (30 s).
_kubus_wait_ready() {
  local pid=$1 port=$2 log=$3 i
  for i in $(seq 1 150); do
    if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "kubus-controller-manager exited during start-up; log tail:" >&2
      tail -n 40 "$log" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "kubus did not become ready within 30 s; /readyz says:" >&2
  curl -sS "http://127.0.0.1:$port/readyz" >&2 || true
  tail -n 40 "$log" >&2
  return 1
}

# _kubus_kill PID SIGNAL LOG: signal, wait up to 10 s, then SIGKILL.
_kubus_kill() {
  local pid=$1 sig=$2 log=$3 i
  kill "-$sig" "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ -n "${KUBUS_KEEP_LOGS:-}" ] || [ "${KUBUS_TEST_FAILED:-0}" = 1 ]; then
    echo "kubus log kept at $log" >&2
  fi
}

kubus_start() {
  KUBUS_TEST_DIR=${KUBUS_TEST_DIR:-$(mktemp -d /tmp/kubus-e2e.XXXXXX)}
  KUBUS_PORT=$(kubus_free_port)
  "$KUBUS_BIN/kubus-controller-manager" --kubeconfig="$KUBECONFIG" \
    --bus-dir="$KUBUS_TEST_DIR/bus" --port="$KUBUS_PORT" "$@" \
    >"$KUBUS_TEST_DIR/kubus.log" 2>&1 &
  KUBUS_PID=$!
  on_exit kubus_stop   # lib.sh: runs before earlier-registered actions (LIFO)
  _kubus_wait_ready "$KUBUS_PID" "$KUBUS_PORT" "$KUBUS_TEST_DIR/kubus.log"
}

kubus_stop() {
  [ -n "${KUBUS_PID:-}" ] || return 0
  _kubus_kill "$KUBUS_PID" TERM "$KUBUS_TEST_DIR/kubus.log"
  KUBUS_PID=
}

kubus_start_instance() {
  local id=$1 dir port pid
  shift
  [[ $id =~ ^[A-Za-z0-9_]+$ ]] || { echo "kubus_start_instance: bad ID '$id'" >&2; return 1; }
  KUBUS_TEST_DIR=${KUBUS_TEST_DIR:-$(mktemp -d /tmp/kubus-e2e.XXXXXX)}
  dir="$KUBUS_TEST_DIR/$id"
  mkdir -p "$dir"
  port=$(kubus_free_port)
  "$KUBUS_BIN/kubus-controller-manager" --kubeconfig="$KUBECONFIG" \
    --bus-dir="$dir/bus" --port="$port" "$@" >>"$dir/kubus.log" 2>&1 &
  pid=$!
  printf -v "KUBUS_PID_$id" '%s' "$pid"
  printf -v "KUBUS_PORT_$id" '%s' "$port"
  on_exit "kubus_stop_instance $id"
  _kubus_wait_ready "$pid" "$port" "$dir/kubus.log"
}

kubus_stop_instance() {
  local id=$1 sig=${2:-TERM} var="KUBUS_PID_$1"
  [ -n "${!var:-}" ] || return 0
  _kubus_kill "${!var}" "$sig" "$KUBUS_TEST_DIR/$id/kubus.log"
  printf -v "$var" '%s' ""
}

kubus_statusz_instance() {
  local var="KUBUS_PORT_$1"
  curl -fsS --max-time 5 "http://127.0.0.1:${!var}/statusz"
}

kubus_statusz() { curl -fsS "http://127.0.0.1:$KUBUS_PORT/statusz"; }

# /statusz rows: NAME STATE PID GENERATION RESTARTS UPTIME LAST-EXIT
kubus_worker_pids() {
  kubus_statusz | awk 'NR>1 && $3 ~ /^[0-9]+$/ && $3 > 0 {print $1, $3}'
}

kubus_worker_pid() { kubus_worker_pids | awk -v n="$1" '$1==n {print $2}'; }
