# shellcheck shell=bash
# Sourced by every end-to-end test (tests/e2e/*.sh, tests/chaos/*.sh):
#     . "$(dirname "$0")/lib.sh"
# Turns on `set -euo pipefail`, points kubectl at the reference cluster
# (KUBECONFIG=$KUBUS_CLUSTER_DIR/kubeconfig, default build/cluster/kubeconfig)
# and puts the pinned kubectl first on PATH.
#
# Env (set by ctest; defaults for running a test by hand):
#   KUBUS_ROOT         repo root (default: derived from this file)
#   KUBUS_BIN          dir of the kubus binaries (default $KUBUS_ROOT/build/bin)
#   KUBUS_CLUSTER_DIR  cluster state dir (default $KUBUS_ROOT/build/cluster)
#   KUBUS_KEEP_NS=1    keep the test namespace after the test (debugging)
#
# Helpers:
#   fail MSG...                 print FAIL (+ namespace state) and exit 1
#   pass MSG...                 print PASS; does not exit
#   info MSG...                 progress line on stderr
#   on_exit 'CMD'               run CMD when the test exits (LIFO, all run)
#   kns_new [PREFIX]            create a unique namespace, export NS, delete it on exit
#   wait_until SECS 'COND' [MSG]  poll COND (shell code) every 0.2 s; fail on timeout
#   never_within SECS 'COND' [MSG] fail if COND becomes true within SECS, and
#                               if a kubectl in COND fails (but for NotFound):
#                               an error is not "false"
#   skip WHY                    print SKIP and exit 77 (ctest: skipped)
#   k ARGS...                   kubectl -n "$NS" ARGS...
#   kget ARGS...                kubectl get -o json ARGS... (-n "$NS" unless -n/-A given)
#   kjq 'JQ' ARGS...            kget ARGS... | jq -r 'JQ'
#   pods_count NS SELECTOR [PHASE]  pods matching SELECTOR (not being deleted), optionally in PHASE
#   pods_ready NS SELECTOR      of those, how many have condition Ready=True
#   pod_names NS SELECTOR       their names, one per line, sorted
#   pod_phase NS NAME           .status.phase of one pod (empty if absent)
#   tutorial_manifest FILE      path of a tutorial manifest in examples/ (mydeploy.yaml, ...)
#   audit_count VERB RES NS [CODE]  writes of the API server's audit log

set -euo pipefail

: "${KUBUS_ROOT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${KUBUS_BIN:=$KUBUS_ROOT/build/bin}"
export KUBUS_ROOT KUBUS_BIN
# KUBUS_K8S_BIN, KUBECONFIG, PATH (and KUBUS_CLUSTER_DIR made absolute)
. "$KUBUS_ROOT/tests/cluster/env.sh"

KUBUS_TEST_NAME=$(basename "${0%.sh}")

for _t in jq kubectl; do
  if ! command -v "$_t" >/dev/null 2>&1; then
    case $_t in
      jq) echo "FAIL: $KUBUS_TEST_NAME: jq is missing (apt-get install -y jq, or tests/cluster/deps.sh)" >&2 ;;
      kubectl) echo "FAIL: $KUBUS_TEST_NAME: no kubectl in $KUBUS_K8S_BIN (run tests/cluster/build.sh)" >&2 ;;
    esac
    exit 1
  fi
done
unset _t
if [ ! -s "$KUBECONFIG" ]; then
  echo "FAIL: $KUBUS_TEST_NAME: no cluster: $KUBECONFIG is missing (start one: make cluster-up)" >&2
  exit 1
fi

info() { printf '[%s %s] %s\n' "$KUBUS_TEST_NAME" "$(date +%H:%M:%S)" "$*" >&2; }
pass() { printf 'PASS: %s: %s\n' "$KUBUS_TEST_NAME" "$*"; }

fail() {
  printf 'FAIL: %s: %s\n' "$KUBUS_TEST_NAME" "$*" >&2
  if [ -n "${NS:-}" ]; then
    {
      echo "--- state of namespace $NS:"
      kubectl get all,events -n "$NS" -o wide 2>&1 | tail -n 60
    } >&2 || true
  fi
  exit 1
}

# Exit actions run in reverse order of registration, each even if another fails.
_kubus_exit_actions=()
on_exit() { _kubus_exit_actions+=("$1"); }
# The handler does not call exit, so the test's own exit status stands (also
# when another EXIT trap, e.g. kubus.sh's, runs it after its own work).
_kubus_run_exit_actions() {
  local i
  set +e
  for ((i = ${#_kubus_exit_actions[@]} - 1; i >= 0; i--)); do
    eval "${_kubus_exit_actions[i]}"
  done
}
trap _kubus_run_exit_actions EXIT

# kns_new [PREFIX]: a fresh namespace for this test, ready for pods (its default
# service account exists), exported as NS; deleted when the test exits.
kns_new() {
  local prefix=${1:-$KUBUS_TEST_NAME} suffix
  prefix=$(printf '%s' "$prefix" | tr 'A-Z_.' 'a-z--' | tr -cd 'a-z0-9-' | cut -c1-40)
  prefix=${prefix%-}
  suffix=$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
  NS="t-${prefix:-test}-$suffix"
  export NS
  kubectl create namespace "$NS" >/dev/null || fail "could not create namespace $NS"
  kubectl label namespace "$NS" kubus.test/e2e=true "kubus.test/name=${prefix:-test}" >/dev/null
  if [ "${KUBUS_KEEP_NS:-0}" = 1 ]; then
    on_exit "echo 'kept namespace $NS (KUBUS_KEEP_NS=1)' >&2"
  else
    on_exit "kubectl delete namespace '$NS' --wait=false --ignore-not-found >/dev/null 2>&1"
  fi
  wait_until 30 "kubectl -n '$NS' get serviceaccount default >/dev/null 2>&1" \
    "service account default in namespace $NS"
  info "namespace $NS"
}

# wait_until SECS 'COND' [WHAT]: poll until the shell code COND succeeds.
wait_until() {
  local secs=$1 cond=$2 what=${3:-$2} deadline
  deadline=$(($(date +%s%N) / 1000000 + secs * 1000))
  until eval "$cond"; do
    if (($(date +%s%N) / 1000000 >= deadline)); then
      fail "timed out after ${secs}s waiting for: $what"
    fi
    sleep 0.2
  done
}

# never_within SECS 'COND' [WHAT]: COND must stay false for SECS seconds.
# "Could not tell" must not pass for "did not happen": every kubectl that
# COND runs (directly or through k, kget, kjq, pods_count...) is watched,
# and one that fails for any reason but NotFound fails the test, whatever
# COND then made of its empty output.
never_within() {
  local secs=$1 cond=$2 what=${3:-$2} deadline rc flag
  flag=$(mktemp /tmp/kubus-never-within.XXXXXX)
  deadline=$(($(date +%s%N) / 1000000 + secs * 1000))
  while (($(date +%s%N) / 1000000 < deadline)); do
    : >"$flag"
    rc=0
    (
      _NW_FLAG=$flag
      kubectl() { _nw_kubectl "$@"; }
      eval "$cond"
    ) || rc=$?
    if [ -s "$flag" ]; then
      local why
      why=$(head -c 2000 "$flag")
      rm -f "$flag"
      fail "within ${secs}s: could not check '$what': $why"
    fi
    if ((rc == 0)); then
      rm -f "$flag"
      fail "within ${secs}s, this should not have happened: $what"
    fi
    sleep 0.2
  done
  rm -f "$flag"
}

# kubectl for never_within: the same output and status, and a line in
# $_NW_FLAG when it failed other than with NotFound.
_nw_kubectl() {
  local rc=0 errf
  errf=$(mktemp "$_NW_FLAG.err.XXXXXX")
  command kubectl "$@" 2>"$errf" || rc=$?
  cat "$errf" >&2
  if ((rc != 0)) && ! grep -q '(NotFound)' "$errf"; then
    echo "kubectl $* exited $rc: $(tail -n 2 "$errf" | tr '\n' ' ')" >>"$_NW_FLAG"
  fi
  rm -f "$errf"
  return "$rc"
}

skip() { echo "SKIP: $KUBUS_TEST_NAME: $*"; exit 77; }

k() { kubectl -n "${NS:?k: no namespace (call kns_new)}" "$@"; }

kget() {
  local a scoped=0
  for a in "$@"; do
    case "$a" in -n | -n* | --namespace | --namespace=* | -A | --all-namespaces) scoped=1 ;; esac
  done
  if ((scoped == 0)) && [ -n "${NS:-}" ]; then
    kubectl get -o json -n "$NS" "$@"
  else
    kubectl get -o json "$@"
  fi
}

kjq() {
  local q=$1
  shift
  kget "$@" | jq -r "$q"
}

pods_count() {
  local ns=$1 sel=$2 phase=${3:-}
  kubectl get pods -n "$ns" -l "$sel" -o json |
    jq --arg p "$phase" '[.items[] | select(.metadata.deletionTimestamp == null)
                          | select($p == "" or .status.phase == $p)] | length'
}

pods_ready() {
  kubectl get pods -n "$1" -l "$2" -o json |
    jq '[.items[] | select(.metadata.deletionTimestamp == null)
         | select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))] | length'
}

pod_names() {
  kubectl get pods -n "$1" -l "$2" -o json |
    jq -r '.items[] | select(.metadata.deletionTimestamp == null) | .metadata.name' | sort
}

pod_phase() {
  kubectl get pod -n "$1" "$2" -o jsonpath='{.status.phase}' 2>/dev/null || true
}

# audit_count VERB RESOURCE NS [CODE]: successful (or CODE) API writes seen by
# the API server's audit log (tests/cluster/up.sh logs every write), e.g.
# `audit_count create pods "$NS" 201` = pods really created in NS. This is
# the server's own record, independent of what kubus reports.
audit_count() {
  local verb=$1 res=$2 ns=$3 code=${4:-}
  local log="$KUBUS_CLUSTER_DIR/logs/audit.log"
  [ -f "$log" ] || { echo "audit_count: no audit log at $log" >&2; echo -1; return 0; }
  # grep first (the log may be large): a record of NS names it in quotes
  cat "$KUBUS_CLUSTER_DIR"/logs/audit*.log 2>/dev/null | { grep -F "\"$ns\"" || true; } |
    jq -c --arg v "$verb" --arg r "$res" --arg n "$ns" --arg c "$code" '
      select(.verb == $v and .objectRef.resource == $r and .objectRef.namespace == $n
             and (.objectRef.subresource // "") == ""
             and ($c == "" or (.responseStatus.code | tostring) == $c))' | wc -l
}

# tutorial_manifest FILE: the tutorial's manifest FILE (myreplicaset.yaml,
# mydeploy.yaml, mysts.yaml, fluentd.yaml, job.yaml, job-bug.yaml,
# cronjob.yaml) in examples/, the copies README's commands use; fails when
# it is not there.
tutorial_manifest() {
  local m="$KUBUS_ROOT/examples/$1"
  [ -f "$m" ] || fail "no $1 in examples/"
  echo "$m"
}
