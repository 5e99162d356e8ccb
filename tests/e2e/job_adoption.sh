#!/usr/bin/env bash
# A Job with manualSelector adopts the orphan pod its selector matches, as
# upstream's job controller does through its ControllerRefManager: after a
# live GET of the Job, the pod gets the Job's controller ownerReference and
# the batch.kubernetes.io/job-tracking finalizer, it counts as one of the
# Job's active pods (the Job creates only the other one: parallelism 2), and
# once both pods succeed the Job is Complete with succeeded 2 and no
# tracking finalizer is left on either pod. A pod of another label is left
# alone.
. "$(dirname "$0")/lib.sh"
. "$KUBUS_ROOT/tests/e2e/kubus.sh"
kubus_start --controllers=job,garbagecollector || fail "kubus did not start"
kns_new job-adoption

k apply -f - >/dev/null <<'Y'
apiVersion: v1
kind: Pod
metadata: {name: orphan-a, labels: {adopt: me}}
spec: {containers: [{name: c, image: registry.k8s.io/pause:3.9}]}
---
apiVersion: v1
kind: Pod
metadata: {name: bystander, labels: {adopt: not-me}}
spec: {containers: [{name: c, image: registry.k8s.io/pause:3.9}]}
Y
wait_until 30 '[ "$(pod_phase "$NS" orphan-a)" = Running ]' "orphan-a Running"

k apply -f - >/dev/null <<'Y'
apiVersion: batch/v1
kind: Job
metadata: {name: adopter}
spec:
  manualSelector: true
  selector: {matchLabels: {adopt: me}}
  parallelism: 2
  completions: 2
  template:
    metadata: {labels: {adopt: me}}
    spec:
      restartPolicy: Never
      containers: [{name: c, image: registry.k8s.io/pause:3.9}]
Y
uid=$(kjq .metadata.uid job adopter)
owner_of() { kjq '[.metadata.ownerReferences[]? | select(.controller == true) | .uid][0] // ""' pod "$1"; }
wait_until 30 '[ "$(owner_of orphan-a)" = "$uid" ]' "orphan-a owned by Job adopter"
kget pod orphan-a | jq -e --arg u "$uid" '
  ([.metadata.ownerReferences[] | select(.uid == $u)][0] | .kind == "Job" and .name == "adopter" and .blockOwnerDeletion == true)' \
  >/dev/null || fail "orphan-a ownerReference: $(kjq -c .metadata.ownerReferences pod orphan-a)"
wait_until 60 '[ "$(kjq "[.status.conditions[]? | select(.type == \"Complete\") | .status][0] // \"\"" job adopter)" = True ]' \
  "Job adopter Complete"
kget job adopter | jq -e '.status.succeeded == 2 and (.status.failed // 0) == 0' >/dev/null ||
  fail "adopter status: $(kjq -c .status job adopter)"
made=$(audit_count create pods "$NS" 201)
[ "$made" = 3 ] || fail "$made pods created in $NS (the test's 2 and the Job's 1 expected): the orphan was not counted"
left=$(kget pods -l adopt=me | jq '[.items[] | select((.metadata.finalizers // []) | index("batch.kubernetes.io/job-tracking"))] | length')
[ "$left" = 0 ] || fail "$left pods of Job adopter still carry the tracking finalizer"
[ -z "$(owner_of bystander)" ] || fail "bystander was adopted: $(kjq -c .metadata.ownerReferences pod bystander)"
pass "orphan-a adopted (ownerReference, tracking finalizer), the Job made 1 pod, Complete with succeeded 2, no finalizer left"
