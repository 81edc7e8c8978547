#!/bin/sh
# Runs in the guest (kts-images.service), after containerd: imports the local test images
# (there is no registry) into the CRI namespace.
set -eu
for t in /opt/kubelet-ts/images/*.tar; do
  i=0
  until ctr -n k8s.io images import "$t" >/dev/null; do
    i=$((i + 1))
    [ "$i" -lt 10 ] || { echo "kts-images: import of $t failed" >&2; exit 1; }
    sleep 1
  done
done
echo "kts-images: $(ctr -n k8s.io images ls -q | tr '\n' ' ')"
