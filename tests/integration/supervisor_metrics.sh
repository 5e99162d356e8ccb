#!/usr/bin/env bash
# Supervisor /metrics with real workers: the controllers' work queue
# metrics (upstream's workqueue_* families, label name = upstream's queue
# name) merged from the workers into one valid Prometheus text (each family
# once, HELP and TYPE before its samples, histograms with upstream's eleven
# buckets); a SIGKILLed controller's series go with it and come back with
# its next run; a controller that stops heartbeating loses its series while
# is still there (SIGSTOPped: stale) loses its series, the others keep theirs.
source "$(dirname "$0")/lib/supervisor.bash"
ctrls=()
for c in replicaset deployment job; do [ -x "$KUBUS_BIN/kubus-$c" ] && ctrls+=("$c"); done
[ ${#ctrls[@]} -gt 0 ] || { echo "SKIP: no controller built"; exit 77; }
SUP_WORKERS=(broker "${ctrls[@]}")
# (sup_start's --controllers names the last one only; ours, given later, wins)
controllers=$(IFS=,; echo "${ctrls[*]}")

scrape() { curl -fsS --max-time 2 "http://127.0.0.1:$SUP_PORT/metrics" >"$SUP_DIR/metrics"; }

# check_format: every sample follows the HELP/TYPE of its family, each family once.
check_format() {
  awk '
    /^# HELP / { if (seen[$3]++) { print "family twice: " $3; bad = 1 } ; fam = $3; next }
    /^# TYPE / { if ($3 != fam) { print "TYPE without its HELP: " $3; bad = 1 }; type[$3] = $4; next }
    /^#/ { next }
    {
      name = $1; sub(/\{.*/, "", name)
      base = name
      if (type[fam] == "histogram") sub(/_(bucket|sum|count)$/, "", base)
      if (base != fam) { print "sample " name " outside its family (after " fam ")"; bad = 1 }
      if ($NF !~ /^([-+]?[0-9.]+([eE][-+]?[0-9]+)?|[-+]Inf|NaN)$/) { print "bad value: " $0; bad = 1 }
    }
    END { exit bad }' "$SUP_DIR/metrics"
}

# value SERIES: the value of one series ("" when absent).
value() { awk -v s="$1" '$1 == s { print $2 }' "$SUP_DIR/metrics"; }
has_queue() { scrape && [ -n "$(value "workqueue_adds_total{name=\"$1\"}")" ]; }

sup_start --controllers="$controllers" --worker-timeout=60s
sup_wait_for 10 sup_all_up || fail "workers did not come up"
for c in "${ctrls[@]}"; do
  sup_wait_for 10 has_queue "$c" || fail "no workqueue metrics for queue $c: $(grep -c . "$SUP_DIR/metrics") lines"
done
check_format || fail "/metrics is not one valid text"
for fam in workqueue_adds_total:counter workqueue_depth:gauge workqueue_queue_duration_seconds:histogram \
           workqueue_work_duration_seconds:histogram workqueue_retries_total:counter \
           workqueue_unfinished_work_seconds:gauge workqueue_longest_running_processor_seconds:gauge; do
  grep -qxF "# TYPE ${fam%%:*} ${fam#*:}" "$SUP_DIR/metrics" || fail "no '# TYPE ${fam%%:*} ${fam#*:}'"
  grep -q "^# HELP ${fam%%:*} \[BETA\] " "$SUP_DIR/metrics" || fail "no [BETA] help for ${fam%%:*}"
done
for c in "${ctrls[@]}"; do
  [ "$(value "workqueue_depth{name=\"$c\"}")" = 0 ] || fail "queue $c: depth $(value "workqueue_depth{name=\"$c\"}") with no objects"
  buckets=$(grep -c "^workqueue_queue_duration_seconds_bucket{name=\"$c\",le=" "$SUP_DIR/metrics")
  [ "$buckets" = 11 ] || fail "queue $c: $buckets queue duration buckets, upstream has 10 and +Inf"
  grep -qF "workqueue_work_duration_seconds_bucket{name=\"$c\",le=\"1e-08\"} 0" "$SUP_DIR/metrics" ||
    fail "queue $c: no le=\"1e-08\" work duration bucket"
done
echo "ok: work queue metrics of ${ctrls[*]} in one valid /metrics text"

# ---- the controller manager's own families: build info, controllers, process_* ----
declare -A long=([replicaset]=replicaset-controller [deployment]=deployment-controller [job]=job-controller)
for c in "${ctrls[@]}"; do
  v=$(value "running_managed_controllers{manager=\"kube-controller-manager\",name=\"${long[$c]}\"}")
  [ "$v" = 1 ] || fail "running_managed_controllers for ${long[$c]}: '$v', want 1"
done
[ -z "$(grep '^running_managed_controllers{.*name="broker"' "$SUP_DIR/metrics")" ] || fail "infra worker listed as a controller"
grep -qE '^kubernetes_build_info\{build_date="",compiler="[^"]+",git_commit="",git_tree_state="",git_version="v[0-9]+\.[0-9]+[^"]*",go_version="",major="[0-9]+",minor="[0-9]+",platform="linux/[a-z0-9]+"\} 1$' \
  "$SUP_DIR/metrics" || fail "no kubernetes_build_info: $(grep kubernetes_build_info "$SUP_DIR/metrics")"
for fam in process_cpu_seconds_total:counter process_resident_memory_bytes:gauge process_virtual_memory_bytes:gauge \
           process_open_fds:gauge process_max_fds:gauge process_start_time_seconds:gauge; do
  grep -qxF "# TYPE ${fam%%:*} ${fam#*:}" "$SUP_DIR/metrics" || fail "no '# TYPE ${fam%%:*} ${fam#*:}'"
done
sup_pid=$SUP_PID
rss=$(value process_resident_memory_bytes)
if [ -n "$sup_pid" ] && [ -r "/proc/$sup_pid/status" ]; then
  own=$(awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$sup_pid/status")
  awk -v a="$rss" -v b="$own" 'BEGIN { exit !(a > b) }' ||
    fail "process_resident_memory_bytes $rss is not more than the supervisor's own $own (not summed over workers)"
  fds=$(value process_open_fds); ownfds=$(ls "/proc/$sup_pid/fd" | wc -l)
  awk -v a="$fds" -v b="$ownfds" 'BEGIN { exit !(a > b) }' || fail "process_open_fds $fds not above the supervisor's $ownfds"
fi
start=$(value process_start_time_seconds); now=$(date +%s)
awk -v s="$start" -v n="$now" 'BEGIN { exit !(s > n - 120 && s <= n + 1) }' || fail "process_start_time_seconds $start, now $now"
cpu1=$(value process_cpu_seconds_total)
awk -v a="$cpu1" 'BEGIN { exit !(a > 0) }' || fail "process_cpu_seconds_total $cpu1"
[ "$(value process_max_fds)" -gt 0 ] 2>/dev/null || fail "process_max_fds $(value process_max_fds)"
echo "ok: kubernetes_build_info, running_managed_controllers and summed process_* (rss $rss, cpu $cpu1 s)"

# ---- a SIGKILLed controller: its series go, and come back with its next run ----
c=${ctrls[0]}
pid=$(sup_field "$c" 3)
kill -KILL "$pid"
gone() { scrape && [ -z "$(value "workqueue_adds_total{name=\"$c\"}")" ]; }
# it may be back within a second: seeing it gone is not required, a new run is
sup_wait_for 10 bash -c "[ \"\$(curl -fsS http://127.0.0.1:$SUP_PORT/statusz | awk '\$1 == \"$c\" {print \$3}')\" != $pid ]" ||
  fail "$c was not restarted"
sup_wait_for 10 has_queue "$c" || fail "queue $c's metrics did not come back after the restart"
check_format || fail "/metrics is not one valid text after the restart"
echo "ok: $c SIGKILLed and back, its queue metrics with it"

# ---- a controller that stops (SIGSTOP): its series go stale and are dropped ----
pid=$(sup_field "$c" 3)
kill -STOP "$pid"
sup_wait_for 15 gone || { kill -CONT "$pid"; fail "the stopped $c still has series after 15 s"; }
for o in "${ctrls[@]:1}"; do
  has_queue "$o" || { kill -CONT "$pid"; fail "queue $o lost its metrics while $c was stopped"; }
done
[ "$(sup_field "$c" 3)" = "$pid" ] || fail "$c was restarted; the test wanted it silent, not gone"
kill -CONT "$pid"
sup_wait_for 10 has_queue "$c" || fail "queue $c's metrics did not come back after SIGCONT"
echo "ok: stopped $c lost its series (stale) and got them back; the others kept theirs"
sup_stop
echo "PASS supervisor_metrics"
