#!/usr/bin/env bash
# Bus: the broker is stopped, killed and restarted in the middle of a watch
# stream, so the batches in flight and those published while it was away are
# lost. The subscriber (kubus-bus-tail, lib/subscriber.c) must repair the gap
# by a replay from the real informer's ring, without a re-snapshot: it sees
# every seq 1..N exactly once and in order, one resync bracket (the first),
# and ends with every object. The watch stream is kubus-bench-fakeapi's (no
# cluster), N ADDED pods of 1 KiB.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${KUBUS_BUILD:-$ROOT/build}
BIN=${KUBUS_BIN:-$BUILD/bin}
TBIN=$BUILD/tests
N=${BUS_REPLAY_EVENTS:-300000}
D=$(mktemp -d /tmp/kubus-replay.XXXXXX)
declare -A PID=()

fail() {
  echo "FAIL: $*" >&2
  local f
  for f in "$D"/*.log; do [ -s "$f" ] && { echo "--- $f (tail)" >&2; tail -n 20 "$f" >&2; }; done
  exit 1
}

cleanup() {
  local rc=$? name
  for name in "${!PID[@]}"; do kill -KILL "${PID[$name]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$D"/*.log 2>/dev/null; then
    echo "FAIL: sanitizer report:" >&2
    grep -hE -A20 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$D"/*.log | head -60 >&2
    rc=1
  fi
  rm -rf "$D"
  exit "$rc"
}
trap cleanup EXIT

spawn() { # spawn NAME CMD...: stdout NAME.out, stderr NAME.log
  local name=$1
  shift
  "$@" >"$D/$name.out" 2>"$D/$name.log" &
  PID[$name]=$!
}
wait_for() { # wait_for SECS CMD...
  local end=$(($(date +%s) + $1))
  shift
  until "$@"; do
    (($(date +%s) < end)) || return 1
    sleep 0.05
  done
}
stop() { # stop NAME: SIGTERM, wait for its exit status
  local rc=0
  kill -TERM "${PID[$1]}" 2>/dev/null || true
  wait "${PID[$1]}" || rc=$?
  unset "PID[$1]"
  return "$rc"
}

for t in "$BIN/kubus-broker" "$BIN/kubus-informer" "$BIN/kubus-bus-tail" "$TBIN/kubus-bench-fakeapi"; do
  [ -x "$t" ] || fail "missing $t"
done

spawn fakeapi "$TBIN/kubus-bench-fakeapi" --events="$N" --object-bytes=1024 --go-file="$D/go" \
  --kubeconfig="$D/kubeconfig"
wait_for 60 test -s "$D/fakeapi.out" || fail "no port from the fake API server"
spawn broker "$BIN/kubus-broker" --bus-dir="$D/bus"
spawn informer "$BIN/kubus-informer" --bus-dir="$D/bus" --kubeconfig="$D/kubeconfig" --resources=pods \
  --stats-file="$D/stats.json"
spawn tail "$BIN/kubus-bus-tail" --bus-dir="$D/bus" --resources=pods --cache-dump="$D/dump"
synced() { grep -q '"resync":"end"' "$D/tail.out"; }
wait_for 60 synced || fail "the subscriber's first snapshot"

# The stream lasts 2 s or more (the informer parses every line). A
# disconnected PUB keeps queueing for its peer and a subscriber's SUB drains
# the broker at once, so a plain kill loses little or nothing: the broker is
# stopped first, so what the informer sends meanwhile sits in the broker's
# socket buffers and queues when it dies (~0.3 s of the stream, some
# thousands of events: well inside the ring).
touch "$D/go"
sleep 0.2
kill -STOP "${PID[broker]}"
sleep 0.3
kill -KILL "${PID[broker]}"
wait "${PID[broker]}" 2>/dev/null || true
sleep 0.2
spawn broker "$BIN/kubus-broker" --bus-dir="$D/bus"

at_n() { tail -c 4096 "$D/tail.out" | grep >/dev/null "\"seq\":$N,\"epoch\""; }
wait_for 120 at_n || fail "the subscriber never reached seq $N"
stop tail || fail "kubus-bus-tail did not exit cleanly"

# every seq once, in order; one resync bracket
seqs=$(grep -c '"type":"ADDED"' "$D/tail.out")
[ "$seqs" = "$N" ] || fail "$seqs ADDED lines for $N events"
grep '"type":"ADDED"' "$D/tail.out" | sed 's/^{"seq":\([0-9]*\),.*/\1/' |
  awk -v n="$N" '$1 != NR { print "seq " $1 " at line " NR; bad = 1; exit } END { exit bad }' ||
  fail "seqs not 1..$N in order"
begins=$(grep -c '"resync":"begin"' "$D/tail.out")
[ "$begins" = 1 ] || fail "$begins resync brackets: the gap was not repaired by a replay"
[ "$(wc -l <"$D/dump")" = "$N" ] || fail "the rebuilt cache holds $(wc -l <"$D/dump") pods, want $N"
stats=$(grep '^bus-tail:' "$D/tail.log")
replays=$(sed 's/.* replays=\([0-9]*\).*/\1/' <<<"$stats")
hits=$(sed 's/.* replay_hits=\([0-9]*\).*/\1/' <<<"$stats")
gaps=$(sed 's/.* gaps=\([0-9]*\).*/\1/' <<<"$stats")
[ "$replays" -ge 1 ] && [ "$hits" -ge 1 ] || fail "no replay repaired anything ($stats)"
stop informer || fail "the informer did not exit cleanly"
echo "ok: broker restart mid-stream: $gaps gap(s) repaired by $replays replay(s), $N events in order, no re-snapshot"
