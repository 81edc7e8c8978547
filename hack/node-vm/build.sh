#!/usr/bin/env bash
# Builds the node VM's BASE image into OUT_DIR (called by hack/node-vm.sh build; not by hand).
#   hack/node-vm/build.sh OUT_DIR DEB_CACHE_DIR
# OUT_DIR gets rootfs.img (ext4, made with mke2fs -d: no loop mount), vmlinuz, initrd.img and
# packages.txt. The image is a Debian bookworm minbase with systemd, containerd (SystemdCgroup),
# runc and the CNI plugins, plus the generic units in hack/node-vm/rootfs/ that run whatever the
# per-run overlay disk (/dev/vdb -> /opt/kubelet-ts) brings: our kubelet, its config, the test
# images and the command agent. Nothing of this checkout's code is baked in, so code changes never
# invalidate the cached base. This file and hack/node-vm/rootfs/ are the cache key: edit either and
# the next `build` makes a new image.
# shellcheck source=hack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

OUT_DIR="${1:?usage: build.sh OUT_DIR DEB_CACHE_DIR}"
DEB_CACHE="${2:?usage: build.sh OUT_DIR DEB_CACHE_DIR}"
SUITE=bookworm
MIRROR="${NODE_VM_MIRROR:-http://deb.debian.org/debian}"
ROOTFS_SIZE="${NODE_VM_ROOTFS_SIZE:-4G}"
PACKAGES=(
  systemd-sysv udev kmod dbus linux-image-cloud-amd64 initramfs-tools
  containerd runc containernetworking-plugins iptables iproute2 ca-certificates procps
)
# Timers and units a throw-away test node must not run: they reach for the network (apt),
# scrub or trim disks, or wait for a human on the serial console.
MASK=(
  apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer e2scrub_reap.service
  fstrim.timer systemd-firstboot.service serial-getty@ttyS0.service getty@tty1.service
  getty-static.service systemd-timesyncd.service
)

(( EUID == 0 )) || die "building the node VM image needs root (debootstrap, chroot)"
[[ ! -e "${OUT_DIR}" ]] || die "${OUT_DIR} already exists"
mkdir -p "${DEB_CACHE}"

WORK="$(mktemp -d /var/tmp/kts-node-vm-build.XXXXXX)"
ROOTFS="${WORK}/rootfs"
cleanup() {
  # debootstrap mounts proc/sys inside the target; never rm -rf through a live mount.
  local m
  while read -r m; do umount -l "${m}" 2>/dev/null || true; done < <(findmnt -rn -o TARGET | grep -F "${WORK}/" | sort -r)
  if findmnt -rn -o TARGET | grep -qF "${WORK}/"; then
    log "leaving ${WORK} in place: something is still mounted under it"
  else
    rm -rf "${WORK}"
  fi
}
trap cleanup EXIT

t0=$(date +%s)
log "debootstrap ${SUITE} (minbase + ${#PACKAGES[@]} packages) from ${MIRROR}"
include="$(IFS=,; echo "${PACKAGES[*]}")"
if ! debootstrap --variant=minbase --include="${include}" --cache-dir="${DEB_CACHE}" \
      "${SUITE}" "${ROOTFS}" "${MIRROR}" > "${WORK}/debootstrap.log" 2>&1; then
  tail -n 40 "${WORK}/debootstrap.log" >&2
  [[ -f "${ROOTFS}/debootstrap/debootstrap.log" ]] && tail -n 40 "${ROOTFS}/debootstrap/debootstrap.log" >&2
  die "debootstrap failed (see above)"
fi
log "debootstrap done in $(( $(date +%s) - t0 ))s"

# Our generic units and configs (containerd with SystemdCgroup, CNI bridge, fstab, modules).
cp -a "${HACK_DIR}/node-vm/rootfs/." "${ROOTFS}/"
chown -R 0:0 "${ROOTFS}/etc/systemd/system" "${ROOTFS}/etc/containerd" "${ROOTFS}/etc/cni" "${ROOTFS}/etc/fstab"
mkdir -p "${ROOTFS}/opt/kubelet-ts" "${ROOTFS}/var/lib/kubelet" "${ROOTFS}/var/log/pods"

chroot "${ROOTFS}" systemctl enable containerd.service kts-boot.service kts-agent.service \
  kts-images.service kubelet-ts.service >/dev/null 2>&1 || die "systemctl enable in the chroot failed"
chroot "${ROOTFS}" systemctl mask "${MASK[@]}" >/dev/null 2>&1 || die "systemctl mask in the chroot failed"

# A fresh machine-id every boot (the base is always booted as a throw-away snapshot), a neutral
# hostname (boot.sh sets the node name), and no resolver: the guest must never send DNS queries
# out through qemu's user network.
rm -f "${ROOTFS}/etc/machine-id" "${ROOTFS}/var/lib/dbus/machine-id"
echo kts-node > "${ROOTFS}/etc/hostname"
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' > "${ROOTFS}/etc/hosts"
printf 'nameserver 127.0.0.1\n' > "${ROOTFS}/etc/resolv.conf"
# shellcheck disable=SC2016 # dpkg-query's own ${...} format
chroot "${ROOTFS}" dpkg-query -W -f='${Package} ${Version}\n' > "${WORK}/packages.txt"

# Smaller image: package caches, lists, docs and man pages are of no use in a test node.
rm -rf "${ROOTFS}/var/cache/apt/"*.bin "${ROOTFS}/var/cache/apt/archives/"*.deb "${ROOTFS}/var/lib/apt/lists/"* \
  "${ROOTFS}/usr/share/doc/"* "${ROOTFS}/usr/share/man/"* "${ROOTFS}/usr/share/locale/"* "${ROOTFS}/debootstrap"

kernel="$(find "${ROOTFS}/boot" -maxdepth 1 -name 'vmlinuz-*' | sort | tail -n 1)"
initrd="$(find "${ROOTFS}/boot" -maxdepth 1 -name 'initrd.img-*' | sort | tail -n 1)"
[[ -n "${kernel}" && -n "${initrd}" ]] || die "no kernel/initrd under ${ROOTFS}/boot"

STAGE="${WORK}/out"
mkdir -p "${STAGE}"
cp "${kernel}" "${STAGE}/vmlinuz"
cp "${initrd}" "${STAGE}/initrd.img"
mv "${WORK}/packages.txt" "${STAGE}/packages.txt"
log "mke2fs -d (${ROOTFS_SIZE}, sparse)"
mke2fs -q -F -t ext4 -L kts-root -d "${ROOTFS}" "${STAGE}/rootfs.img" "${ROOTFS_SIZE}" \
  || die "mke2fs -d failed"
echo "kernel $(basename "${kernel}")" > "${STAGE}/build-info"
echo "built $(date -u +%FT%TZ) in $(( $(date +%s) - t0 ))s" >> "${STAGE}/build-info"
mv "${STAGE}" "${OUT_DIR}"
log "node VM base image ready in ${OUT_DIR} ($(( $(date +%s) - t0 ))s)"
