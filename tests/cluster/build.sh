#!/usr/bin/env bash
# Builds the pinned reference control plane from Go modules and caches it in
#   $KUBUS_CACHE/<k8s version>/bin      (KUBUS_CACHE defaults to ~/.cache/kubus)
# kube-apiserver, kube-scheduler, kube-controller-manager, kubectl, etcd, kwok.
#
# Idempotent: a stamp file records the pins (versions + hash of the go.mod/go.sum
# files + build flags); when it matches, nothing is built. Safe to run
# concurrently (flock). Prints the bin dir on its last line.
#
#   KUBUS_BUILD_FORCE=1  rebuild even if the stamp matches
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# .ci/run puts /usr/local/go/bin on PATH; do the same for people who forgot.
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  PATH=/usr/local/go/bin:$PATH
fi
if ! command -v go >/dev/null 2>&1; then
  cat >&2 <<'EOF'
[cluster] ERROR: the Go toolchain ('go') is not on PATH.
  The reference control plane (kube-apiserver, etcd, kwok, ...) is built from
  Go modules. Install Go >= 1.26 (on the project machines it lives in
  /usr/local/go: export PATH=/usr/local/go/bin:$PATH), then rerun.
EOF
  exit 1
fi

GOMOD_DIR="$KUBUS_CLUSTER_SCRIPTS/gomod"
BUILD_FLAGS_VERSION=1 # bump when the go build flags below change

# The pins in pins.env must match the modules that are actually built.
mod_version() { # DIR MODULE
  sed -n "s#^[[:space:]]*\(require \)\{0,1\}$2 \(v[^ ]*\).*#\2#p" "$1/go.mod" | head -1
}
check_pin() { # DIR MODULE EXPECTED
  local got
  got=$(mod_version "$1" "$2")
  [ "$got" = "$3" ] || cl_die "pins.env says $2 $3 but $1/go.mod has '${got:-nothing}'"
}
check_pin "$GOMOD_DIR/k8s" k8s.io/kubernetes "$KUBUS_K8S_VERSION"
check_pin "$GOMOD_DIR/k8s" go.etcd.io/etcd/server/v3 "$KUBUS_ETCD_VERSION"
check_pin "$GOMOD_DIR/kwok" sigs.k8s.io/kwok "$KUBUS_KWOK_VERSION"

pin_stamp() {
  {
    echo "k8s=$KUBUS_K8S_VERSION etcd=$KUBUS_ETCD_VERSION kwok=$KUBUS_KWOK_VERSION flags=$BUILD_FLAGS_VERSION"
    cat "$GOMOD_DIR"/k8s/go.mod "$GOMOD_DIR"/k8s/go.sum "$GOMOD_DIR"/kwok/go.mod "$GOMOD_DIR"/kwok/go.sum |
      sha256sum | cut -d' ' -f1
  }
}
BINARIES=(kube-apiserver kube-scheduler kube-controller-manager kubectl etcd kwok)
STAMP="$KUBUS_K8S_BIN/.stamp"
want_stamp=$(pin_stamp)

up_to_date() {
  [ "${KUBUS_BUILD_FORCE:-0}" != 1 ] || return 1
  [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want_stamp" ] || return 1
  local b
  for b in "${BINARIES[@]}"; do [ -x "$KUBUS_K8S_BIN/$b" ] || return 1; done
}

if up_to_date; then
  echo "$KUBUS_K8S_BIN"
  exit 0
fi

verroot="$(dirname "$KUBUS_K8S_BIN")"
mkdir -p "$verroot"
exec 9>"$verroot/.build.lock"
if ! flock -n 9; then
  cl_log "another build of $KUBUS_K8S_VERSION is running; waiting for it"
  flock 9
fi
if up_to_date; then # built by whoever held the lock
  echo "$KUBUS_K8S_BIN"
  exit 0
fi

export CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false -trimpath"
tmp="$verroot/bin.tmp.$$"
logdir="$verroot/logs"
rm -rf "$tmp"
mkdir -p "$tmp" "$logdir"
trap 'rm -rf "$tmp"' EXIT

# build ID NAME MODULE_DIR LDFLAGS PACKAGES...: one go build, failing loudly.
build() {
  local name=$2 dir=$3 ldflags=$4 log="$logdir/$1.log" t0=$SECONDS
  shift 4
  cl_log "building $name ($(go version | cut -d' ' -f3)); log: $log"
  if ! (cd "$dir" && go build -ldflags="$ldflags" -o "$tmp/" "$@") >"$log" 2>&1; then
    {
      echo "[cluster] ERROR: building $name failed (module $dir). Last lines of $log:"
      tail -n 40 "$log"
    } >&2
    exit 1
  fi
  cl_log "built $name in $((SECONDS - t0))s"
}

# Kubernetes: the version variables `--version` and /version report.
k8s_minor=${KUBUS_K8S_VERSION#v1.}
k8s_minor=${k8s_minor%%.*}
k8s_ld="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ld+=" -X $p.gitVersion=$KUBUS_K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$k8s_minor"
  k8s_ld+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
done

# One invocation for all of them, so shared packages compile once.
build k8s "kubernetes $KUBUS_K8S_VERSION + etcd $KUBUS_ETCD_VERSION" "$GOMOD_DIR/k8s" "$k8s_ld" \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kubectl \
  go.etcd.io/etcd/server/v3
mv "$tmp/server" "$tmp/etcd"

build kwok "kwok $KUBUS_KWOK_VERSION" "$GOMOD_DIR/kwok" \
  "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KUBUS_KWOK_VERSION#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${KUBUS_K8S_VERSION#v}" \
  sigs.k8s.io/kwok/cmd/kwok

for b in "${BINARIES[@]}"; do
  [ -x "$tmp/$b" ] || cl_die "build produced no $b in $tmp"
done
"$tmp/kube-apiserver" --version | grep -x >/dev/null "Kubernetes $KUBUS_K8S_VERSION" ||
  cl_die "kube-apiserver --version says '$("$tmp/kube-apiserver" --version)', expected Kubernetes $KUBUS_K8S_VERSION"
echo "$want_stamp" >"$tmp/.stamp"

# Swap in atomically-ish: a half-built dir is never left as bin/.
rm -rf "$KUBUS_K8S_BIN.old"
[ -d "$KUBUS_K8S_BIN" ] && mv "$KUBUS_K8S_BIN" "$KUBUS_K8S_BIN.old"
mv "$tmp" "$KUBUS_K8S_BIN"
rm -rf "$KUBUS_K8S_BIN.old"
trap - EXIT
cl_log "control-plane binaries ready in $KUBUS_K8S_BIN"
echo "$KUBUS_K8S_BIN"
