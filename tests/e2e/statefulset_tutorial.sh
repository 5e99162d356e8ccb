#!/usr/bin/env bash
# Section 3 of the tutorial (examples/README.md) (StatefulSet), against kubus with
# --controllers=statefulset,garbagecollector:
#   apply mysts.yaml -> mysts-0, -1, -2 created in that order, each only once
#   the one before is Running and Ready; hostname = pod name, subdomain mysts;
#   claims vol-mysts-0..2 (created before their pod), each mounted by its pod;
#   delete mysts-1 -> a new mysts-1 with the same claim;
#   scale to 0 -> deleted 2, 1, 0, each only after the higher one is gone;
#   the claims stay; then sts, svc and claims are deleted.
# From examples/mysts.yaml as the tutorial types it: the claims get the local
# cluster's default StorageClass local-path and volumes provisioned for them
# (kubectl get pvc: Bound, STORAGECLASS local-path).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/_statefulset.sh"
. "$KUBUS_ROOT/tests/e2e/kubus.sh"

manifest=$(tutorial_manifest mysts.yaml)

kns_new sts-tutorial
kubus_start --controllers=statefulset,garbagecollector || fail "kubus did not start"

pod_json() { kubectl -n "$NS" get pod "$1" -o json 2>/dev/null || echo '{}'; }
ready_time() { pod_json "$1" | jq -r '[.status.conditions[]? | select(.type == "Ready" and .status == "True") | .lastTransitionTime][0] // ""'; }
existing() { kubectl -n "$NS" get pods -l run=nginx -o json | jq -r '[.items[].metadata.name] | sort | join(",")'; }
sts_status() { kjq '[.status.replicas // 0, .status.readyReplicas // 0, .status.currentReplicas // 0, .status.updatedReplicas // 0, .status.availableReplicas // 0] | join(" ")' sts mysts; }

# ---- 1. apply: 0, 1, 2 in order, each after the previous is Ready ------------
k apply -f "$manifest" >/dev/null
# While they come up, a pod N+1 must never exist while pod N is not Running and Ready.
violations=0
check_order() {
  local pods n
  pods=$(kubectl -n "$NS" get pods -l run=nginx -o json)
  for n in 1 2; do
    if jq -e --arg me "mysts-$n" --arg prev "mysts-$((n - 1))" '
         (.items | map(.metadata.name) | index($me)) != null and
         ([.items[] | select(.metadata.name == $prev and .status.phase == "Running"
            and any(.status.conditions[]?; .type == "Ready" and .status == "True"))] | length == 0)' \
         <<<"$pods" >/dev/null; then
      violations=$((violations + 1))
      info "order violated: mysts-$n exists while mysts-$((n - 1)) is not Running and Ready"
    fi
  done
  [ "$(pods_ready "$NS" run=nginx)" = 3 ]
}
wait_until 90 'check_order' "3 ready pods mysts-0..2"
[ "$violations" = 0 ] || fail "OrderedReady violated $violations times"
for n in 1 2; do
  created=$(pod_json "mysts-$n" | jq -r .metadata.creationTimestamp)
  ready=$(ready_time "mysts-$((n - 1))")
  [ -n "$ready" ] && [[ ! "$created" < "$ready" ]] \
    || fail "mysts-$n was created at $created, before mysts-$((n - 1)) became Ready at $ready"
done
[ "$(sts_audit_writes create pods | tr '\n' ' ')" = "mysts-0 mysts-1 mysts-2 " ] \
  || fail "pods were not created once each in order 0,1,2: $(sts_audit_writes create pods | tr '\n' ' ')"
pass "apply: mysts-0, mysts-1, mysts-2 created in order, each after the previous was Running and Ready"

# ---- identity -------------------------------------------------------------------
uid=$(kjq .metadata.uid sts mysts)
rev=$(kjq .status.updateRevision sts mysts)
[[ "$rev" =~ ^mysts-[bcdfghjklmnpqrstvwxz2456789]+$ ]] || fail "updateRevision '$rev' is not mysts-<hash>"
for n in 0 1 2; do
  pod_json "mysts-$n" | jq -e --arg n "$n" --arg uid "$uid" --arg rev "$rev" '
    .spec.hostname == "mysts-\($n)" and .spec.subdomain == "mysts" and
    .metadata.labels["statefulset.kubernetes.io/pod-name"] == "mysts-\($n)" and
    .metadata.labels["apps.kubernetes.io/pod-index"] == $n and
    .metadata.labels["controller-revision-hash"] == $rev and
    ([.metadata.ownerReferences[] | select(.controller == true and .kind == "StatefulSet" and .name == "mysts"
        and .uid == $uid and .blockOwnerDeletion == true)] | length == 1) and
    ([.spec.volumes[] | select(.name == "vol" and .persistentVolumeClaim.claimName == "vol-mysts-\($n)")] | length == 1)' \
    >/dev/null || fail "mysts-$n lacks its identity (hostname/subdomain/labels/ownerReference/volume): $(pod_json "mysts-$n" | jq -c '{l: .metadata.labels, h: .spec.hostname, s: .spec.subdomain, v: .spec.volumes}')"
done
pass "identity: hostname = pod name, subdomain mysts, pod-name/pod-index/revision labels, controller ownerReference"

# ---- 2. claims ------------------------------------------------------------------
claim_state() { kjq '.metadata.labels.run + " " + .status.phase + " " + (.spec.storageClassName // "")' pvc "$1" 2>/dev/null; }
for n in 0 1 2; do
  wait_until 60 '[ "$(claim_state "vol-mysts-$n")" = "nginx Bound local-path" ]' \
    "vol-mysts-$n labelled run=nginx, Bound, of class local-path (is: $(claim_state "vol-mysts-$n"))"
  pv=$(kjq .spec.volumeName pvc "vol-mysts-$n")
  kubectl get pv "$pv" -o json | jq -e --arg ns "$NS" --arg c "vol-mysts-$n" '
      .spec.storageClassName == "local-path" and .spec.claimRef.namespace == $ns and .spec.claimRef.name == $c
      and .metadata.annotations["pv.kubernetes.io/provisioned-by"] == "kubernetes.io/host-path"
      and .spec.capacity.storage == "1Gi" and (.spec.hostPath.path | startswith("/tmp/"))' >/dev/null \
    || fail "the volume $pv of vol-mysts-$n was not provisioned for it by kubernetes.io/host-path: $(kubectl get pv "$pv" -o json | jq -c '{a: .metadata.annotations, s: .spec}')"
done
# As typed: `kubectl get pvc` shows them Bound, 1Gi, RWO, STORAGECLASS local-path.
table=$(k get pvc)
got=$(awk 'NR == 1 { sub(/ACCESS MODES/, "ACCESS_MODES"); for (i = 1; i <= NF; i++) col[$i] = i; next }
           { print $col["NAME"], $col["STATUS"], $col["CAPACITY"], $col["ACCESS_MODES"], $col["STORAGECLASS"] }' <<<"$table")
[ "$got" = "vol-mysts-0 Bound 1Gi RWO local-path
vol-mysts-1 Bound 1Gi RWO local-path
vol-mysts-2 Bound 1Gi RWO local-path" ] || fail "kubectl get pvc shows
$table"
[ "$(kget pvc | jq '.items | length')" = 3 ] || fail "expected exactly 3 claims: $(kget pvc | jq -r '[.items[].metadata.name] | join(" ")')"
claims_before=$(sts_audit_writes create persistentvolumeclaims | tr '\n' ' ')
[ "$claims_before" = "vol-mysts-0 vol-mysts-1 vol-mysts-2 " ] || fail "claims created: $claims_before"
first_create() {   # completion time of the first create of RESOURCE NAME by kubus
  _sts_audit | jq -r --arg n "$NS" --arg r "$1" --arg o "$2" 'select(.verb == "create" and .objectRef.namespace == $n
      and .objectRef.resource == $r and .objectRef.name == $o and .stage == "ResponseComplete"
      and .responseStatus.code == 201) | .stageTimestamp' | sort | head -1
}
for n in 0 1 2; do
  c=$(first_create persistentvolumeclaims "vol-mysts-$n")
  p=$(first_create pods "mysts-$n")
  [ -n "$c" ] && [[ "$c" < "$p" ]] || fail "vol-mysts-$n ($c) was not created before mysts-$n ($p)"
done
wait_until 30 '[ "$(sts_status)" = "3 3 3 3 3" ]' "status 3/3/3/3/3 (is: $(sts_status))"
[ "$(kjq .status.currentRevision sts mysts)" = "$rev" ] || fail "currentRevision differs from updateRevision"
pass "claims vol-mysts-0..2 Bound to volumes provisioned with class local-path, one per pod, each mounted by its pod; status 3 ready/current/updated/available"

wait_until 30 '[ "$(kget events --field-selector involvedObject.name=mysts,reason=SuccessfulCreate | jq "[.items[].message] | map(select(. == \"Create Pod mysts-2 in StatefulSet mysts successful\" or . == \"Create Claim vol-mysts-2 Pod mysts-2 in StatefulSet mysts success\")) | length")" = 2 ]' \
  "SuccessfulCreate events for pod mysts-2 and claim vol-mysts-2"
pass "events: SuccessfulCreate 'Create Claim vol-mysts-N Pod mysts-N in StatefulSet mysts success' and 'Create Pod mysts-N ...'"

# ---- 3. delete mysts-1: back with the same name and claim -------------------------
old_uid=$(pod_json mysts-1 | jq -r .metadata.uid)
claim_uid=$(kjq .metadata.uid pvc vol-mysts-1)
k delete pod mysts-1 --wait=false >/dev/null
wait_until 60 'pod_json mysts-1 | jq -e --arg old "$old_uid" ".metadata.uid != \$old and .metadata.deletionTimestamp == null and .status.phase == \"Running\" and any(.status.conditions[]?; .type == \"Ready\" and .status == \"True\")" >/dev/null' \
  "a new, ready mysts-1"
pod_json mysts-1 | jq -e '[.spec.volumes[] | select(.persistentVolumeClaim.claimName == "vol-mysts-1")] | length == 1' >/dev/null \
  || fail "the new mysts-1 does not mount vol-mysts-1"
[ "$(kjq .metadata.uid pvc vol-mysts-1)" = "$claim_uid" ] || fail "vol-mysts-1 was replaced; it should be the same claim"
[ "$(existing)" = "mysts-0,mysts-1,mysts-2" ] || fail "pods after the re-creation: $(existing)"
pass "delete mysts-1: a new mysts-1 came back with the same claim vol-mysts-1"

# ---- 4. scale to 0: 2, 1, 0, one at a time; claims stay ---------------------------
k scale sts mysts --replicas=0 >/dev/null
prefix_ok=0
check_prefix() {   # the existing pods are always mysts-0..k (a prefix): never a hole
  case "$(existing)" in
    "" | mysts-0 | mysts-0,mysts-1 | mysts-0,mysts-1,mysts-2) ;;
    *) prefix_ok=$((prefix_ok + 1)); info "not a prefix: $(existing)" ;;
  esac
  [ -z "$(existing)" ]
}
wait_until 90 'check_prefix' "all pods gone after scaling to 0"
[ "$prefix_ok" = 0 ] || fail "scale-down deleted pods out of order ($prefix_ok samples with a hole)"
deletes=$(sts_audit_writes delete pods | tail -3 | tr '\n' ' ')
[ "$deletes" = "mysts-2 mysts-1 mysts-0 " ] || fail "kubus deleted pods in order '$deletes', expected 2 1 0"
# each delete was issued only after the higher pod had left storage
gone=$(sts_audit_kwok_deletes)
for n in 1 0; do
  issued=$(_sts_audit | jq -r --arg n "$NS" --arg p "mysts-$n" 'select(.verb == "delete" and .objectRef.namespace == $n
      and .objectRef.name == $p and .stage == "ResponseComplete" and (.userAgent // "" | test("/statefulset$"))) | .stageTimestamp' | sort | tail -1)
  left=$(awk -F'\t' -v p="mysts-$((n + 1))" '$2 == p {t = $1} END {print t}' <<<"$gone")
  [ -n "$left" ] && [[ "$issued" > "$left" ]] || fail "mysts-$n was deleted at $issued, before mysts-$((n + 1)) was gone ($left)"
done
[ "$(kget pvc | jq -r '[.items[] | select(.metadata.deletionTimestamp == null) | .metadata.name] | sort | join(" ")')" = "vol-mysts-0 vol-mysts-1 vol-mysts-2" ] \
  || fail "the claims did not stay: $(kget pvc | jq -r '[.items[].metadata.name] | join(" ")')"
wait_until 30 '[ "$(sts_status)" = "0 0 0 0 0" ]' "status 0 replicas (is: $(sts_status))"
pass "scale to 0: deleted mysts-2, mysts-1, mysts-0 in turn, each after the higher one was gone; claims kept"

# ---- 5. delete sts, svc, claims --------------------------------------------------------
k delete sts mysts >/dev/null
k delete svc mysts >/dev/null
k delete pvc --all --wait=false >/dev/null
wait_until 60 '[ "$(kget sts,pvc,controllerrevisions | jq ".items | length")" = 0 ]' "sts, claims and revisions gone"
# The provisioned volumes go with their claims (reclaim policy Delete of local-path).
ns_pvs() { kubectl get pv -o json | jq -r --arg ns "$NS" '[.items[] | select(.spec.claimRef.namespace == $ns) | .metadata.name] | join(" ")'; }
wait_until 60 '[ -z "$(ns_pvs)" ]' "the provisioned volumes deleted (left: $(ns_pvs))"
pass "delete sts/svc/pvc: everything gone (revisions by the garbage collector, volumes by their reclaim policy)"
