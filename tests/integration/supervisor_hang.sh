#!/usr/bin/env bash
# Supervisor: a worker that stops heartbeating (hung) is SIGKILLed after
# --worker-timeout and restarted; the others are not disturbed.
source "$(dirname "$0")/lib/supervisor.bash"

sup_pick_workers
target=broker   # always built, and it reports ready (the hang begins after ready)
export KUBUS_TEST_HANG=$target
sup_start --worker-timeout=2s
sup_wait_for 10 sup_all_up || fail "workers did not come up"
pid=$(sup_field "$target" 3)
gen=$(sup_field "$target" 4)
t0=$(date +%s%N)
killed() { [ "$(sup_field "$target" 4)" -gt "$gen" ] 2>/dev/null; }
sup_wait_for 5 killed || fail "hung $target (pid $pid) was not restarted within 5 s"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -ge 1000 ] || fail "hung $target was killed after only ${ms} ms (timeout 2 s)"
[ "$(sup_field "$target" 7)" = signal=9 ] || fail "last exit $(sup_field "$target" 7), want signal=9"
sup_alive "$pid" && fail "hung pid $pid still alive"
echo "ok: hung $target (pid $pid, gen $gen) killed and restarted after ~${ms} ms -> pid $(sup_field "$target" 3)"
for w in "${SUP_WORKERS[@]}"; do
  [ "$w" = "$target" ] && continue
  [ "$(sup_field "$w" 5)" = 0 ] || fail "$w restarted while $target hung"
done
echo "PASS supervisor_hang"
