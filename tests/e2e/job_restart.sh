#!/usr/bin/env bash
# kubus-job killed (SIGKILL) while job-bug.yaml backs off: the supervisor
# restarts it, the new life rebuilds the pod-failure back-off from the pods
# already counted, so the retries stay spaced (>= 10 s, then >= 20 s after
# the previous failure), exactly 3 pods are made, and the Job still ends
# Failed (BackoffLimitExceeded) with failed 3 (no pod counted twice).
. "$(dirname "$0")/lib.sh"

manifest=$(tutorial_manifest job-bug.yaml)

. "$KUBUS_ROOT/tests/e2e/kubus.sh"
kubus_start --controllers=job,garbagecollector || fail "kubus did not start"
kns_new job-restart

failed() { kjq '.status.failed // 0' job myjob-bug; }
all_pods() { kget pods -l job-name=myjob-bug | jq '.items | length'; }
kill_job_worker() {
  local pid
  pid=$(kubus_worker_pid job)
  [ -n "$pid" ] || fail "no kubus-job worker in /statusz"
  kill -KILL "$pid"
  wait_until 20 '[ -n "$(kubus_worker_pid job)" ] && [ "$(kubus_worker_pid job)" != "'"$pid"'" ]' "kubus-job restarted"
  info "killed kubus-job $pid; restarted as $(kubus_worker_pid job)"
}

k apply -f "$manifest" >/dev/null
wait_until 40 '[ "$(failed)" = 1 ]' "the first failure counted"
kill_job_worker
wait_until 60 '[ "$(failed)" = 2 ]' "the second failure counted"
kill_job_worker
wait_until 90 '[ "$(kjq "[.status.conditions[]? | select(.type == \"Failed\") | .status][0] // \"\"" job myjob-bug)" = True ]' "myjob-bug Failed"
kget job myjob-bug | jq -e '.status.failed == 3 and ([.status.conditions[].reason] | unique == ["BackoffLimitExceeded"])' >/dev/null \
  || fail "myjob-bug status: $(kjq -c .status job myjob-bug)"
[ "$(all_pods)" = 3 ] || fail "myjob-bug made $(all_pods) pods, want exactly 3"
gaps=$(kget pods -l job-name=myjob-bug | jq -r '
  [.items[] | {c: (.metadata.creationTimestamp | fromdateiso8601),
               f: (.status.containerStatuses[0].state.terminated.finishedAt | fromdateiso8601)}]
  | sort_by(.c) | [range(1; length) as $i | .[$i].c - .[$i - 1].f] | map(tostring) | join(" ")')
read -r g1 g2 <<<"$gaps"
[ "${g1:-0}" -ge 10 ] && [ "${g2:-0}" -ge 20 ] || fail "retries not spaced by the back-off across restarts: gaps $gaps"
never_within 5 '[ "$(all_pods)" -gt 3 ] 2>/dev/null' "a fourth pod"
pass "kubus-job killed twice during the back-off: 3 pods, gaps $gaps s, Failed BackoffLimitExceeded, failed 3"
