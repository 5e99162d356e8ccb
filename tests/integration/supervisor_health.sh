#!/usr/bin/env bash
# Supervisor: /healthz, /livez and /readyz as kube-controller-manager and
# k8s.io/apiserver answer them, with real workers: one named check per worker
# (upstream's controller names), ?verbose, ?exclude= (repeatable),
# /healthz/<check>; and a worker that stops heartbeating fails
# /healthz/<worker> (and /healthz, /readyz) while the others stay ok.
source "$(dirname "$0")/lib/supervisor.bash"

# expect PATH CODE BODY: the exact status and body (BODY as printf %b).
expect() {
  sup_get "$1"
  local want
  want=$(printf '%bx' "$3")
  want=${want%x}
  [ "$SUP_CODE" = "$2" ] && [ "$(cat "$SUP_DIR/body"; printf x)" = "${want}x" ] ||
    fail "GET $1: got $SUP_CODE «$(cat "$SUP_DIR/body")», want $2 «$want»"
}

# expect_line PATH CODE LINE: the status, and LINE among the body's lines.
expect_line() {
  sup_get "$1"
  [ "$SUP_CODE" = "$2" ] && grep -qxF -- "$3" "$SUP_DIR/body" ||
    fail "GET $1: got $SUP_CODE «$(cat "$SUP_DIR/body")», want $2 with line «$3»"
}

code_is() { sup_get "$1"; [ "$SUP_CODE" = "$2" ]; }

sup_pick_workers

# ---- every worker heartbeating ----
sup_start --worker-timeout=60s
sup_wait_for 10 sup_all_up || fail "workers did not come up"
sup_wait_for 10 code_is /healthz 200 || fail "/healthz never answered 200: $(cat "$SUP_DIR/body")"
expect /healthz 200 "ok"
grep -qi '^content-type: text/plain; charset=utf-8' "$SUP_DIR/headers" || fail "no text/plain content type"
grep -qi '^x-content-type-options: nosniff' "$SUP_DIR/headers" || fail "no X-Content-Type-Options: nosniff"
lines=""
for w in "${SUP_WORKERS[@]}"; do lines+="[+]$(sup_check_name "$w") ok\n"; done
expect "/healthz?verbose" 200 "${lines}[+]supervisor-loop ok\nhealthz check passed\n"
for w in "${SUP_WORKERS[@]}"; do expect "/healthz/$(sup_check_name "$w")" 200 "ok"; done
expect /healthz/no-such-check 404 "404 page not found\n"
expect /livez 200 "ok"
expect "/livez?verbose" 200 "[+]ping ok\n[+]supervisor-loop ok\nlivez check passed\n"
expect /livez/ping 200 "ok"
# Exclusions: known names are skipped, unknown ones warned about (sorted, quoted).
excl=""
for w in "${SUP_WORKERS[@]}"; do
  [ "$w" = broker ] && excl+="[+]broker excluded: ok\n" || excl+="[+]$(sup_check_name "$w") ok\n"
done
expect "/healthz?verbose&exclude=zz&exclude=broker&exclude=aa" 200 \
  "${excl}[+]supervisor-loop ok\nwarn: some health checks cannot be excluded: no matches for \"aa\",\"zz\"\nhealthz check passed\n"
# Ready needs a READY heartbeat: the informer never gets one without an API
# server (its first list cannot finish), the broker does.
if [[ " ${SUP_WORKERS[*]} " == *" informer "* ]]; then
  expect_line "/readyz?verbose" 500 "[-]informer failed: reason withheld"
  expect_line /readyz/informer 500 "internal server error: starting: no READY heartbeat yet"
  ready_code=500
else
  ready_code=200
fi
expect_line "/readyz?verbose" $ready_code "[+]shutdown ok"
expect_line "/readyz?verbose" $ready_code "[+]broker ok"
expect /readyz/broker 200 "ok"
echo "ok: /healthz, /livez, /readyz with ${#SUP_WORKERS[@]} workers"
sup_stop

# ---- the broker stops heartbeating (and is not killed: --worker-timeout=60s) ----
export KUBUS_TEST_HANG=broker
sup_start --worker-timeout=60s
sup_wait_for 10 sup_all_up || fail "workers did not come up"
pid=$(sup_field broker 3)
t0=$(date +%s%N)
sup_wait_for 10 code_is /healthz/broker 500 || fail "/healthz/broker still $SUP_CODE after 10 s of silence"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
grep -qE '^internal server error: no heartbeat for [0-9]+ ms \(pid '"$pid"'\)$' "$SUP_DIR/body" ||
  fail "/healthz/broker body: $(cat "$SUP_DIR/body")"
expect_line /healthz 500 "[-]broker failed: reason withheld"
tail -n 1 "$SUP_DIR/body" | grep -xF >/dev/null "healthz check failed" || fail "/healthz last line: $(tail -n 1 "$SUP_DIR/body")"
for w in "${SUP_WORKERS[@]}"; do
  [ "$w" = broker ] && continue
  expect_line /healthz 500 "[+]$(sup_check_name "$w") ok"
  expect "/healthz/$(sup_check_name "$w")" 200 "ok"
done
expect "/healthz?exclude=broker" 200 "ok"
expect_line /readyz 500 "[-]broker failed: reason withheld"
expect /livez 200 "ok"
[ "$(sup_field broker 3)" = "$pid" ] && [ "$(sup_field broker 2)" = up ] ||
  fail "the silent broker was restarted or changed state: $(sup_field broker 2) pid $(sup_field broker 3)"
echo "ok: silent broker (pid $pid) fails /healthz/broker after ~${ms} ms; the others stay ok"
echo "PASS supervisor_health"
