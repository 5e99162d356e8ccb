#!/usr/bin/env bash
# Indexed Job features with kubus-job (pods get an unsatisfiable
# nodeSelector so they stay Pending; their ends are written with kubectl as
# a kubelet would):
#   - successPolicy: with a rule succeededIndexes "1", index 1 succeeding
#     while indexes 0, 2, 3 still run sets SuccessCriteriaMet (reason
#     SuccessPolicy, upstream's message "Matched rules at index 0"), the
#     other pods are deleted and not counted as failed, then Complete
#     (reason SuccessPolicy) with succeeded 1 and completedIndexes "1".
. "$(dirname "$0")/lib.sh"
. "$KUBUS_ROOT/tests/e2e/kubus.sh"
. "$(dirname "$0")/_job.sh"
kubus_start --controllers=job || fail "kubus did not start"
kns_new job-indexed

cond() { kjq "[.status.conditions[]? | select(.type == \"$2\") | .status][0] // \"\"" job "$1"; }
creason() { kjq "[.status.conditions[]? | select(.type == \"$2\") | .reason][0] // \"\"" job "$1"; }
cmsg() { kjq "[.status.conditions[]? | select(.type == \"$2\") | .message][0] // \"\"" job "$1"; }
live_pods_of() { kget pods -l "job-name=$1" | jq '[.items[] | select(.metadata.deletionTimestamp == null)] | length'; }
pod_at() { kget pods -l "job-name=$1,batch.kubernetes.io/job-completion-index=$2" | jq -r '[.items[] | select(.metadata.deletionTimestamp == null)][0].metadata.name // ""'; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
end_pod() {   # end_pod NAME PHASE EXIT
  k patch pod "$1" --subresource=status --type=merge -p "$(jq -n --arg phase "$2" --argjson code "$3" \
      --arg t "$(iso "$(date +%s)")" '{status: {phase: $phase, containerStatuses: [{name: "ml",
        image: "example/train", imageID: "", ready: false, restartCount: 0,
        state: {terminated: {exitCode: $code, reason: "Completed", startedAt: $t, finishedAt: $t}}}]}}')" >/dev/null
}

# ---- successPolicy ------------------------------------------------------------------
mkjob sp "  completions: 4
  parallelism: 4
  successPolicy:
    rules:
    - succeededIndexes: '1'"
wait_until 30 '[ "$(live_pods_of sp)" = 4 ]' "4 pods of sp"
p1=$(pod_at sp 1)
[ -n "$p1" ] || fail "no pod for index 1 of sp"
end_pod "$p1" Succeeded 0
wait_until 30 '[ "$(cond sp SuccessCriteriaMet)" = True ]' "sp SuccessCriteriaMet"
[ "$(creason sp SuccessCriteriaMet)" = SuccessPolicy ] || fail "SuccessCriteriaMet reason $(creason sp SuccessCriteriaMet)"
[ "$(cmsg sp SuccessCriteriaMet)" = "Matched rules at index 0" ] || fail "SuccessCriteriaMet message $(cmsg sp SuccessCriteriaMet)"
wait_until 30 '[ "$(cond sp Complete)" = True ]' "sp Complete"
[ "$(creason sp Complete)" = SuccessPolicy ] || fail "Complete reason $(creason sp Complete)"
kget job sp | jq -e '.status.succeeded == 1 and (.status.failed // 0) == 0 and .status.completedIndexes == "1"
    and (.status.active // 0) == 0 and .status.completionTime != null' >/dev/null \
  || fail "sp status: $(kjq -c .status job sp)"
wait_until 30 '[ "$(kget pods -l job-name=sp | jq ".items | length")" = 1 ]' "the 3 other pods of sp deleted"
pass
