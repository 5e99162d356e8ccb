#!/usr/bin/env bash
# Stops the reference cluster running from $KUBUS_CLUSTER_DIR (default
# build/cluster): every process up.sh started, by the pids it recorded, in
# reverse start order; TERM, then KILL after a grace period. Also kills any
# straggler that runs one of the cached binaries with this dir on its command
# line. State and logs stay for inspection (up.sh wipes them on the next start).
# Exits 0 when nothing of the cluster runs any more (also when none ran).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

D="$KUBUS_CLUSTER_DIR"
[ -d "$D/run" ] || { cl_log "no cluster state in $D; nothing to stop"; exit 0; }

alive() { [ -d "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

# stop PID LABEL: TERM, wait up to 10 s, then KILL.
stop_pid() {
  local pid=$1 label=$2 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do
    alive "$pid" || { cl_log "stopped $label (pid $pid)"; return 0; }
    sleep 0.1
  done
  cl_log "$label (pid $pid) ignored SIGTERM for 10s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    alive "$pid" || return 0
    sleep 0.1
  done
  cl_log "WARNING: $label (pid $pid) survived SIGKILL"
  return 1
}

rc=0
for ((k = ${#KUBUS_COMPONENTS[@]} - 1; k >= 0; k--)); do
  c=${KUBUS_COMPONENTS[k]}
  if cl_pid_alive "$c"; then
    stop_pid "$(cat "$D/run/$c.pid")" "$c" || rc=1
  fi
  rm -f "$D/run/$c.pid"
done

for pid in $(cl_stray_pids); do
  stop_pid "$pid" "stray process $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | cut -c1-80)" || rc=1
done

if ((rc == 0)); then
  cl_log "cluster in $D is down"
fi
exit $rc
