#!/usr/bin/env bash
# Section 5.3 and 5.4 of the tutorial (examples/README.md), the CronJob part:
#   3. apply cronjob.yaml ("*/1 * * * *") -> at the next minute boundary a Job
#      hello-<minutes since the epoch> made from the template, owned by the
#      CronJob (controller ownerReference), annotated with its scheduled time;
#      `kubectl get cronjob` shows LAST SCHEDULE; SuccessfulCreate event;
#      with the Job controller running the Job completes, the CronJob sees it
#      (SawCompletedJob, status.active empty, lastSuccessfulTime set);
#      history limits: a second CronJob with successfulJobsHistoryLimit 0,
#      started at the same boundary, has its finished Job deleted
#      (SuccessfulDelete) and keeps none;
#      a schedule without spec.timeZone runs in the controller's local zone
#      (kubus is started with TZ=Asia/Kathmandu, +05:45): a daily CronJob
#      at the local hour and minute two boundaries ahead makes its Job at
#      that instant, its annotation in UTC as upstream writes it;
#   4. delete cronjob --all -> the CronJobs, their Jobs and the Jobs' pods are
#      gone (the garbage collector's cascade).
# Wall time: up to 60 s for the first boundary, then ~20-40 s.
. "$(dirname "$0")/lib.sh"

manifest=$(tutorial_manifest cronjob.yaml)

. "$KUBUS_ROOT/tests/e2e/kubus.sh"
controllers=cronjob,garbagecollector
with_jobs=0
if [ -x "$KUBUS_BIN/kubus-job" ]; then
  controllers=cronjob,job,garbagecollector
  with_jobs=1
else
  info "NOTE: no $KUBUS_BIN/kubus-job: Jobs will not run; completion and history checks skipped"
fi
# the controllers' local zone, for schedules without spec.timeZone (an
# offset that is not whole hours, so no other zone could pass for it)
LOCAL_TZ=Asia/Kathmandu
# shellcheck disable=SC2086
TZ=$LOCAL_TZ kubus_start --controllers=$controllers ${KUBUS_E2E_FLAGS:-} || fail "kubus did not start"

kns_new cronjob-tutorial

# ---- 3. apply: a Job at the first minute boundary -----------------------------------
k apply -f "$manifest" >/dev/null
mkcronjob() {   # mkcronjob NAME SCHEDULE [EXTRA-SPEC-YAML]: a CronJob of hello's template
  k apply -f - >/dev/null <<YAML
apiVersion: batch/v1
kind: CronJob
metadata: {name: $1}
spec:
  schedule: "$2"
${3:-}
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: hello, image: busybox, args: [/bin/sh, -c, date]}]
          restartPolicy: OnFailure
YAML
}
# the same schedule, keeping no successful Jobs: its Job must be deleted once done
mkcronjob nohist "*/1 * * * *" "  successfulJobsHistoryLimit: 0"
# daily at the local wall-clock time of the boundary after next
local_at=$((($(date +%s) / 60 + 2) * 60))
read -r local_min local_hour <<<"$(TZ=$LOCAL_TZ date -d "@$local_at" '+%-M %-H')"
mkcronjob local "$local_min $local_hour * * *"
uid=$(kjq .metadata.uid cronjob hello)
owned_jobs() {   # names of the Jobs whose controller is CronJob $1
  local u
  u=$(kjq .metadata.uid cronjob "$1" 2>/dev/null) || return 0
  kget jobs | jq -r --arg u "$u" '.items[] | select(any(.metadata.ownerReferences[]?;
      .controller == true and .kind == "CronJob" and .apiVersion == "batch/v1" and .uid == $u)) | .metadata.name'
}
info "waiting for the first minute boundary (now $(date -u +%H:%M:%S))"
wait_until 75 '[ -n "$(owned_jobs hello)" ]' "a Job owned by CronJob hello"
job=$(owned_jobs hello | sort | head -1)
[[ $job =~ ^hello-([0-9]+)$ ]] || fail "Job name $job is not hello-<minutes>"
minutes=${BASH_REMATCH[1]}
stamp=$(kjq '.metadata.annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"] // ""' job "$job")
[ -n "$stamp" ] || fail "Job $job lacks the cronjob-scheduled-timestamp annotation"
[ "$(($(date -u -d "$stamp" +%s) / 60))" = "$minutes" ] || fail "Job $job: annotation $stamp is not minute $minutes"
[ "$(date -u -d "$stamp" +%S)" = 00 ] || fail "scheduled time $stamp is not on a minute boundary"
kget job "$job" | jq -e --arg u "$uid" '
    [.metadata.ownerReferences[] | select(.controller == true and .blockOwnerDeletion == true
       and .kind == "CronJob" and .name == "hello" and .uid == $u)] | length == 1' >/dev/null \
  || fail "Job $job has no controller ownerReference to CronJob hello"
kget job "$job" | jq -e '.spec.template.spec.containers[0].image == "busybox"
    and .spec.template.spec.restartPolicy == "OnFailure"' >/dev/null \
  || fail "Job $job was not made from the jobTemplate"
pass "apply: Job $job (minute $minutes, scheduled $stamp), owned by CronJob hello"

wait_until 20 '[ "$(kjq ".status.lastScheduleTime // \"\"" cronjob hello)" != "" ]' "status.lastScheduleTime"
last=$(kjq .status.lastScheduleTime cronjob hello)
[ "$(date -u -d "$last" +%s)" = "$(date -u -d "$stamp" +%s)" ] || fail "lastScheduleTime $last is not the Job's time $stamp"
# LAST SCHEDULE column of `kubectl get cronjob` (found by its header)
last_col=$(k get cronjob hello | awk 'NR == 1 {p = index($0, "LAST SCHEDULE")} NR == 2 && p {s = substr($0, p); split(s, f, " "); print f[1]}')
[ -n "$last_col" ] && [ "$last_col" != "<none>" ] || fail "kubectl get cronjob shows no LAST SCHEDULE: $(k get cronjob hello)"
wait_until 20 '[ "$(kget events --field-selector involvedObject.kind=CronJob,involvedObject.name=hello,reason=SuccessfulCreate | jq -r ".items[].message" | grep -c "^Created job $job$")" -ge 1 ]' \
  "event SuccessfulCreate 'Created job $job'"
pass "kubectl get cronjob: LAST SCHEDULE $last_col; status.lastScheduleTime $last; SuccessfulCreate event"

# the local CronJob: its Job at $local_at exactly ($local_hour:$local_min in $LOCAL_TZ)
info "waiting for $local_hour:$local_min $LOCAL_TZ ($(date -u -d "@$local_at" +%H:%M) UTC)"
wait_until 150 '[ -n "$(owned_jobs local)" ]' "a Job of CronJob local at $local_hour:$local_min $LOCAL_TZ"
[ "$(owned_jobs local)" = "local-$((local_at / 60))" ] \
  || fail "CronJob local made $(owned_jobs local | tr '\n' ' '), want local-$((local_at / 60)) (the schedule in $LOCAL_TZ)"
lstamp=$(kjq '.metadata.annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"] // ""' job "local-$((local_at / 60))")
[ "$lstamp" = "$(date -u -d "@$local_at" +%Y-%m-%dT%H:%M:%SZ)" ] || fail "local's Job is annotated $lstamp, want $local_at in UTC"
pass "no spec.timeZone: \"$local_min $local_hour * * *\" ran at $local_hour:$local_min in the controllers' zone $LOCAL_TZ ($lstamp)"

if ((with_jobs)); then
  wait_until 45 '[ "$(kjq "[.status.conditions[]? | select(.type == \"Complete\" and .status == \"True\")] | length" job "$job")" = 1 ]' \
    "Job $job to complete"
  wait_until 20 '[ "$(kjq ".status.lastSuccessfulTime // \"\"" cronjob hello)" != "" ]' "status.lastSuccessfulTime"
  wait_until 20 '[ "$(kjq "[.status.active[]? | select(.name == \"$job\")] | length" cronjob hello)" = 0 ]' \
    "$job to leave status.active"
  wait_until 20 '[ "$(kget events --field-selector involvedObject.kind=CronJob,involvedObject.name=hello,reason=SawCompletedJob | jq -r ".items[].message" | grep -c "^Saw completed job: $job, condition: Complete$")" -ge 1 ]' \
    "event SawCompletedJob for $job"
  pass "Job $job completed: lastSuccessfulTime $(kjq .status.lastSuccessfulTime cronjob hello), SawCompletedJob"

  # history limit 0: nohist's Job ran, was seen complete and deleted
  wait_until 45 '[ "$(kjq ".status.lastSuccessfulTime // \"\"" cronjob nohist)" != "" ]' "nohist's lastSuccessfulTime"
  wait_until 20 '[ "$(kget events --field-selector involvedObject.kind=CronJob,involvedObject.name=nohist,reason=SuccessfulDelete | jq -r ".items[].message" | grep -c "^Deleted job nohist-[0-9]*$")" -ge 1 ]' \
    "event SuccessfulDelete for nohist's Job"
  finished_kept() {   # finished Jobs of nohist not being deleted
    local u
    u=$(kjq .metadata.uid cronjob nohist)
    kget jobs | jq --arg u "$u" '[.items[] | select(.metadata.deletionTimestamp == null)
        | select(any(.metadata.ownerReferences[]?; .controller == true and .uid == $u))
        | select(any(.status.conditions[]?; (.type == "Complete" or .type == "Failed") and .status == "True"))] | length'
  }
  wait_until 20 '[ "$(finished_kept)" = 0 ]' "no finished Job kept for nohist (successfulJobsHistoryLimit 0)"
  pass "successfulJobsHistoryLimit 0: the finished Job was deleted (SuccessfulDelete)"
fi

# ---- 4. delete cronjob --all: CronJobs, Jobs and their pods gone ----------------------
[ "$(kget pods | jq '.items | length')" -ge 1 ] || ((with_jobs == 0)) || fail "the Jobs made no pods"
k delete cronjob --all --wait=false >/dev/null
wait_until 60 '[ "$(kget cronjobs | jq ".items | length")" = 0 ] && [ "$(kget jobs | jq ".items | length")" = 0 ] && [ "$(kget pods | jq ".items | length")" = 0 ]' \
  "CronJobs, Jobs and pods gone (jobs: $(kget jobs | jq -r '[.items[].metadata.name] | join(" ")'), pods: $(kget pods | jq '.items | length'))"
pass "delete cronjob --all: CronJobs, their Jobs and pods are gone"
