#!/usr/bin/env bash
# Informer e2e (a): objects created, updated and deleted with kubectl reach a
# bus subscriber (kubus-bus-tail) in order, with gap-free sequence numbers,
# and the subscriber's rebuilt cache equals the API server's state.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/_informer.sh"

kns_new inf-events
start_broker
start_informer --resources=replicasets,namespaces
start_tail tail --resources=replicasets --cache-dump="$D/dump.txt"
wait_until 20 'grep -q "\"resync\":\"end\"" "$D/tail.out"' "bus-tail snapshot"

make_rs alpha beta
kubectl -n "$NS" label rs alpha step=two >/dev/null
kubectl -n "$NS" delete rs beta --wait=true >/dev/null
wait_until 20 'tail_events tail | grep >/dev/null "^DELETED beta$"' "DELETED beta on the bus"

# Order: each object's events in the order the API server applied them.
ev=$(tail_events tail)
info "events seen: $(echo $ev)"
order_ok() { # order_ok A B: line A occurs, and before line B
  local a b
  a=$(grep -n -x "$1" <<<"$ev" | head -n1 | cut -d: -f1)
  b=$(grep -n -x "$2" <<<"$ev" | tail -n1 | cut -d: -f1)
  [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]
}
order_ok "ADDED alpha" "MODIFIED alpha" || fail "alpha: want ADDED before MODIFIED, got: $ev"
order_ok "ADDED beta" "DELETED beta" || fail "beta: want ADDED before DELETED, got: $ev"
[ "$(grep -c -x "ADDED alpha" <<<"$ev")" = 1 ] || fail "alpha ADDED more than once: $ev"

# Sequences of the live replicasets stream: consecutive, one epoch.
jq -r 'select(.type != null and .type != "SNAPSHOT" and .resource == "replicasets") | .seq' "$D/tail.out" >"$D/seqs"
awk 'NR > 1 && $1 != prev + 1 { print "gap after " prev ": " $1; bad = 1 } { prev = $1 } END { exit bad }' "$D/seqs" ||
  fail "sequence gap in the live stream"
[ "$(jq -r 'select(.epoch != null) | .epoch' "$D/tail.out" | sort -u | wc -l)" = 1 ] || fail "more than one epoch"

# The label change is in the object the subscriber got (jq on the API side).
want_rv=$(kubectl -n "$NS" get rs alpha -o jsonpath='{.metadata.resourceVersion}')
alpha_rv() { jq -r --arg ns "$NS" 'select(.ns == $ns and .name == "alpha") | .rv' "$D/tail.out" | tail -n1; }
wait_until 10 '[ "$(alpha_rv)" = "$want_rv" ]' "the subscriber has alpha at resourceVersion $want_rv"
stop_pid "$TAIL_PID"
diff <(kube_rs_state) <(dump_rs_state "$D/dump.txt") >&2 || fail "subscriber cache differs from the API server"
[ "$(jq -r '[.bad_input[]] | add' "$D/stats.json")" = 0 ] || fail "informer counted bad input"
pass "create/update/delete reached the subscriber in order; its cache matches the API server"
