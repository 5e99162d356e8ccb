#!/usr/bin/env bash
# The executor is SIGKILLed in the middle of 200 creates. After it restarts
# (new epoch) the client re-sends whatever it has no result for, as
# controllers do. Creates carry client-chosen names, so a re-sent create that
# had already happened comes back 200 AlreadyExists (our owner uid), never a
# second object: every action ends with exactly one final result and exactly
# 200 objects exist, none duplicated, none lost. The rate limit is high so
# that many creates are in flight at the kill: some of them happen on the
# server with their answer lost, the case the AlreadyExists rule exists for.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/_executor.sh"

kns_new exec-restart
exec_up --kube-api-qps=1000 --kube-api-burst=1000
epoch1=$(exec_epoch)

in="$EXEC_DIR/creates.jsonl"
out="$EXEC_DIR/results.jsonl"
act_creates restart 200 "$(exec_owner owner)" >"$in"
act --timeout=120s --resend-on-epoch-change <"$in" >"$out" 2>"$EXEC_DIR/act.err" &
act_pid=$!
on_exit "kill $act_pid 2>/dev/null || true"

wait_until 30 "[ \$(wc -l <'$out') -ge 40 ]" "40 results before the kill"
exec_kill
killed_at=$(wc -l <"$out")
info "executor killed after $killed_at results"
((killed_at < 200)) || fail "all 200 were done before the kill: the test proves nothing"
sleep 1
exec_start --kube-api-qps=1000 --kube-api-burst=1000
epoch2=$(exec_epoch)
[ "$epoch1" != "$epoch2" ] || fail "the restarted executor kept epoch $epoch1"

wait "$act_pid" || fail "kubus-act did not get a result for every action: $(tail -n 3 "$EXEC_DIR/act.err")"
info "kubus-act: $(tr '\n' ' ' <"$EXEC_DIR/act.err")"

[ "$(wc -l <"$out")" = 200 ] || fail "expected 200 results, got $(wc -l <"$out")"
[ "$(jq -r .id "$out" | sort -u | wc -l)" = 200 ] || fail "results are not one per action id"
bad=$(jq -c 'select(.status != 201 and (.status != 200 or .reason != "AlreadyExists"))' "$out")
[ -z "$bad" ] || fail "failed creates: $(head -n 3 <<<"$bad")"
info "$(jq -r 'select(.reason == "AlreadyExists") | .id' "$out" | wc -l) re-sent creates had happened (200 AlreadyExists)"
after=$(jq -r --arg e "$epoch2" 'select(.executor_epoch == $e) | .id' "$out" | wc -l)
info "$after results came from the restarted executor"
((after > 0)) || fail "no result came from the restarted executor"

names=$(kubectl get rs -n "$NS" -o json | jq -r '.items[].metadata.name')
[ "$(wc -l <<<"$names")" = 200 ] || fail "expected exactly 200 ReplicaSets, found $(wc -l <<<"$names")"
[ "$(sort -u <<<"$names" | grep -c '^restart-')" = 200 ] || fail "the ReplicaSets are not the 200 asked for"
pass "SIGKILL mid-stream: 200 actions, 200 results, 200 objects"
