#!/usr/bin/env bash
# Informer e2e (d): relist after 410 Gone publishes the difference against
# the cache, in particular DELETED for objects that vanished meanwhile.
#
# How the 410 is forced: --test-stale-rv-after=T makes the informer, T s after
# start, drop its replicasets watch (unread) and re-watch from
# resourceVersion "1", which is too old: 410, relist. (A young apiserver that
# still has that history replays it instead; the informer then refuses the
# replay and relists just the same.) While the informer is SIGSTOPped we
# delete, change and create ReplicaSets; it is continued after T, so the hook
# runs before it reads the watch data that queued up while it was stopped:
# only the relist diff can tell the subscriber about those changes.
. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/_informer.sh"

T=15
kns_new inf-410
start_broker
t0=$(date +%s)
start_informer --resources=replicasets --test-stale-rv-after=$T --test-stale-rv-resource=replicasets
start_tail tail --resources=replicasets --cache-dump="$D/dump.txt"
wait_until 20 'grep -q "\"resync\":\"end\"" "$D/tail.out"' "bus-tail snapshot"
make_rs a1 a2 a3 a4
wait_until 20 '[ "$(tail_events tail | grep -c "^ADDED ")" = 4 ]' "the subscriber saw the four ReplicaSets"
(( $(date +%s) - t0 < T - 5 )) || fail "set-up took too long for the ${T} s hook (raise T)"

kill -STOP "$INFORMER_PID"
kubectl -n "$NS" delete rs a1 a2 --wait=true >/dev/null
kubectl -n "$NS" label rs a3 while=stopped >/dev/null
make_rs a5
relists_before=$(stat_get .relists.replicasets)
while (( $(date +%s) - t0 <= T + 1 )); do sleep 0.2; done
kill -CONT "$INFORMER_PID"

wait_until 30 '[ "$(stat_get .relists.replicasets)" -gt "$relists_before" ]' "a relist after the stale watch"
wait_until 20 'tail_events tail | grep >/dev/null "^DELETED a2$" && tail_events tail | grep >/dev/null "^DELETED a1$"'   "DELETED a1 and a2 on the bus"
wait_until 20 'tail_events tail | grep >/dev/null "^ADDED a5$"' "ADDED a5 on the bus"
wait_until 20 'tail_events tail | grep >/dev/null "^MODIFIED a3$"' "MODIFIED a3 (labelled while stopped) on the bus"
[ "$(stat_get .relist_deleted.replicasets)" -ge 2 ] || fail "the relist diff published fewer than 2 deletions"
grep -q "relisting" "$D/informer.log" || fail "informer did not relist"

stop_pid "$TAIL_PID"
diff <(kube_rs_state) <(dump_rs_state "$D/dump.txt") >&2 || fail "subscriber cache differs from the API server"
jq -r 'select(.type != null and .type != "SNAPSHOT") | .seq' "$D/tail.out" |
  awk 'NR > 1 && $1 != prev + 1 { bad = 1 } { prev = $1 } END { exit bad }' || fail "sequence gap on the bus"
pass "410 -> relist -> DELETED for vanished objects (relist_deleted=$(stat_get .relist_deleted.replicasets))"
