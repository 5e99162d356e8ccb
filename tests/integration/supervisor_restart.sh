#!/usr/bin/env bash
# Supervisor: a worker killed with SIGKILL is replaced, within 1 s, by a new
# process with a higher generation; the others are not disturbed.
source "$(dirname "$0")/lib/supervisor.bash"

sup_pick_workers
sup_start
sup_wait_for 10 sup_all_up || fail "workers did not come up: ${SUP_WORKERS[*]}"

# A worker that was up must be up again (the broker always is); one still
# starting (e.g. an informer with no API server to sync from) must be running.
replaced() { # NAME OLDPID OLDGEN OLDSTATE
  local pid gen st
  read -r st pid gen < <(sup_statusz 2>/dev/null | awk -v n="$1" 'NR>1 && $1==n {print $2, $3, $4}') || return 1
  [[ $pid =~ ^[0-9]+$ ]] && [ "$pid" != "$2" ] && [ "$gen" -gt "$3" ] || return 1
  if [ "$4" = up ]; then [ "$st" = up ]; else [ "$st" = up ] || [ "$st" = starting ]; fi
}

for w in "${SUP_WORKERS[@]}"; do
  pid=$(sup_field "$w" 3); gen=$(sup_field "$w" 4); st=$(sup_field "$w" 2)
  [[ $pid =~ ^[0-9]+$ ]] || fail "$w has no pid"
  kill -KILL "$pid"
  start=$(date +%s%N)
  sup_wait_for 1 replaced "$w" "$pid" "$gen" "$st" ||
    fail "$w (pid $pid, generation $gen, $st) was not replaced (and $st again) within 1 s"
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  [ "$(sup_field "$w" 7)" = signal=9 ] || fail "$w: last exit shows $(sup_field "$w" 7), want signal=9"
  echo "ok: $w pid $pid gen $gen -> pid $(sup_field "$w" 3) gen $(sup_field "$w" 4) in ${ms} ms"
done

# The metrics say the same.
metrics=$(curl -fsS "http://127.0.0.1:$SUP_PORT/metrics")
for w in "${SUP_WORKERS[@]}"; do
  grep -q "^kubus_worker_restarts_total{worker=\"$w\"} 1$" <<<"$metrics" ||
    fail "metrics: $w restarts_total is not 1: $(grep "restarts_total{worker=\"$w\"}" <<<"$metrics")"
  grep -q "^kubus_worker_last_exit_signal{worker=\"$w\"} 9$" <<<"$metrics" || fail "metrics: $w last exit signal"
done
# The status subcommand prints the same table.
"$SUP_DIR/bin/kubus-controller-manager" status --port "$SUP_PORT" | grep >/dev/null '^broker ' ||
  fail "'status' subcommand did not print the table"
echo "PASS supervisor_restart"
