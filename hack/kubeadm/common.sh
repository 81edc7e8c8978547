#!/usr/bin/env bash
# Shared settings of the kubeadm cluster scripts (hack/kubeadm/*.sh). Source it; do not run it.
#
# The cluster lives in its own network namespace, so that its control plane can use kubeadm's
# default ports (6443, 2379/2380, 10250, 10257, 10259, healthz 10248) beside the shared control
# plane of hack/control-plane.sh and kubelet-ts on this host, and so that kube-proxy's nftables
# rules never touch the host's own traffic. The mount namespace is the host's: /etc/kubernetes,
# /var/lib/kubelet and /var/lib/etcd are the real paths kubeadm hard-codes.
#
#   host (root netns)                          netns ${KUBEADM_NETNS}
#   kadm0 10.250.0.254/24 ──veth──  eth0 ──┐
#                                          br0 10.250.0.1/24  (node IP, apiserver advertise address)
#                     node VM tap (NODE_VM_NET=tap) ──┘   kadm-cni0 10.244.8.1/24 (this node's pods)
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

KUBELET="${KUBELET:-upstream}"
[[ "${KUBELET}" == upstream || "${KUBELET}" == ts ]] || die "KUBELET must be upstream or ts (got ${KUBELET})"
KUBEADM_NETNS="${KUBEADM_NETNS:-kts-kubeadm}"
KADM_HOST_IF=kadm0
KADM_HOST_IP=10.250.0.254
KADM_NODE_IP=10.250.0.1
KADM_NET_PREFIX=24
KADM_BRIDGE=br0
KADM_BRIDGE_MAC=02:6b:61:64:6d:01
KADM_NODE_NAME="${KADM_NODE_NAME:-kubeadm-control-plane}"
KADM_POD_SUBNET=10.244.0.0/16        # podSubnet (kube-proxy's clusterCIDR)
KADM_NODE_POD_CIDR=10.244.8.0/24     # this node's pods (CNI host-local range)
KADM_SERVICE_SUBNET=10.96.0.0/12
KADM_CNI_CONF_DIR=/etc/cni/kubeadm-net.d
KADM_CNI_NETWORK=kubeadm
KADM_CNI_BRIDGE=kadm-cni0
CONTAINERD_INSTANCE=kubeadm
KADM_CRI_SOCK=/run/containerd-kubeadm/containerd.sock
KSTATE="${LOCAL_DIR}/kubeadm"
KADM_KUBECONFIG=/etc/kubernetes/admin.conf
mkdir -p "${KSTATE}"

netns_path() { echo "/run/netns/${KUBEADM_NETNS}"; }
netns_exists() { [[ -e "$(netns_path)" ]]; }
in_netns() {
  netns_exists && [[ "$(readlink /proc/self/ns/net)" == "$(nsenter --net="$(netns_path)" readlink /proc/self/ns/net)" ]]
}
# in_ns CMD...: CMD in the cluster's network namespace (mount namespace unchanged: unlike
# `ip netns exec`, nsenter --net keeps one mount namespace for kubeadm, kubelet and containerd).
in_ns() { nsenter --net="$(netns_path)" "$@"; }
kctl() { "${K8S_BIN}/kubectl" --kubeconfig "${KADM_KUBECONFIG}" "$@"; }
