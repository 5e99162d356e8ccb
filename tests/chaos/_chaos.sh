# shellcheck shell=bash
# Sourced by every chaos test (after tests/e2e/lib.sh and tests/e2e/kubus.sh):
# the kill loop, a cheap API list for background watchers, and per-name views
# of the API server's audit log (counts of single verbs and codes are
# lib.sh's audit_count).
#   chaos_kubus_start FLAGS start kubus with FLAGS (kubus_start), or, on a cluster
#                           started with KUBUS_UPSTREAM=all (upstream's
#                           controllers: the yardstick), nothing; CHAOS_UPSTREAM=1
#                           then, and chaos_start kills nothing
#   chaos_side              "kubus", or "upstream, no kills"
#   chaos_start [--period=S] VICTIM...
#                           every S seconds (default 1; 0.5 for the fast
#                           tests, any positive decimal) SIGKILL one random
#                           running worker of those named (kubus_worker_pid);
#                           "unix-time.ms victim" lines go to $CHAOS_KILLS;
#                           stopped on exit.
#   chaos_stop              stop the kill loop (waits for it) and fail unless
#                           kills happened: at least one per two periods of
#                           the loop's life (a draw that finds a worker still
#                           restarting, without a pid, kills nothing)
#   chaos_kill_count        kills so far
#   chaos_kills_by_victim P "P: killed VICTIM xN" lines, one per victim
#   api_get PATH            GET PATH from the API server (JSON on stdout):
#                           curl with the kubeconfig's client certificate when
#                           it has one (kubectl costs ~0.5 s of CPU a call, too
#                           much for a 0.5 s sampling period), else kubectl.
#   audit_ns                the namespace's audit records, one compact line each:
#                           {t: stageTimestamp, verb, res: resource[/sub], name,
#                            code, ua: user agent}
#   audit_made REGEX        how many pods with a name matching REGEX the API
#                           server really created: every create answered 201
#                           made one (a name can be made twice: created,
#                           deleted, picked again); a name without a 201 but
#                           with a 409 create or any later successful write
#                           (binding, status, delete) was made once, by a
#                           create the server carried out but answered 504
#                           (its client SIGKILLed mid-request)
# Needs: CHAOS_WORK (a private temporary directory).

: "${CHAOS_WORK:?_chaos.sh: set CHAOS_WORK to a temporary directory first}"
CHAOS_KILLS=$CHAOS_WORK/kills
: >"$CHAOS_KILLS"
CHAOS_UPSTREAM=0
if [ "$(cat "$KUBUS_CLUSTER_DIR/run/controllers" 2>/dev/null)" = all ]; then CHAOS_UPSTREAM=1; fi

chaos_kubus_start() {
  if ((CHAOS_UPSTREAM)); then
    info "the cluster runs upstream's controllers: no kubus, no kills (yardstick run)"
  else
    kubus_start "$@" || fail "kubus did not start"
  fi
}

chaos_side() {
  if ((CHAOS_UPSTREAM)); then echo "upstream, no kills"; else echo kubus; fi
}

_chaos_loop() {
  local v pid
  while :; do
    sleep "$_chaos_period"
    v=${_chaos_victims[RANDOM % ${#_chaos_victims[@]}]}
    pid=$(kubus_worker_pid "$v" 2>/dev/null || true)
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null && echo "$(date +%s.%3N) $v" >>"$CHAOS_KILLS"
  done
}

chaos_start() {
  ((CHAOS_UPSTREAM == 0)) || return 0
  _chaos_period=1
  case "${1:-}" in
    --period=*) _chaos_period=${1#--period=}; shift ;;
  esac
  [[ $_chaos_period =~ ^[0-9]+(\.[0-9]+)?$ ]] && [[ ! $_chaos_period =~ ^0+(\.0+)?$ ]] ||
    fail "chaos_start: the period must be a positive number of seconds, not '$_chaos_period'"
  (($# > 0)) || fail "chaos_start: no victims named"
  _chaos_victims=("$@")
  _chaos_started_ms=$(($(date +%s%N) / 1000000))
  _chaos_loop &
  _chaos_pid=$!
  on_exit "kill $_chaos_pid 2>/dev/null"
}

chaos_stop() {
  [ -n "${_chaos_pid:-}" ] || return 0
  kill "$_chaos_pid" 2>/dev/null || true
  wait "$_chaos_pid" 2>/dev/null || true
  _chaos_pid=
  local ms=$(($(date +%s%N) / 1000000 - _chaos_started_ms)) n want
  n=$(chaos_kill_count)
  want=$(awk -v ms="$ms" -v p="$_chaos_period" 'BEGIN { printf "%d", ms / 1000 / p / 2 }')
  ((n >= want)) ||
    fail "chaos: only $n kills in $((ms / 1000))s at one draw per ${_chaos_period}s (want at least $want): the test did not test what it says"
}

chaos_kill_count() { grep -c . "$CHAOS_KILLS" || true; }

chaos_kills_by_victim() {
  awk '{print $2}' "$CHAOS_KILLS" | sort | uniq -c | awk -v p="$1" '{printf "%s: killed %s x%d\n", p, $2, $1}'
}

_chaos_api=$(kubectl config view --raw --minify -o jsonpath='{.clusters[0].cluster.server}')
kubectl config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' |
  base64 -d >"$CHAOS_WORK/ca.crt" 2>/dev/null || true
kubectl config view --raw --minify -o jsonpath='{.users[0].user.client-certificate-data}' |
  base64 -d >"$CHAOS_WORK/client.crt" 2>/dev/null || true
(umask 077; kubectl config view --raw --minify -o jsonpath='{.users[0].user.client-key-data}' |
  base64 -d >"$CHAOS_WORK/client.key" 2>/dev/null || true)

api_get() {
  if [ -s "$CHAOS_WORK/client.key" ] && [ -s "$CHAOS_WORK/ca.crt" ]; then
    curl -fsS --max-time 10 --cacert "$CHAOS_WORK/ca.crt" --cert "$CHAOS_WORK/client.crt" \
      --key "$CHAOS_WORK/client.key" "$_chaos_api$1"
  else
    kubectl get --raw "$1"
  fi
}

audit_ns() {
  cat "$KUBUS_CLUSTER_DIR"/logs/audit*.log 2>/dev/null | grep -F "\"$NS\"" |
    jq -c --arg n "$NS" 'select(.objectRef.namespace == $n) |
      {t: .stageTimestamp, verb,
       res: (.objectRef.resource + (if .objectRef.subresource then "/" + .objectRef.subresource else "" end)),
       name: (.objectRef.name // ""), code: (.responseStatus.code // 0), ua: (.userAgent // "")}'
}

audit_made() {
  audit_ns | jq -c --arg re "$1" 'select((.res | startswith("pods")) and (.name | test($re)))' |
    jq -s '[group_by(.name)[]
            | ([.[] | select(.verb == "create" and .res == "pods" and .code == 201)] | length) as $made
            | if $made > 0 then $made
              elif any(.[]; (.verb == "create" and .res == "pods" and .code == 409) or (.code >= 200 and .code < 300)) then 1
              else 0 end] | add // 0'
}
