#!/usr/bin/env bash
# Job features beyond the tutorial, with kubus-job, kubus-ttlafterfinished
# and the garbage collector (the local cluster's kwok completes every Job
# pod ~3 s after it runs; a pod with an unsatisfiable nodeSelector stays
# Pending and so stays active):
#   - completions 3, parallelism 2: never more than 2 pods at once, 3 pods
#     in all, Complete 3/3;
#   - suspend / resume: suspending deletes the active pods (not counted as
#     failed), Suspended=True (JobSuspended), startTime cleared and a
#     Suspended event; resuming creates pods again, Suspended=False
#     (JobResumed), startTime set again, a Resumed event;
#   - pod-failure back-off: a failed pod whose sidecar (restartable init
#     container) ended 20 s after its main container is replaced 10 s after
#     the sidecar's end, not at once; meanwhile status.active keeps counting
#     the pod that still runs (pod statuses written with kubectl, as a
#     kubelet would: these pods are never scheduled);
#   - podFailurePolicy: a FailJob rule on exit code 42 of container ml fails
#     the Job at once (FailureTarget then Failed, reason PodFailurePolicy,
#     upstream's message, the Warning event) though backoffLimit is 6; an
#     Ignore rule on DisruptionTarget lets a disrupted pod be replaced with
#     backoffLimit 0 and nothing counted, while a plain failure then fails it
#     (BackoffLimitExceeded);
#   - activeDeadlineSeconds: FailureTarget then Failed DeadlineExceeded, the
#     active pod deleted and counted as failed, a DeadlineExceeded event;
#   - deleting a Job with pods: the garbage collector deletes them and the
#     job controller removes their tracking finalizer, so they go away;
#   - ttlSecondsAfterFinished: the Job is deleted that many seconds after it
#     finished, not before, with propagation Foreground as upstream (the
#     watch shows it terminating with the foregroundDeletion finalizer, and
#     its pods are gone by the time it is); a TTL lowered on a finished Job
#     is re-checked at once.
. "$(dirname "$0")/lib.sh"
. "$KUBUS_ROOT/tests/e2e/kubus.sh"
kubus_start --controllers=job,ttl-after-finished,garbagecollector || fail "kubus did not start"
kns_new job-features

cond() { kjq "[.status.conditions[]? | select(.type == \"$2\") | .status][0] // \"\"" job "$1"; }
creason() { kjq "[.status.conditions[]? | select(.type == \"$2\") | .reason][0] // \"\"" job "$1"; }
pods_of() { kget pods -l "job-name=$1" | jq '[.items[] | select(.metadata.deletionTimestamp == null)] | length'; }
all_pods_of() { kget pods -l "job-name=$1" | jq '.items | length'; }
running_of() { kget pods -l "job-name=$1" | jq '[.items[] | select(.metadata.deletionTimestamp == null and .status.phase != "Succeeded" and .status.phase != "Failed")] | length'; }
job_gone() { [[ "$(k get job "$1" -o name 2>&1)" == *"(NotFound)"* ]]; }   # not a transient error
ev() { kget events --field-selector "involvedObject.kind=Job,involvedObject.name=$1,reason=$2" | jq -r '.items[] | "\(.type)|\(.message)"'; }

mkjob() {   # mkjob NAME EXTRA-SPEC-YAML [POD-SPEC-EXTRA-YAML]
  k apply -f - >/dev/null <<YAML
apiVersion: batch/v1
kind: Job
metadata: {name: $1}
spec:
$2
  template:
    spec:
      restartPolicy: Never
${3:-}
      containers: [{name: ml, image: example/train, args: ['3', 'softmax', '0.5']}]
YAML
}
PENDING='      nodeSelector: {kubus.test/none: none}'
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
# fail_pod NAME EXIT MAIN_END [SIDECAR_END [CONDITION]]: the status a kubelet
# writes for a pod whose container ml exited EXIT at MAIN_END, whose sidecar
# log (if the pod has one: SIDECAR_END given) stopped at SIDECAR_END (unix
# seconds), with pod condition CONDITION=True (e.g. DisruptionTarget) if given
fail_pod() {
  k patch pod "$1" --subresource=status --type=merge -p "$(jq -n --argjson code "$2" --arg main "$(iso "$3")" \
      --arg side "${4:+$(iso "$4")}" --arg cond "${5:-}" '{status: ({phase: "Failed",
        containerStatuses: [{name: "ml", image: "example/train", imageID: "", ready: false, restartCount: 0,
          state: {terminated: {exitCode: $code, reason: "Error", startedAt: $main, finishedAt: $main}}}]}
      + (if $side == "" then {} else {initContainerStatuses: [{name: "log", image: "example/log", imageID: "",
          ready: false, restartCount: 0, started: false,
          state: {terminated: {exitCode: 0, reason: "Completed", startedAt: $main, finishedAt: $side}}}]} end)
      + (if $cond == "" then {} else {conditions: [{type: $cond, status: "True", reason: "PreemptionByScheduler",
          lastTransitionTime: $main}]} end))}')" >/dev/null
}
SIDECAR='      initContainers: [{name: log, image: example/log, restartPolicy: Always}]'

mkjob par "  completions: 3
  parallelism: 2"
mkjob idx "  completionMode: Indexed
  completions: 3
  parallelism: 2"
mkjob susp "  completions: 2
  parallelism: 2" "$PENDING"
mkjob deadline "  activeDeadlineSeconds: 6
  backoffLimit: 5" "$PENDING"
PFP='  podFailurePolicy:
    rules:
    - action: FailJob
      onExitCodes: {containerName: ml, operator: In, values: [42]}
    - action: Ignore
      onPodConditions: [{type: DisruptionTarget}]'
mkjob pfp-fail "  backoffLimit: 6
$PFP" "$PENDING"
mkjob pfp-ignore "  backoffLimit: 0
$PFP" "$PENDING"
mkjob backoff "  completions: 2
  parallelism: 2
  backoffLimit: 3" "$PENDING
$SIDECAR"

# ---- completions 3, parallelism 2 ------------------------------------------------
wait_until 30 '[ "$(running_of par)" = 2 ]' "2 pods of par running"
deadline=$(($(date +%s) + 60))
until [ "$(cond par Complete)" = True ]; do
  r=$(running_of par)
  [ "${r:-0}" -le 2 ] || fail "par has $r pods running at once, parallelism is 2"
  [ "$(date +%s)" -lt "$deadline" ] || fail "par did not complete within 60 s: $(kjq -c .status job par)"
  sleep 0.3
done
[ "$(all_pods_of par)" = 3 ] || fail "par made $(all_pods_of par) pods, want 3"
kget job par | jq -e '.status.succeeded == 3 and (.status.failed // 0) == 0 and .status.completionTime != null' >/dev/null \
  || fail "par status: $(kjq -c .status job par)"
k get job par --no-headers | awk '$2 == "Complete" && $3 == "3/3" {ok=1} END {exit !ok}' \
  || fail "kubectl get job par: $(k get job par --no-headers)"
pass "completions 3 / parallelism 2: at most 2 at once, 3 pods, Complete 3/3"

# ---- Indexed ---------------------------------------------------------------------------
wait_until 60 '[ "$(cond idx Complete)" = True ]' "idx Complete"
juid=$(kjq .metadata.uid job idx)
kget job idx | jq -e '.status.succeeded == 3 and .status.completedIndexes == "0-2"' >/dev/null \
  || fail "idx status: $(kjq -c .status job idx)"
kget pods -l job-name=idx | jq -e --arg uid "$juid" '
  (.items | length == 3) and ([.items[].metadata.annotations["batch.kubernetes.io/job-completion-index"]] | sort == ["0", "1", "2"]) and
  all(.items[]; .metadata.annotations["batch.kubernetes.io/job-completion-index"] as $i
      | .metadata.labels["batch.kubernetes.io/job-completion-index"] == $i
      and .metadata.generateName == "idx-\($i)-" and (.metadata.name | startswith("idx-\($i)-"))
      and .spec.hostname == "idx-\($i)"
      and (.spec.containers[0].env | any(.name == "JOB_COMPLETION_INDEX"
           and .valueFrom.fieldRef.fieldPath == "metadata.labels[\u0027batch.kubernetes.io/job-completion-index\u0027]")))' >/dev/null \
  || fail "idx pods are not upstream's: $(kget pods -l job-name=idx | jq -c '[.items[] | {n: .metadata.name, a: .metadata.annotations, h: .spec.hostname, e: .spec.containers[0].env}]')"
pass "Indexed: pods idx-<i>-xxxxx with index annotation, label, hostname and env; completedIndexes 0-2"

# ---- activeDeadlineSeconds ------------------------------------------------------------
wait_until 40 '[ "$(cond deadline Failed)" = True ]' "deadline Failed"
kget job deadline | jq -e '
  ([.status.conditions[].type] == ["FailureTarget", "Failed"]) and
  all(.status.conditions[]; .reason == "DeadlineExceeded" and .message == "Job was active longer than specified deadline")
  and .status.failed == 1 and (.status.active // 0) == 0 and .status.terminating == 0' >/dev/null \
  || fail "deadline status: $(kjq -c .status job deadline)"
[ "$(pods_of deadline)" = 0 ] || fail "the deadline job still has $(pods_of deadline) pods"
wait_until 10 '[ -n "$(ev deadline DeadlineExceeded)" ]' "a DeadlineExceeded event"
[ "$(ev deadline DeadlineExceeded)" = "Warning|Job was active longer than specified deadline" ] || fail "event: $(ev deadline DeadlineExceeded)"
start=$(kjq '.status.startTime | fromdateiso8601' job deadline)
failed_at=$(kjq '[.status.conditions[] | select(.type == "FailureTarget") | .lastTransitionTime | fromdateiso8601][0]' job deadline)
[ $((failed_at - start)) -ge 6 ] || fail "deadline job failed $((failed_at - start)) s after its start, before activeDeadlineSeconds 6"
pass "activeDeadlineSeconds: FailureTarget then Failed DeadlineExceeded after $((failed_at - start)) s, pod deleted and counted failed"

# ---- suspend / resume ------------------------------------------------------------------
wait_until 30 '[ "$(pods_of susp)" = 2 ] && [ "$(kjq ".status.active // 0" job susp)" = 2 ]' "2 pending pods of susp, active 2"
k patch job susp --type=merge -p '{"spec":{"suspend":true}}' >/dev/null
wait_until 30 '[ "$(all_pods_of susp)" = 0 ]' "susp's pods deleted (and gone)"
wait_until 10 '[ "$(cond susp Suspended)" = True ]' "Suspended=True"
kget job susp | jq -e '(.status.active // 0) == 0 and (.status.failed // 0) == 0 and .status.startTime == null and
  ([.status.conditions[] | select(.type == "Suspended")][0] | .reason == "JobSuspended" and .message == "Job suspended")' >/dev/null \
  || fail "susp status after suspend (startTime cleared as upstream 1.36): $(kjq -c .status job susp)"
wait_until 10 '[ "$(ev susp Suspended)" = "Normal|Job suspended" ]' "a Suspended event"
[ "$(ev susp SuccessfulDelete | wc -l)" = 2 ] || fail "want 2 SuccessfulDelete events: $(ev susp SuccessfulDelete)"
never_within 3 '[ "$(all_pods_of susp)" -gt 0 ] 2>/dev/null' "a pod for the suspended job"
k patch job susp --type=merge -p '{"spec":{"suspend":false}}' >/dev/null
wait_until 30 '[ "$(pods_of susp)" = 2 ]' "2 pods again after resume"
wait_until 10 '[ "$(cond susp Suspended)" = False ] && [ "$(creason susp Suspended)" = JobResumed ]' "Suspended=False JobResumed"
wait_until 10 '[ "$(ev susp Resumed)" = "Normal|Job resumed" ]' "a Resumed event"
[ "$(kjq '.status.startTime // ""' job susp)" != "" ] || fail "susp resumed without a startTime: $(kjq -c .status job susp)"
pass "suspend deletes the active pods (not failures) and clears startTime, resume creates them again; conditions and events"

# ---- pod-failure back-off ------------------------------------------------------------------
wait_until 30 '[ "$(pods_of backoff)" = 2 ] && [ "$(kjq ".status.active // 0" job backoff)" = 2 ]' "2 pending pods of backoff, active 2"
victim=$(kget pods -l job-name=backoff | jq -r '.items[0].metadata.name')
broke_at=$(date +%s)
fail_pod "$victim" 1 $((broke_at - 20)) "$broke_at"
wait_until 15 '[ "$(kjq ".status.failed // 0" job backoff)" = 1 ]' "backoff's failure counted"
# the back-off runs from the sidecar's end: 10 s
while [ "$(date +%s)" -lt $((broke_at + 8)) ]; do
  kget job backoff | jq -e '.status.active == 1' >/dev/null \
    || fail "during the back-off backoff's status.active is not the 1 pod still running: $(kjq -c .status job backoff)"
  [ "$(all_pods_of backoff)" = 2 ] \
    || fail "a replacement pod $(($(date +%s) - broke_at)) s after the sidecar ended (the back-off is 10 s from the sidecar's end, not the main container's)"
  sleep 0.5
done
wait_until 20 '[ "$(all_pods_of backoff)" = 3 ]' "a replacement pod once the back-off is over"
[ $(($(date +%s) - broke_at)) -ge 9 ] || fail "backoff's replacement came $(($(date +%s) - broke_at)) s after the sidecar ended"
wait_until 15 '[ "$(kjq ".status.active // 0" job backoff)" = 2 ]' "active 2 again"
pass "pod-failure back-off: 10 s from the sidecar's end, status.active 1 throughout, then the replacement"

# ---- podFailurePolicy ------------------------------------------------------------------------
wait_until 30 '[ "$(pods_of pfp-fail)" = 1 ] && [ "$(pods_of pfp-ignore)" = 1 ]' "a pending pod for pfp-fail and pfp-ignore"
pod=$(kget pods -l job-name=pfp-fail | jq -r '.items[0].metadata.name')
fail_pod "$pod" 42 "$(date +%s)"
wait_until 30 '[ "$(cond pfp-fail Failed)" = True ]' "pfp-fail Failed by its FailJob rule"
want="Container ml for pod $NS/$pod failed with exit code 42 matching FailJob rule at index 0"
kget job pfp-fail | jq -e --arg m "$want" '([.status.conditions[].type] == ["FailureTarget", "Failed"]) and
  all(.status.conditions[]; .reason == "PodFailurePolicy" and .message == $m) and .status.failed == 1' >/dev/null \
  || fail "pfp-fail status: $(kjq -c .status job pfp-fail)"
wait_until 10 '[ "$(ev pfp-fail PodFailurePolicy)" = "Warning|$want" ]' "the PodFailurePolicy Warning event"
[ "$(all_pods_of pfp-fail)" = 1 ] || fail "pfp-fail made $(all_pods_of pfp-fail) pods, want 1 (failed at once)"
pass "podFailurePolicy FailJob: FailureTarget then Failed, reason PodFailurePolicy, upstream's message and event"

pod=$(kget pods -l job-name=pfp-ignore | jq -r '.items[0].metadata.name')
fail_pod "$pod" 137 "$(date +%s)" "" DisruptionTarget
wait_until 30 '[ "$(all_pods_of pfp-ignore)" = 2 ]' "a replacement for the disrupted pod (after the back-off)"
kget job pfp-ignore | jq -e '(.status.failed // 0) == 0 and ([.status.conditions[]? | select(.type == "Failed" or .type == "FailureTarget")] | length) == 0' >/dev/null \
  || fail "the ignored failure counted: $(kjq -c .status job pfp-ignore)"
wait_until 10 '[ "$(kget pods -l job-name=pfp-ignore | jq "[.items[] | select(.metadata.finalizers // [] | index(\"batch.kubernetes.io/job-tracking\"))] | length")" = 1 ]' \
  "the ignored pod's tracking finalizer removed"
pod=$(kget pods -l job-name=pfp-ignore | jq -r '.items[] | select(.status.phase != "Failed") | .metadata.name')
fail_pod "$pod" 1 "$(date +%s)"
wait_until 30 '[ "$(cond pfp-ignore Failed)" = True ]' "pfp-ignore Failed once a counted failure exceeds backoffLimit 0"
kget job pfp-ignore | jq -e '.status.failed == 1 and ([.status.conditions[] | select(.type == "Failed")][0].reason == "BackoffLimitExceeded")' >/dev/null \
  || fail "pfp-ignore status: $(kjq -c .status job pfp-ignore)"
pass "podFailurePolicy Ignore: a disrupted pod replaced and not counted (backoffLimit 0); a plain failure then fails the Job"

# ---- deleting a Job with pods ----------------------------------------------------------
k delete job susp --wait=false >/dev/null
wait_until 30 '[ "$(all_pods_of susp)" = 0 ]' "the deleted job's pods gone (GC + finalizer removal)"
pass "deleting a Job: its pods deleted and their tracking finalizer removed"

# ---- ttlSecondsAfterFinished ------------------------------------------------------------
mkjob ttl "  ttlSecondsAfterFinished: 10"
mkjob ttl-late "  ttlSecondsAfterFinished: 3600"
wait_until 30 '[ "$(cond ttl Complete)" = True ]' "ttl Complete"
finish=$(kjq '[.status.conditions[] | select(.type == "Complete") | .lastTransitionTime | fromdateiso8601][0]' job ttl)
[ "$(all_pods_of ttl)" = 1 ] || fail "ttl has $(all_pods_of ttl) pods"
ttl_watch=$(mktemp /tmp/kubus-ttl-watch.XXXXXX)
on_exit "rm -f '$ttl_watch'"
kubectl get job ttl -n "$NS" -w --output-watch-events -o json >"$ttl_watch" 2>/dev/null &
ttl_wpid=$!
on_exit "kill $ttl_wpid 2>/dev/null"
left=$((finish + 10 - $(date +%s) - 2))   # the last poll may take a while on a loaded machine
[ "$left" -gt 0 ] && never_within "$left" 'job_gone ttl' "ttl deleted before its TTL ran out"
wait_until 20 'job_gone ttl' "ttl deleted after its TTL"
gone=$(date +%s)
# Foreground: the garbage collector removes the Job only once its pods are
# gone, so none may be left now (Background would leave them behind)
[ "$(all_pods_of ttl)" = 0 ] || fail "ttl is gone but $(all_pods_of ttl) of its pods are left: not deleted Foreground"
[ $((gone - finish)) -ge 10 ] || fail "ttl deleted $((gone - finish)) s after it finished, TTL is 10"
wait_until 10 '[ "$(grep -c "\"DELETED\"" "$ttl_watch")" -ge 1 ]' "the watch to see ttl deleted"
kill "$ttl_wpid" 2>/dev/null; wait "$ttl_wpid" 2>/dev/null || true
jq -n -e '[inputs | select(.type == "MODIFIED") | .object.metadata
           | select(.deletionTimestamp != null and any(.finalizers[]?; . == "foregroundDeletion"))] | length > 0' \
  "$ttl_watch" >/dev/null \
  || fail "ttl was never seen terminating with the foregroundDeletion finalizer: $(jq -c '[.type, .object.metadata.finalizers]' "$ttl_watch" | tr '\n' ' ')"
by=$(cat "$KUBUS_CLUSTER_DIR"/logs/audit*.log | jq -r --arg ns "$NS" 'select(.verb == "delete" and .objectRef.resource == "jobs"
      and .objectRef.namespace == $ns and .objectRef.name == "ttl") | .userAgent' | sort -u)
case "$by" in *ttl-after-finished*) ;; *) fail "the ttl Job was not deleted by kubus-ttlafterfinished (user agents: $by)" ;; esac
pass "ttlSecondsAfterFinished 10: deleted Foreground $((gone - finish)) s after it finished, after its pod"

wait_until 30 '[ "$(cond ttl-late Complete)" = True ]' "ttl-late Complete"
never_within 3 'job_gone ttl-late' "ttl-late deleted with a TTL of an hour"
k patch job ttl-late --type=merge -p '{"spec":{"ttlSecondsAfterFinished":1}}' >/dev/null
wait_until 15 'job_gone ttl-late' "ttl-late deleted once its TTL was lowered"
wait_until 30 '[ "$(all_pods_of ttl-late)" = 0 ]' "ttl-late's pod deleted with it"
pass "a TTL lowered on a finished Job is re-checked: deleted"
