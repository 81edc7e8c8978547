#!/usr/bin/env bash
# Builds the test images locally from Debian's busybox-static (there is no registry here) and
# imports them into containerd's k8s.io namespace under fixed names. Every name points at a
# loopback registry host, so an accidental pull fails at once instead of leaving this machine.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "${HACK_DIR}/image-lib.sh"

IMAGE_REGISTRY="localhost:5999/kubelet-ts"
PAUSE_IMAGE="${IMAGE_REGISTRY}/pause:3.10"
BUSYBOX_IMAGE="${IMAGE_REGISTRY}/busybox:1.36"
NONROOT_IMAGE="${IMAGE_REGISTRY}/busybox-nonroot:1.36"
CTR=(ctr --address "${CONTAINERD_SOCK:-/run/containerd/containerd.sock}" -n k8s.io)

[[ -x /bin/busybox ]] || die "/bin/busybox missing (install busybox-static: hack/install-deps.sh)"

IMG_DIR="${LOCAL_DIR}/images"
mkdir -p "${IMG_DIR}"
# Concurrent imports into several containerd instances share IMG_DIR: build under a lock.
exec 9>"${IMG_DIR}.lock"
flock 9

build_rootfs() {
  local root="$1"
  rm -rf "${root}"; mkdir -p "${root}"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,home/user,var/www,proc,sys,dev}
  chmod 1777 "${root}/tmp"
  link_busybox "${root}"
  printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "${root}/etc/passwd"
  printf 'root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n' > "${root}/etc/group"
  chown 1000:1000 "${root}/home/user"
  echo '<html><body>kubelet-ts</body></html>' > "${root}/var/www/index.html"
}

ROOT="${IMG_DIR}/rootfs"
build_rootfs "${ROOT}"
PATH_ENV='"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]'
make_image "${ROOT}" "{${PATH_ENV},\"Entrypoint\":[\"/bin/sleep\"],\"Cmd\":[\"infinity\"]}" "${IMG_DIR}/pause.tar" "${PAUSE_IMAGE}"
make_image "${ROOT}" "{${PATH_ENV},\"Cmd\":[\"sh\"]}" "${IMG_DIR}/busybox.tar" "${BUSYBOX_IMAGE}"
make_image "${ROOT}" "{${PATH_ENV},\"Cmd\":[\"sh\"],\"User\":\"1000\",\"WorkingDir\":\"/home/user\"}" "${IMG_DIR}/busybox-nonroot.tar" "${NONROOT_IMAGE}"

if [[ "${1:-}" == "--build-only" ]]; then exit 0; fi

for t in pause busybox busybox-nonroot; do
  log "importing ${t}"
  import_image "${CTR[@]}" -- "${IMG_DIR}/${t}.tar"
done
"${CTR[@]}" images ls -q | grep -F "${IMAGE_REGISTRY}" >&2
