#!/usr/bin/env bash
# Supervisor: SIGTERM stops every worker and the supervisor (exit 0) within
# 5 s; SIGHUP restarts every worker and keeps serving; SIGKILL of the
# supervisor leaves no worker alive after 2 s (parent-death signal).
source "$(dirname "$0")/lib/supervisor.bash"

sup_pick_workers

none_alive() { # PIDS...
  local p
  for p in "$@"; do sup_alive "$p" && return 1; done
  return 0
}

# --- SIGTERM: ordered stop, exit 0 within 5 s ---
sup_start
sup_wait_for 10 sup_all_up || fail "workers did not come up"
mapfile -t pids < <(sup_worker_pids)
[ ${#pids[@]} -eq ${#SUP_WORKERS[@]} ] || fail "expected ${#SUP_WORKERS[@]} worker pids, got ${pids[*]}"
start=$(date +%s%N)
kill -TERM "$SUP_PID"
sup_wait_for 5 none_alive "$SUP_PID" "${pids[@]}" || fail "not everything exited within 5 s of SIGTERM"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
rc=0; wait "$SUP_PID" || rc=$?
SUP_PID=
[ "$rc" -eq 0 ] || fail "supervisor exited $rc after SIGTERM, want 0"
echo "ok: SIGTERM stopped the supervisor and ${#pids[@]} workers in ${ms} ms"

# --- SIGHUP: every worker restarted, supervisor stays ---
sup_start
sup_wait_for 10 sup_all_up || fail "workers did not come up (second start)"
mapfile -t pids < <(sup_worker_pids)
gen_broker=$(sup_field broker 4)
kill -HUP "$SUP_PID"
reloaded() { [ "$(sup_field broker 4)" -gt "$gen_broker" ] && sup_all_up && none_alive "${pids[@]}"; }
sup_wait_for 8 reloaded || fail "SIGHUP did not restart every worker"
sup_alive "$SUP_PID" || fail "supervisor died on SIGHUP"
[ "$(sup_field broker 5)" = 0 ] || fail "a reload counted as a restart"
echo "ok: SIGHUP restarted every worker"

# --- SIGKILL of the supervisor: no orphan survives ---
mapfile -t pids < <(sup_worker_pids)
kill -KILL "$SUP_PID"
wait "$SUP_PID" 2>/dev/null || true
SUP_PID=
sup_wait_for 2 none_alive "${pids[@]}" || fail "workers outlived their supervisor: $(for p in "${pids[@]}"; do sup_alive "$p" && echo "$p"; done)"
echo "ok: SIGKILL of the supervisor took its ${#pids[@]} workers down within 2 s"
echo "PASS supervisor_stop"
