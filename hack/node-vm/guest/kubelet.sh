#!/bin/sh
# Runs in the guest (kubelet-ts.service): kubelet-ts from the overlay, as node NAME.
D=/opt/kubelet-ts
# shellcheck source=/dev/null # written by hack/node-vm.sh up
. "$D/etc/vm.env"
mkdir -p /var/lib/kubelet /var/log/pods
# shellcheck disable=SC2046 # word splitting of the extra flags is intended
exec "$D/bin/node" "$D/app/dist/src/main.js" \
  --kubeconfig "$D/etc/kubeconfig" --config "$D/etc/kubelet-config.yaml" \
  --hostname-override "$(cat "$D/etc/node-name")" --node-ip "${NODE_IP:-$GUEST_IP}" \
  --root-dir /var/lib/kubelet $(cat "$D/etc/kubelet-args")
