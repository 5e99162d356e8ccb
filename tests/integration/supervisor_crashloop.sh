#!/usr/bin/env bash
# Supervisor: a worker that crashes at start-up is restarted with growing
# delays (0, 0.1, 0.2, 0.4 ... s), so it restarts at most 8 times in 5 s,
# while the other workers stay up undisturbed.
source "$(dirname "$0")/lib/supervisor.bash"

sup_pick_workers
target=${SUP_WORKERS[${#SUP_WORKERS[@]}-1]}   # broker only if it is alone
[ "$target" = broker ] && echo "note: crashing the broker, the only worker; 'others stay up' is vacuous"
echo "crashing: $target"

export KUBUS_TEST_CRASH_AT_START=$target
sup_start
others=()
for w in "${SUP_WORKERS[@]}"; do [ "$w" = "$target" ] || others+=("$w"); done
others_up() { local w; for w in "${others[@]}"; do sup_running "$w" || return 1; done; }
sup_wait_for 10 others_up || fail "the other workers did not come up"
declare -A before
for w in "${others[@]}"; do before[$w]=$(sup_field "$w" 3); done

# Sample the crashing worker's generation for 5 s; note when it changes.
t0=$(date +%s%N)
last_gen=$(sup_field "$target" 4)
first_gen=$last_gen
starts=()
while [ $(( $(date +%s%N) - t0 )) -lt 5000000000 ]; do
  gen=$(sup_field "$target" 4)
  if [[ $gen =~ ^[0-9]+$ ]] && [ "$gen" -gt "$last_gen" ]; then
    starts+=($(( ($(date +%s%N) - t0) / 1000000 )))
    last_gen=$gen
  fi
  sleep 0.02
done
restarts_in_5s=$(( last_gen - first_gen ))
echo "generation $first_gen -> $last_gen in 5 s; seen at ms: ${starts[*]:-none}"
[ "$restarts_in_5s" -le 8 ] || fail "$target restarted $restarts_in_5s times in 5 s (want <= 8)"
[ "$restarts_in_5s" -ge 2 ] || fail "$target restarted only $restarts_in_5s times in 5 s: is it restarted at all?"
[ "$(sup_field "$target" 7)" = code=1 ] || fail "$target last exit $(sup_field "$target" 7), want code=1"
# The gaps grow: the last one is at least twice the first one seen.
if [ ${#starts[@]} -ge 3 ]; then
  first_gap=$(( starts[1] - starts[0] ))
  last_gap=$(( starts[${#starts[@]}-1] - starts[${#starts[@]}-2] ))
  [ "$last_gap" -ge $(( 2 * first_gap )) ] ||
    fail "gaps between starts do not grow: first ${first_gap} ms, last ${last_gap} ms"
  echo "ok: gaps grow from ${first_gap} ms to ${last_gap} ms"
fi
for w in "${others[@]}"; do
  [ "$(sup_field "$w" 3)" = "${before[$w]}" ] || fail "$w was disturbed (pid ${before[$w]} -> $(sup_field "$w" 3))"
  [ "$(sup_field "$w" 5)" = 0 ] || fail "$w restarted"
done
# As upstream's health endpoints: 500, the crash-looping worker named.
code=$(curl -s -o "$SUP_DIR/readyz" -w '%{http_code}' "http://127.0.0.1:$SUP_PORT/readyz")
[ "$code" = 500 ] || fail "/readyz answered $code while $target crash-loops, want 500"
grep -qxF "[-]$(sup_check_name "$target") failed: reason withheld" "$SUP_DIR/readyz" ||
  fail "/readyz does not name $target: $(cat "$SUP_DIR/readyz")"
echo "PASS supervisor_crashloop"
