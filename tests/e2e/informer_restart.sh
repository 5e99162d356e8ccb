#!/usr/bin/env bash
# Informer e2e (c): the informer killed and restarted (new epoch) makes a
# running subscriber re-snapshot, and it converges to the API server's
# state, including what changed while no informer was running.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/_informer.sh"

kns_new inf-restart
start_broker
start_informer --resources=replicasets
epoch1=$(stat_get .epoch)
start_tail tail --resources=replicasets --cache-dump="$D/dump.txt"
wait_until 20 'grep -q "\"resync\":\"end\"" "$D/tail.out"' "bus-tail snapshot"
make_rs keep gone changed
wait_until 20 '[ "$(tail_events tail | grep -c "^ADDED ")" = 3 ]' "the subscriber saw the three ReplicaSets"

kill -KILL "$INFORMER_PID"
wait "$INFORMER_PID" 2>/dev/null || true
# Changes no informer sees as they happen.
kubectl -n "$NS" delete rs gone --wait=true >/dev/null
kubectl -n "$NS" label rs changed while=down >/dev/null
make_rs born

start_informer --resources=replicasets
epoch2=$(stat_get .epoch)
[ "$epoch2" != "$epoch1" ] || fail "the restarted informer kept epoch $epoch1"
resynced() { jq -r --arg e "$epoch2" 'select(.resync == "end" and .epoch == $e) | .resource' "$D/tail.out" | grep -x >/dev/null replicasets; }
wait_until 30 resynced "the subscriber re-snapshotted in the new epoch"

stop_pid "$TAIL_PID"
diff <(kube_rs_state) <(dump_rs_state "$D/dump.txt") >&2 || fail "subscriber cache differs from the API server"
grep -q "epoch_changes=1" "$D/tail.log" || fail "bus-tail did not count exactly one epoch change"
pass "informer restart: subscriber re-snapshotted (epoch $epoch1 -> $epoch2) and converged"
