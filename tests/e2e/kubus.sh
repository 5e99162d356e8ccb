# Sourced by end-to-end and chaos tests: start and stop kubus for one test.
#   kubus_start [extra kubus-controller-manager flags...]
#       starts the supervisor with a private bus dir and HTTP port, waits
#       until /readyz answers 200, and stops it on EXIT (trap chain kept).
#   kubus_stop                    SIGTERM, wait up to 10 s
#   kubus_worker_pid NAME         pid of a worker from /statusz (empty if none)
#   kubus_worker_pids             "name pid" lines of running workers
#   kubus_statusz                 the /statusz text
# Needs: tests/e2e/lib.sh sourced first (KUBUS_BIN, KUBECONFIG, on_exit).

kubus_free_port() {
  python3 - <<'PY'
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

kubus_start() {
  KUBUS_TEST_DIR=$(mktemp -d /tmp/kubus-e2e.XXXXXX)
  KUBUS_PORT=$(kubus_free_port)
  "$KUBUS_BIN/kubus-controller-manager" --kubeconfig="$KUBECONFIG" \
    --bus-dir="$KUBUS_TEST_DIR/bus" --port="$KUBUS_PORT" "$@" \
    >"$KUBUS_TEST_DIR/kubus.log" 2>&1 &
  KUBUS_PID=$!
  on_exit kubus_stop   # lib.sh: runs before earlier-registered actions (LIFO)
  local i
  for i in $(seq 1 150); do
    if curl -fsS "http://127.0.0.1:$KUBUS_PORT/readyz" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$KUBUS_PID" 2>/dev/null; then
      echo "kubus-controller-manager exited during start-up; log tail:" >&2
      tail -n 40 "$KUBUS_TEST_DIR/kubus.log" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "kubus did not become ready within 30 s; /readyz says:" >&2
  curl -sS "http://127.0.0.1:$KUBUS_PORT/readyz" >&2 || true
  tail -n 40 "$KUBUS_TEST_DIR/kubus.log" >&2
  return 1
}

kubus_stop() {
  [ -n "${KUBUS_PID:-}" ] || return 0
  kill -TERM "$KUBUS_PID" 2>/dev/null || true
  local i
  for i in $(seq 1 50); do
    kill -0 "$KUBUS_PID" 2>/dev/null || break
    sleep 0.2
  done
  kill -KILL "$KUBUS_PID" 2>/dev/null || true
  wait "$KUBUS_PID" 2>/dev/null || true
  if [ -n "${KUBUS_KEEP_LOGS:-}" ] || [ "${KUBUS_TEST_FAILED:-0}" = 1 ]; then
    echo "kubus log kept at $KUBUS_TEST_DIR/kubus.log" >&2
  fi
  KUBUS_PID=
}

kubus_statusz() { curl -fsS "http://127.0.0.1:$KUBUS_PORT/statusz"; }

# /statusz rows: NAME STATE PID GENERATION RESTARTS UPTIME LAST-EXIT
kubus_worker_pids() {
  kubus_statusz | awk 'NR>1 && $3 ~ /^[0-9]+$/ && $3 > 0 {print $1, $3}'
}

kubus_worker_pid() { kubus_worker_pids | awk -v n="$1" '$1==n {print $2}'; }
