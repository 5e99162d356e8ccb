#!/usr/bin/env bash
# The reference cluster is the pinned release and has its two fake nodes Ready.
. "$(dirname "$0")/lib.sh"

for n in master worker; do
  st=$(kubectl get node "$n" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) ||
    fail "node $n does not exist"
  [ "$st" = True ] || fail "node $n is not Ready (Ready=$st)"
  pods=$(kubectl get node "$n" -o jsonpath='{.status.allocatable.pods}')
  case "$pods" in *k) pods=$((${pods%k} * 1000)) ;; esac
  [[ "$pods" =~ ^[0-9]+$ ]] && ((pods >= 500)) || fail "node $n has room for only $pods pods"
done
pass "nodes master and worker are Ready"

ver=$(kubectl version -o json)
server=$(jq -r .serverVersion.gitVersion <<<"$ver")
client=$(jq -r .clientVersion.gitVersion <<<"$ver")
[ "$server" = "$KUBUS_K8S_VERSION" ] || fail "server version is '$server', the pin is $KUBUS_K8S_VERSION"
[ "$client" = "$KUBUS_K8S_VERSION" ] || fail "kubectl on PATH is '$client' ($(command -v kubectl)), the pin is $KUBUS_K8S_VERSION"
pass "kubectl and kube-apiserver are $server"

for b in etcd kwok; do
  "$KUBUS_K8S_BIN/$b" --version >/dev/null 2>&1 || fail "$KUBUS_K8S_BIN/$b --version failed"
done
"$KUBUS_K8S_BIN/etcd" --version | grep >/dev/null "etcd Version: ${KUBUS_ETCD_VERSION#v}" ||
  fail "etcd is not ${KUBUS_ETCD_VERSION}: $("$KUBUS_K8S_BIN/etcd" --version | head -1)"
pass "etcd is $KUBUS_ETCD_VERSION"
