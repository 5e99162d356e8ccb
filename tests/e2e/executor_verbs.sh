#!/usr/bin/env bash
# kubus-executor applies every verb as the API expects and answers each action
# once, through the real broker: create (and a re-sent create), update,
# status update, merge and JSON patch, a stale update (409 Conflict), GET,
# deletes with UID preconditions (a wrong UID refused) and each propagation
# policy, Events aggregated (count 2), an unknown resource refused (400),
# and the InflightReport of recent results.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/_executor.sh"

kns_new exec-verbs
exec_up

OWNER=$(exec_owner owner)
# one1 LINE: apply one action, print its result line.
one1() { printf '%s\n' "$1" | act --serial --timeout=30s || fail "no result for: $1"; }
field() { jq -r "$1" <<<"$2"; }
rs_json() { kubectl get rs -n "$NS" "$1" -o json; }

# ---- create, and the same create again (re-sent after a lost answer) ----
r=$(one1 "$(act_create web-b2c4d "$OWNER")")
[ "$(field .status "$r")" = 201 ] || fail "create: $r"
[ "$(field .object.metadata.name "$r")" = web-b2c4d ] || fail "create result has no object: $r"
[ "$(field .verb "$r")/$(field .owner_key "$r")" = "CREATE/$NS/owner" ] || fail "create result does not echo the action: $r"
uid=$(field .object.metadata.uid "$r")
r=$(one1 "$(act_create web-b2c4d "$OWNER")")
[ "$(field .status "$r")/$(field .reason "$r")" = 200/AlreadyExists ] ||
  fail "a repeated create of our own object should succeed with reason AlreadyExists: $r"
[ "$(field .object.metadata.uid "$r")" = "$uid" ] || fail "AlreadyExists result carries another object: $r"
r=$(one1 "$(act_create web-b2c4d 0b0e0e0e-0000-4000-8000-0000000000ff)")
[ "$(field .status "$r")/$(field .reason "$r")" = 409/AlreadyExists ] ||
  fail "a create colliding with someone else's object must stay a 409: $r"
pass "create; a re-sent create is success, another owner's object a conflict"

# ---- update with the current resourceVersion, then a stale one ----
rv=$(rs_json web-b2c4d | jq -r .metadata.resourceVersion)
upd=$(rs_json web-b2c4d | jq -c '.metadata.labels.updated = "yes"')
line=$(jq -cn --arg ns "$NS" --argjson b "$upd" '{verb:"UPDATE",resource:"replicasets",namespace:$ns,name:"web-b2c4d",body:$b}')
r=$(one1 "$line")
[ "$(field .status "$r")" = 200 ] || fail "update: $r"
[ "$(rs_json web-b2c4d | jq -r .metadata.labels.updated)" = yes ] || fail "update not applied"
r=$(one1 "$line") # same body, resourceVersion $rv is stale now
[ "$(field .status "$r")/$(field .reason "$r")" = 409/Conflict ] || fail "stale update should be 409 Conflict: $r"
pass "update applied; a stale resourceVersion comes back 409 Conflict"

# ---- status update ----
st=$(rs_json web-b2c4d | jq -c '.status = {replicas: 0, observedGeneration: 7}')
r=$(ACT_CONTROLLER=replicaset one1 "$(jq -cn --arg ns "$NS" --argjson b "$st" '{verb:"UPDATE_STATUS",resource:"replicasets",namespace:$ns,name:"web-b2c4d",body:$b}')")
[ "$(field .status "$r")" = 200 ] || fail "status update: $r"
# Read from the answer: a replicaset controller on a shared cluster may write the status again.
[ "$(field .object.status.observedGeneration "$r")" = 7 ] || fail "status update not applied: $r"
pass "status update applied through /status"

# ---- merge patch, JSON patch ----
r=$(one1 "$(jq -cn --arg ns "$NS" '{verb:"PATCH",patch_type:"MERGE",resource:"replicasets",namespace:$ns,name:"web-b2c4d",body:{metadata:{annotations:{merged:"1"}}}}')")
[ "$(field .status "$r")" = 200 ] || fail "merge patch: $r"
r=$(one1 "$(jq -cn --arg ns "$NS" '{verb:"PATCH",patch_type:"JSON_PATCH",resource:"replicasets",namespace:$ns,name:"web-b2c4d",body:[{op:"add",path:"/metadata/annotations/jsonpatched",value:"2"}]}')")
[ "$(field .status "$r")" = 200 ] || fail "json patch: $r"
[ "$(rs_json web-b2c4d | jq -r '.metadata.annotations.merged + .metadata.annotations.jsonpatched')" = 12 ] ||
  fail "patches not applied"
r=$(one1 "$(jq -cn --arg ns "$NS" '{verb:"PATCH",patch_type:"JSON_PATCH",resource:"replicasets",namespace:$ns,name:"web-b2c4d",body:[{op:"test",path:"/metadata/name",value:"other"}]}')")
[ "$(field .status "$r")" = 422 ] || fail "a failing JSON patch test op should be answered 422, not retried: $r"
pass "merge and JSON patches applied"

# ---- GET, and an unknown resource ----
r=$(one1 "$(jq -cn --arg ns "$NS" '{verb:"GET",resource:"replicasets",namespace:$ns,name:"web-b2c4d"}')")
[ "$(field .status "$r")/$(field .object.metadata.uid "$r")" = "200/$uid" ] || fail "get: $r"
r=$(one1 "$(jq -cn --arg ns "$NS" '{verb:"GET",resource:"widgets",namespace:$ns,name:"x"}')")
[ "$(field .status "$r")/$(field .reason "$r")" = 400/BadRequest ] || fail "unknown resource should be refused 400: $r"
pass "get; unknown resource refused with 400 BadRequest"

# ---- deletes: wrong UID refused, right UID done, 404 reported as is ----
del() { jq -cn --arg ns "$NS" --arg n "$1" --arg uid "$2" --arg p "${3:-}" \
  '{verb:"DELETE",resource:"replicasets",namespace:$ns,name:$n,precondition_uid:$uid} + (if $p == "" then {} else {propagation:$p} end)'; }
r=$(one1 "$(del web-b2c4d 00000000-0000-4000-8000-00000000dead)")
[ "$(field .status "$r")" = 409 ] || fail "delete with a wrong UID should fail its precondition (409): $r"
rs_json web-b2c4d >/dev/null || fail "delete with a wrong UID deleted the object"
r=$(one1 "$(del web-b2c4d "$uid" BACKGROUND)")
[ "$(field .status "$r")" = 200 ] || fail "delete: $r"
wait_until 10 "! kubectl get rs -n '$NS' web-b2c4d >/dev/null 2>&1" "web-b2c4d gone"
r=$(one1 "$(del web-b2c4d "$uid")")
[ "$(field .status "$r")/$(field .reason "$r")" = 404/NotFound ] || fail "delete of a gone object should answer 404 NotFound: $r"
pass "delete honours the UID precondition; a second delete is 404"

# ---- propagation policies (no garbage collector runs: its finalizers stay) ----
for p in FOREGROUND ORPHAN; do
  n="prop-$(tr 'A-Z' 'a-z' <<<"$p" | cut -c1-5)"
  r=$(one1 "$(act_create "$n" "$OWNER")")
  [ "$(field .status "$r")" = 201 ] || fail "create $n: $r"
  u=$(field .object.metadata.uid "$r")
  r=$(one1 "$(del "$n" "$u" "$p")")
  [ "$(field .status "$r")" = 200 ] || fail "delete $p: $r"
  want=foregroundDeletion
  [ "$p" = ORPHAN ] && want=orphan
  o=$(rs_json "$n")
  [ "$(jq -r '.metadata.deletionTimestamp != null' <<<"$o")" = true ] || fail "$p delete: no deletionTimestamp"
  jq -e --arg f "$want" '.metadata.finalizers | index($f)' <<<"$o" >/dev/null ||
    fail "$p delete: finalizer $want missing: $(jq -c .metadata.finalizers <<<"$o")"
  # Let the namespace go away later.
  kubectl patch rs -n "$NS" "$n" --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null
done
pass "foreground and orphan deletes leave the object with their finalizer"

# ---- Events: the same event twice is one Event with count 2 ----
ev=$(jq -cn --arg ns "$NS" '{verb:"EVENT",resource:"events",namespace:$ns,body:{
  involvedObject:{kind:"ReplicaSet",namespace:$ns,name:"web-b2c4d",uid:"u-1",apiVersion:"apps/v1"},
  type:"Normal",reason:"SuccessfulCreate",message:"Created pod: web-b2c4d-x7k2p",
  source:{component:"replicaset-controller"}}}')
out=$(printf '%s\n%s\n' "$ev" "$ev" | act --timeout=30s) || fail "events: no results"
[ "$(jq -s 'map(.status) | sort | join(",")' -r <<<"$out")" = "200,201" ] || fail "events: $out"
evs=$(kubectl get events -n "$NS" -o json | jq '[.items[] | select(.reason == "SuccessfulCreate")]')
[ "$(jq length <<<"$evs")" = 1 ] || fail "expected one aggregated Event, got: $(jq -c 'map({name: .metadata.name, count})' <<<"$evs")"
[ "$(jq '.[0].count' <<<"$evs")" = 2 ] || fail "Event count should be 2: $(jq -c '.[0]' <<<"$evs")"
[ "$(jq -r '.[0].source.component' <<<"$evs")" = replicaset-controller ] || fail "Event source lost"
[[ "$(jq -r '.[0].metadata.name' <<<"$evs")" =~ ^web-b2c4d\.[0-9a-f]{16}$ ]] || fail "Event name is not <object>.<16 hex>"
pass "an event applied twice is one Event with count 2"

# Twenty more sent at once: applied one at a time, each bumps the count.
out=$(for _ in $(seq 1 20); do printf '%s\n' "$ev"; done | act --timeout=30s) || fail "events: no results"
[ "$(jq -s 'map(select(.status == 200)) | length' <<<"$out")" = 20 ] || fail "20 repeats: $out"
evs=$(kubectl get events -n "$NS" -o json | jq '[.items[] | select(.reason == "SuccessfulCreate")]')
[ "$(jq 'length' <<<"$evs")/$(jq '.[0].count' <<<"$evs")" = 1/22 ] ||
  fail "expected one Event with count 22: $(jq -c 'map({name: .metadata.name, count})' <<<"$evs")"
pass "22 identical events are one Event with count 22"

# ---- the journal answers InflightQuery with recent results ----
rep=$(act --query-inflight --timeout=10s) || fail "no inflight report"
[ "$(jq '.recent | length' <<<"$rep")" -ge 10 ] || fail "inflight report lacks recent results: $rep"
[ "$(jq '.pending | length' <<<"$rep")" = 0 ] || fail "nothing should be pending: $rep"
pass "InflightReport lists the recent results"
