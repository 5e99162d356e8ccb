#!/usr/bin/env bash
# Chaos for the DaemonSet controller: a DaemonSet "agent" (RollingUpdate,
# maxUnavailable 1) runs on the cluster's 2 nodes plus 3 added ones; then,
# while a random kubus worker (broker, informer, executor, daemonset,
# garbagecollector) is SIGKILLed every second, 2 more nodes are added and
# one of the added ones is deleted, and once the set covers the 6 nodes its
# image is changed (a rolling update); the kills stop when the rollout is
# done and at least KUBUS_CHAOS_SECS (default 30) have passed (at most
# 120 s after the image change).
# A pod watch (kubectl get -w, restarted if it drops) records every pod
# version from the start, so every pod's node and revision is known even if
# it lived for a moment.
# Asserted:
#   - within 60 s of the last kill: exactly one live pod per node, all with
#     the new image and revision, Ready; status desired = current = ready =
#     available = updated = 6, misscheduled 0, at the current generation;
#     nothing moves for 5 s after;
#   - from the watch, at no moment two live (not terminating) pods of the
#     set for one node (maxSurge 0: a create for a node that already has its
#     pod would show there);
#   - per node and per revision at most one pod was ever created (the
#     rolling update needs exactly one old and one new pod per node that
#     existed before the image change, one new pod for a node added after);
#     pods beyond that are the surplus, reported and required to be 0;
#   - the watch saw every pod the API server created (audit log), so the
#     per-node count misses nothing.
# The pod left on the deleted node is the pod garbage collector's (upstream
# kube-controller-manager's podgc, running in the reference cluster): it is
# not counted against any node.
# Kills per victim, time to converge and surplus go to
# $KUBUS_BUILD/chaos/daemonset.txt. On a cluster started with KUBUS_UPSTREAM=all
# the same run is made against upstream's controllers without kills (the
# yardstick).
. "$(dirname "$0")/../e2e/lib.sh"
. "$KUBUS_ROOT/tests/e2e/_daemonset.sh"
. "$KUBUS_ROOT/tests/e2e/kubus.sh"

eval "_lib_$(declare -f fail)"
fail() { KUBUS_TEST_FAILED=1; _lib_fail "$@"; }

OLD_IMAGE=registry.k8s.io/pause:3.9
NEW_IMAGE=registry.k8s.io/pause:3.10
CHAOS_SECS=${KUBUS_CHAOS_SECS:-30}
results=${KUBUS_BUILD:-$KUBUS_ROOT/build}/chaos
mkdir -p "$results"
CHAOS_WORK=$(mktemp -d /tmp/kubus-ds-chaos.XXXXXX)
on_exit "rm -rf '$CHAOS_WORK'"
. "$(dirname "$0")/_chaos.sh"

kns_new chaos-ds
base_nodes=$(kubectl get nodes -o name | wc -l)
[ "$base_nodes" = 2 ] || fail "expected the cluster's 2 nodes, have: $(kubectl get nodes -o name | tr '\n' ' ')"
sfx=${NS##*-}
n=()
for i in 1 2 3 4 5; do n+=("chaos-$sfx-$i"); done
for i in 0 1 2; do ds_add_node "${n[i]}"; done
# shellcheck disable=SC2086
chaos_kubus_start --controllers=daemonset,garbagecollector ${KUBUS_E2E_FLAGS:-}

# ---- the pod watch --------------------------------------------------------------------
events=$CHAOS_WORK/events
stopfile=$CHAOS_WORK/stop
pod_watch() {
  while [ ! -e "$stopfile" ]; do
    # a new watch lists every pod again: the analysis starts over from it
    echo '{"type": "RESTART"}' >>"$events"
    kubectl get pods -n "$NS" -l app=agent --watch --output-watch-events -o json >>"$events" 2>/dev/null &
    echo $! >"$CHAOS_WORK/kubectl.pid"
    wait $! || true
    sleep 0.2
  done
}
: >"$events"
pod_watch &
watch_pid=$!
stop_watch() {
  touch "$stopfile"
  kill "$watch_pid" 2>/dev/null || true
  [ -s "$CHAOS_WORK/kubectl.pid" ] && kill "$(cat "$CHAOS_WORK/kubectl.pid")" 2>/dev/null || true
  wait "$watch_pid" 2>/dev/null || true
}
on_exit stop_watch

k apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  updateStrategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 1}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      # graceful deletes (the default 30 s): an old pod stays terminating
      # until the fake kubelet removes it ~1 s later
      containers: [{name: c, image: "$OLD_IMAGE"}]
YAML
wait_until 60 '[ "$(ds_status agent)" = "5 5 5 5 5 0 1 1" ]' "agent on 5 nodes before the chaos"
info "agent runs on 5 nodes"

nodes_now() { kubectl get nodes -o json | jq -r '[.items[].metadata.name] | sort | join(" ")'; }
# "problem ..." lines while the set is not rolled out to IMAGE on every node
not_rolled_out() {
  local nodes
  nodes=$(kubectl get nodes -o json | jq -c '[.items[].metadata.name]') || return 0
  kget pods -l app=agent | jq -r --argjson nodes "$nodes" --arg img "$1" '
    [.items[] | select(.metadata.deletionTimestamp == null) | select((.spec.nodeName // "") as $n | $nodes | index($n) != null)] as $live |
    ($nodes[] as $n | [$live[] | select(.spec.nodeName == $n)] |
      if length != 1 then "\($n):pods=\(length)"
      elif .[0].spec.containers[0].image != $img then "\($n):old-image"
      elif (any(.[0].status.conditions[]?; .type == "Ready" and .status == "True") | not) then "\($n):not-ready"
      else empty end)' | tr '\n' ' '
}
rolled_out() {
  local nn
  nn=$(kubectl get nodes -o name | wc -l) || return 1
  [ -z "$(not_rolled_out "$1")" ] &&
    [ "$(ds_status agent)" = "$nn $nn $nn $nn $nn 0 $(kjq .metadata.generation ds agent) $(kjq .metadata.generation ds agent)" ]
}
# wait_rolled_out SECS IMAGE WHAT: fail with what is still missing on timeout.
wait_rolled_out() {
  local end=$(($(date +%s) + $1))
  until rolled_out "$2"; do
    (($(date +%s) < end)) || fail "timed out after $1s waiting for $3; not yet: $(not_rolled_out "$2") status: $(ds_status agent)"
    sleep 0.5
  done
}

# ---- under chaos: nodes come and go, then the image changes ---------------------------------
start=$(date +%s)
chaos_start broker informer executor daemonset garbagecollector
info "killing a random worker every second; adding ${n[3]} and ${n[4]}, deleting ${n[0]}"
ds_add_node "${n[3]}"
ds_add_node "${n[4]}"
kubectl delete node "${n[0]}" --wait=false >/dev/null
wait_rolled_out 120 "$OLD_IMAGE" "agent on the 6 nodes under chaos"
info "agent covers 6 nodes after $(($(date +%s) - start))s; changing the image"
image_change=$(date +%s)
k set image ds/agent "c=$NEW_IMAGE" >/dev/null
# the kills go on until the rollout is done and at least CHAOS_SECS have
# passed (restarts on a converged set must not change anything), at most 120 s
end=$(($(date +%s) + 120))
rolled_at=""
while :; do
  [ -n "$rolled_at" ] || ! rolled_out "$NEW_IMAGE" || rolled_at=$(date +%s)
  [ -n "$rolled_at" ] && (($(date +%s) >= start + CHAOS_SECS)) && break
  (($(date +%s) < end)) || break
  sleep 0.5
done
chaos_stop
chaos_end=$(date +%s)
n_kills=$(chaos_kill_count)
info "kills stopped after $n_kills kills ($((chaos_end - start))s); waiting for convergence"

wait_rolled_out 60 "$NEW_IMAGE" "every node with one Ready pod of $NEW_IMAGE and status 6/6/6/6/6 within 60 s of the last kill"
converged=$(($(date +%s) - chaos_end))
info "rolled out ${converged}s after the last kill ($(($(date +%s) - image_change))s after the image change)"
never_within 5 '! rolled_out "$NEW_IMAGE"' "agent left its rolled-out state"
stop_watch

# ---- checks --------------------------------------------------------------------------------
# From the watch: every pod (name -> node, revision, image), the moments two
# live pods stood for one node, and the creates per node and revision.
# The watch's output is a stream of (pretty-printed) JSON documents; the
# last one may be cut off when the watch was stopped.
python3 - "$events" "$CHAOS_WORK" <<'PY'
import json, sys
evfile, out = sys.argv[1], sys.argv[2]
text, dec, pos, events = open(evfile).read(), json.JSONDecoder(), 0, []
while True:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if pos >= len(text):
        break
    try:
        doc, pos = dec.raw_decode(text, pos)
    except ValueError:
        break
    events.append(doc)

def node_of(o):
    n = o.get("spec", {}).get("nodeName")
    if n:
        return n
    try:
        terms = o["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
        return terms[0]["matchFields"][0]["values"][0]
    except (KeyError, IndexError, TypeError):
        return ""

pods, info, doubles = {}, {}, []
for ev in events:
    if ev.get("type") == "RESTART":
        pods = {}   # the new watch lists every pod again
        continue
    o = ev.get("object") or {}
    name = o.get("metadata", {}).get("name")
    if not name:
        continue
    node, rev = node_of(o), o.get("metadata", {}).get("labels", {}).get("controller-revision-hash", "")
    i = info.setdefault(name, {"node": node, "rev": rev})
    if node:
        i["node"] = node
    if ev.get("type") == "DELETED":
        pods.pop(name, None)
    else:
        pods[name] = {"node": node, "term": o["metadata"].get("deletionTimestamp") is not None}
    live = {}
    for n, p in pods.items():
        if not p["term"] and p["node"]:
            live.setdefault(p["node"], set()).add(n)
    for node, names in sorted(live.items()):
        if len(names) > 1:
            d = "%s:%s" % (node, "+".join(sorted(names)))
            if d not in doubles:
                doubles.append(d)
per = {}
for name, i in info.items():
    per.setdefault((i["node"], i["rev"]), []).append(name)
with open(out + "/names", "w") as f:
    f.write("".join(n + "\n" for n in sorted(info)))
with open(out + "/doubles", "w") as f:
    f.write("".join(d + "\n" for d in doubles))
with open(out + "/per", "w") as f:
    for (node, rev), names in sorted(per.items()):
        f.write("%s %s %d %s\n" % (node, rev, len(names), ",".join(sorted(names))))
PY
watched=$(grep -c . "$CHAOS_WORK/names" || true)
made=$(audit_made '^agent-')
surplus=$(awk '$3 > 1 {s += $3 - 1} END {print s + 0}' "$CHAOS_WORK/per")
surplus_lines=$(awk '$3 > 1' "$CHAOS_WORK/per" | tr '\n' ';')
doubles=$(tr '\n' ' ' <"$CHAOS_WORK/doubles")
create_409=$(audit_count create pods "$NS" 409)
create_504=$(audit_count create pods "$NS" 504)
rollout=unfinished
[ -z "$rolled_at" ] || rollout="$((rolled_at - image_change))s"
leftover=$(kget pods -l app=agent | jq -r --arg gone "${n[0]}" '[.items[] | select(.spec.nodeName == $gone) | .metadata.name] | join(" ")')
per_node=$(awk '{c[$1] += $3} END {for (k in c) printf "%s=%d ", k, c[k]}' "$CHAOS_WORK/per" | tr ' ' '\n' | sort | tr '\n' ' ')

{
  echo "daemonset chaos [$(chaos_side)]: kills=$n_kills chaos=$((chaos_end - start))s converge_after_last_kill=${converged}s rollout_under_kills=$rollout"
  echo "daemonset chaos [$(chaos_side)]: pods_created=$made (watched $watched) surplus=$surplus create_409=$create_409 create_504=$create_504"
  echo "daemonset chaos [$(chaos_side)]: pods per node: $per_node(node ${n[0]} deleted; left there for podgc: ${leftover:-none})"
  echo "daemonset chaos [$(chaos_side)]: two live pods for one node: ${doubles:-never}"
  chaos_kills_by_victim "daemonset chaos"
} | tee "$results/daemonset.txt"
cp "$CHAOS_WORK/per" "$results/daemonset-per-node.txt"

[ "$watched" = "$made" ] || fail "the watch saw $watched pods, the audit log shows $made created"
[ -z "$doubles" ] || fail "two live pods for one node: $doubles"
[ "$surplus" = 0 ] || fail "$surplus surplus pods (more than one per node and revision): $surplus_lines"
pass "agent rolled out on 6 nodes after $n_kills kills (nodes added and deleted), ${converged}s after the last kill; one pod per node and revision, never two live on a node"
