#!/usr/bin/env bash
# Chaos for the StatefulSet controller: a set "web" (OrderedReady, one claim
# per pod from volumeClaimTemplates, pre-bound hostPath PersistentVolumes) is
# scaled 0 -> 8 -> 3 -> 6 while a random kubus worker (broker, informer,
# executor, statefulset, garbagecollector) is SIGKILLed every second; each
# step waits (under the kills) until the set has that many pods; the kills
# stop then, or when KUBUS_CHAOS_SECS (default 30) have passed if later.
# A background watcher samples the set's pods every ~0.5 s (one list call:
# one consistent state). Asserted on every sample:
#   - no two pods with the same ordinal;
#   - no ordinal at or above the limit: 8 until the scale-down to 3 is done,
#     then 6;
#   - OrderedReady: the live pods are web-0..web-(k-1) with no gap, every one
#     but the highest is Ready, at most one pod is terminating and no live
#     pod has an ordinal above a terminating one (the next delete waits
#     until the previous pod is gone).
# Asserted at the end, within 60 s of the last kill: exactly web-0..web-5,
# all Ready, nothing terminating; status replicas = readyReplicas =
# currentReplicas = updatedReplicas = availableReplicas = 6 at the current
# generation, currentRevision = updateRevision; claims www-web-0..7 Bound,
# each created once. From the API server's audit log: every pod name was
# created (201) exactly as often as the scaling needs (web-0..2 and web-6..7
# once, web-3..5 twice: deleted by the scale-down, made again by the
# scale-up); a re-sent create is answered 409 AlreadyExists (the name is the
# identity), which is how a restarted worker finds its create was done, and
# is only counted. Nothing moves for 5 s after.
# Kills per victim, time to converge, creates go to
# $KUBUS_BUILD/chaos/statefulset.txt. On a cluster started with KUBUS_UPSTREAM=all
# the same run is made against upstream's controllers without kills (the
# yardstick).
. "$(dirname "$0")/../e2e/lib.sh"
. "$KUBUS_ROOT/tests/e2e/_statefulset.sh"
. "$KUBUS_ROOT/tests/e2e/kubus.sh"

eval "_lib_$(declare -f fail)"
fail() { KUBUS_TEST_FAILED=1; _lib_fail "$@"; }

CHAOS_SECS=${KUBUS_CHAOS_SECS:-30}
results=${KUBUS_BUILD:-$KUBUS_ROOT/build}/chaos
mkdir -p "$results"
CHAOS_WORK=$(mktemp -d /tmp/kubus-sts-chaos.XXXXXX)
on_exit "rm -rf '$CHAOS_WORK'"
. "$(dirname "$0")/_chaos.sh"

kns_new chaos-sts
sts_pvs www-web-{0..7}
# shellcheck disable=SC2086
chaos_kubus_start --controllers=statefulset,garbagecollector ${KUBUS_E2E_FLAGS:-}

k apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: 0
  podManagementPolicy: OrderedReady
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      # graceful deletes (the default 30 s): a pod stays terminating until
      # the fake kubelet removes it ~1 s later, so OrderedReady's "the next
      # delete waits until the previous pod is gone" is exercised
      containers:
      - name: nginx
        image: nginx
        volumeMounts: [{name: www, mountPath: /usr/share/nginx/html}]
  volumeClaimTemplates:
  - metadata: {name: www}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
YAML

# ---- the watcher ------------------------------------------------------------------
# "<unix time> <limit> <pods>", pods = comma-separated "<ordinal><state>"
# sorted by ordinal, state R (Ready), N (not Ready), T (terminating); "-" if none.
samples=$CHAOS_WORK/samples
stopfile=$CHAOS_WORK/stop
limitfile=$CHAOS_WORK/limit
echo 8 >"$limitfile"
watcher() {
  local t_ms
  while [ ! -e "$stopfile" ]; do
    t_ms=$(($(date +%s%N) / 1000000))
    api_get "/api/v1/namespaces/$NS/pods?labelSelector=app%3Dweb" 2>/dev/null |
      jq -r --arg t "$(date +%s.%N | cut -c1-14)" --arg lim "$(cat "$limitfile")" '
        [.items[] | {o: (.metadata.name | ltrimstr("web-") | tonumber),
                     s: (if .metadata.deletionTimestamp != null then "T"
                         elif any(.status.conditions[]?; .type == "Ready" and .status == "True") then "R"
                         else "N" end)}]
        | sort_by(.o) | "\($t) \($lim) \(if length == 0 then "-" else map("\(.o)\(.s)") | join(",") end)"' >>"$samples" || true
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

live_names() { pod_names "$NS" app=web | tr '\n' ' '; }
all_names() { kget pods -l app=web | jq -r '[.items[].metadata.name] | sort_by(ltrimstr("web-") | tonumber) | join(" ")'; }
want_names() { local i s=""; for ((i = 0; i < $1; i++)); do s+="web-$i "; done; echo "$s"; }
step() {
  local n=$1
  info "scale to $n under chaos"
  k scale sts web --replicas="$n" >/dev/null
  wait_until 120 "[ \"\$(all_names)\" = \"$(want_names "$n" | sed 's/ $//')\" ]" "exactly web-0..web-$((n - 1)) while workers are being killed"
}

start=$(date +%s)
chaos_start broker informer executor statefulset garbagecollector
step 8
step 3
echo 6 >"$limitfile"
step 6
steps_done=$(($(date +%s) - start))
# the kills go on for at least CHAOS_SECS in all: restarts on a converged set
# must not change anything
while (($(date +%s) < start + CHAOS_SECS)); do sleep 0.5; done
chaos_stop
chaos_end=$(date +%s)
n_kills=$(chaos_kill_count)
info "kills stopped after $n_kills kills ($((chaos_end - start))s); waiting for convergence"

status_ok() {
  kget sts web | jq -e '[.status.replicas, .status.readyReplicas, .status.currentReplicas, .status.updatedReplicas,
      .status.availableReplicas] == [6, 6, 6, 6, 6] and .status.observedGeneration == .metadata.generation
      and .status.currentRevision == .status.updateRevision' >/dev/null
}
converged_ok() {
  [ "$(all_names)" = "$(want_names 6 | sed 's/ $//')" ] && [ "$(pods_ready "$NS" app=web)" = 6 ] && status_ok
}
wait_until 60 converged_ok "web-0..5 Ready and status 6/6/6/6/6 within 60 s of the last kill"
converged=$(($(date +%s) - chaos_end))
info "converged ${converged}s after the last kill"
sleep 1
touch "$stopfile"
wait "$watcher_pid" 2>/dev/null || true

# ---- checks -----------------------------------------------------------------------
never_within 5 '! converged_ok' "the set left its converged state"

claims=$(kget pvc | jq -r '[.items[] | "\(.metadata.name):\(.status.phase)"] | sort | join(" ")')
[ "$claims" = "$(for i in {0..7}; do printf 'www-web-%d:Bound ' "$i"; done | sed 's/ $//')" ] ||
  fail "claims: $claims (want www-web-0..7 Bound)"

# Sample violations, "t=... <what>: <pods>".
violations=$(awk '
  {
    if ($3 == "-") next
    n = split($3, p, ",")
    delete seen; dup = 0; maxo = -1; term = 0; maxterm = -1; maxlive = -1; live = 0; notready_below = 0
    for (i = 1; i <= n; i++) {
      o = substr(p[i], 1, length(p[i]) - 1) + 0; s = substr(p[i], length(p[i]))
      if (o in seen) dup = 1; seen[o] = 1
      if (o > maxo) maxo = o
      if (s == "T") { term++; if (o > maxterm) maxterm = o }
      else { live++; if (o > maxlive) maxlive = o }
    }
    for (i = 1; i <= n; i++) {
      o = substr(p[i], 1, length(p[i]) - 1) + 0; s = substr(p[i], length(p[i]))
      if (s == "N" && o < maxlive) notready_below = 1
    }
    if (dup) print "t=" $1 " same ordinal twice: " $3
    if (maxo >= $2) print "t=" $1 " ordinal at or above " $2 ": " $3
    if (live > 0 && maxlive != live - 1) print "t=" $1 " gap in the live ordinals: " $3
    if (notready_below) print "t=" $1 " a live pod above a not-Ready one: " $3
    if (term > 1) print "t=" $1 " more than one terminating: " $3
    if (term > 0 && maxlive > maxterm) print "t=" $1 " a live pod above a terminating one: " $3
  }' "$samples")
n_samples=$(grep -c . "$samples" || true)

# Per pod name: how often it was created (201), and create 409s.
pod_creates=$(audit_ns | jq -r -s '[.[] | select(.verb == "create" and .res == "pods" and .code == 201) | .name]
  | group_by(.) | map("\(.[0])=\(length)") | sort_by(ltrimstr("web-") | split("=")[0] | tonumber) | join(" ")')
want_creates="web-0=1 web-1=1 web-2=1 web-3=2 web-4=2 web-5=2 web-6=1 web-7=1"
pod_created=$(audit_made '^web-[0-9]+$')
create_409=$(audit_count create pods "$NS" 409)
create_504=$(audit_count create pods "$NS" 504)
pvc_creates=$(audit_ns | jq -r -s '[.[] | select(.verb == "create" and .res == "persistentvolumeclaims" and .code == 201) | .name]
  | group_by(.) | map("\(.[0])=\(length)") | join(" ")')
pod_deletes=$(audit_ns | jq -c 'select(.verb == "delete" and .res == "pods" and .code < 300 and (.ua | endswith("/statefulset")))' | grep -c . || true)
surplus=$((pod_created - 11))

{
  echo "statefulset chaos [$(chaos_side)]: kills=$n_kills chaos=$((chaos_end - start))s scaling_under_kills=${steps_done}s converge_after_last_kill=${converged}s"
  echo "statefulset chaos [$(chaos_side)]: pods_created=$pod_created minimum=11 surplus=$surplus create_409=$create_409 create_504=$create_504 deletes_by_statefulset=$pod_deletes"
  echo "statefulset chaos [$(chaos_side)]: creates per pod: $pod_creates"
  echo "statefulset chaos [$(chaos_side)]: samples=$n_samples violations=$(grep -c . <<<"$violations" || true)"
  chaos_kills_by_victim "statefulset chaos"
} | tee "$results/statefulset.txt"
cp "$samples" "$results/statefulset-samples.txt"

((n_samples >= 20)) || fail "the watcher took only $n_samples samples"
[ -z "$violations" ] || fail "sample violations: $(head -n 6 <<<"$violations" | tr '\n' ';')"
[ "$pod_creates" = "$want_creates" ] || fail "pod creates per name: $pod_creates, want $want_creates"
[ "$pvc_creates" = "$(for i in {0..7}; do printf 'www-web-%d=1 ' "$i"; done | sed 's/ $//')" ] ||
  fail "claim creates per name: $pvc_creates (want each of www-web-0..7 once)"
pass "0 -> 8 -> 3 -> 6 after $n_kills kills, converged ${converged}s after the last kill; $n_samples samples without violations; creates per pod as needed ($create_409 re-sent creates answered 409)"
