#!/usr/bin/env bash
# The supervisor's /metrics during the tutorial (examples/myreplicaset.yaml,
# mydeploy.yaml, job.yaml): upstream's work queue metrics move as the
# controllers work. Scraped and parsed as Prometheus text:
#   every running controller has its queue (label name = upstream's queue
#   name: replicaset, deployment, job, garbage_collector_attempt_to_delete);
#   applying and scaling counts adds on replicaset/deployment/job, each
#   handed-out key is observed in workqueue_queue_duration_seconds and
#   workqueue_work_duration_seconds (their _count grows, buckets are
#   cumulative and end at _count), and once everything settled every
#   queue's depth is back to 0 with no unfinished work; the executor's
#   rest_client_requests_total{code,host,method} counts the pod creates
#   (code 201, method POST, host = the API server's host:port) and
#   rest_client_request_duration_seconds{host,verb} observed them, and
#   rest_client_rate_limiter_duration_seconds{host,verb} every one of them;
#   the Job controller's stable job_controller_* metrics move with myjob
#   (syncs observed with the pods_created action, jobs_finished_total and
#   job_pods_finished_total up by one when it completes), the CronJob's
#   cronjob_controller_job_creation_skew_duration_seconds observes the Job
#   made for its first schedule, running_managed_controllers says 1 per
#   controller, kubernetes_build_info is there and process_cpu_seconds_total
#   (summed over the supervisor and its workers) grows.
. "$(dirname "$0")/lib.sh"
. "$KUBUS_ROOT/tests/e2e/kubus.sh"

kns_new metrics-tutorial
kubus_start --controllers=replicaset,deployment,job,cronjob,garbagecollector || fail "kubus did not start"
queues=(replicaset deployment job garbage_collector_attempt_to_delete)

M="$KUBUS_TEST_DIR/metrics"
scrape() { curl -fsS --max-time 3 "http://127.0.0.1:$KUBUS_PORT/metrics" >"$M"; }
# value SERIES: one series' value from the last scrape ("" when absent)
value() { awk -v s="$1" '$1 == s { print $2 }' "$M"; }
q() { value "$1{name=\"$2\"}"; }
# int VALUE: a counter as an integer (the Go client writes 1e+06 and up in exponent form)
int() { awk -v v="$1" 'BEGIN { printf "%d\n", v + 0 }'; }

all_queues() {
  scrape || return 1
  local n
  for n in "${queues[@]}"; do [ -n "$(q workqueue_adds_total "$n")" ] || return 1; done
}
wait_until 30 all_queues "workqueue metrics of ${queues[*]}"
host=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}' | sed -E 's#^[a-z]+://##; s#/.*##')
posts() { int "$(value "rest_client_requests_total{code=\"201\",host=\"$host\",method=\"POST\"}")"; }
post_secs() { int "$(value "rest_client_request_duration_seconds_count{host=\"$host\",verb=\"POST\"}")"; }
posts0=$(posts)
jm='completion_mode="NonIndexed"'
finished() { int "$(value "job_controller_jobs_finished_total{$jm,reason=\"CompletionsReached\",result=\"succeeded\"}")"; }
pods_done() { int "$(value "job_controller_job_pods_finished_total{$jm,result=\"succeeded\"}")"; }
# all_syncs FAMILY: the sum over every label set of a job_controller_* series
all_syncs() { awk -v f="$1{" 'index($1, f) == 1 { n += $2 } END { printf "%d\n", n }' "$M"; }
skews() { int "$(value cronjob_controller_job_creation_skew_duration_seconds_count)"; }
finished0=$(finished); pods_done0=$(pods_done); syncs0=$(all_syncs job_controller_job_syncs_total)
has_skew() { scrape && [ -n "$(value cronjob_controller_job_creation_skew_duration_seconds_count)" ]; }
wait_until 10 has_skew "the CronJob controller's skew histogram (shown from its start)"
skews0=$(skews); cpu0=$(value process_cpu_seconds_total)
[ -n "$skews0" ] && [ -n "$cpu0" ] || fail "no cronjob skew histogram or process_cpu_seconds_total before any work"
declare -A adds0 got0
for n in "${queues[@]}"; do
  adds0[$n]=$(int "$(q workqueue_adds_total "$n")")
  got0[$n]=$(int "$(q workqueue_queue_duration_seconds_count "$n")")
done

# ---- the tutorial's ReplicaSet, Deployment and Job (and the CronJob, whose first
# schedule comes within a minute while the rest runs) ----------------------------
k apply -f "$(tutorial_manifest cronjob.yaml)" >/dev/null
k apply -f "$(tutorial_manifest myreplicaset.yaml)" >/dev/null
wait_until 60 '[ "$(pods_ready "$NS" run=nginx-rs)" = 2 ]' "2 ready ReplicaSet pods"
k scale rs --replicas 4 myreplicaset >/dev/null
wait_until 60 '[ "$(pods_ready "$NS" run=nginx-rs)" = 4 ]' "4 ready ReplicaSet pods"
k apply -f "$(tutorial_manifest mydeploy.yaml)" >/dev/null
wait_until 90 '[ "$(kjq ".status.availableReplicas // 0" deploy mydeploy)" = 10 ]' "mydeploy 10 available"
k apply -f "$(tutorial_manifest job.yaml)" >/dev/null
wait_until 60 '[ "$(kjq "[.status.conditions[]? | select(.type == \"Complete\" and .status == \"True\")] | length" job myjob)" = 1 ]' \
  "myjob Complete"
k delete rs myreplicaset >/dev/null
wait_until 60 '[ "$(pods_count "$NS" run=nginx-rs)" = 0 ]' "the ReplicaSet's pods gone (garbage collector)"

# ---- settled: adds counted, every get observed, depth back to 0 --------------------
# (a worker publishes its metrics with its heartbeat and the supervisor reads
# them once a second: the text lags the work by up to about 2 s)
settled() {
  scrape || return 1
  local n
  for n in "${queues[@]}"; do
    [ "$(q workqueue_depth "$n")" = 0 ] && [ "$(q workqueue_unfinished_work_seconds "$n")" = 0 ] &&
      [ "$(int "$(q workqueue_adds_total "$n")")" -gt "${adds0[$n]}" ] || return 1
  done
}
wait_until 30 settled "every queue with adds, its depth 0 and no unfinished work (is: $(for n in "${queues[@]}"; do printf '%s adds=%s depth=%s; ' "$n" "$(q workqueue_adds_total "$n")" "$(q workqueue_depth "$n")"; done))"
for n in replicaset deployment job garbage_collector_attempt_to_delete; do
  adds=$(int "$(q workqueue_adds_total "$n")")
  got=$(int "$(q workqueue_queue_duration_seconds_count "$n")")
  done_n=$(int "$(q workqueue_work_duration_seconds_count "$n")")
  [ "$adds" -gt "${adds0[$n]}" ] || fail "queue $n: workqueue_adds_total did not move (${adds0[$n]} -> $adds)"
  [ "$got" -gt "${got0[$n]}" ] || fail "queue $n: no key observed in workqueue_queue_duration_seconds (${got0[$n]} -> $got)"
  # depth 0 and nothing processing: every add was handed out and finished
  [ "$got" = "$adds" ] || fail "queue $n: $adds adds but $got keys handed out, with depth 0"
  [ "$done_n" = "$got" ] || fail "queue $n: $got keys handed out but $done_n finished, with no unfinished work"
  # the histogram's buckets are cumulative and its +Inf bucket is its count
  awk -v f="workqueue_work_duration_seconds_bucket{name=\"$n\"," -v want="$done_n" '
      index($1, f) == 1 { if ($2 + 0 < prev) bad = 1; prev = $2 + 0; last = $1; lastv = $2 }
      END { exit !(bad == 0 && last ~ /le="\+Inf"}$/ && lastv + 0 == want + 0) }' "$M" ||
    fail "queue $n: work duration buckets not cumulative up to +Inf = $done_n: $(grep -F "workqueue_work_duration_seconds_bucket{name=\"$n\"," "$M" | tr '\n' ' ')"
  info "queue $n: adds ${adds0[$n]} -> $adds, observed $got, finished $done_n, depth 0"
done
pass "work queue metrics moved with the tutorial: adds counted, each key observed once handed out and finished, depth back to 0"

# ---- the executor's REST client metrics -------------------------------------------
created=$(audit_count create pods "$NS" 201)   # 4 + 10 + 1
[ "$created" -ge 15 ] || fail "the audit log shows only $created pod creates"
posts_now() { scrape && [ "$(posts)" -ge $((posts0 + created)) ]; }
wait_until 10 posts_now "rest_client_requests_total{code=\"201\",host=\"$host\",method=\"POST\"} >= $posts0 + $created pods (is: $(posts))"
[ "$(post_secs)" -ge "$(posts)" ] || fail "rest_client_request_duration_seconds{verb=POST} observed $(post_secs) requests, fewer than the $(posts) POSTs answered 201"
grep -q '^# TYPE rest_client_requests_total counter$' "$M" && grep -q '^# TYPE rest_client_request_duration_seconds histogram$' "$M" ||
  fail "rest_client families without their TYPE lines"
pass "rest_client_requests_total counted the $created pod creates (201 POST to $host, $(posts) in all) and their durations"

rl_count() { int "$(value "rest_client_rate_limiter_duration_seconds_count{host=\"$host\",verb=\"POST\"}")"; }
[ "$(rl_count)" -ge "$(posts)" ] ||
  fail "rest_client_rate_limiter_duration_seconds{verb=POST} observed $(rl_count) requests, fewer than the $(posts) POSTs answered 201"
grep -q '^# TYPE rest_client_rate_limiter_duration_seconds histogram$' "$M" || fail "no rate limiter histogram TYPE"
pass "rest_client_rate_limiter_duration_seconds observed every POST ($(rl_count))"

# ---- the Job and CronJob controllers' stable metrics ------------------------------
job_moved() { scrape && [ "$(finished)" -ge $((finished0 + 1)) ] && [ "$(pods_done)" -ge $((pods_done0 + 1)) ]; }
wait_until 10 job_moved "jobs_finished_total and job_pods_finished_total up by at least myjob's one (is: finished $finished0 -> $(finished), pods $pods_done0 -> $(pods_done))"
syncs=$(all_syncs job_controller_job_syncs_total)
observed=$(all_syncs job_controller_job_sync_duration_seconds_count)
[ "$syncs" -gt "$syncs0" ] || fail "job_controller_job_syncs_total did not move ($syncs0 -> $syncs)"
[ "$observed" = "$syncs" ] || fail "job_controller_job_sync_duration_seconds observed $observed syncs, job_syncs_total says $syncs"
created_syncs=$(value "job_controller_job_syncs_total{action=\"pods_created\",$jm,result=\"success\"}")
[ "$(int "${created_syncs:-0}")" -ge 1 ] || fail "no job sync counted with action pods_created: $(grep '^job_controller_job_syncs_total' "$M" | tr '\n' ' ')"
grep -q '^# HELP job_controller_job_sync_duration_seconds \[STABLE\] ' "$M" || fail "no [STABLE] help for the job sync histogram"
pass "job_controller_*: $syncs0 -> $syncs syncs observed, jobs_finished_total and job_pods_finished_total up with myjob"
skewed() { scrape && [ "$(skews)" -gt "$skews0" ]; }
wait_until 75 skewed "cronjob_controller_job_creation_skew_duration_seconds to observe hello's first Job (count $skews0 -> $(skews))"
pass "cronjob_controller_job_creation_skew_duration_seconds observed hello's Job ($(value cronjob_controller_job_creation_skew_duration_seconds_sum) s skew)"

# ---- the controller manager's own families -----------------------------------------
for c in replicaset deployment job cronjob garbage-collector; do
  [ "$(value "running_managed_controllers{manager=\"kube-controller-manager\",name=\"$c-controller\"}")" = 1 ] ||
    fail "running_managed_controllers for $c-controller is not 1"
done
grep -qE '^kubernetes_build_info\{.*git_version="v[0-9]' "$M" || fail "no kubernetes_build_info"
awk -v a="$(value process_cpu_seconds_total)" -v b="$cpu0" 'BEGIN { exit !(a > b) }' ||
  fail "process_cpu_seconds_total did not grow ($cpu0 -> $(value process_cpu_seconds_total))"
pass "running_managed_controllers 1 for each controller, kubernetes_build_info, process_cpu_seconds_total $cpu0 -> $(value process_cpu_seconds_total)"

k delete cronjob hello >/dev/null
k delete deploy mydeploy >/dev/null
k delete job myjob >/dev/null
