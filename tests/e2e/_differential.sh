# shellcheck shell=bash
# Sourced by the differential tests (tests/e2e/*_differential.sh), after lib.sh:
# one scenario is run twice, under kubus on the fixture cluster and under
# upstream kube-controller-manager on a private cluster this helper starts
# (KUBUS_UPSTREAM=all), and what the two leave behind is compared.
#
#   diff_upstream_start     start the private upstream cluster in the background
#                           (tests/cluster/up.sh); it is always torn down on exit
#   diff_upstream_wait      wait for it; fail with its log if it did not come up
#   diff_side kubus|upstream
#                           point kubectl (KUBECONFIG), audit_count
#                           (KUBUS_CLUSTER_DIR) and fail()'s namespace dump at
#                           that side's cluster; sets DIFF_SIDE and
#                           DIFF_OUT=$DIFF_DIR/<side> (a dir for the scenario's
#                           observations)
#   diff_run_both FN        run the scenario function FN under kubus (started by
#                           the caller on the kubus side; stopped after FN), then
#                           under upstream, back on the kubus side, and print
#                           what each side wrote to the API server and its
#                           Event counts (information)
#   diff_ns                 create the test namespace on the current side, the
#                           same name on both (exported as NS); deleted on exit
#   diff_record NAME        stdin -> $DIFF_OUT/NAME (one observation)
#   diff_compare NAME...    diff each observation between the sides; prints
#                           every difference, returns 1 if there was any
#   diff_writes             API writes in NS on the current side from the audit
#                           log, "actor verb resource[/subresource] count" lines
#   diff_writes_report      both sides' writes side by side (information only)
#   diff_stable SECS 'CMD'  run CMD (prints a state) until it printed the same
#                           state twice in a row 1 s apart; that state on
#                           stdout. Fails after SECS.
#
# Env: KUBUS_KEEP_LOGS=1 keeps the upstream cluster dir (logs, audit log);
# it is kept on failure too.

# On failure kubus_stop keeps (and names) kubus's log, and the upstream
# cluster's dir is kept too.
eval "_lib_$(declare -f fail)"
fail() { KUBUS_TEST_FAILED=1; _lib_fail "$@"; }

DIFF_KUBUS_DIR=$KUBUS_CLUSTER_DIR
DIFF_KUBUS_KUBECONFIG=$KUBECONFIG
DIFF_DIR=$(mktemp -d /tmp/kubus-diff.XXXXXX)
DIFF_UP_DIR=$DIFF_DIR/upstream-cluster
DIFF_UP_PID=
DIFF_SIDE=kubus
DIFF_OUT=$DIFF_DIR/kubus
mkdir -p "$DIFF_DIR/kubus" "$DIFF_DIR/upstream" "$DIFF_UP_DIR"
on_exit "diff_cleanup"

diff_cleanup() {
  if [ -n "$DIFF_UP_PID" ] && kill -0 "$DIFF_UP_PID" 2>/dev/null; then
    # up.sh stops what it started when interrupted
    kill -TERM "$DIFF_UP_PID" 2>/dev/null
    wait "$DIFF_UP_PID" 2>/dev/null
  fi
  KUBUS_CLUSTER_DIR=$DIFF_UP_DIR bash "$KUBUS_ROOT/tests/cluster/down.sh" >/dev/null 2>&1 ||
    echo "WARNING: $KUBUS_TEST_NAME: could not stop the upstream cluster in $DIFF_UP_DIR" >&2
  if [ -n "${KUBUS_KEEP_LOGS:-}" ] || [ "${KUBUS_TEST_FAILED:-0}" = 1 ]; then
    echo "upstream cluster state and logs kept in $DIFF_UP_DIR" >&2
  else
    rm -rf "$DIFF_DIR"
  fi
}

diff_upstream_start() {
  info "starting the upstream yardstick cluster (kube-controller-manager, every controller) in $DIFF_UP_DIR"
  KUBUS_UPSTREAM=all KUBUS_CLUSTER_DIR=$DIFF_UP_DIR \
    bash "$KUBUS_ROOT/tests/cluster/up.sh" >"$DIFF_DIR/upstream-up.log" 2>&1 &
  DIFF_UP_PID=$!
}

diff_upstream_wait() {
  local rc=0
  [ -n "$DIFF_UP_PID" ] || diff_upstream_start
  wait "$DIFF_UP_PID" || rc=$?
  DIFF_UP_PID=
  if ((rc != 0)); then
    tail -n 30 "$DIFF_DIR/upstream-up.log" >&2
    fail "the upstream cluster did not start (up.sh exit $rc)"
  fi
  [ "$(cat "$DIFF_UP_DIR/run/controllers" 2>/dev/null)" = all ] ||
    fail "the private cluster in $DIFF_UP_DIR does not run upstream's controllers"
}

diff_side() {
  case $1 in
    kubus)
      KUBUS_CLUSTER_DIR=$DIFF_KUBUS_DIR
      KUBECONFIG=$DIFF_KUBUS_KUBECONFIG ;;
    upstream)
      KUBUS_CLUSTER_DIR=$DIFF_UP_DIR
      KUBECONFIG=$DIFF_UP_DIR/kubeconfig ;;
    *) fail "diff_side: unknown side '$1'" ;;
  esac
  export KUBUS_CLUSTER_DIR KUBECONFIG
  DIFF_SIDE=$1
  DIFF_OUT=$DIFF_DIR/$1
  info "--- side: $1 (cluster $KUBUS_CLUSTER_DIR)"
}

diff_run_both() {
  local scenario=$1 side
  "$scenario"
  kubus_stop
  diff_upstream_wait
  diff_side upstream
  "$scenario"
  diff_side kubus
  diff_writes_report
  for side in kubus upstream; do
    sed "s/^/$KUBUS_TEST_NAME: $side events: /" "$DIFF_DIR/$side/events.counts"
  done
}

# The namespace name is chosen once, so both sides' objects live in a
# namespace of the same name.
DIFF_NS=
diff_ns() {
  if [ -z "$DIFF_NS" ]; then
    local prefix suffix
    prefix=$(printf '%s' "$KUBUS_TEST_NAME" | tr 'A-Z_.' 'a-z--' | tr -cd 'a-z0-9-' | cut -c1-40)
    suffix=$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
    DIFF_NS="t-${prefix%-}-$suffix"
  fi
  NS=$DIFF_NS
  export NS
  kubectl create namespace "$NS" >/dev/null || fail "could not create namespace $NS on the $DIFF_SIDE side"
  kubectl label namespace "$NS" kubus.test/e2e=true "kubus.test/name=$KUBUS_TEST_NAME" >/dev/null
  if [ "$DIFF_SIDE" = kubus ] && [ "${KUBUS_KEEP_NS:-0}" != 1 ]; then
    on_exit "kubectl --kubeconfig='$KUBECONFIG' --request-timeout=10s delete namespace '$NS' --wait=false --ignore-not-found >/dev/null 2>&1"
  fi
  wait_until 30 "kubectl -n '$NS' get serviceaccount default >/dev/null 2>&1" \
    "service account default in namespace $NS ($DIFF_SIDE side)"
}

diff_record() { cat >"$DIFF_OUT/$1"; }

diff_compare() {
  local name bad=0
  for name in "$@"; do
    if ! diff -u --label "kubus/$name" --label "upstream/$name" \
      "$DIFF_DIR/kubus/$name" "$DIFF_DIR/upstream/$name" >"$DIFF_DIR/diff.$name" 2>&1; then
      echo "--- $name differs (- kubus, + upstream):" >&2
      cat "$DIFF_DIR/diff.$name" >&2
      bad=1
    fi
  done
  return $bad
}

diff_stable() {
  local secs=$1 cmd=$2 prev="" cur deadline
  deadline=$(($(date +%s) + secs))
  while :; do
    cur=$(eval "$cmd") || cur="<error $?>"
    if [ -n "$prev" ] && [ "$cur" = "$prev" ]; then
      printf '%s\n' "$cur"
      return 0
    fi
    (($(date +%s) < deadline)) || fail "no stable state within ${secs}s ($DIFF_SIDE side); last: $cur"
    prev=$cur
    sleep 1
  done
}

# Who wrote: "controllers" are the ones kubus replaces (kubus's executor says
# user agent kubus/; upstream's controllers write as their service accounts in
# kube-system); "kcm" is kube-controller-manager's other controllers (service
# accounts, root CA config map: the same on both sides); "test" the test
# itself (kubectl); the scheduler; kwok (the fake kubelet); anyone else.
diff_writes() {
  local log="$KUBUS_CLUSTER_DIR/logs/audit.log"
  if [ ! -f "$log" ]; then
    echo "no-audit-log - - 0"
    return 0
  fi
  cat "$KUBUS_CLUSTER_DIR"/logs/audit*.log 2>/dev/null | jq -r --arg n "$NS" '
    select(.objectRef.namespace == $n and .stage == "ResponseComplete") |
    (.userAgent // "") as $ua | (.user.username // "") as $u |
    (if ($ua | startswith("kubus/")) then "controllers"
     elif ($u | test("^system:serviceaccount:kube-system:(replicaset|deployment|statefulset|daemon-set|job|cronjob|ttl-after-finished)-controller$"))
          or $u == "system:serviceaccount:kube-system:generic-garbage-collector" then "controllers"
     elif ($u | startswith("system:serviceaccount:kube-system:")) or $u == "system:kube-controller-manager" then "kcm"
     elif ($ua | startswith("kubectl")) then "test"
     elif $u == "system:kube-scheduler" then "scheduler"
     elif ($ua | startswith("kwok")) or $u == "kwok" then "kwok"
     else "other" end) as $who |
    "\($who) \(.verb) \(.objectRef.resource)\(if .objectRef.subresource then "/" + .objectRef.subresource else "" end)\(if (.responseStatus.code // 0) >= 300 then " (" + (.responseStatus.code | tostring) + ")" else "" end)"' |
    sort | uniq -c | awk '{c = $1; $1 = ""; sub(/^ /, ""); print $0 "\t" c}'
}

# Both sides' writes (from their audit logs), controllers' rows first.
diff_writes_report() {
  join -t $'\t' -a 1 -a 2 -e 0 -o 0,1.2,2.2 \
    <(sort "$DIFF_DIR/kubus/writes" 2>/dev/null) <(sort "$DIFF_DIR/upstream/writes" 2>/dev/null) |
    awk -F '\t' -v t="$KUBUS_TEST_NAME" '
      BEGIN {printf "%s: API writes in the namespace (audit log)\n%s:   %-52s %7s %9s\n", t, t, "who verb resource", "kubus", "upstream"}
      {printf "%s:   %-52s %7s %9s\n", t, $1, $2, $3; if ($1 ~ /^controllers /) {k += $2; u += $3}}
      END {printf "%s:   %-52s %7d %9d\n", t, "controllers total", k, u}'
}

# diff_events_record KIND NAME FILE: the "type reason" set of the events
# about one object -> $DIFF_OUT/FILE, their total count -> FILE.total, and a
# per-reason summary -> FILE.counts (information).
diff_events_record() {
  local kind=$1 name=$2 file=$3 ev
  ev=$(kget events | jq -c --arg k "$kind" --arg n "$name" '[.items[] |
    select(.involvedObject.kind == $k and .involvedObject.name == $n) |
    {t: .type, r: .reason, c: (.count // .series.count // 1)}]')
  jq -r '.[] | "\(.t) \(.r)"' <<<"$ev" | sort -u >"$DIFF_OUT/$file"
  jq '[.[].c] | add // 0' <<<"$ev" >"$DIFF_OUT/$file.total"
  jq -r --arg k "$kind/$name" 'group_by(.r)[] |
    "\($k) \(.[0].r): \(length) Event objects, count \(map(.c) | add)"' <<<"$ev" >"$DIFF_OUT/$file.counts"
}

# diff_events_compare FILE: every reason upstream recorded must be kubus's
# too. Upstream's recorder drops a source's events about one object beyond a
# burst of 25 (client-go's spam filter, then one per 5 minutes), so kubus may
# have more reasons only when upstream's count reached 25. Returns 1 on a
# difference (printed).
diff_events_compare() {
  local file=$1 missing extra total
  total=$(cat "$DIFF_DIR/upstream/$file.total")
  missing=$(comm -13 "$DIFF_DIR/kubus/$file" "$DIFF_DIR/upstream/$file")
  extra=$(comm -23 "$DIFF_DIR/kubus/$file" "$DIFF_DIR/upstream/$file")
  if [ -n "$missing" ]; then
    echo "--- $file: event reasons upstream recorded and kubus did not: $(paste -sd " " <<<"$missing")" >&2
    return 1
  fi
  if [ -n "$extra" ]; then
    if ((total >= 25)); then
      info "NOTE: $file: only kubus recorded $(paste -sd " " <<<"$extra") (upstream's spam filter stopped at $total events)"
    else
      echo "--- $file: event reasons only kubus recorded (upstream: $total events, under its filter's 25): $(paste -sd " " <<<"$extra")" >&2
      return 1
    fi
  fi
  return 0
}
