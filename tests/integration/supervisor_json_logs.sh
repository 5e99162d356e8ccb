#!/usr/bin/env bash
# Supervisor and workers with --logging-format=json: every line they write
# is one JSON object as component-base's JSON logger writes it (ts a number
# of milliseconds, caller dir/file.c:N, msg, v on info lines only, err a
# string and no v on error lines, the controller's upstream name as logger),
# on stderr, or with
# --log-json-split-stream info on stdout and errors on stderr; the default
# text format still writes klog lines.
source "$(dirname "$0")/lib/supervisor.bash"

# check_json FILE: every line an object in upstream's shape; prints the
# loggers seen.
check_json() {
  [ -s "$1" ] || fail "$1 is empty"
  jq -e -s -r '
    . as $lines
    | (map(select(type != "object"
                or (.ts | type) != "number"
                or (.caller | test("^[a-z0-9_]+/[a-z0-9_]+\\.c:[0-9]+$") | not)
                or (.msg | type) != "string"
                or (has("err") and has("v"))
                or (has("v") and (.v | type) != "number")
                or (has("err") and (.err | type) != "string")
                or (keys_unsorted[0:2] != ["ts","caller"] and keys_unsorted[0:3] != ["ts","logger","caller"])))
     | if length > 0 then error("bad lines: \(.[0:3])") else . end)
    | $lines | map(.logger // empty) | unique | .[]' "$1" 2>"$SUP_DIR/jq.err" ||
    fail "$1 is not upstream's JSON: $(cat "$SUP_DIR/jq.err"; head -c 600 "$1")"
}

sup_pick_workers
want_loggers=()
for w in "${SUP_WORKERS[@]}"; do want_loggers+=("$(sup_check_name "$w")"); done

# ---- one stream: stderr ----
: >"$SUP_DIR/sup.log"  # sup_pick_workers ran in text
export SUP_STDOUT=$SUP_DIR/stdout.log
sup_start --logging-format=json
sup_wait_for 10 sup_all_up || fail "workers did not come up"
sleep 1
now_ms=$(( $(date +%s%N) / 1000000 ))
sup_stop
[ ! -s "$SUP_STDOUT" ] || fail "json without split streams wrote to stdout: $(head -3 "$SUP_STDOUT")"
loggers=$(check_json "$SUP_DIR/sup.log")
for l in "${want_loggers[@]}"; do
  grep -qxF "$l" <<<"$loggers" || fail "no line from logger $l (saw: $(tr '\n' ' ' <<<"$loggers"))"
done
ts=$(jq -s 'map(.ts) | max' "$SUP_DIR/sup.log")
awk -v ts="$ts" -v now="$now_ms" 'BEGIN { exit !(ts > now - 60000 && ts < now + 60000) }' ||
  fail "ts $ts is not milliseconds since the epoch (now $now_ms)"
jq -e -s 'map(select(.msg == "worker started" and .caller == "supervisor/spawn.c:\(.caller | split(":")[1])"
                     and .v == 0 and (.worker | type) == "string")) | length > 0' "$SUP_DIR/sup.log" >/dev/null ||
  fail "no supervisor \"worker started\" line in upstream's shape"
echo "ok: $(wc -l <"$SUP_DIR/sup.log") JSON lines on stderr from the supervisor and ${#want_loggers[@]} workers"

# ---- split streams: info on stdout, errors on stderr ----
# One worker exits at start with an error line, so stderr has something.
crash=${SUP_WORKERS[${#SUP_WORKERS[@]}-1]}
crash_logger=$(sup_check_name "$crash")   # from its very first line on
: >"$SUP_DIR/sup.log"
: >"$SUP_STDOUT"
export KUBUS_TEST_CRASH_AT_START=$crash
sup_start --logging-format=json --feature-gates=LoggingAlphaOptions=true --log-json-split-stream
crashed() { grep -q '"msg":"test hook KUBUS_TEST_CRASH_AT_START: exiting at start"' "$SUP_DIR/sup.log"; }
sup_wait_for 10 crashed || fail "no error line from $crash on stderr"
sleep 1
sup_stop
unset KUBUS_TEST_CRASH_AT_START
check_json "$SUP_STDOUT" >/dev/null
jq -e -s 'all(has("v") and (has("err") | not))' "$SUP_STDOUT" >/dev/null || fail "an error line on stdout"
grep -q '"logger":"broker"' "$SUP_STDOUT" || fail "the workers did not split their streams"
check_json "$SUP_DIR/sup.log" >/dev/null
jq -e -s 'all(has("v") | not)' "$SUP_DIR/sup.log" >/dev/null || fail "an info line on stderr"
jq -e -s --arg l "$crash_logger" 'any(.logger == $l and (.msg | startswith("test hook")))' "$SUP_DIR/sup.log" \
  >/dev/null || fail "the error line does not carry logger $crash_logger"
echo "ok: split streams: $(wc -l <"$SUP_STDOUT") info lines on stdout, $(wc -l <"$SUP_DIR/sup.log") error lines on stderr"

# ---- text, as before ----
unset SUP_STDOUT
: >"$SUP_DIR/sup.log"
sup_start
sup_wait_for 10 sup_all_up || fail "workers did not come up"
sup_stop
bad=$(grep -cvE '^[IWE][0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6} +[0-9]+ [a-z0-9_]+\.c:[0-9]+\] "' "$SUP_DIR/sup.log" || true)
[ "$bad" = 0 ] || fail "$bad lines are not klog text: $(grep -vE '^[IWE][0-9]{4} ' "$SUP_DIR/sup.log" | head -3)"
echo "ok: text format: $(wc -l <"$SUP_DIR/sup.log") klog lines"
echo "PASS supervisor_json_logs"
