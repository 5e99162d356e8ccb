#!/usr/bin/env bash
# Supervisor: kube-controller-manager's command line. --version; unknown
# feature gates and malformed --vmodule / --kube-api-content-type refused
# with exit 2 and the reason; upstream flags kubus cannot act on accepted
# (with a one-line notice each) so the supervisor runs as usual; accepted
# gates passed down to every worker and shown on /metrics.
source "$(dirname "$0")/lib/supervisor.bash"

KCM=$KUBUS_BIN/kubus-controller-manager
root=${KUBUS_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
version=$(sed -nE 's/^project\(kubus VERSION ([0-9.]+).*/\1/p' "$root/CMakeLists.txt")
[ -n "$version" ] || fail "no project version in $root/CMakeLists.txt"

out=$("$KCM" --version) || fail "--version exited $?"
[ "$out" = "kubus v$version" ] || fail "--version printed «$out», want «kubus v$version»"
out=$("$KCM" --version --cluster-cidr=10.0.0.0/8) || fail "--version with an upstream flag exited $?"
[ "$out" = "kubus v$version" ] || fail "--version printed «$out»"
echo "ok: --version prints kubus v$version"

# refused ARGS... -- REASON: exit 2, the reason on stderr, nothing started.
refused() {
  local reason=${*: -1}
  set +e
  "$KCM" --bus-dir="$SUP_DIR/refused" --port=0 "${@:1:$#-1}" >"$SUP_DIR/out" 2>"$SUP_DIR/err"
  local rc=$?
  set -e
  [ "$rc" = 2 ] || fail "$* exited $rc, want 2"
  grep -qF -- "$reason" "$SUP_DIR/err" || fail "$*: stderr «$(cat "$SUP_DIR/err")» lacks «$reason»"
  [ ! -e "$SUP_DIR/refused" ] || fail "$*: the supervisor got as far as the bus dir"
}
refused --feature-gates=MaxUnavailableStatefulSet=true,NoSuchGate=true "unrecognized feature gate: NoSuchGate"
refused --feature-gates=MaxUnavailableStatefulSet "missing bool value for MaxUnavailableStatefulSet"
refused --feature-gates=InOrderInformers=false "feature is locked to true"
refused --vmodule=config "\"config\" does not have the pattern=N format"
refused --vmodule=config=x "parsing verbosity in \"config=x\""
refused --logging-format=json --vmodule=config=2 "--vmodule: only supported for the text log format"
refused --kube-api-content-type=text/xml "must be application/json or application/vnd.kubernetes.protobuf"
refused --secure-port=99999 "--secure-port=99999"
refused --no-such-flag "unknown flag \"--no-such-flag\""
echo "ok: bad gates, --vmodule, --kube-api-content-type and unknown flags refused with exit 2"

sup_pick_workers
upstream=(--secure-port=10257 --profiling --use-service-account-credentials=true
          --kube-api-content-type=application/vnd.kubernetes.protobuf
          --cluster-cidr=10.244.0.0/16 --concurrent_rc_syncs=3 --node-monitor-grace-period=40s)
sup_start "${upstream[@]}" --feature-gates=MaxUnavailableStatefulSet=true --vmodule=supervise=3
sup_wait_for 10 sup_all_up || fail "workers did not come up with upstream's flags"
for w in "${SUP_WORKERS[@]}"; do
  pid=$(sup_field "$w" 3)
  args=$(tr '\0' '\n' <"/proc/$pid/cmdline")
  grep -qxF -- "--feature-gates=MaxUnavailableStatefulSet=true" <<<"$args" ||
    fail "$w (pid $pid) did not get the feature gate: $(tr '\n' ' ' <<<"$args")"
  grep -qxF -- "--vmodule=supervise=3" <<<"$args" || fail "$w did not get --vmodule"
  ! grep -q -- "cluster-cidr\|secure-port" <<<"$args" || fail "$w got a flag meant for no one"
done
echo "ok: the gate reached all ${#SUP_WORKERS[@]} workers"
sup_get /metrics
grep -qxF 'kubernetes_feature_enabled{name="MaxUnavailableStatefulSet",stage="BETA"} 1' "$SUP_DIR/body" ||
  fail "/metrics lacks the gate"
grep -qxF 'kubernetes_feature_enabled{name="LoggingAlphaOptions",stage="ALPHA"} 0' "$SUP_DIR/body" ||
  fail "/metrics lacks an unset gate at its default"
# The notice is what the flag does in kubus: one line per upstream flag.
for f in "${upstream[@]}"; do
  name=${f%%=*}
  name=${name//_/-}
  n=$(grep -c "kube-controller-manager flag accepted; it has no effect in kubus\" flag=\"$name\"" "$SUP_DIR/sup.log" || true)
  [ "$n" = 1 ] || fail "$n notices for $name, want 1"
done
echo "ok: ${#upstream[@]} upstream flags accepted with one notice each"
echo "PASS supervisor_flags"
