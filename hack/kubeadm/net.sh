#!/usr/bin/env bash
# The lab network of the kubeadm cluster and of node VMs in tap mode (see common.sh's picture):
# network namespace ${KUBEADM_NETNS} with bridge br0 (10.250.0.1/24, the control-plane node's IP),
# and a veth to the host (kadm0, 10.250.0.254/24), so that the host, the kubeadm control plane and
# every tap-attached VM share one L2 segment and reach each other directly, in both directions.
#
#   net.sh up                      create it (idempotent)
#   net.sh down                    delete it (the netns takes its bridges, taps, nft tables along)
#   net.sh status
#   net.sh attach-tap TAP          move a tap device (already opened by qemu in the host netns)
#                                  into the netns and enslave it to br0
#   net.sh route CIDR VIA          route CIDR (a node's pod range) via VIA inside the netns
#   net.sh unroute CIDR
#   net.sh vm-env NAME             the tap settings of node VM NAME (hack/node-vm.sh NODE_VM_NET=tap):
#                                  TAP_DEV, TAP_IP (10.250.0.10-209 from a hash of NAME, or
#                                  NODE_VM_TAP_IP), TAP_PREFIX, TAP_MAC, TAP_ROUTES (CIDR@VIA ...)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

up() {
  if ! netns_exists; then
    log "creating netns ${KUBEADM_NETNS} (node ${KADM_NODE_IP}, host side ${KADM_HOST_IF} ${KADM_HOST_IP})"
    ip netns add "${KUBEADM_NETNS}"
  fi
  ip -n "${KUBEADM_NETNS}" link set lo up
  if ! ip -n "${KUBEADM_NETNS}" link show "${KADM_BRIDGE}" >/dev/null 2>&1; then
    ip -n "${KUBEADM_NETNS}" link add "${KADM_BRIDGE}" type bridge
    ip -n "${KUBEADM_NETNS}" addr add "${KADM_NODE_IP}/${KADM_NET_PREFIX}" dev "${KADM_BRIDGE}"
  fi
  # A fixed MAC: a bridge otherwise takes its lowest port's, which changes as VM taps come and
  # go, and the host's ARP entry for the node IP goes stale (seconds of i/o timeouts).
  ip -n "${KUBEADM_NETNS}" link set "${KADM_BRIDGE}" address "${KADM_BRIDGE_MAC}"
  ip -n "${KUBEADM_NETNS}" link set "${KADM_BRIDGE}" up
  if ! ip link show "${KADM_HOST_IF}" >/dev/null 2>&1; then
    ip link add "${KADM_HOST_IF}" type veth peer name eth0 netns "${KUBEADM_NETNS}"
    ip addr add "${KADM_HOST_IP}/${KADM_NET_PREFIX}" dev "${KADM_HOST_IF}"
  fi
  ip -n "${KUBEADM_NETNS}" link set eth0 master "${KADM_BRIDGE}"
  ip -n "${KUBEADM_NETNS}" link set eth0 up
  ip link set "${KADM_HOST_IF}" up
  # Per-netns sysctls (the host's own are untouched). kubeadm's preflight wants ip_forward=1, and
  # the node routes between its pods, br0 and other nodes' pod ranges.
  in_ns sysctl -qw net.ipv4.ip_forward=1
  # Deliberately no default route: pods reach this machine only (the node IP, the host side of
  # the veth, other nodes on br0), never anything beyond it.
}

down() {
  if netns_exists; then
    log "deleting netns ${KUBEADM_NETNS} (its bridges, taps, veth end and nft tables go with it)"
    ip netns del "${KUBEADM_NETNS}"
  fi
  for _ in $(seq 1 20); do ip link show "${KADM_HOST_IF}" >/dev/null 2>&1 || break; sleep 0.1; done
  ip link del "${KADM_HOST_IF}" 2>/dev/null || true
}

attach_tap() {
  local tap="$1"
  netns_exists || die "netns ${KUBEADM_NETNS} missing: run $0 up"
  if ip link show "${tap}" >/dev/null 2>&1; then
    ip link set "${tap}" netns "${KUBEADM_NETNS}"
  fi
  ip -n "${KUBEADM_NETNS}" link show "${tap}" >/dev/null 2>&1 || die "tap ${tap} is neither in the host netns nor in ${KUBEADM_NETNS}"
  ip -n "${KUBEADM_NETNS}" link set "${tap}" master "${KADM_BRIDGE}"
  ip -n "${KUBEADM_NETNS}" link set "${tap}" up
}

vm_env() {
  local name="$1" h n
  h="$(printf '%s' "${name}" | sha256sum | cut -c1-8)"
  n=$(( 16#${h:0:4} % 200 + 10 ))
  echo "TAP_DEV=kvm-${h}"
  echo "TAP_IP=${NODE_VM_TAP_IP:-10.250.0.${n}}"
  echo "TAP_PREFIX=${KADM_NET_PREFIX}"
  echo "TAP_MAC=52:54:00:${h:0:2}:${h:2:2}:${h:4:2}"
  # The control-plane node's pods are behind its node IP (static per-node pod ranges, no CNI
  # routing daemon): the guest routes them there; net.sh route does the reverse in the netns.
  echo "TAP_ROUTES=${KADM_NODE_POD_CIDR}@${KADM_NODE_IP}"
}

case "${1:-}" in
  up) up ;;
  vm-env) [[ -n "${2:-}" ]] || die "usage: $0 vm-env NAME"; vm_env "$2" ;;
  down) down ;;
  status)
    if netns_exists; then
      echo "netns ${KUBEADM_NETNS}:"; ip -n "${KUBEADM_NETNS}" -br addr; ip -n "${KUBEADM_NETNS}" route
    else
      echo "netns ${KUBEADM_NETNS}: absent"; exit 1
    fi
    ;;
  attach-tap) [[ -n "${2:-}" ]] || die "usage: $0 attach-tap TAP"; attach_tap "$2" ;;
  route) [[ -n "${3:-}" ]] || die "usage: $0 route CIDR VIA"; ip -n "${KUBEADM_NETNS}" route replace "$2" via "$3" ;;
  unroute) [[ -n "${2:-}" ]] || die "usage: $0 unroute CIDR"; ip -n "${KUBEADM_NETNS}" route del "$2" 2>/dev/null || true ;;
  *) sed -n '2,/^[^#]/{/^#/p}' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
