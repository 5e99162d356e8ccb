#!/usr/bin/env bash
# kwok's pod behaviour in the reference cluster (tests/cluster/kwok.yaml):
# ready pods, image pull errors, Job pods that complete or fail.
. "$(dirname "$0")/lib.sh"
kns_new

pod() { # NAME IMAGE [ARG]: a bare pod spec on stdin for kubectl
  cat <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1, labels: {test: stages}}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: $2
    args: [${3:-serve}]
YAML
}

# --- a plain pod: Running and Ready about 1 s after it is bound ----------------
pod plain nginx:1.25 | k apply -f - >/dev/null
pod bad nginx:1.9.21 | k apply -f - >/dev/null
pod bad2 missing.invalid/app:v1 | k apply -f - >/dev/null

wait_until 20 '[ "$(kjq ".status.phase" pod plain)" = Running ]' "pod plain Running"
p=$(kget pod plain)
jq -e '.spec.nodeName == "master" or .spec.nodeName == "worker"' <<<"$p" >/dev/null ||
  fail "pod plain was not scheduled to a fake node: $(jq -c .spec.nodeName <<<"$p")"
for c in Ready ContainersReady Initialized PodScheduled; do
  jq -e --arg c "$c" 'any(.status.conditions[]; .type == $c and .status == "True")' <<<"$p" >/dev/null ||
    fail "pod plain lacks condition $c=True: $(jq -c .status.conditions <<<"$p")"
done
jq -e '.status.containerStatuses[0] | .ready and .started and (.state.running.startedAt != null)
       and (.state | has("waiting") | not)' <<<"$p" >/dev/null ||
  fail "pod plain container status is not running+ready: $(jq -c .status.containerStatuses <<<"$p")"
jq -e '(.status.podIP // "") != "" and (.status.startTime // "") != "" and (.status.hostIP // "") != ""' <<<"$p" >/dev/null ||
  fail "pod plain lacks podIP/hostIP/startTime: $(jq -c '.status | {podIP, hostIP, startTime}' <<<"$p")"
# bound -> ready takes about 1 s (whole seconds in the API; allow slack)
lag=$(jq -r '[(.status.conditions[] | select(.type=="PodScheduled") | .lastTransitionTime),
              (.status.conditions[] | select(.type=="Ready") | .lastTransitionTime)]
             | map(fromdateiso8601) | .[1] - .[0]' <<<"$p")
((lag >= 0 && lag <= 4)) || fail "pod plain became Ready ${lag}s after it was scheduled (expected ~1s)"
pass "a plain pod becomes Running and Ready (${lag}s after scheduling)"

# --- images that do not exist: ErrImagePull, never Ready -------------------------
for n in bad bad2; do
  wait_until 20 '[ "$(kjq ".status.containerStatuses[0].state.waiting.reason // empty" pod '"$n"')" = ErrImagePull ]' \
    "pod $n container waiting with reason ErrImagePull"
done
never_within 5 'kjq "any(.items[] | select(.metadata.name != \"plain\") | .status.conditions[]?; .type == \"Ready\" and .status == \"True\")" pods -l test=stages | grep -x >/dev/null true' \
  "a pod with a missing image became Ready"
for n in bad bad2; do
  [ "$(pod_phase "$NS" $n)" = Pending ] || fail "pod $n phase is $(pod_phase "$NS" $n), expected Pending"
done
pass "nginx:1.9.21 and missing.invalid/* pods stay Pending with ErrImagePull, never Ready"

# --- Job pods: complete after ~3 s, or fail on bug-string ------------------------
k apply -f - >/dev/null <<'YAML'
apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec:
  suspend: true
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox:1.36}]
YAML
uid=$(kjq .metadata.uid job j)
[ -n "$uid" ] && [ "$uid" != null ] || fail "job j has no uid"
jobpod() { # NAME ARG
  cat <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $1
  labels: {test: jobpods}
  ownerReferences:
  - {apiVersion: batch/v1, kind: Job, name: j, uid: $uid, controller: true, blockOwnerDeletion: true}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox:1.36
    args: [sh, -c, $2]
YAML
}
jobpod ok 'exit-zero' | k apply -f - >/dev/null
jobpod crash bug-string | k apply -f - >/dev/null

wait_until 10 '[ "$(pod_phase "$NS" ok)" = Running ]' "job pod ok Running"
t0=$(date +%s)
wait_until 20 '[ "$(pod_phase "$NS" ok)" = Succeeded ]' "job pod ok Succeeded"
ran=$(($(date +%s) - t0))
((ran >= 1)) || fail "job pod ok succeeded after only ${ran}s of running (expected ~3s)"
st=$(kjq '.status.containerStatuses[0].state.terminated | "\(.exitCode) \(.reason)"' pod ok)
[ "$st" = "0 Completed" ] || fail "job pod ok terminated with '$st', expected '0 Completed'"
kjq '.status.containerStatuses[0].state | has("running")' pod ok | grep -x >/dev/null false ||
  fail "job pod ok still has a running state next to terminated"
pass "a Job's pod runs ~3s then Succeeds with exit 0 Completed"

wait_until 20 '[ "$(pod_phase "$NS" crash)" = Failed ]' "job pod crash Failed"
st=$(kjq '.status.containerStatuses[0].state.terminated | "\(.exitCode) \(.reason)"' pod crash)
[ "$st" = "1 Error" ] || fail "job pod crash terminated with '$st', expected '1 Error'"
pass "a Job's pod with arg bug-string Fails with exit 1 Error"

# the Job object itself is untouched: no job controller runs (unless upstream=all)
if [ "$(cat "$KUBUS_CLUSTER_DIR/run/controllers" 2>/dev/null)" != all ]; then
  [ "$(kjq '.status.succeeded // 0' job j)" = 0 ] || fail "job j status was updated by someone"
fi
