#!/bin/sh
# Runs in the guest (kts-boot.service) before containerd, the agent and the kubelet: the node name
# and the network, from the per-run overlay at /opt/kubelet-ts.
set -eu
D=/opt/kubelet-ts
# shellcheck source=/dev/null # written by hack/node-vm.sh up
. "$D/etc/vm.env"
NAME="$(cat "$D/etc/node-name")"
hostname "$NAME"
echo "$NAME" > /etc/hostname
# NODE_IP: the node's address (eth1's in tap mode, else the user-network one); the kubelet's
# node-IP detection resolves the hostname, so /etc/hosts names it.
printf '127.0.0.1 localhost\n%s %s\n' "${NODE_IP:-$GUEST_IP}" "$NAME" > /etc/hosts
ip link set lo up
ip link set eth0 up
ip addr replace "$GUEST_IP/24" dev eth0
# Tap mode (hack/node-vm.sh NODE_VM_NET=tap): eth1 on the host's lab bridge, where the host, the
# control plane and other nodes can dial this node; TAP_ROUTES="CIDR@VIA ..." are other nodes' pods.
if [ -n "${TAP_IP:-}" ]; then
  ip link set eth1 up
  ip addr replace "$TAP_IP/${TAP_PREFIX:-24}" dev eth1
  for r in ${TAP_ROUTES:-}; do ip route replace "${r%@*}" via "${r#*@}" dev eth1; done
  # A kubeadm node routes between its pods and other nodes (kubeadm's preflight checks it too).
  sysctl -qw net.ipv4.ip_forward=1
  echo "kts-boot: eth1 $TAP_IP/${TAP_PREFIX:-24}, routes: ${TAP_ROUTES:-none}"
fi
# Deliberately no default route: the guest reaches qemu's user network only (10.0.2.2 is the
# host's loopback, where the apiserver listens), never anything beyond this machine.
echo "kts-boot: node $NAME, kernel $(uname -r), /sys/fs/cgroup is $(stat -fc %T /sys/fs/cgroup): $(cat /sys/fs/cgroup/cgroup.controllers)"
# The cgroup driver of this run: containerd's runc option must match the kubelet's cgroupDriver.
if [ "${CGROUP_DRIVER:-systemd}" = cgroupfs ]; then
  sed -i 's/SystemdCgroup = true/SystemdCgroup = false/' /etc/containerd/config.toml
fi
echo "kts-boot: cgroup driver ${CGROUP_DRIVER:-systemd} ($(grep -o 'SystemdCgroup = [a-z]*' /etc/containerd/config.toml))"
