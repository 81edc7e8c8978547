#!/usr/bin/env bash
# Builds the test images locally from Debian's busybox-static (there is no registry here) and
# imports them into containerd's k8s.io namespace under fixed names. Every name points at a
# loopback registry host, so an accidental pull fails at once instead of leaving this machine.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

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
  cp /bin/busybox "${root}/bin/busybox"
  local applet
  while read -r applet; do
    [[ "${applet}" == "bin/busybox" ]] && continue
    mkdir -p "${root}/$(dirname "${applet}")"
    ln -sf /bin/busybox "${root}/${applet}"
  done < <(/bin/busybox --list-full)
  printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "${root}/etc/passwd"
  printf 'root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n' > "${root}/etc/group"
  chown 1000:1000 "${root}/home/user"
  echo '<html><body>kubelet-ts</body></html>' > "${root}/var/www/index.html"
}

# make_image NAME ROOTFS CONFIG_JSON_FRAGMENT OUT.tar
make_image() {
  local name="$1" root="$2" cfg="$3" out="$4" work
  work="$(mktemp -d)"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "${root}" -cf "${work}/layer.tar" .
  local diff_id
  diff_id="sha256:$(sha256sum "${work}/layer.tar" | cut -d' ' -f1)"
  cat > "${work}/config.json" <<JSON
{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z",
 "config":${cfg},
 "rootfs":{"type":"layers","diff_ids":["${diff_id}"]},
 "history":[{"created":"1970-01-01T00:00:00Z","created_by":"kubelet-ts hack/images.sh"}]}
JSON
  local cfg_sha
  cfg_sha="$(sha256sum "${work}/config.json" | cut -d' ' -f1)"
  mv "${work}/config.json" "${work}/${cfg_sha}.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["layer.tar"]}]\n' "${cfg_sha}" "${name}" > "${work}/manifest.json"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "${work}" -cf "${out}" manifest.json "${cfg_sha}.json" layer.tar
  rm -rf "${work}"
}

ROOT="${IMG_DIR}/rootfs"
build_rootfs "${ROOT}"
PATH_ENV='"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]'
make_image "${PAUSE_IMAGE}" "${ROOT}" "{${PATH_ENV},\"Entrypoint\":[\"/bin/sleep\"],\"Cmd\":[\"infinity\"]}" "${IMG_DIR}/pause.tar"
make_image "${BUSYBOX_IMAGE}" "${ROOT}" "{${PATH_ENV},\"Cmd\":[\"sh\"]}" "${IMG_DIR}/busybox.tar"
make_image "${NONROOT_IMAGE}" "${ROOT}" "{${PATH_ENV},\"Cmd\":[\"sh\"],\"User\":\"1000\",\"WorkingDir\":\"/home/user\"}" "${IMG_DIR}/busybox-nonroot.tar"

if [[ "${1:-}" == "--build-only" ]]; then exit 0; fi

for t in pause busybox busybox-nonroot; do
  log "importing ${t}"
  "${CTR[@]}" images import --no-unpack=false "${IMG_DIR}/${t}.tar" >/dev/null 2>"${LOG_DIR}/import-${t}.err" \
    || "${CTR[@]}" images import "${IMG_DIR}/${t}.tar" >/dev/null \
    || die "ctr import of ${t} failed: $(cat "${LOG_DIR}/import-${t}.err")"
done
"${CTR[@]}" images ls -q | grep -F "${IMAGE_REGISTRY}" >&2
