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
printf '127.0.0.1 localhost\n%s %s\n' "$GUEST_IP" "$NAME" > /etc/hosts
ip link set lo up
ip link set eth0 up
ip addr replace "$GUEST_IP/24" dev eth0
# Deliberately no default route: the guest reaches qemu's user network only (10.0.2.2 is the
# host's loopback, where the apiserver listens), never anything beyond this machine.
echo "kts-boot: node $NAME, kernel $(uname -r), /sys/fs/cgroup is $(stat -fc %T /sys/fs/cgroup): $(cat /sys/fs/cgroup/cgroup.controllers)"
# The cgroup driver of this run: containerd's runc option must match the kubelet's cgroupDriver.
if [ "${CGROUP_DRIVER:-systemd}" = cgroupfs ]; then
  sed -i 's/SystemdCgroup = true/SystemdCgroup = false/' /etc/containerd/config.toml
fi
echo "kts-boot: cgroup driver ${CGROUP_DRIVER:-systemd} ($(grep -o 'SystemdCgroup = [a-z]*' /etc/containerd/config.toml))"
