#!/usr/bin/env bash
# Informer e2e: bad input from the API server. A scripted fake apiserver
# (plain HTTP, python3) answers the informer with an HTML error page, a
# garbage watch line, a nameless object, an unknown event type and an
# in-stream 410. The informer must count and refuse each, resynchronise
# (re-watch, relist after three bad streams, relist on 410), never crash,
# and end with exactly the objects the last list + watch describe.
# (Needs no cluster; lives here because it exercises the informer end to end.)
. "$(dirname "$0")/lib.sh"

# --- informer test helpers (kept inline: every tests/e2e/*.sh is run as a test) ---
D=$(mktemp -d /tmp/kubus-inf.XXXXXX)
BUS="$D/bus"
PIDS=()
# spawn NAME CMD...: run CMD in the background, stdout to $D/NAME.out, stderr to $D/NAME.log.
spawn() {
  local name=$1
  shift
  "$@" >>"$D/$name.out" 2>>"$D/$name.log" &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}
stop_pid() {
  local p=$1 i
  kill -CONT "$p" 2>/dev/null || true
  kill -TERM "$p" 2>/dev/null || true
  for i in $(seq 1 50); do
    kill -0 "$p" 2>/dev/null || { wait "$p" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
}
informer_cleanup() {
  local p
  for p in "${PIDS[@]}"; do stop_pid "$p"; done
  if [ "${KUBUS_KEEP_LOGS:-0}" = 1 ]; then echo "logs kept in $D" >&2; else rm -rf "$D"; fi
}
on_exit informer_cleanup
# On failure show the processes' logs before lib.sh's report.
eval "_lib_fail() $(declare -f fail | tail -n +2)"
fail() {
  local f
  for f in "$D"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 25 "$f" >&2; }; done
  _lib_fail "$@"
}
start_broker() { spawn broker "$KUBUS_BIN/kubus-broker" --bus-dir="$BUS"; BROKER_PID=$LAST_PID; }
# start_informer [flags...]
start_informer() {
  rm -f "$D/stats.json"
  spawn informer "$KUBUS_BIN/kubus-informer" --bus-dir="$BUS" --kubeconfig="$KUBECONFIG" \
    --stats-file="$D/stats.json" "$@"
  INFORMER_PID=$LAST_PID
  wait_until 30 'kill -0 "$INFORMER_PID" 2>/dev/null || fail "kubus-informer exited"; [ "$(stat_get .ready)" = true ]' \
    "informer ready (stats file)"
}
# start_tail NAME [flags...]
start_tail() {
  local name=$1
  shift
  spawn "$name" "$KUBUS_BIN/kubus-bus-tail" --bus-dir="$BUS" --name="$name" "$@"
  TAIL_PID=$LAST_PID
}
stat_get() { jq -r "$1" "$D/stats.json" 2>/dev/null || true; }
api_requests() { jq -r '.requests.list + .requests.watch' "$D/stats.json"; }
# The API server's replicasets of $NS as a bus-tail cache dump shows them.
kube_rs_state() {
  kubectl get rs -n "$NS" -o json |
    jq -r '.items[] | "replicasets \(.metadata.namespace)/\(.metadata.name) \(.metadata.resourceVersion)"' | sort
}
dump_rs_state() { grep "^replicasets $NS/" "$1" | sort || true; }
# Events of $NS in a bus-tail output: "TYPE NAME" lines in delivery order.
tail_events() { jq -r --arg ns "$NS" 'select(.type != null and .ns == $ns) | "\(.type) \(.name)"' "$D/$1.out"; }
make_rs() { # make_rs NAME...: ReplicaSets with 0 replicas (no pods, no side effects)
  local n
  for n in "$@"; do
    cat <<YAML
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: $n, namespace: $NS, labels: {app: $n}}
spec:
  replicas: 0
  selector: {matchLabels: {app: $n}}
  template:
    metadata: {labels: {app: $n}}
    spec: {containers: [{name: c, image: registry.k8s.io/pause:3.9}]}
YAML
  done | kubectl apply -f - >/dev/null
}
# --- end of helpers ---

cat >"$D/fakeapi.py" <<'PY'
import http.server, json, sys, time

def rs(name, rv):
    return {"metadata": {"name": name, "namespace": "fake", "uid": "u-" + name, "resourceVersion": rv,
                         "managedFields": [{"manager": "x"}]}, "spec": {"replicas": 0}}

LISTS = [
    None,                                           # 1: an HTML 503 page
    ([rs("a", "5"), rs("b", "6")], "10"),           # 2: first good list
    ([rs("a", "5"), rs("c", "11")], "20"),          # 3: relist after 3 bad streams: b vanished
    ([rs("a", "21"), rs("c", "11")], "30"),         # 4: relist after 410: a changed
]
WATCHES = [
    ['{"type":"ADDED","object":%s}' % json.dumps(rs("c", "11")), "<html><body>oops</body></html>"],
    ['{"type":"ADDED","object":{"metadata":{"resourceVersion":"12"}}}'],   # no name
    ['{"type":"SYNC","object":{}}'],                                       # unknown type
    ['{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure",'
     '"message":"too old resource version: 20 (25)","reason":"Expired","code":410}}'],
]
FINAL = '{"type":"MODIFIED","object":%s}' % json.dumps(rs("c", "31"))
count = {"list": 0, "watch": 0}

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): sys.stderr.write("fakeapi: " + (a[0] % a[1:]) + "\n")
    def send(self, code, ctype, body):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        if not self.path.startswith("/apis/apps/v1/replicasets"):
            return self.send(404, "application/json", b'{"kind":"Status","code":404,"reason":"NotFound"}')
        if "watch=true" in self.path:
            return self.watch()
        n = count["list"]; count["list"] += 1
        if n >= len(LISTS) or LISTS[n] is None:
            return self.send(503, "text/html", b"<html><body>503 Service Unavailable</body></html>")
        items, rv = LISTS[n]
        body = {"kind": "ReplicaSetList", "apiVersion": "apps/v1", "metadata": {"resourceVersion": rv}, "items": items}
        self.send(200, "application/json", json.dumps(body).encode())
    def watch(self):
        n = count["watch"]; count["watch"] += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        lines = WATCHES[n] if n < len(WATCHES) else [FINAL]
        try:
            for line in lines:
                data = (line + "\n").encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
            if n >= len(WATCHES):
                time.sleep(3600)  # the last watch stays open
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass

srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
print(srv.server_address[1], flush=True)
srv.serve_forever()
PY
spawn fakeapi python3 "$D/fakeapi.py"
wait_until 10 '[ -s "$D/fakeapi.out" ]' "fake apiserver port"
port=$(head -n1 "$D/fakeapi.out")
cat >"$D/kubeconfig" <<YAML
apiVersion: v1
kind: Config
current-context: fake
contexts: [{name: fake, context: {cluster: fake}}]
clusters: [{name: fake, cluster: {server: "http://127.0.0.1:$port"}}]
YAML

start_broker
spawn informer "$KUBUS_BIN/kubus-informer" --bus-dir="$BUS" --kubeconfig="$D/kubeconfig" \
  --resources=replicasets --stats-file="$D/stats.json"
INFORMER_PID=$LAST_PID
start_tail tail --resources=replicasets --cache-dump="$D/dump.txt" --objects
wait_until 60 'kill -0 "$INFORMER_PID" || fail "kubus-informer died"; [ "$(stat_get .seq.replicasets)" -ge 6 ]' \
  "the informer through the script (seq 6: ADDED a b c, DELETED b, MODIFIED a c)"
kill -0 "$INFORMER_PID" || fail "kubus-informer died"
[ "$(stat_get .bad_input.replicasets)" -ge 3 ] || fail "bad input counted: $(stat_get .bad_input.replicasets), want >= 3"
[ "$(stat_get .relists.replicasets)" = 2 ] || fail "relists: $(stat_get .relists.replicasets), want 2"
[ "$(stat_get .expired.replicasets)" -ge 1 ] || fail "the in-stream 410 was not seen"
[ "$(stat_get .objects.replicasets)" = 2 ] || fail "informer holds $(stat_get .objects.replicasets) objects, want 2"
wait_until 10 'NS=fake tail_events tail | grep -q "^MODIFIED c$"' "the subscriber got the last event"
stop_pid "$TAIL_PID"
want=$'replicasets fake/a 21\nreplicasets fake/c 31'
[ "$(grep '^replicasets ' "$D/dump.txt")" = "$want" ] || fail "subscriber cache: $(cat "$D/dump.txt")"
NS=fake tail_events tail | grep -qx "DELETED b" || fail "b's disappearance was not published"
[ "$(jq -r 'select(.object != null) | .object.metadata.uid' "$D/tail.out" | sort -u | tr '\n' ' ')" = "u-a u-b u-c " ] ||
  fail "objects missing from the subscriber's events"
grep -q managedFields "$D/tail.out" && fail "managedFields reached the bus"
pass "HTML, garbage, nameless, unknown-type and 410 input refused and resynchronised; cache exact"
