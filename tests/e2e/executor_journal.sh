#!/usr/bin/env bash
# The executor's journal survives a SIGKILL. A controller (kubus-act) sends
# 30 creates and is killed itself after the first results: the executor goes
# on applying them, but their results reach nobody. The executor is then
# SIGKILLed with some still pending. The restarted executor (new epoch)
# must
#   - report the creates applied before its death as recent, to an
#     InflightQuery from the same controller id (a restarted controller
#     expects them instead of creating again),
#   - apply what was pending at the death on its own (nobody re-sends it),
#     so that all 30 exist, each once,
#   - refuse a second executor on the same journal.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/_executor.sh"

kns_new exec-journal
exec_up --kube-api-qps=4 --kube-api-burst=1
epoch1=$(exec_epoch)
[ -f "$EXEC_BUS/executor.journal" ] || fail "no journal in the bus dir $EXEC_BUS"
[ "$(stat -c %a "$EXEC_BUS/executor.journal")" = 600 ] || fail "the journal is not mode 0600"

# A second executor on this bus must refuse to start.
if "$KUBUS_BIN/kubus-executor" --bus-dir="$EXEC_BUS" --kubeconfig="$KUBECONFIG" >"$EXEC_DIR/second.log" 2>&1 &
   second=$!; wait_until 10 "! kill -0 $second 2>/dev/null" "a second executor on the same journal to exit"; then
  wait "$second" && fail "a second executor on the same journal exited 0"
  grep -q "another kubus-executor holds the journal" "$EXEC_DIR/second.log" ||
    fail "the second executor did not say why: $(tail -n 3 "$EXEC_DIR/second.log")"
fi

owner=$(exec_owner owner)
in="$EXEC_DIR/creates.jsonl"
out="$EXEC_DIR/results.jsonl"
act_creates jrnl 30 "$owner" >"$in"
act --timeout=120s <"$in" >"$out" 2>"$EXEC_DIR/act.err" &
act_pid=$!
on_exit "kill -KILL $act_pid 2>/dev/null || true"
wait_until 30 "[ \$(wc -l <'$out') -ge 2 ]" "the first results"
kill -KILL "$act_pid"
wait "$act_pid" 2>/dev/null || true
delivered=$(wc -l <"$out")
info "kubus-act killed after $delivered results; the executor goes on applying the rest"

rs_count() { kubectl get rs -n "$NS" -o name | grep -c '^replicaset.apps/jrnl-' || true; }
wait_until 30 "[ \$(rs_count) -ge $((delivered + 8)) ]" "8 more creates applied with nobody to hear of them"
exec_kill
applied=$(rs_count)
info "executor killed with $applied of 30 created ($delivered results delivered)"
((applied < 30)) || fail "all 30 were created before the kill: nothing was pending"

exec_start --kube-api-qps=4 --kube-api-burst=1
epoch2=$(exec_epoch)
[ "$epoch1" != "$epoch2" ] || fail "the restarted executor kept epoch $epoch1"
grep 'journal .* replayed' "$EXEC_DIR/executor.log" | tail -n 1 >&2

rep="$EXEC_DIR/report.json"
act --query-inflight --timeout=10s >"$rep" || fail "no InflightReport"
[ "$(jq -r .executor_epoch "$rep")" = "$epoch2" ] || fail "the report is not from the restarted executor"
recent=$(jq -r '.recent[] | select(.status == 201) | .name' "$rep" | sort)
pending=$(jq -r '.pending[].name' "$rep" | sort)
info "report: $(wc -w <<<"$recent") recent creates, $(wc -w <<<"$pending") pending"
# Every create applied before the kill whose result was never delivered is
# known to the new executor: recent (done) or pending (being re-applied).
undelivered=$(comm -23 <(kubectl get rs -n "$NS" -o json | jq -r '.items[].metadata.name' | grep '^jrnl-' | sort) \
  <(jq -r .name "$out" | sort))
known=$(sort -u <(echo "$recent") <(echo "$pending"))
missing=$(comm -23 <(echo "$undelivered") <(echo "$known") | grep . || true)
[ -z "$missing" ] || fail "applied creates the restarted executor does not report: $missing"
(($(wc -w <<<"$recent") >= applied - delivered - 1)) ||
  fail "only $(wc -w <<<"$recent") recent creates reported; $((applied - delivered)) were applied undelivered"

# Nobody re-sends the pending ones: the executor applies them itself.
wait_until 60 "[ \$(rs_count) = 30 ]" "the pending creates applied by the restarted executor"
never_within 3 "[ \$(rs_count) != 30 ]" "the count moved past 30"
act --query-inflight --timeout=10s >"$rep" || fail "no second InflightReport"
[ "$(jq '.pending | length' "$rep")" = 0 ] || fail "still pending: $(jq -c .pending "$rep")"
n=$(jq '[.recent[] | select(.status == 201 or (.status == 200 and .reason == "AlreadyExists"))] | length' "$rep")
((n >= 30 - delivered)) || fail "only $n recent creates after the replay; expected at least $((30 - delivered))"
pass "SIGKILL with results undelivered: the restarted executor reported $(wc -w <<<"$recent") applied creates as recent, finished the $((30 - applied)) pending, 30 objects"
