# shellcheck shell=bash
# Sourced by tests/e2e/job_*.sh (after lib.sh): helpers for Indexed Job tests.
#   mkjob NAME EXTRA-SPEC-YAML : applies an Indexed Job NAME in $NS whose pods
#       never schedule (a nodeSelector no node has; the test drives their
#       phase itself), with EXTRA-SPEC-YAML (indented two spaces) in its spec.
mkjob() {
  k apply -f - >/dev/null <<YAML
apiVersion: batch/v1
kind: Job
metadata: {name: $1}
spec:
  completionMode: Indexed
$2
  template:
    spec:
      restartPolicy: Never
      nodeSelector: {kubus.test/none: none}
      containers: [{name: ml, image: example/train}]
YAML
}
