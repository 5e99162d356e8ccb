#!/usr/bin/env bash
# Informer e2e: bad input from the API server. A scripted fake apiserver
# (plain HTTP, python3) answers the informer with an HTML error page, a
# garbage watch line, a nameless object, an unknown event type and an
# in-stream 410. The informer must count and refuse each, resynchronise
# (re-watch, relist after three bad streams, relist on 410), never crash,
# and end with exactly the objects the last list + watch describe.
# (Needs no cluster; lives here because it exercises the informer end to end.)
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/_informer.sh"

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
wait_until 10 'NS=fake tail_events tail | grep >/dev/null "^MODIFIED c$"' "the subscriber got the last event"
stop_pid "$TAIL_PID"
want=$'replicasets fake/a 21\nreplicasets fake/c 31'
[ "$(grep '^replicasets ' "$D/dump.txt")" = "$want" ] || fail "subscriber cache: $(cat "$D/dump.txt")"
NS=fake tail_events tail | grep -x >/dev/null "DELETED b" || fail "b's disappearance was not published"
[ "$(jq -r 'select(.object != null) | .object.metadata.uid' "$D/tail.out" | sort -u | tr '\n' ' ')" = "u-a u-b u-c " ] ||
  fail "objects missing from the subscriber's events"
grep -q managedFields "$D/tail.out" && fail "managedFields reached the bus"
pass "HTML, garbage, nameless, unknown-type and 410 input refused and resynchronised; cache exact"
