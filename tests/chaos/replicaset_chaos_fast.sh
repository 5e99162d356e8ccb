#!/usr/bin/env bash
# Chaos, fast: the scenario of issue 11 (a ReplicaSet that stalled after its
# workers were killed, in 2 of 3 runs). kubus runs with --kube-api-qps=200
# --kube-api-burst=400; a ReplicaSet "fast" at 2 Ready replicas is scaled to
# 50, 120 and 200, 4 s apart, while a random kubus worker (broker, informer,
# executor, replicaset, garbagecollector) is SIGKILLed every
# KUBUS_CHAOS_PERIOD (default 0.5) seconds for KUBUS_CHAOS_SECS (default 12)
# seconds from the first scale. Before the fixes the set stayed at 5 pods
# for 90 s: creates whose answer was lost (or that a restarted replicaset
# recovered from the executor's InflightReport) kept their expectations, and
# the owner waited for their 5-minute expiry.
# Asserted:
#   - kills happened: at least half of SECS / PERIOD (a worker that is still
#     restarting has no pid to kill, so that draw is skipped);
#   - within 10 s of the last kill: 200 pods, none being deleted, all Ready,
#     and status replicas = fullyLabeledReplicas = readyReplicas =
#     availableReplicas = 200 at the current generation; nothing moves for
#     5 s after;
#   - no pod without a controller owner;
#   - from the API server's audit log: exactly 200 pods made (2 before the
#     kills, 198 after): surplus 0. A create whose answer was lost is re-sent
#     under its name (409 AlreadyExists: made once), never made twice.
# Kills per victim, time to converge and the counts go to
# $KUBUS_BUILD/chaos/replicaset-fast.txt. On a cluster started with
# KUBUS_UPSTREAM=all the same run is made against upstream's controllers
# without kills (the yardstick).
. "$(dirname "$0")/../e2e/lib.sh"
. "$KUBUS_ROOT/tests/e2e/kubus.sh"

# On failure kubus_stop keeps (and names) kubus's log.
eval "_lib_$(declare -f fail)"
fail() { KUBUS_TEST_FAILED=1; _lib_fail "$@"; }

RS=fast
FIRST=2
STEPS=(50 120 200)
FINAL=200
STEP_MS=4000
CONVERGE_SECS=10
CHAOS_SECS=${KUBUS_CHAOS_SECS:-12}
CHAOS_PERIOD=${KUBUS_CHAOS_PERIOD:-0.5}
results=${KUBUS_BUILD:-$KUBUS_ROOT/build}/chaos
mkdir -p "$results"
CHAOS_WORK=$(mktemp -d /tmp/kubus-rs-fast-chaos.XXXXXX)
on_exit "rm -rf '$CHAOS_WORK'"
. "$(dirname "$0")/_chaos.sh"

kns_new chaos-rsfast
# shellcheck disable=SC2086
chaos_kubus_start --controllers=replicaset,garbagecollector --kube-api-qps=200 --kube-api-burst=400 \
  ${KUBUS_E2E_FLAGS:-}

now_ms() { echo $(($(date +%s%N) / 1000000)); }
sleep_until_ms() {   # MS: sleeps until the clock reads MS (returns at once if past)
  local left=$(($1 - $(now_ms)))
  ((left <= 0)) || sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
}

# One list call each (curl, not kubectl: a poll must cost little CPU so
# that the 10 s budget is not spent polling). "<live> <ready>" of the pods.
pods_state() {
  api_get "/api/v1/namespaces/$NS/pods?labelSelector=app%3D$RS" 2>/dev/null | jq -r '
    [.items[] | select(.metadata.deletionTimestamp == null)] |
    "\(length) \([.[] | select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))] | length)"' ||
    true
}
status_ok() {   # N: spec and status say N throughout, at the current generation
  api_get "/apis/apps/v1/namespaces/$NS/replicasets/$RS" 2>/dev/null | jq -e --argjson n "$1" '
    [.spec.replicas, .status.replicas, .status.fullyLabeledReplicas, .status.readyReplicas,
     .status.availableReplicas] == [$n, $n, $n, $n, $n]
    and .status.observedGeneration == .metadata.generation' >/dev/null 2>&1
}
settled_at() { [ "$(pods_state)" = "$1 $1" ] && status_ok "$1"; }
converged_ok() { settled_at $FINAL; }

api_get "/apis/apps/v1/namespaces/$NS/replicasets" | jq -e .items >/dev/null || fail "cannot read the API with curl"

k apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: $RS}
spec:
  replicas: $FIRST
  selector: {matchLabels: {app: $RS}}
  template:
    metadata: {labels: {app: $RS}}
    spec:
      terminationGracePeriodSeconds: 0
      containers: [{name: c, image: nginx}]
YAML
wait_until 60 "settled_at $FIRST" "$FIRST Ready pods and a matching status before the kills"

# ---- the scaling, under the kills ----------------------------------------------------
start_ms=$(now_ms)
chaos_start --period="$CHAOS_PERIOD" broker informer executor replicaset garbagecollector
info "killing a random worker every ${CHAOS_PERIOD}s for ${CHAOS_SECS}s; scaling to ${STEPS[*]}, $((STEP_MS / 1000)) s apart"
for i in "${!STEPS[@]}"; do
  sleep_until_ms $((start_ms + i * STEP_MS))
  k scale rs "$RS" --replicas="${STEPS[$i]}" >/dev/null
  info "scaled to ${STEPS[$i]}"
done
sleep_until_ms $((start_ms + CHAOS_SECS * 1000))
chaos_stop
chaos_end_ms=$(now_ms)
n_kills=$(chaos_kill_count)
info "kills stopped after $n_kills kills; waiting for convergence"

wait_until $CONVERGE_SECS converged_ok \
  "$FINAL pods Ready and status $FINAL/$FINAL/$FINAL/$FINAL within ${CONVERGE_SECS}s of the last kill"
converged_ms=$(($(now_ms) - chaos_end_ms))
converged="$((converged_ms / 1000)).$((converged_ms % 1000 / 100))"
info "converged ${converged}s after the last kill"

# ---- checks ---------------------------------------------------------------------------
orphans=$(kget pods | jq '[.items[] | select(.metadata.deletionTimestamp == null)
  | select([.metadata.ownerReferences[]? | select(.controller == true)] | length == 0)] | length')
made_before=$(audit_made "^$RS-[a-z0-9]{5}\$")
never_within 5 '! converged_ok' "the ReplicaSet left its converged state"
made=$(audit_made "^$RS-[a-z0-9]{5}\$")
surplus=$((made - FINAL))
create_409=$(audit_ns | jq -c 'select(.verb == "create" and .res == "pods" and .code == 409)' | grep -c . || true)
create_504=$(audit_ns | jq -c 'select(.verb == "create" and .res == "pods" and .code == 504)' | grep -c . || true)
min_kills=$(awk -v s="$CHAOS_SECS" -v p="$CHAOS_PERIOD" 'BEGIN { printf "%d", s / p / 2 }')

{
  echo "replicaset fast chaos [$(chaos_side)]: qps=200 burst=400 period=${CHAOS_PERIOD}s kills=$n_kills chaos=${CHAOS_SECS}s converge_after_last_kill=${converged}s"
  echo "replicaset fast chaos [$(chaos_side)]: pods_created=$made needed=$FINAL surplus=$surplus create_409=$create_409 create_504=$create_504 orphans=$orphans"
  chaos_kills_by_victim "replicaset fast chaos"
} | tee "$results/replicaset-fast.txt"

if ((CHAOS_UPSTREAM == 0)); then
  ((n_kills >= min_kills)) || fail "only $n_kills kills in ${CHAOS_SECS}s at one per ${CHAOS_PERIOD}s (want at least $min_kills)"
fi
[ "$orphans" = 0 ] || fail "$orphans pods without a controller owner"
[ "$made" = "$made_before" ] || fail "pods were still being created after convergence ($made_before, then $made)"
((made >= FINAL)) || fail "the audit log shows only $made pods made; $FINAL were needed"
[ "$surplus" = 0 ] || fail "$surplus surplus pods were created (a create made twice after a lost answer or a restart)"
pass "$FINAL Ready with a matching status ${converged}s after the last of $n_kills kills (one per ${CHAOS_PERIOD}s); $made pods made, no surplus"
