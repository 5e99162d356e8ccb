#!/usr/bin/env bash
# Starts the kubus reference control plane on 127.0.0.1:
#   etcd, kube-apiserver (TLS, RBAC, client certificates), kube-scheduler,
#   kube-controller-manager (without the controllers kubus replaces, with the
#   host-path volume provisioner) and kwok with two fake nodes, `master` and
#   `worker`; a default StorageClass `local-path` that provisions volumes.
# State, certificates and logs go to $KUBUS_CLUSTER_DIR (default build/cluster);
# the admin kubeconfig is $KUBUS_CLUSTER_DIR/kubeconfig.
#
#   up.sh            start; refuses if a cluster already runs from that dir
#   up.sh --reuse    if one already runs from that dir, only verify it is ready
#
#   KUBUS_UPSTREAM=all   run kube-controller-manager with every controller on
#                        (the upstream yardstick kubus is compared against)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

reuse=0
for a in "$@"; do
  case "$a" in
    --reuse) reuse=1 ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) cl_die "unknown argument '$a' (usage: up.sh [--reuse])" ;;
  esac
done
cl_need_runtime_tools

D="$KUBUS_CLUSTER_DIR"

verify_ready() {
  cl_wait 60 "kube-apiserver /readyz" cl_api_ready &&
    cl_wait 60 "nodes master and worker Ready" cl_nodes_ready master worker
}

if cl_any_alive; then
  if ((reuse)); then
    if verify_ready; then
      cl_log "cluster in $D already up and ready (--reuse)"
      exit 0
    fi
    cl_die "a cluster runs from $D but is not ready; see $D/logs, or restart it: tests/cluster/down.sh && tests/cluster/up.sh"
  fi
  running=()
  for c in "${KUBUS_COMPONENTS[@]}"; do
    cl_pid_alive "$c" && running+=("$c=$(cat "$D/run/$c.pid")")
  done
  cl_die "a cluster is already running from $D (${running[*]}); not starting a second one. Stop it with tests/cluster/down.sh (make cluster-down), or pass --reuse to use it."
fi

BIN=$(bash "$KUBUS_CLUSTER_SCRIPTS/build.sh" | tail -n 1)
[ "$BIN" = "$KUBUS_K8S_BIN" ] || cl_die "build.sh printed '$BIN', expected $KUBUS_K8S_BIN"

upstream=${KUBUS_UPSTREAM:-}
case "$upstream" in
  "" | kubus) upstream=kubus ;;
  all) ;;
  *) cl_die "KUBUS_UPSTREAM must be 'all' or unset, not '$upstream'" ;;
esac

# --- fresh state ------------------------------------------------------------
# Only our own entries are removed, in case the dir is shared with other files.
mkdir -p "$D"
rm -rf "$D/etcd" "$D/pki" "$D/run" "$D/logs" "$D/kubeconfig" "$D"/*.kubeconfig "$D/kwok.yaml" "$D/audit-policy.yaml"
mkdir -p "$D/pki" "$D/run" "$D/logs"
chmod 700 "$D/pki"

failed() {
  local rc=$?
  trap - EXIT
  if ((rc != 0)); then
    cl_log "start-up failed; last log lines:"
    local f
    for f in "$D"/logs/*.log; do
      [ -f "$f" ] || continue
      echo "----- $f" >&2
      tail -n 15 "$f" >&2
    done
    cl_log "stopping what was started"
    bash "$KUBUS_CLUSTER_SCRIPTS/down.sh" >&2 || true
  fi
  exit $rc
}
trap failed EXIT
trap 'exit 130' INT TERM

# --- ports ------------------------------------------------------------------
declare -A taken=()
free_port() {
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 12000))
    [ -z "${taken[$p]:-}" ] || continue
    # a connect() that succeeds means someone listens there
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      taken[$p]=1
      echo "$p"
      return 0
    fi
  done
  cl_die "no free TCP port found on 127.0.0.1"
}
P_ETCD=$(free_port); taken[$P_ETCD]=1
P_PEER=$(free_port); taken[$P_PEER]=1
P_API=$(free_port); taken[$P_API]=1
P_SCHED=$(free_port); taken[$P_SCHED]=1
P_KCM=$(free_port); taken[$P_KCM]=1
P_KWOK=$(free_port); taken[$P_KWOK]=1
cat >"$D/run/ports.env" <<EOF
etcd=$P_ETCD
etcd_peer=$P_PEER
apiserver=$P_API
scheduler=$P_SCHED
controller_manager=$P_KCM
kwok=$P_KWOK
EOF
echo "$upstream" >"$D/run/controllers"

# --- certificates -------------------------------------------------------------
cl_log "generating certificates in $D/pki"
PKI="$D/pki"
ossl_cnf="$PKI/openssl.cnf"
cat >"$ossl_cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
EOF
ossl() { openssl "$@" 2>>"$D/logs/openssl.log" >/dev/null || cl_die "openssl $1 failed (see $D/logs/openssl.log)"; }
newkey() { ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

newkey "$PKI/ca.key"
ossl req -x509 -new -config "$ossl_cnf" -extensions ca -key "$PKI/ca.key" \
  -subj "/CN=kubus-reference-ca" -days 3650 -out "$PKI/ca.crt"

# cert NAME SUBJECT EXTENSIONS: a leaf certificate signed by the CA.
cert() {
  newkey "$PKI/$1.key"
  ossl req -new -config "$ossl_cnf" -key "$PKI/$1.key" -subj "$2" -out "$PKI/$1.csr"
  printf '%b\n' "basicConstraints = CA:FALSE\n$3" >"$PKI/$1.ext"
  ossl x509 -req -in "$PKI/$1.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -set_serial "0x$(openssl rand -hex 8)" \
    -days 3650 -extfile "$PKI/$1.ext" -out "$PKI/$1.crt"
  rm -f "$PKI/$1.csr" "$PKI/$1.ext"
}
server_ext="keyUsage = critical,digitalSignature,keyEncipherment\nextendedKeyUsage = serverAuth"
client_ext="keyUsage = critical,digitalSignature,keyEncipherment\nextendedKeyUsage = clientAuth"
cert apiserver "/CN=kube-apiserver" \
  "$server_ext\nsubjectAltName = IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
cert admin "/O=system:masters/CN=kubus-admin" "$client_ext"
cert kube-scheduler "/CN=system:kube-scheduler" "$client_ext"
cert kube-controller-manager "/CN=system:kube-controller-manager" "$client_ext"
cert kwok "/O=system:masters/CN=kwok" "$client_ext"
# the apiserver's client identity towards aggregated APIs (request-header auth)
cert front-proxy-client "/CN=front-proxy-client" "$client_ext"
# service-account token signing key
ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$PKI/sa.key"
ossl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub"

# kubeconfig FILE USER: credentials of USER (a cert in pki/) for the apiserver.
kubeconfig() {
  local tmp="$1.tmp"
  cat >"$tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kubus
  cluster:
    server: https://127.0.0.1:$P_API
    certificate-authority-data: $(base64 -w0 <"$PKI/ca.crt")
users:
- name: $2
  user:
    client-certificate-data: $(base64 -w0 <"$PKI/$2.crt")
    client-key-data: $(base64 -w0 <"$PKI/$2.key")
contexts:
- name: kubus
  context:
    cluster: kubus
    user: $2
current-context: kubus
EOF
  chmod 600 "$tmp"
  mv "$tmp" "$1"
}
kubeconfig "$D/kube-scheduler.kubeconfig" kube-scheduler
kubeconfig "$D/kube-controller-manager.kubeconfig" kube-controller-manager
kubeconfig "$D/kwok.kubeconfig" kwok

# --- processes ----------------------------------------------------------------
# start NAME ARGS...: run $BIN/NAME in its own session (so it outlives this
# script and a terminal's signals), output to logs/NAME.log, pid to run/NAME.pid.
start() {
  local name=$1
  shift
  cl_log "starting $name"
  # The inner shell records its own pid, then execs: that pid is the binary's.
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$D/run/$name.pid" "$BIN/$name" "$@" \
    </dev/null >>"$D/logs/$name.log" 2>&1 &
  local i
  for ((i = 0; i < 50; i++)); do
    [ -s "$D/run/$name.pid" ] && return 0
    sleep 0.1
  done
  cl_die "$name did not start"
}

# await SECONDS NAME WHAT CMD...: wait for CMD, failing early if NAME died.
await() {
  local secs=$1 name=$2 what=$3 deadline
  shift 3
  deadline=$((SECONDS + secs))
  until "$@"; do
    cl_pid_alive "$name" || cl_die "$name exited while waiting for $what (log: $D/logs/$name.log)"
    ((SECONDS < deadline)) || cl_die "timed out after ${secs}s waiting for $what (log: $D/logs/$name.log)"
    sleep 0.2
  done
}
http_ok() { curl -fsS --max-time 3 "$@" >/dev/null 2>&1; }

start etcd \
  --name kubus \
  --data-dir "$D/etcd" \
  --listen-client-urls "http://127.0.0.1:$P_ETCD" \
  --advertise-client-urls "http://127.0.0.1:$P_ETCD" \
  --listen-peer-urls "http://127.0.0.1:$P_PEER" \
  --initial-advertise-peer-urls "http://127.0.0.1:$P_PEER" \
  --initial-cluster "kubus=http://127.0.0.1:$P_PEER" \
  --initial-cluster-state new \
  --quota-backend-bytes 8589934592 \
  --unsafe-no-fsync \
  --log-level warn
await 60 etcd "etcd /health" http_ok "http://127.0.0.1:$P_ETCD/health"

# Audit log of every write (Metadata level): the ground truth tests and the
# yardstick use to count what a controller manager did to the API server
# (pods created, requests by user agent), independent of kubus's own word.
# Every request of kubus's in-cluster identities (ServiceAccounts of
# kubus-system) is logged too, reads included: a 403 shows in the log.
cat >"$D/audit-policy.yaml" <<'YAML'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  userGroups: ["system:serviceaccounts:kubus-system"]
- level: Metadata
  verbs: [create, update, patch, delete, deletecollection]
- level: None
YAML

start kube-apiserver \
  --audit-policy-file "$D/audit-policy.yaml" \
  --audit-log-path "$D/logs/audit.log" \
  --audit-log-maxsize 2000 \
  --audit-log-maxbackup 1 \
  --bind-address 127.0.0.1 \
  --advertise-address 127.0.0.1 \
  --secure-port "$P_API" \
  --etcd-servers "http://127.0.0.1:$P_ETCD" \
  --tls-cert-file "$PKI/apiserver.crt" \
  --tls-private-key-file "$PKI/apiserver.key" \
  --client-ca-file "$PKI/ca.crt" \
  --requestheader-client-ca-file "$PKI/ca.crt" \
  --requestheader-allowed-names front-proxy-client \
  --requestheader-username-headers X-Remote-User \
  --requestheader-group-headers X-Remote-Group \
  --requestheader-extra-headers-prefix X-Remote-Extra- \
  --proxy-client-cert-file "$PKI/front-proxy-client.crt" \
  --proxy-client-key-file "$PKI/front-proxy-client.key" \
  --authorization-mode Node,RBAC \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$PKI/sa.pub" \
  --service-account-signing-key-file "$PKI/sa.key" \
  --service-cluster-ip-range 10.96.0.0/16 \
  --allow-privileged \
  --profiling=false \
  --v 1
await 180 kube-apiserver "kube-apiserver /readyz" cl_api_ready

kubeconfig "$D/kubeconfig" admin

common_flags() { # NAME: flags shared by scheduler and controller-manager
  echo --kubeconfig "$D/$1.kubeconfig" \
    --authentication-kubeconfig "$D/$1.kubeconfig" \
    --authorization-kubeconfig "$D/$1.kubeconfig" \
    --bind-address 127.0.0.1 \
    --leader-elect=false \
    --profiling=false \
    --v 1
}

# shellcheck disable=SC2046
start kube-scheduler $(common_flags kube-scheduler) --secure-port "$P_SCHED"

# The controllers kubus replaces are switched off, unless KUBUS_UPSTREAM=all.
if [ "$upstream" = all ]; then
  controllers='*'
else
  controllers='*,-replicaset-controller,-deployment-controller,-statefulset-controller'
  controllers+=',-daemonset-controller,-job-controller,-cronjob-controller'
  controllers+=',-garbage-collector-controller,-ttl-after-finished-controller'
fi
# shellcheck disable=SC2046
start kube-controller-manager $(common_flags kube-controller-manager) \
  --secure-port "$P_KCM" \
  --controllers "$controllers" \
  --cluster-name kubus \
  --root-ca-file "$PKI/ca.crt" \
  --service-account-private-key-file "$PKI/sa.key" \
  --use-service-account-credentials \
  --cluster-signing-cert-file "$PKI/ca.crt" \
  --cluster-signing-key-file "$PKI/ca.key" \
  --enable-hostpath-provisioner

# The default StorageClass: a claim without a class (the tutorial's
# StatefulSet) gets `local-path`, and kube-controller-manager's
# persistentvolume-binder provisions a hostPath volume under /tmp for it
# (--enable-hostpath-provisioner: one machine, tests and development only).
cl_kubectl apply -f - >/dev/null <<'YAML' || cl_die "could not create the StorageClass local-path"
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local-path
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: kubernetes.io/host-path
reclaimPolicy: Delete
volumeBindingMode: Immediate
YAML

cp "$KUBUS_CLUSTER_SCRIPTS/kwok.yaml" "$D/kwok.yaml"
start kwok \
  --kubeconfig "$D/kwok.kubeconfig" \
  --config "$D/kwok.yaml" \
  --server-address "127.0.0.1:$P_KWOK"

await 60 kube-scheduler "kube-scheduler /healthz" http_ok -k "https://127.0.0.1:$P_SCHED/healthz"
await 60 kube-controller-manager "kube-controller-manager /healthz" http_ok -k "https://127.0.0.1:$P_KCM/healthz"
await 60 kwok "kwok /healthz" http_ok "http://127.0.0.1:$P_KWOK/healthz"

for n in master worker; do
  bash "$KUBUS_CLUSTER_SCRIPTS/add-node" "$n" >/dev/null
done
await 60 kwok "nodes master and worker Ready" cl_nodes_ready master worker
# Pods can only be created once the namespace's default service account exists.
sa_ready() { cl_kubectl -n default get serviceaccount default >/dev/null 2>&1; }
await 60 kube-controller-manager "the default service account" sa_ready

trap - EXIT
cl_log "cluster up in $D (controllers: $upstream; apiserver https://127.0.0.1:$P_API)"
cl_log "use it: export KUBECONFIG=$D/kubeconfig PATH=$BIN:\$PATH   (or: . tests/cluster/env.sh)"
