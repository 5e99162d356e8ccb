# shellcheck shell=bash
# Source me (bash):   . tests/cluster/env.sh
# Points this shell at the reference cluster:
#   KUBUS_K8S_BIN  dir of the pinned kube-apiserver/kubectl/etcd/kwok binaries
#   KUBECONFIG     $KUBUS_CLUSTER_DIR/kubeconfig (default build/cluster/kubeconfig)
#   PATH           $KUBUS_K8S_BIN first, so `kubectl` is the pinned one
# Honours KUBUS_ROOT, KUBUS_CACHE and KUBUS_CLUSTER_DIR if already set.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
export KUBECONFIG="$KUBUS_CLUSTER_DIR/kubeconfig"
case ":$PATH:" in
  *":$KUBUS_K8S_BIN:"*) ;;
  *) export PATH="$KUBUS_K8S_BIN:$PATH" ;;
esac
