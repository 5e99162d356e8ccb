# shellcheck shell=bash
# Sourced by tests/e2e/executor_*.sh (after tests/e2e/lib.sh): a private
# broker and executor for one test, and kubus-act to talk to them.
#   exec_up [executor flags...]   start kubus-broker, then kubus-executor
#   exec_start [flags...]         (re)start only the executor
#   exec_kill                     SIGKILL the executor (no clean exit)
#   exec_epoch                    the running executor's epoch, from its log
#   act [kubus-act flags...]      kubus-act on this bus as controller "deployment"
# Everything is stopped when the test exits; logs stay in $EXEC_DIR when the
# test failed (or KUBUS_KEEP_LOGS=1), and are removed when it passed.

EXEC_DIR=$(mktemp -d /tmp/kubus-exec-e2e.XXXXXX)
EXEC_BUS="$EXEC_DIR/bus"
EXEC_PID=
BROKER_PID=
EXEC_STARTS=0

_exec_stop_all() {
  local p
  for p in "$EXEC_PID" "$BROKER_PID"; do
    [ -n "$p" ] || continue
    kill -TERM "$p" 2>/dev/null || true
  done
  for p in "$EXEC_PID" "$BROKER_PID"; do
    [ -n "$p" ] || continue
    for _ in $(seq 1 25); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if [ "${_exec_rc:-1}" = 0 ] && [ -z "${KUBUS_KEEP_LOGS:-}" ]; then
    rm -rf "$EXEC_DIR"
  else
    echo "executor test logs: $EXEC_DIR" >&2
  fi
}
# Learn the test's exit status before lib.sh's exit actions run.
trap '_exec_rc=$?; _kubus_run_exit_actions' EXIT

exec_start() {
  EXEC_STARTS=$((EXEC_STARTS + 1))
  "$KUBUS_BIN/kubus-executor" --bus-dir="$EXEC_BUS" --kubeconfig="$KUBECONFIG" \
    --generation="$EXEC_STARTS" -v=2 "$@" >>"$EXEC_DIR/executor.log" 2>&1 &
  EXEC_PID=$!
  wait_until 10 "grep -q 'executor ready' '$EXEC_DIR/executor.log' && [ \$(grep -c 'executor ready' '$EXEC_DIR/executor.log') -ge $EXEC_STARTS ]" \
    "kubus-executor start-up"
}

exec_up() {
  "$KUBUS_BIN/kubus-broker" --bus-dir="$EXEC_BUS" -v=1 >"$EXEC_DIR/broker.log" 2>&1 &
  BROKER_PID=$!
  on_exit _exec_stop_all
  wait_until 10 "[ -S '$EXEC_BUS/exec.sock' ]" "kubus-broker start-up"
  exec_start "$@"
}

exec_kill() {
  kill -KILL "$EXEC_PID" 2>/dev/null || true
  wait "$EXEC_PID" 2>/dev/null || true
  EXEC_PID=
}

exec_epoch() { grep 'executor ready' "$EXEC_DIR/executor.log" | tail -n 1 | sed -n 's/.*epoch="\([0-9a-f]*\)".*/\1/p'; }

# As "deployment" (its role may create, update, patch, get and delete
# ReplicaSets; executor/policy.c), or $ACT_CONTROLLER.
act() { "$KUBUS_BIN/kubus-act" --bus-dir="$EXEC_BUS" --controller="${ACT_CONTROLLER:-deployment}" "$@"; }

# exec_owner NAME: a ConfigMap in $NS to own the test's ReplicaSets; prints its
# uid. A real owner, so that a garbage collector (kubus's may be running on a
# shared cluster) has no reason to delete what the test creates.
exec_owner() {
  kubectl create configmap -n "$NS" "$1" >/dev/null || fail "cannot create owner $1"
  kubectl get configmap -n "$NS" "$1" -o jsonpath='{.metadata.uid}'
}

# A ReplicaSet body named $1 in $NS whose controller owner (ConfigMap "owner")
# has uid $2. (No replicaset controller runs in the reference cluster.)
_RS_BODY='def rs($n; $ns; $uid): {
    apiVersion: "apps/v1", kind: "ReplicaSet",
    metadata: {name: $n, namespace: $ns, generateName: "e2e-", labels: {app: "e2e"},
               ownerReferences: [{apiVersion: "v1", kind: "ConfigMap", name: "owner",
                                  uid: $uid, controller: true, blockOwnerDeletion: true}]},
    spec: {replicas: 0, selector: {matchLabels: {app: "e2e", rs: $n}},
           template: {metadata: {labels: {app: "e2e", rs: $n}},
                      spec: {containers: [{name: "c", image: "registry.k8s.io/pause:3.9"}]}}}};
  def create($n; $ns; $uid): {verb: "CREATE", resource: "replicasets", namespace: $ns, name: $n,
                              body: rs($n; $ns; $uid), owner_key: ($ns + "/owner")};'

rs_body() { jq -cn --arg n "$1" --arg ns "$NS" --arg uid "$2" "$_RS_BODY rs(\$n; \$ns; \$uid)"; }

# act_create NAME OWNER_UID: one CREATE action line.
act_create() { jq -cn --arg n "$1" --arg ns "$NS" --arg uid "$2" "$_RS_BODY create(\$n; \$ns; \$uid)"; }

# act_creates PREFIX COUNT OWNER_UID: COUNT CREATE lines, PREFIX-001..., in one jq run.
act_creates() {
  jq -cn --arg p "$1" --argjson n "$2" --arg ns "$NS" --arg uid "$3" \
    "$_RS_BODY range(1; \$n + 1) | create(\$p + \"-\" + (tostring | (\"000\" + .)[-3:]); \$ns; \$uid)"
}
