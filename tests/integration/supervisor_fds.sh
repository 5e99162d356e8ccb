#!/usr/bin/env bash
# Supervisor: a worker inherits stdin, stdout, stderr and its status pipe
# (fd 3), nothing else of the supervisor's: not a descriptor the supervisor
# itself inherited without close-on-exec (here a file on fd 9), not a
# connection the supervisor holds (here a client of its HTTP port; in a
# cluster its Lease connection to the API server), not its bus lock.
source "$(dirname "$0")/lib/supervisor.bash"

sup_pick_workers

marker="$SUP_DIR/marker"
: >"$marker"
exec 9<>"$marker"      # not close-on-exec: the supervisor inherits it
sup_start
exec 9>&-
sup_wait_for 10 sup_all_up || fail "workers did not come up"

# A connection held open to the supervisor while a worker is started again.
exec 8<>"/dev/tcp/127.0.0.1/$SUP_PORT"
target=${SUP_WORKERS[${#SUP_WORKERS[@]}-1]}
old=$(sup_field "$target" 3)
kill -KILL "$old"
restarted() { local p; p=$(sup_field "$target" 3); [[ $p =~ ^[0-9]+$ ]] && [ "$p" != "$old" ] && sup_running "$target"; }
sup_wait_for 10 restarted || fail "kubus-$target was not restarted after SIGKILL"
sleep 0.5   # let the restarted worker open its own descriptors

# What the supervisor has open beyond stdio: sockets, pipes and files by
# identity (anonymous inodes share one name, so they are not comparable).
declare -A sup_has
for f in /proc/"$SUP_PID"/fd/*; do
  n=${f##*/}
  [ "$n" -le 2 ] && continue
  t=$(readlink "$f" 2>/dev/null) || continue
  case $t in anon_inode:*|/dev/*) continue ;; esac
  sup_has[$t]=$n
done
[ ${#sup_has[@]} -gt 0 ] || fail "the supervisor has no descriptor to compare with (test broken?)"

checked=0
for w in "${SUP_WORKERS[@]}"; do
  pid=$(sup_field "$w" 3)
  [[ $pid =~ ^[0-9]+$ ]] || fail "no pid for kubus-$w"
  [ -L "/proc/$pid/fd/3" ] || fail "kubus-$w (pid $pid) has no status pipe on fd 3"
  for f in /proc/"$pid"/fd/*; do
    n=${f##*/}
    [ "$n" -le 3 ] && continue
    t=$(readlink "$f" 2>/dev/null) || continue
    # fd 4: the worker's own metrics file (a memfd the supervisor reads)
    [ "$n" = 4 ] && [[ $t == /memfd:* ]] && continue
    [ "$t" = "$marker" ] && fail "kubus-$w (pid $pid) inherited the supervisor's fd 9 as its fd $n ($t)"
    [ -n "${sup_has[$t]:-}" ] &&
      fail "kubus-$w (pid $pid) fd $n is the supervisor's fd ${sup_has[$t]} ($t)"
  done
  checked=$((checked + 1))
done
[ "$checked" -eq ${#SUP_WORKERS[@]} ] || fail "checked $checked of ${#SUP_WORKERS[@]} workers"
exec 8>&-
echo "ok: ${checked} workers (${SUP_WORKERS[*]}) hold nothing of the supervisor's beyond stdio, fd 3 and its metrics file (fd 4)"
echo "PASS supervisor_fds"
