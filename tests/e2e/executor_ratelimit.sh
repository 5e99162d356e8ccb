#!/usr/bin/env bash
# --kube-api-qps=5 --kube-api-burst=5: the bucket starts full, so 50 actions
# take 5 at once and then one per 200 ms, about 9 s. This asserts the client
# side rate limit (between 8 and 12 s), not speed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/_executor.sh"

kns_new exec-qps
exec_up --kube-api-qps=5 --kube-api-burst=5
sleep 1.5 # whatever start-up took, the bucket is full again

in="$EXEC_DIR/creates.jsonl"
act_creates qps 50 "$(exec_owner owner)" >"$in"
start=$(date +%s%N)
act --timeout=60s <"$in" >"$EXEC_DIR/results.jsonl" || fail "not every action got a result"
ms=$((($(date +%s%N) - start) / 1000000))
info "50 creates took ${ms} ms"
[ "$(jq -s 'map(select(.status == 201)) | length' "$EXEC_DIR/results.jsonl")" = 50 ] ||
  fail "not 50 successful creates: $(jq -sc 'group_by(.status) | map({status: .[0].status, n: length})' "$EXEC_DIR/results.jsonl")"
((ms >= 8000 && ms <= 12000)) || fail "50 actions at qps 5 / burst 5 took ${ms} ms, expected 8000..12000"
[ "$(kubectl get rs -n "$NS" -o name | wc -l)" = 50 ] || fail "not 50 ReplicaSets"
pass "50 actions at --kube-api-qps=5 --kube-api-burst=5 took ${ms} ms"
