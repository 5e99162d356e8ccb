#!/usr/bin/env bash
# backoffLimitPerIndex / maxFailedIndexes of Indexed Jobs with kubus-job
# (pods get an unsatisfiable nodeSelector so they stay Pending; their ends
# are written with kubectl as a kubelet would, as in job_features.sh):
#   - every first pod carries batch.kubernetes.io/job-index-failure-count
#     "0", and status.failedIndexes is "" (upstream writes it empty, not
#     absent, once the Job has a per-index limit);
#   - backoffLimitPerIndex 1: a failed index is retried after its own
#     back-off (10 s from the failure, not at once) by a pod carrying
#     failure count "1"; its second failure puts it in failedIndexes and it
#     gets no third pod; once the other indexes succeeded the Job fails:
#     FailureTarget then Failed, reason FailedIndexes, message "Job has
#     failed indexes", the Warning event, completedIndexes "0,1" (upstream
#     writes a run of two as two), failed 2;
#   - maxFailedIndexes 1 (backoffLimitPerIndex 0): one failed index leaves
#     the Job running, a second fails it with MaxFailedIndexesExceeded
#     (FailureTarget, then Failed once its running pods are deleted and
#     counted as failed);
#   - podFailurePolicy: a FailIndex rule (exit code 42) fails its index at
#     once with limit 3 left, no replacement; an Ignore rule
#     (DisruptionTarget) replaces the pod with failure count "0" and
#     ignored-failure count "1".
. "$(dirname "$0")/lib.sh"
. "$KUBUS_ROOT/tests/e2e/kubus.sh"
. "$(dirname "$0")/_job.sh"
kubus_start --controllers=job || fail "kubus did not start"
kns_new job-bpi

FC=batch.kubernetes.io/job-index-failure-count
IFC=batch.kubernetes.io/job-index-ignored-failure-count
IX=batch.kubernetes.io/job-completion-index
cond() { kjq "[.status.conditions[]? | select(.type == \"$2\") | .status][0] // \"\"" job "$1"; }
failed_ix() { kjq '.status.failedIndexes // "(absent)"' job "$1"; }
# pods of job $1 at index $2: all of them / the one still to run (not ended, not deleted)
pods_at() { kget pods -l "job-name=$1,$IX=$2" | jq '.items | length'; }
live_at() {
  kget pods -l "job-name=$1,$IX=$2" | jq -r '[.items[] | select(.metadata.deletionTimestamp == null
    and .status.phase != "Succeeded" and .status.phase != "Failed")][0].metadata.name // ""'
}
ann() { kjq ".metadata.annotations[\"$2\"] // \"(absent)\"" pod "$1"; }
ev() { kget events --field-selector "involvedObject.kind=Job,involvedObject.name=$1,reason=$2" | jq -r '.items[] | "\(.type)|\(.message)"'; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
# end_pod NAME PHASE EXIT [CONDITION]: container ml ended with EXIT now;
# CONDITION=True among the pod's conditions if given (e.g. DisruptionTarget)
end_pod() {
  k patch pod "$1" --subresource=status --type=merge -p "$(jq -n --arg phase "$2" --argjson code "$3" \
      --arg t "$(iso "$(date +%s)")" --arg cond "${4:-}" '{status: ({phase: $phase,
        containerStatuses: [{name: "ml", image: "example/train", imageID: "", ready: false, restartCount: 0,
          state: {terminated: {exitCode: $code, reason: (if $code == 0 then "Completed" else "Error" end),
                               startedAt: $t, finishedAt: $t}}}]}
      + (if $cond == "" then {} else {conditions: [{type: $cond, status: "True", reason: "PreemptionByScheduler",
          lastTransitionTime: $t}]} end))}')" >/dev/null
}
# LIVE= the pod to run at index $2 of job $1, once there is one
wait_live() {
  wait_until 30 "[ -n \"\$(live_at $1 $2)\" ]" "a pod to run at index $2 of $1"
  LIVE=$(live_at "$1" "$2")
}

mkjob fi "  completions: 3
  parallelism: 3
  backoffLimitPerIndex: 1"
mkjob mfi "  completions: 4
  parallelism: 4
  backoffLimitPerIndex: 0
  maxFailedIndexes: 1"
mkjob pfp "  completions: 2
  parallelism: 2
  backoffLimitPerIndex: 3
  podFailurePolicy:
    rules:
    - action: FailIndex
      onExitCodes: {containerName: ml, operator: In, values: [42]}
    - action: Ignore
      onPodConditions: [{type: DisruptionTarget}]"

# ---- the first pods ------------------------------------------------------------------
wait_until 30 '[ "$(kget pods -l job-name=fi | jq ".items | length")" = 3 ]' "3 pods of fi"
kget pods -l job-name=fi | jq -e --arg fc "$FC" 'all(.items[]; .metadata.annotations[$fc] == "0")' >/dev/null \
  || fail "fi's first pods do not carry $FC \"0\": $(kget pods -l job-name=fi | jq -c --arg fc "$FC" '[.items[].metadata.annotations[$fc]]')"
wait_until 15 '[ "$(failed_ix fi)" = "" ]' "fi's status.failedIndexes \"\""
pass "first pods carry $FC \"0\"; status.failedIndexes is \"\""

# ---- backoffLimitPerIndex 1: FailedIndexes --------------------------------------------
wait_live fi 0
end_pod "$LIVE" Succeeded 0
wait_live fi 1
end_pod "$LIVE" Succeeded 0
wait_live fi 2
first=$LIVE
end_pod "$first" Failed 1
broke_at=$(date +%s)
# the index's own back-off: 10 s from the failure (kubus before this feature
# made the replacement after the Job-wide back-off, with no count)
never_within 7 '[ -n "$(live_at fi 2)" ]' "a replacement for index 2 of fi within its 10 s back-off"
wait_live fi 2
second=$LIVE
[ $(($(date +%s) - broke_at)) -ge 9 ] || fail "fi's index 2 was replaced $(($(date +%s) - broke_at)) s after its failure"
[ "$(ann "$second" "$FC")" = 1 ] || fail "the replacement $second carries $FC $(ann "$second" "$FC"), want 1"
[ "$(ann "$second" "$IFC")" = "(absent)" ] || fail "the replacement $second carries $IFC $(ann "$second" "$IFC")"
wait_until 15 '[ "$(kjq ".status.failed // 0" job fi)" = 1 ]' "fi's first failure counted once the replacement exists"
[ "$(failed_ix fi)" = "" ] || fail "index 2 of fi failed after one failure with backoffLimitPerIndex 1: $(failed_ix fi)"
[ "$(cond fi Failed)" = "" ] || fail "fi failed after one failure: $(kjq -c .status job fi)"
pass "a failed index is replaced after its 10 s back-off by a pod with $FC \"1\""

end_pod "$second" Failed 1
wait_until 30 '[ "$(failed_ix fi)" = 2 ]' "fi's status.failedIndexes \"2\""
wait_until 30 '[ "$(cond fi Failed)" = True ]' "fi Failed"
kget job fi | jq -e '([.status.conditions[].type] == ["FailureTarget", "Failed"]) and
  all(.status.conditions[]; .reason == "FailedIndexes" and .message == "Job has failed indexes")
  and .status.failed == 2 and .status.succeeded == 2 and .status.completedIndexes == "0,1"
  and .status.failedIndexes == "2" and (.status.active // 0) == 0' >/dev/null \
  || fail "fi status: $(kjq -c .status job fi)"
[ "$(pods_at fi 2)" = 2 ] || fail "index 2 of fi had $(pods_at fi 2) pods, want 2 (no replacement once failed)"
wait_until 10 '[ "$(ev fi FailedIndexes)" = "Warning|Job has failed indexes" ]' "the FailedIndexes Warning event"
pass "backoffLimitPerIndex 1: failedIndexes \"2\", FailureTarget then Failed (FailedIndexes), no third pod"

# ---- maxFailedIndexes 1 ----------------------------------------------------------------
wait_until 30 '[ "$(kget pods -l job-name=mfi | jq ".items | length")" = 4 ]' "4 pods of mfi"
wait_live mfi 0
end_pod "$LIVE" Failed 1
wait_until 30 '[ "$(failed_ix mfi)" = 0 ]' "mfi's status.failedIndexes \"0\""
[ "$(cond mfi FailureTarget)" = "" ] || fail "mfi failing with one failed index, maxFailedIndexes is 1: $(kjq -c .status job mfi)"
wait_live mfi 1
end_pod "$LIVE" Failed 1
wait_until 30 '[ "$(cond mfi Failed)" = True ]' "mfi Failed"
kget job mfi | jq -e '([.status.conditions[].type] == ["FailureTarget", "Failed"]) and
  all(.status.conditions[]; .reason == "MaxFailedIndexesExceeded"
      and .message == "Job has exceeded the specified maximal number of failed indexes")
  and .status.failedIndexes == "0,1" and .status.failed == 4 and (.status.active // 0) == 0' >/dev/null \
  || fail "mfi status: $(kjq -c .status job mfi)"
[ "$(pods_at mfi 0)" = 1 ] && [ "$(pods_at mfi 1)" = 1 ] || fail "a failed index of mfi (backoffLimitPerIndex 0) was replaced"
wait_until 30 '[ -z "$(live_at mfi 2)" ] && [ -z "$(live_at mfi 3)" ]' "mfi's running pods deleted"
pass "maxFailedIndexes 1: a second failed index fails the Job (MaxFailedIndexesExceeded), running pods deleted"

# ---- podFailurePolicy FailIndex / Ignore ---------------------------------------------------
wait_live pfp 0
end_pod "$LIVE" Failed 42
wait_until 20 '[ "$(failed_ix pfp)" = 0 ]' "pfp's index 0 failed at once by its FailIndex rule"
wait_live pfp 1
disrupted=$LIVE
end_pod "$disrupted" Failed 137 DisruptionTarget
wait_until 30 '[ -n "$(live_at pfp 1)" ]' "a replacement for pfp's disrupted pod"
repl=$(live_at pfp 1)
[ "$(ann "$repl" "$FC")" = 0 ] && [ "$(ann "$repl" "$IFC")" = 1 ] \
  || fail "the replacement of an ignored failure carries $FC $(ann "$repl" "$FC") and $IFC $(ann "$repl" "$IFC"), want 0 and 1"
[ "$(pods_at pfp 0)" = 1 ] || fail "pfp's index 0, failed by FailIndex, was replaced"
[ "$(failed_ix pfp)" = 0 ] || fail "pfp failedIndexes $(failed_ix pfp) after an ignored failure"
end_pod "$repl" Succeeded 0
wait_until 30 '[ "$(cond pfp Failed)" = True ]' "pfp Failed"
kget job pfp | jq -e '([.status.conditions[] | select(.type == "Failed")][0].reason == "FailedIndexes")
  and .status.failed == 1 and .status.succeeded == 1 and .status.completedIndexes == "1"' >/dev/null \
  || fail "pfp status: $(kjq -c .status job pfp)"
pass "podFailurePolicy: FailIndex fails the index at once; Ignore replaces with $IFC \"1\"; then Failed (FailedIndexes)"
