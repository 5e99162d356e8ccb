#!/usr/bin/env bash
# The image in the cluster, as a pod would run it: `make image`'s image under
# podman (runc, --network=host, read-only root, uid 65532, no capabilities, a
# tmpfs for the bus), with only in-cluster credentials: a ServiceAccount
# token (`kubectl create token`), the cluster CA and the namespace mounted at
# /var/run/secrets/kubernetes.io/serviceaccount, KUBERNETES_SERVICE_HOST/PORT,
# no kubeconfig. The ServiceAccounts hold deploy/rbac's ClusterRoles only.
#   A. one container (shard 0 of 1, SA kubus): the tutorial's ReplicaSet
#      section (2 pods, scale 4, a deleted pod replaced, cascading delete) and
#      Deployment section (10/10, set image, rollout status, undo, delete),
#      a StatefulSet with claims (3 Ready pods, 3 Bound claims), a Job
#      Complete; no request of the SA got 403 (audit log).
#   B. two shards with leader election (Leases kubus-shard-I-of-2): shard 0
#      one container (SA kubus-shard-0), shard 1 a leader and a standby (SA
#      kubus-shard-1). Across 20 namespaces with a ReplicaSet each, every
#      namespace's pods are created by exactly one shard's identity and both
#      shards serve some. SIGKILL of shard 1's leader while the ReplicaSets
#      scale 3 -> 5: the standby takes over; SIGKILL of shard 0's only
#      supervisor while they scale 5 -> 2, then a new container: everything
#      converges with exactly 5 pods made and 3 deleted per namespace (nothing
#      lost, nothing done twice), and still no 403.
# Exits 77 only when podman cannot run a container on this machine.
. "$(dirname "$0")/lib.sh"
. "$KUBUS_ROOT/tests/e2e/kubus.sh"
. "$KUBUS_ROOT/tests/e2e/_statefulset.sh"

export CONTAINERS_CONF=$KUBUS_ROOT/tests/e2e/podman/containers.conf
command -v podman >/dev/null 2>&1 || skip "podman is not installed (apt-get install -y podman runc)"
command -v runc >/dev/null 2>&1 || skip "runc is not installed (apt-get install -y runc)"

tmp=$(mktemp -d /tmp/kubus-image-e2e.XXXXXX)
chmod 0755 "$tmp"
on_exit "rm -rf '$tmp'"
prefix=kubus-e2e-$$
# On failure, the containers' last log lines first.
eval "lib_$(declare -f fail)"
fail() {
  local c
  for c in $(podman ps -a --format '{{.Names}}' 2>/dev/null | grep "^$prefix-" || true); do
    echo "--- podman logs $c (last 20 lines):" >&2
    podman logs --tail 20 "$c" >&2 2>&1 || true
  done
  lib_fail "$@"
}

# ---- the image (tools/image.sh: rebuilds only what changed) ----
if [ -n "${KUBUS_IMAGE_BUILD:-}" ]; then ibuild=$KUBUS_IMAGE_BUILD
elif [ -x "$KUBUS_ROOT/build/bin/kubus-controller-manager" ]; then ibuild=$KUBUS_ROOT/build
else ibuild=$(dirname "$KUBUS_BIN"); fi
bash "$KUBUS_ROOT/tools/image.sh" "$ibuild" >"$tmp/image.out" 2>&1 ||
  fail "tools/image.sh $ibuild failed: $(tail -n 5 "$tmp/image.out")"
image=$(awk '/^image: localhost\/kubus:/ {print $2}' "$tmp/image.out")
[ -n "$image" ] || fail "tools/image.sh printed no image name: $(cat "$tmp/image.out")"
podman load -q -i "$ibuild/image/kubus-image.tar" >"$tmp/load.out" 2>&1 || skip "podman cannot load images here: $(cat "$tmp/load.out")"
if ! podman run --rm --pull=never --network=host --read-only "$image" --version >"$tmp/run.out" 2>&1; then
  skip "podman cannot run a container here: $(tail -n 3 "$tmp/run.out")"
fi
info "image $image ($(grep 'compressed size' "$tmp/image.out" | sed 's/^ *//'))"

api=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')
api_port=${api##*:}
[[ $api == https://127.0.0.1:* ]] || fail "the cluster's API server is not at https://127.0.0.1:PORT ($api)"
ca=$KUBUS_CLUSTER_DIR/pki/ca.crt
[ -s "$ca" ] || fail "no cluster CA at $ca"
openssl x509 -in "$KUBUS_CLUSTER_DIR/pki/apiserver.crt" -noout -ext subjectAltName 2>/dev/null | grep >/dev/null 'IP Address:127.0.0.1' ||
  fail "the API server's certificate is not valid for 127.0.0.1"

# ---- identities: deploy/'s namespace, ServiceAccount and RBAC ----
wait_until 90 '! kubectl get namespace kubus-system >/dev/null 2>&1' "an earlier kubus-system to be gone"
kubectl apply -f "$KUBUS_ROOT/deploy/namespace.yaml" -f "$KUBUS_ROOT/deploy/serviceaccount.yaml" >/dev/null ||
  fail "cannot create kubus-system and the kubus ServiceAccount"
kubectl apply -k "$KUBUS_ROOT/deploy/rbac" >/dev/null || fail "kubectl apply -k deploy/rbac failed"
on_exit "kubectl delete -k '$KUBUS_ROOT/deploy/rbac' --ignore-not-found --wait=false >/dev/null 2>&1"
on_exit "kubectl delete namespace kubus-system --ignore-not-found --wait=false >/dev/null 2>&1"
roles=$(kubectl get clusterrolebindings -o json | jq -r '.items[] | select(.metadata.name | startswith("kubus:")) | .roleRef.name')
[ "$(wc -w <<<"$roles")" = 9 ] || fail "expected 9 kubus: ClusterRoleBindings from deploy/rbac, got: $roles"
for s in 0 1; do
  kubectl -n kubus-system create serviceaccount "kubus-shard-$s" >/dev/null
  for r in $roles; do
    kubectl create clusterrolebinding "$prefix-$s-${r#kubus:}" --clusterrole="$r" \
      --serviceaccount="kubus-system:kubus-shard-$s" >/dev/null || fail "cannot bind $r to kubus-shard-$s"
    on_exit "kubectl delete clusterrolebinding '$prefix-$s-${r#kubus:}' --ignore-not-found >/dev/null 2>&1"
  done
  kubectl -n kubus-system create rolebinding "$prefix-$s-leader" --role=kubus:leader-election \
    --serviceaccount="kubus-system:kubus-shard-$s" >/dev/null || fail "cannot bind the leader-election Role"
done

# sa_dir SA: a ServiceAccount volume as the kubelet projects it (readable by 65532)
sa_dir() {
  local d=$tmp/sa-$1
  mkdir -p "$d"
  kubectl -n kubus-system create token "$1" --duration=2h >"$d/token" || fail "kubectl create token $1 failed"
  cp "$ca" "$d/ca.crt"
  printf kubus-system >"$d/namespace"
  chmod 0755 "$d"
  chmod 0644 "$d"/*
  echo "$d"
}

# run_kubus NAME SA INDEX COUNT: start a container, wait for /readyz; PORT_<NAME> set
run_kubus() {
  local name=$1 sa=$2 port
  port=$(kubus_free_port)
  printf -v "PORT_$name" '%s' "$port"
  podman rm -f -t 1 "$prefix-$name" >/dev/null 2>&1 || true
  podman run -d --name "$prefix-$name" --hostname "$prefix-$name" --pull=never --network=host \
    --read-only --tmpfs /run/kubus:rw,mode=0700,U --user 65532:65532 --cap-drop=ALL \
    --security-opt=no-new-privileges \
    -e KUBERNETES_SERVICE_HOST=127.0.0.1 -e KUBERNETES_SERVICE_PORT="$api_port" \
    -v "$(sa_dir "$sa"):/var/run/secrets/kubernetes.io/serviceaccount:ro" \
    "$image" --leader-elect --leader-elect-resource-namespace=kubus-system \
    --leader-elect-lease-duration=6s --leader-elect-renew-deadline=4s --leader-elect-retry-period=1s \
    --shard-index="$3" --shard-count="$4" --bus-dir=/run/kubus/bus \
    --bind-address=127.0.0.1 --port="$port" >/dev/null || fail "podman run $name failed"
  on_exit "podman rm -f -t 2 '$prefix-$name' >/dev/null 2>&1"
  wait_until 60 "curl -fsS 'http://127.0.0.1:$port/readyz' >/dev/null 2>&1" "container $name ready"
}
holder() { kubectl -n kubus-system get lease "$1" -o jsonpath='{.spec.holderIdentity}' 2>/dev/null || true; }
leads() { [[ $(holder "$2") == "$prefix-$1"_* ]]; }

# forbidden: "user verb resource" of every 403 answered to a kubus-system SA
forbidden() {
  cat "$KUBUS_CLUSTER_DIR"/logs/audit*.log 2>/dev/null | grep -F 'system:serviceaccount:kubus-system:' |
    jq -r 'select(.stage == "ResponseComplete" and .responseStatus.code == 403
                  and (.user.username | startswith("system:serviceaccount:kubus-system:")))
           | "\(.user.username) \(.verb) \(.objectRef.resource)/\(.objectRef.subresource // "")"' | sort | uniq -c
}
# creators NS: users that tried to create pods in NS (any answer)
creators() {
  cat "$KUBUS_CLUSTER_DIR"/logs/audit*.log | grep -F "\"$1\"" | jq -r --arg n "$1" '
    select(.verb == "create" and .objectRef.resource == "pods" and (.objectRef.subresource // "") == ""
           and .objectRef.namespace == $n and .stage == "ResponseComplete")
    | .user.username' | sort -u
}
# pods_made NS: pods of NS that came to exist, counted by the scheduler's
# bindings (a create whose client was SIGKILLed mid-request is answered 504
# in the log, yet the pod may exist)
pods_made() {
  cat "$KUBUS_CLUSTER_DIR"/logs/audit*.log | grep -F "\"$1\"" | jq -r --arg n "$1" '
    select(.verb == "create" and .objectRef.resource == "pods" and .objectRef.subresource == "binding"
           and .objectRef.namespace == $n and .stage == "ResponseComplete" and .responseStatus.code == 201)
    | .objectRef.name' | sort -u | wc -l
}
# pods_deleted NS: distinct pods of NS kubus's ServiceAccounts deleted (any
# answer: a delete cut off by SIGKILL is logged 504 though it happened)
pods_deleted() {
  cat "$KUBUS_CLUSTER_DIR"/logs/audit*.log | grep -F "\"$1\"" | jq -r --arg n "$1" '
    select(.verb == "delete" and .objectRef.resource == "pods" and (.objectRef.subresource // "") == ""
           and .objectRef.namespace == $n and .stage == "ResponseComplete"
           and (.user.username | startswith("system:serviceaccount:kubus-system:")))
    | .objectRef.name' | sort -u | wc -l
}

# ==== A. one container, the tutorial's flows ====
run_kubus solo kubus 0 1
wait_until 20 'leads solo kubus-shard-0-of-1' "container solo holds Lease kubus-shard-0-of-1"
podman exec "$prefix-solo" /usr/local/bin/kubus-controller-manager --version >/dev/null ||
  fail "podman exec in the container failed"
[ "$(podman inspect -f '{{.Config.User}}' "$prefix-solo")" = 65532:65532 ] || fail "container not running as 65532"
pass "A: $image runs in-cluster as 65532 (read-only root, no capabilities), holds Lease kubus-shard-0-of-1"

kns_new img-rs
k apply -f "$(tutorial_manifest myreplicaset.yaml)" >/dev/null
wait_until 60 '[ "$(pods_ready "$NS" run=nginx-rs)" = 2 ]' "myreplicaset 2 ready pods"
k scale rs myreplicaset --replicas=4 >/dev/null
wait_until 60 '[ "$(pods_ready "$NS" run=nginx-rs)" = 4 ]' "myreplicaset scaled to 4"
victim=$(pod_names "$NS" run=nginx-rs | head -n 1)
k delete pod "$victim" --wait=false >/dev/null
wait_until 60 '[ "$(pods_ready "$NS" run=nginx-rs)" = 4 ] && ! pod_names "$NS" run=nginx-rs | grep -x >/dev/null "$victim"' \
  "deleted pod $victim replaced"
[ "$(kjq '.status.readyReplicas' rs myreplicaset)" = 4 ] || fail "myreplicaset status.readyReplicas not 4"
k delete rs myreplicaset --wait=false >/dev/null
wait_until 60 '[ "$(kget pods -l run=nginx-rs | jq ".items | length")" = 0 ]' "myreplicaset's pods collected"
[ "$(creators "$NS")" = system:serviceaccount:kubus-system:kubus ] || fail "pods of $NS not created by the kubus SA: $(creators "$NS")"
pass "A: ReplicaSet section: 2 pods, scale 4, a deleted pod replaced, cascading delete; pods created by SA kubus"

kns_new img-deploy
k apply -f "$(tutorial_manifest mydeploy.yaml)" >/dev/null
wait_until 90 '[ "$(kjq ".status.availableReplicas // 0" deploy mydeploy)" = 10 ]' "mydeploy 10/10"
k set image deployment mydeploy nginx=nginx:1.9.1 >/dev/null
k rollout status deployment mydeploy --timeout=90s >/dev/null || fail "rollout of nginx:1.9.1 did not finish"
k rollout undo deployment mydeploy >/dev/null 2>&1
k rollout status deployment mydeploy --timeout=90s >/dev/null || fail "rollout undo did not finish"
[ "$(kjq '.spec.template.spec.containers[0].image' deploy mydeploy)" = nginx ] || fail "undo did not restore image nginx"
[ "$(kjq '.status.updatedReplicas // 0' deploy mydeploy)/$(kjq '.status.availableReplicas // 0' deploy mydeploy)" = 10/10 ] ||
  fail "after undo: not 10 updated and available"
k delete deploy mydeploy --wait=false >/dev/null
wait_until 90 '[ "$(kget rs,pods | jq ".items | length")" = 0 ]' "mydeploy's ReplicaSets and pods collected"
pass "A: Deployment section: 10/10, set image + rollout status, undo, cascading delete"

kns_new img-sts
sts_pvs vol-mysts-0 vol-mysts-1 vol-mysts-2
k apply -f "$(tutorial_manifest mysts.yaml)" >/dev/null
wait_until 120 '[ "$(pods_ready "$NS" run=nginx)" = 3 ]' "mysts 3 ready pods"
wait_until 60 '[ "$(kget pvc | jq "[.items[] | select(.status.phase == \"Bound\")] | length")" = 3 ]' "3 Bound claims"
k apply -f "$(tutorial_manifest job.yaml)" >/dev/null
wait_until 60 '[ "$(kjq "[.status.conditions[]? | select(.type == \"Complete\") | .status][0] // \"\"" job myjob)" = True ]' \
  "myjob Complete"
pass "A: StatefulSet with claims 3/3 Ready and Bound; Job myjob Complete"
info "memory of the solo container after A: $(podman stats --no-stream --format '{{.MemUsage}}' "$prefix-solo")"

bad=$(forbidden)
[ -z "$bad" ] || fail "requests of kubus's ServiceAccounts got 403: $bad"
n=$(cat "$KUBUS_CLUSTER_DIR"/logs/audit*.log | grep -cF '"system:serviceaccount:kubus-system:kubus"' || true)
[ "$n" -gt 50 ] || fail "the audit log has only $n records of SA kubus"
pass "A: no 403 in $n audited requests of SA kubus"
podman stop -t 10 "$prefix-solo" >/dev/null || fail "podman stop (SIGTERM) of solo failed"
[ "$(podman inspect -f '{{.State.ExitCode}}' "$prefix-solo")" = 0 ] || fail "solo did not exit 0 on SIGTERM"

# ==== B. two shards, leader election, SIGKILL ====
run_kubus s0 kubus-shard-0 0 2
run_kubus s1a kubus-shard-1 1 2
wait_until 20 'leads s0 kubus-shard-0-of-2 && leads s1a kubus-shard-1-of-2' "s0 and s1a lead their shards"
run_kubus s1b kubus-shard-1 1 2
never_within 3 '! leads s1a kubus-shard-1-of-2' "s1a keeps the lease while s1b stands by"
pass "B: shard 0 led by s0, shard 1 by s1a with s1b standing by"

nss=()
for i in $(seq -w 1 20); do
  ns=$prefix-$i
  nss+=("$ns")
  kubectl create namespace "$ns" >/dev/null
  on_exit "kubectl delete namespace '$ns' --wait=false --ignore-not-found >/dev/null 2>&1"
  kubectl -n "$ns" apply -f "$KUBUS_ROOT/tests/e2e/manifests/web-rs.yaml" >/dev/null
done
all_at() { local ns; for ns in "${nss[@]}"; do [ "$(pods_ready "$ns" app=web)" = "$1" ] || return 1; done; }
wait_until 120 'all_at 3' "20 ReplicaSets at 3 ready pods"
s0=0 s1=0
for ns in "${nss[@]}"; do
  c=$(creators "$ns")
  case $c in
    system:serviceaccount:kubus-system:kubus-shard-0) s0=$((s0 + 1)) ;;
    system:serviceaccount:kubus-system:kubus-shard-1) s1=$((s1 + 1)) ;;
    *) fail "namespace $ns: pods created by [$(echo $c)], not by exactly one shard" ;;
  esac
done
[ "$s0" -gt 0 ] && [ "$s1" -gt 0 ] || fail "one shard served nothing: shard 0 $s0, shard 1 $s1 namespaces"
pass "B: 20 namespaces, each served by exactly one shard (shard 0: $s0, shard 1: $s1)"

for ns in "${nss[@]}"; do kubectl -n "$ns" scale rs web --replicas=5 >/dev/null & done
podman kill --signal KILL "$prefix-s1a" >/dev/null || fail "SIGKILL of s1a failed"
wait
wait_until 30 'leads s1b kubus-shard-1-of-2' "s1b takes over shard 1"
wait_until 120 'all_at 5' "20 ReplicaSets at 5 after SIGKILL of shard 1's leader"
pass "B: SIGKILL of shard 1's leader during scale 3 -> 5: s1b took over, all at 5"

for ns in "${nss[@]}"; do kubectl -n "$ns" scale rs web --replicas=2 >/dev/null & done
podman kill --signal KILL "$prefix-s0" >/dev/null || fail "SIGKILL of s0 failed"
wait
run_kubus s0 kubus-shard-0 0 2
wait_until 30 'leads s0 kubus-shard-0-of-2' "the new s0 takes over shard 0"
wait_until 120 'all_at 2' "20 ReplicaSets at 2 after SIGKILL of shard 0's only supervisor"
never_within 5 '! all_at 2' "ReplicaSets stay at 2"
for ns in "${nss[@]}"; do
  c=$(pods_made "$ns") d=$(pods_deleted "$ns")
  [ "$c/$d" = 5/3 ] || fail "namespace $ns: $c pods made and $d deleted by kubus, expected 5 and 3"
  [ "$(wc -l <<<"$(creators "$ns")")" = 1 ] || fail "namespace $ns: pods created by two shards: $(creators "$ns")"
done
bad=$(forbidden)
[ -z "$bad" ] || fail "requests of kubus's ServiceAccounts got 403: $bad"
pass "B: SIGKILL of shard 0 during scale 5 -> 2 and a new container: all at 2, exactly 5 pods made and 3 deleted per namespace, one shard each, no 403"
