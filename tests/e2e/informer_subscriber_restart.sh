#!/usr/bin/env bash
# Informer e2e (b): a subscriber killed and restarted rebuilds the same cache
# from the informer's snapshot, and that costs the API server nothing: the
# informer's request counters (--stats-file) do not move.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/_informer.sh"

kns_new inf-subrestart
start_broker
start_informer --resources=replicasets,pods
start_tail tail1 --resources=replicasets,pods --cache-dump="$D/dump1.txt"
wait_until 20 '[ "$(grep -c "\"resync\":\"end\"" "$D/tail1.out")" = 2 ]' "tail1 snapshot"
make_rs r1 r2 r3 r4 r5
kubectl -n "$NS" label rs r2 touched=yes >/dev/null
kubectl -n "$NS" delete rs r5 --wait=true >/dev/null
want_rv=$(kubectl -n "$NS" get rs r2 -o jsonpath='{.metadata.resourceVersion}')
wait_until 20 'tail_events tail1 | grep >/dev/null "^DELETED r5$"' "tail1 saw r5 deleted"
r2_rv() { jq -r --arg ns "$NS" 'select(.ns == $ns and .name == "r2") | .rv' "$D/tail1.out" | tail -n1; }
wait_until 20 '[ "$(r2_rv)" = "$want_rv" ]' "tail1 saw r2's label"

# SIGKILL: a crashed subscriber, no goodbye. Then let the informer settle.
kill -KILL "$TAIL_PID"
sleep 1
before=$(api_requests)
snaps_before=$(stat_get .snapshots)

start_tail tail2 --resources=replicasets,pods --cache-dump="$D/dump2.txt" --exit-after-sync
wait_until 20 '! kill -0 "$TAIL_PID" 2>/dev/null' "tail2 synced and exited"
wait "$TAIL_PID" || fail "tail2 exited with an error"
[ -s "$D/dump2.txt" ] || fail "tail2 wrote no cache dump"

diff <(kube_rs_state) <(dump_rs_state "$D/dump2.txt") >&2 || fail "rebuilt cache differs from the API server"
grep -q "^replicasets $NS/r5 " "$D/dump2.txt" && fail "deleted r5 is in the rebuilt cache"
sleep 1.5 # one more stats write
after=$(api_requests)
[ "$after" = "$before" ] || fail "the restarted subscriber caused API requests: $before -> $after"
[ "$(stat_get .snapshots)" -gt "$snaps_before" ] || fail "no snapshot was served"
pass "restarted subscriber rebuilt the cache from a snapshot with zero API requests ($before)"
