#!/usr/bin/env bash
# Chaos for the Job controller: two Jobs run while a random kubus worker
# (broker, informer, executor, job, garbagecollector) is SIGKILLed every
# second for KUBUS_CHAOS_SECS (default 40) seconds:
#   - train: completions 30, parallelism 10 (image example/train: the fake
#     kubelet completes each pod ~3 s after it is Ready);
#   - crash: one pod at a time whose container fails (arg bug-string),
#     backoffLimit 2 (retries after the 10 s and 20 s pod-failure back-off).
# A background watcher samples train's pods every ~0.5 s (one list call:
# one consistent state) and records its active (not finished, not being
# deleted) and Succeeded pods.
# Asserted, within 90 s of the last kill:
#   - train Complete, status succeeded 30, failed 0, active 0, nothing left
#     uncounted, exactly 30 of its pods Succeeded (none ran twice);
#   - crash Failed (BackoffLimitExceeded), failed 3, and exactly 3 pods ever
#     created (the API server's audit log);
#   - no pod of either Job keeps the batch.kubernetes.io/job-tracking
#     finalizer, and nothing moves for 5 s after;
#   - no sample had more than 10 active pods of train, or active + Succeeded
#     above 30: a create for a gap that was already filled (a restart sending
#     the same create again under a new name) would show there;
#   - the pods train made beyond 30 (audit log), "surplus", are reported and
#     must be 0. Upstream sizes its creates as min(parallelism, completions -
#     succeeded) - active from its informer cache and its expectations, so
#     without a double create it never makes a pod it then has to delete; a
#     surplus pod is therefore a double create, and every surplus pod is
#     listed with its fate (deleted by kubus-job, Succeeded ...) as evidence.
# Kills per victim, time to converge and surplus go to
# $KUBUS_BUILD/chaos/job.txt. On a cluster started with KUBUS_UPSTREAM=all
# the same run is made against upstream's controllers without kills (the
# yardstick).
. "$(dirname "$0")/../e2e/lib.sh"
. "$KUBUS_ROOT/tests/e2e/kubus.sh"

# On failure kubus_stop keeps (and names) kubus's log.
eval "_lib_$(declare -f fail)"
fail() { KUBUS_TEST_FAILED=1; _lib_fail "$@"; }

COMPLETIONS=30
PARALLELISM=10
CHAOS_SECS=${KUBUS_CHAOS_SECS:-40}
results=${KUBUS_BUILD:-$KUBUS_ROOT/build}/chaos
mkdir -p "$results"
CHAOS_WORK=$(mktemp -d /tmp/kubus-job-chaos.XXXXXX)
on_exit "rm -rf '$CHAOS_WORK'"
. "$(dirname "$0")/_chaos.sh"

kns_new chaos-job
# shellcheck disable=SC2086
chaos_kubus_start --controllers=job,garbagecollector ${KUBUS_E2E_FLAGS:-}

job_yaml() {   # NAME COMPLETIONS PARALLELISM BACKOFF ARG
  cat <<YAML
---
apiVersion: batch/v1
kind: Job
metadata: {name: $1}
spec:
  completions: $2
  parallelism: $3
  backoffLimit: $4
  template:
    spec:
      terminationGracePeriodSeconds: 0
      restartPolicy: Never
      containers:
      - name: ml
        image: example/train
        args: ['$5', 'softmax', '0.5']
YAML
}

# ---- the watcher --------------------------------------------------------------
# "<unix time> <active> <succeeded>" for train's pods, every ~0.5 s.
samples=$CHAOS_WORK/samples
stopfile=$CHAOS_WORK/stop
watcher() {
  local t_ms
  while [ ! -e "$stopfile" ]; do
    t_ms=$(($(date +%s%N) / 1000000))
    api_get "/api/v1/namespaces/$NS/pods?labelSelector=job-name%3Dtrain" 2>/dev/null | jq -r --arg t "$(date +%s.%N | cut -c1-14)" '
      [.items[] | select(.metadata.deletionTimestamp == null)] as $p |
      "\($t) \([$p[] | select(.status.phase != "Succeeded" and .status.phase != "Failed")] | length) \([$p[] | select(.status.phase == "Succeeded")] | length)"' >>"$samples" || true
    t_ms=$((500 - ($(date +%s%N) / 1000000 - t_ms)))
    ((t_ms <= 0)) || sleep "0.$(printf '%03d' "$t_ms")"
  done
}
: >"$samples"
api_get "/api/v1/namespaces/$NS/pods" | jq -e .items >/dev/null || fail "cannot list pods for the watcher"
watcher &
watcher_pid=$!
on_exit "touch '$stopfile'; kill $watcher_pid 2>/dev/null"
wait_until 30 '[ -s "$samples" ]' "the first sample"

# ---- both Jobs, under chaos -------------------------------------------------------
start=$(date +%s)
{ job_yaml train $COMPLETIONS $PARALLELISM 6 3; job_yaml crash 1 1 2 bug-string; } | k apply -f - >/dev/null
chaos_start broker informer executor job garbagecollector
info "train and crash created; killing a random worker every second for ${CHAOS_SECS}s"
sleep "$CHAOS_SECS"
chaos_stop
chaos_end=$(date +%s)
n_kills=$(chaos_kill_count)
info "kills stopped after $n_kills kills; waiting for convergence"

cond_of() {   # JOB TYPE -> "status reason" of that condition
  kjq "[.status.conditions[]? | select(.type == \"$2\") | \"\(.status) \(.reason)\"][0] // \"\"" job "$1"
}
tracked_pods() {
  kget pods | jq -r '[.items[] | select(any(.metadata.finalizers[]?; . == "batch.kubernetes.io/job-tracking")) | .metadata.name] | join(" ")'
}
finished() {
  [[ "$(cond_of train Complete 2>/dev/null)" == True* ]] || return 1
  [ "$(cond_of crash Failed 2>/dev/null)" = "True BackoffLimitExceeded" ] || return 1
  [ -z "$(tracked_pods 2>/dev/null || echo x)" ]
}
wait_until 90 finished "train Complete, crash Failed (BackoffLimitExceeded), no pod with the tracking finalizer, within 90 s of the last kill"
converged=$(($(date +%s) - chaos_end))
info "converged ${converged}s after the last kill"
sleep 2
touch "$stopfile"
wait "$watcher_pid" 2>/dev/null || true

# ---- checks ---------------------------------------------------------------------
train_status=$(kget job train | jq -c '{s: (.status.succeeded // 0), f: (.status.failed // 0), a: (.status.active // 0),
  u: ((.status.uncountedTerminatedPods.succeeded // []) + (.status.uncountedTerminatedPods.failed // []) | length),
  r: (.status.ready // 0)}')
[ "$train_status" = '{"s":30,"f":0,"a":0,"u":0,"r":0}' ] || fail "train status: $train_status (want succeeded 30, failed 0, active 0, nothing uncounted, ready 0)"
crash_failed=$(kjq '.status.failed // 0' job crash)
[ "$crash_failed" = 3 ] || fail "crash status.failed $crash_failed, want 3"
succeeded_pods=$(kget pods -l job-name=train | jq '[.items[] | select(.status.phase == "Succeeded")] | length')
[ "$succeeded_pods" = $COMPLETIONS ] || fail "$succeeded_pods pods of train Succeeded, want exactly $COMPLETIONS"

made_before=$(audit_made '^(train|crash)-')
never_within 5 '[ -n "$(tracked_pods)" ] || ! finished' "a Job left its finished state after convergence"
[ "$(audit_made '^(train|crash)-')" = "$made_before" ] || fail "pods were still being created after convergence"

crash_made=$(audit_made '^crash-[a-z0-9]{5}$')
train_made=$(audit_made '^train-[a-z0-9]{5}$')
surplus=$((train_made - COMPLETIONS))
create_409=$(audit_count create pods "$NS" 409)
create_504=$(audit_count create pods "$NS" 504)

n_samples=$(grep -c . "$samples" || true)
over_par=$(awk -v p=$PARALLELISM '$2 > p' "$samples")
over_comp=$(awk -v c=$COMPLETIONS '$2 + $3 > c' "$samples")
extremes=$(awk '{if ($2 > ma) ma = $2; if ($2 + $3 > mt) mt = $2 + $3} END {printf "max active %d, max active+succeeded %d", ma, mt}' "$samples")

# The fate of every train pod beyond the first 30 made, in creation order:
# "name created-at fate", fate = Succeeded / Failed / deleted-by-<agent> / ...
fates=""
if ((surplus > 0)); then
  fates=$(audit_ns | jq -r -s '
    [.[] | select((.res | startswith("pods")) and (.name | test("^train-")))] | group_by(.name) |
    map({name: .[0].name,
         t: ([.[] | select(.verb == "create" and .code < 300)][0].t // .[0].t),
         del: ([.[] | select(.verb == "delete" and .code < 300) | .ua | split("/") | last][0] // "")}) |
    sort_by(.t) | .[] | "\(.name) \(.t) \(if .del != "" then "deleted-by-" + .del else "kept" end)"')
  phases=$(kget pods -l job-name=train | jq -r '.items[] | "\(.metadata.name) \(.status.phase)"')
  fates=$(awk 'NR == FNR {ph[$1] = $2; next} {print $0, ($1 in ph ? ph[$1] : "gone")}' <(echo "$phases") <(echo "$fates") | tail -n "$surplus")
fi

{
  echo "job chaos [$(chaos_side)]: kills=$n_kills chaos=$((chaos_end - start))s converge_after_last_kill=${converged}s"
  echo "job chaos [$(chaos_side)]: train pods_created=$train_made minimum=$COMPLETIONS surplus=$surplus create_409=$create_409 create_504=$create_504; crash pods_created=$crash_made (want 3)"
  echo "job chaos [$(chaos_side)]: samples=$n_samples $extremes"
  chaos_kills_by_victim "job chaos"
  [ -z "$fates" ] || sed 's/^/job chaos: surplus pod /' <<<"$fates"
} | tee "$results/job.txt"
cp "$samples" "$results/job-samples.txt"

((n_samples >= 20)) || fail "the watcher took only $n_samples samples"
[ -z "$over_par" ] || fail "more than $PARALLELISM active pods of train in samples: $(head -n 5 <<<"$over_par" | tr '\n' ';')"
[ -z "$over_comp" ] || fail "active + Succeeded pods of train above $COMPLETIONS in samples: $(head -n 5 <<<"$over_comp" | tr '\n' ';')"
[ "$crash_made" = 3 ] || fail "crash: $crash_made pods created, want exactly 3 (backoffLimit 2)"
((train_made >= COMPLETIONS)) || fail "the audit log shows only $train_made pod creates for train; at least $COMPLETIONS were needed"
[ "$surplus" = 0 ] || fail "train: $surplus surplus pods (a double create after a restart): $(tr '\n' ';' <<<"$fates")"
pass "train Complete (30/30) and crash Failed (3 pods) after $n_kills kills, ${converged}s after the last kill; $extremes; no surplus pods"
