#!/usr/bin/env bash
# Section 5.1 and 5.2 of the tutorial (examples/README.md) against kubus-job:
#   job.yaml -> one pod myjob-xxxxx (generateName myjob-, controller
#   ownerReference, the Job's labels, the job-tracking finalizer while it
#   runs); it completes -> SuccessCriteriaMet then Complete, succeeded 1,
#   completionTime, finalizer removed, `kubectl get job` Complete 1/1;
#   events SuccessfulCreate "Created pod: NAME" and Completed "Job completed".
#   job-bug.yaml -> exactly 3 pods, each failing, each started at least the
#   pod-failure back-off (10 s, then 20 s) after the previous one finished;
#   then FailureTarget and Failed (BackoffLimitExceeded), failed 3, a
#   BackoffLimitExceeded Warning event, and no fourth pod afterwards.
# Both Jobs run at once (the second takes ~45 s).
. "$(dirname "$0")/lib.sh"

job_manifest=$(tutorial_manifest job.yaml)
bug_manifest=$(tutorial_manifest job-bug.yaml)

. "$KUBUS_ROOT/tests/e2e/kubus.sh"
kubus_start --controllers=job,garbagecollector || fail "kubus did not start"
kns_new job-tutorial

cond() {   # cond JOB TYPE -> status of that condition ("" if absent)
  kjq "[.status.conditions[]? | select(.type == \"$2\") | .status][0] // \"\"" job "$1"
}
all_pods() { kget pods -l "job-name=$1" | jq '.items | length'; }

k apply -f "$job_manifest" >/dev/null
k apply -f "$bug_manifest" >/dev/null

# ---- 5.1: the pod, while it runs ------------------------------------------------
uid=$(kjq .metadata.uid job myjob)
wait_until 30 '[ "$(all_pods myjob)" -ge 1 ]' "a pod for myjob"
kget pods -l job-name=myjob | jq -e --arg uid "$uid" '
  .items | length == 1 and all(.[];
    (.metadata.name | test("^myjob-[bcdfghjklmnpqrstvwxz2456789]{5}$")) and
    .metadata.generateName == "myjob-" and
    .metadata.labels["batch.kubernetes.io/controller-uid"] == $uid and
    .metadata.labels["batch.kubernetes.io/job-name"] == "myjob" and
    .metadata.labels["controller-uid"] == $uid and .metadata.labels["job-name"] == "myjob" and
    ([.metadata.ownerReferences[] | select(.controller == true and .kind == "Job" and .apiVersion == "batch/v1"
        and .name == "myjob" and .uid == $uid and .blockOwnerDeletion == true)] | length == 1))' >/dev/null \
  || fail "the pod is not myjob-xxxxx with the Job's labels and controller ownerReference: $(kget pods -l job-name=myjob | jq -c '.items[].metadata')"
# the finalizer is there from the create on (audit: the create body)
pod=$(kjq '.items[0].metadata.name' pods -l job-name=myjob)
cat "$KUBUS_CLUSTER_DIR"/logs/audit*.log | jq -e --arg ns "$NS" --arg n "$pod" '
  select(.verb == "create" and .objectRef.resource == "pods" and .objectRef.namespace == $ns
         and (.requestObject.metadata.name // "") == $n)
  | .requestObject.metadata.finalizers | index("batch.kubernetes.io/job-tracking") != null' >/dev/null 2>&1 \
  || kjq '.metadata.finalizers // [] | index("batch.kubernetes.io/job-tracking") != null' pod "$pod" | grep -x >/dev/null true \
  || fail "pod $pod was not created with the batch.kubernetes.io/job-tracking finalizer"
wait_until 20 '[ "$(kjq ".status.active // 0" job myjob)" = 1 ] || [ "$(cond myjob Complete)" = True ]' "status.active 1"
pass "5.1: pod $pod named, labelled, owned, with the tracking finalizer; active 1"

# ---- 5.1: completion ----------------------------------------------------------------
wait_until 40 '[ "$(cond myjob Complete)" = True ]' "myjob Complete"
kget job myjob | jq -e '
  .status.succeeded == 1 and (.status.failed // 0) == 0 and (.status.active // 0) == 0 and
  .status.ready == 0 and .status.terminating == 0 and
  .status.completionTime != null and .status.startTime != null and
  (.status.uncountedTerminatedPods.succeeded // [] | length) == 0 and
  ([.status.conditions[].type] == ["SuccessCriteriaMet", "Complete"]) and
  all(.status.conditions[]; .status == "True" and .reason == "CompletionsReached"
      and .message == "Reached expected number of succeeded pods")' >/dev/null \
  || fail "myjob status is not upstream's: $(kjq -c .status job myjob)"
k get job myjob --no-headers | awk '$2 == "Complete" && $3 == "1/1" {ok=1} END {exit !ok}' \
  || fail "kubectl get job does not show STATUS Complete, COMPLETIONS 1/1: $(k get job myjob --no-headers)"
[ "$(all_pods myjob)" = 1 ] || fail "myjob made $(all_pods myjob) pods, want 1"
wait_until 10 '[ "$(kjq ".metadata.finalizers // [] | length" pod "$pod")" = 0 ]' "the finalizer of $pod removed"
[ "$(pod_phase "$NS" "$pod")" = Succeeded ] || fail "pod $pod is $(pod_phase "$NS" "$pod"), want Succeeded"
ev() {   # ev JOB REASON -> "type|message" lines
  kget events --field-selector "involvedObject.kind=Job,involvedObject.name=$1,reason=$2" |
    jq -r '.items[] | "\(.type)|\(.message)|\(.source.component)"'
}
wait_until 10 '[ -n "$(ev myjob Completed)" ]' "a Completed event"
[ "$(ev myjob Completed)" = "Normal|Job completed|job-controller" ] || fail "Completed event: $(ev myjob Completed)"
[ "$(ev myjob SuccessfulCreate)" = "Normal|Created pod: $pod|job-controller" ] || fail "SuccessfulCreate event: $(ev myjob SuccessfulCreate)"
pass "5.1: myjob Complete 1/1 (SuccessCriteriaMet then Complete), finalizer removed, events SuccessfulCreate and Completed"

# ---- 5.2: three pods, spaced by the back-off, then Failed ------------------------------
wait_until 100 '[ "$(cond myjob-bug Failed)" = True ]' "myjob-bug Failed"
kget job myjob-bug | jq -e '
  .status.failed == 3 and (.status.succeeded // 0) == 0 and (.status.active // 0) == 0 and
  .status.terminating == 0 and .status.completionTime == null and
  ([.status.conditions[].type] == ["FailureTarget", "Failed"]) and
  all(.status.conditions[]; .status == "True" and .reason == "BackoffLimitExceeded"
      and .message == "Job has reached the specified backoff limit")' >/dev/null \
  || fail "myjob-bug status is not upstream's: $(kjq -c .status job myjob-bug)"
[ "$(all_pods myjob-bug)" = 3 ] || fail "myjob-bug made $(all_pods myjob-bug) pods, want exactly 3"
[ "$(kget pods -l job-name=myjob-bug | jq '[.items[] | select(.status.phase == "Failed")] | length')" = 3 ] \
  || fail "not every myjob-bug pod failed"
# each pod after the first starts >= the back-off after the previous one finished
gaps=$(kget pods -l job-name=myjob-bug | jq -r '
  [.items[] | {c: (.metadata.creationTimestamp | fromdateiso8601),
               f: (.status.containerStatuses[0].state.terminated.finishedAt | fromdateiso8601)}]
  | sort_by(.c) | [range(1; length) as $i | .[$i].c - .[$i - 1].f] | map(tostring) | join(" ")')
read -r g1 g2 <<<"$gaps"
[ "${g1:-0}" -ge 10 ] && [ "${g2:-0}" -ge 20 ] || fail "retries not spaced by the back-off (10 s, 20 s): gaps $gaps"
k get job myjob-bug --no-headers | awk '$2 == "Failed" && $3 == "0/1" {ok=1} END {exit !ok}' \
  || fail "kubectl get job does not show STATUS Failed, COMPLETIONS 0/1: $(k get job myjob-bug --no-headers)"
wait_until 10 '[ -n "$(ev myjob-bug BackoffLimitExceeded)" ]' "a BackoffLimitExceeded event"
[ "$(ev myjob-bug BackoffLimitExceeded)" = "Warning|Job has reached the specified backoff limit|job-controller" ] \
  || fail "BackoffLimitExceeded event: $(ev myjob-bug BackoffLimitExceeded)"
[ "$(ev myjob-bug SuccessfulCreate | wc -l)" = 3 ] || fail "want 3 SuccessfulCreate events: $(ev myjob-bug SuccessfulCreate)"
pass "5.2: exactly 3 pods (gaps after failures: $gaps s), then FailureTarget and Failed BackoffLimitExceeded"
never_within 15 '[ "$(all_pods myjob-bug)" -gt 3 ] 2>/dev/null' "a fourth pod for myjob-bug"
[ "$(kjq '[.items[].metadata.finalizers // [] | length] | add // 0' pods -l job-name=myjob-bug)" = 0 ] \
  || fail "failed pods still carry the tracking finalizer"
pass "5.2: no fourth pod within 15 s of Failed; no finalizer left"
