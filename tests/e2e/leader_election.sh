#!/usr/bin/env bash
# --leader-elect: two kubus-controller-manager instances (own bus, own port)
# compete for one Lease (the default name kubus-shard-0-of-1, in the test
# namespace so every run starts clean). Observed through the API and each
# instance's /statusz:
#   - exactly one leads: the Lease names it, its /statusz says "leader: yes"
#     and runs executor + replicaset; the standby says "leader: no" and runs
#     only broker + informer; a ReplicaSet scale is served (once);
#   - SIGKILL of the leader's supervisor: its workers die with it
#     (PR_SET_PDEATHSIG), the standby takes over within the lease duration
#     (15 s) + a few seconds, leaseTransitions grows, a new scale is served;
#   - SIGTERM of a leader: it stops its workers and releases the Lease
#     (empty holder, leaseDurationSeconds 1), so a standby takes over at once
#     (well before the 15 s a crash costs) and serves the next scale;
#   - somebody else's name written into the Lease: the leader's next renewal
#     conflicts, it sees the other holder and stops its executor and
#     controllers at once (nothing serves a scale meanwhile); when that
#     holder's lease expires unrenewed, it takes the lease back and serves.
. "$(dirname "$0")/lib.sh"
. "$KUBUS_ROOT/tests/e2e/kubus.sh"

kns_new le
LEASE=kubus-shard-0-of-1
le_flags=(--leader-elect --controllers=replicaset --leader-elect-resource-namespace="$NS")

lease_field() { kubectl -n "$NS" get lease "$LEASE" -o json 2>/dev/null | jq -r "$1"; }
holder() { lease_field '.spec.holderIdentity // ""'; }
# "yes IDENTITY" / "no IDENTITY" from an instance's /statusz leader line
leader_line() { kubus_statusz_instance "$1" 2>/dev/null | awk '$1=="leader:" {sub("identity=","",$4); print $2, $4}'; }
leads() { [ "$(leader_line "$1" | cut -d' ' -f1)" = yes ]; }
identity() { leader_line "$1" | cut -d' ' -f2; }
worker_pid() { kubus_statusz_instance "$1" 2>/dev/null | awk -v n="$2" 'NR>1 && $1==n && $3 ~ /^[0-9]+$/ {print $3}'; }
runs() { [ -n "$(worker_pid "$1" "$2")" ]; }
# lease_event MESSAGE: a LeaderElection Event on the Lease says MESSAGE
lease_event() {
  kubectl -n "$NS" get events -o json | jq -e --arg m "$1" --arg n "$LEASE" '[.items[]
    | select(.involvedObject.kind == "Lease" and .involvedObject.name == $n
             and .reason == "LeaderElection" and .type == "Normal" and .message == $m)] | length > 0' >/dev/null
}

# one_leader LEADER STANDBY: the Lease and both /statusz agree on who leads.
one_leader() {
  local l=$1 s=$2
  leads "$l" && ! leads "$s" && [ "$(holder)" = "$(identity "$l")" ] &&
    runs "$l" executor && runs "$l" replicaset && ! runs "$s" executor && ! runs "$s" replicaset &&
    runs "$s" informer && runs "$s" broker
}

rs_pods() { pods_count "$NS" app=le-web; }
scale_to() {
  k scale rs le-web --replicas="$1" >/dev/null
  wait_until 30 "[ \"\$(rs_pods)\" = $1 ] && [ \"\$(kjq .status.replicas rs le-web)\" = $1 ]" \
    "ReplicaSet scaled to $1 (pods and status)"
}

info "instance a, then b"
kubus_start_instance a "${le_flags[@]}" || fail "instance a did not start"
wait_until 20 "leads a" "instance a leads"
kubus_start_instance b "${le_flags[@]}" || fail "instance b did not start"
wait_until 20 "one_leader a b" "a leads, b stands by (Lease holder, /statusz)"
[ "$(lease_field .spec.leaseDurationSeconds)" = 15 ] || fail "leaseDurationSeconds: $(lease_field .spec)"
[ "$(lease_field .spec.leaseTransitions)" = 0 ] || fail "leaseTransitions: $(lease_field .spec)"
curl -fsS "http://127.0.0.1:$KUBUS_PORT_b/metrics" | grep >/dev/null '^kubus_leader{shard="0"} 0$' ||
  fail "b's /metrics does not say kubus_leader 0"
curl -fsS "http://127.0.0.1:$KUBUS_PORT_a/metrics" | grep >/dev/null '^kubus_leader{shard="0"} 1$' ||
  fail "a's /metrics does not say kubus_leader 1"
a_id=$(identity a)
wait_until 10 "lease_event '$a_id became leader'" "Event \"$a_id became leader\" on the Lease"
pass "one leader (a), one standby (b)"

k apply -f - >/dev/null <<'EOF'
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: le-web
spec:
  replicas: 1
  selector:
    matchLabels: {app: le-web}
  template:
    metadata:
      labels: {app: le-web}
    spec:
      containers:
      - name: web
        image: registry.k8s.io/pause:3.10
EOF
scale_to 3
never_within 2 "[ \"\$(rs_pods)\" != 3 ]" "pod count moved off 3 (a second controller acting?)"
pass "scale served by the leader"

info "SIGKILL a's supervisor"
a_exec=$(worker_pid a executor)
a_rs=$(worker_pid a replicaset)
[ -n "$a_exec" ] && [ -n "$a_rs" ] || fail "no executor/replicaset pid on a"
kubus_stop_instance a KILL
killed_at=$(date +%s)
wait_until 10 "! kill -0 $a_exec 2>/dev/null && ! kill -0 $a_rs 2>/dev/null" \
  "a's executor and replicaset died with their supervisor"
# Worst case: b saw a's last renewal one jittered retry (<= 4.4 s) after it,
# waits 15 s from then, and tries again up to 4.4 s later.
wait_until 30 "leads b" "b takes over"
took=$(($(date +%s) - killed_at))
[ "$took" -ge 12 ] || fail "b took over after only ${took}s (lease 15s, a renewed <= 2s before the kill)"
[ "$took" -le 27 ] || fail "b took over after ${took}s (lease 15s)"
wait_until 15 "[ \"\$(holder)\" = \"\$(identity b)\" ] && runs b executor && runs b replicaset" \
  "b holds the Lease and runs executor and replicaset"
[ "$(lease_field .spec.leaseTransitions)" = 1 ] || fail "leaseTransitions after takeover: $(lease_field .spec)"
scale_to 5
pass "b took over ${took}s after a was killed and serves"

info "a again, as standby; then SIGTERM b"
kubus_start_instance a "${le_flags[@]}" || fail "instance a did not restart"
wait_until 10 "! leads a && runs a informer" "restarted a stands by"
never_within 3 "leads a" "a led while b holds the lease"
b_id=$(identity b)
kubus_stop_instance b TERM
stopped_at=$(date +%s)
wait_until 5 "[ -z \"\$(holder)\" ] || [ \"\$(holder)\" = \"\$(identity a)\" ]" "b released the Lease"
wait_until 12 "leads a" "a takes over after the release"
took=$(($(date +%s) - stopped_at))
[ "$took" -lt 12 ] || fail "takeover after release took ${took}s"
wait_until 10 "[ \"\$(holder)\" = \"\$(identity a)\" ] && runs a replicaset" "a holds the Lease and runs replicaset"
[ "$(lease_field .spec.leaseTransitions)" = 2 ] || fail "leaseTransitions after handover: $(lease_field .spec)"
[ "$(lease_field .spec.leaseDurationSeconds)" = 15 ] || fail "leaseDurationSeconds: $(lease_field .spec)"
scale_to 2
lease_event "$b_id stopped leading" || fail "no Event \"$b_id stopped leading\" on the Lease"
pass "SIGTERM released the lease; a took over in ${took}s and serves"

info "another holder written into the Lease behind a's back"
a_rs=$(worker_pid a replicaset)
kubectl -n "$NS" patch lease "$LEASE" --type=merge -p '{"spec":{"holderIdentity":"intruder"}}' >/dev/null
wait_until 8 "! leads a && ! runs a executor && ! runs a replicaset" "a stops leading and stops its workers"
kill -0 "$a_rs" 2>/dev/null && fail "a's replicaset (pid $a_rs) still alive after the demotion"
k scale rs le-web --replicas=4 >/dev/null
never_within 4 "[ \"\$(rs_pods)\" != 2 ]" "pods changed while nobody held the lease"
wait_until 25 "leads a && runs a replicaset" "a takes the lease back once the intruder's expired"
[ "$(holder)" = "$(identity a)" ] || fail "holder after expiry: $(holder)"
wait_until 30 "[ \"\$(rs_pods)\" = 4 ]" "the scale to 4 is served after a leads again"
pass "a stopped its workers when another holder appeared, and came back after expiry"
