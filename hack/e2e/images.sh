#!/usr/bin/env bash
# Builds, from local binaries, every image the NodeConformance selection runs, under its exact
# upstream name (`e2e.test --list-images`), and imports them into containerd's k8s.io namespace.
# No registry is reachable here: each image is one layer assembled by hack/image-lib.sh.
#   busybox:1.37.0-2, :1.36.1-1  busybox-static, every applet in /bin, a /bin/sh shim (sh-shim.c)
#   nonroot:1.5                  busybox + USER 1234
#   nonewprivs:1.4               busybox + setuid-root /usr/local/bin/nnp (built from upstream)
#   glibc-dns-testing:2.1.1      busybox + Debian's glibc hostname (hostname -f via /etc/hosts)
#   agnhost:2.66.1, :2.55        /agnhost (built from upstream) + bash as /bin/sh, curl, openbsd nc
#   pause:3.10.2                 upstream's pause.c (from the module cache), statically linked
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "${HACK_DIR}/image-lib.sh"

E2E_BIN="${CACHE_ROOT}/e2e-${K8S_VERSION}/bin"
[[ -x "${E2E_BIN}/agnhost" ]] || die "agnhost not built: run hack/build-e2e.sh"
CTR=(ctr --address "${CONTAINERD_SOCK:-/run/containerd/containerd.sock}" -n k8s.io)
R=registry.k8s.io/e2e-test-images
IMG_DIR="${LOCAL_DIR}/e2e-images"
mkdir -p "${IMG_DIR}"
exec 9>"${IMG_DIR}.lock"
flock 9

# The inputs: when none changed since the last import into this containerd, nothing to do.
inputs_sum="$( { cat "${BASH_SOURCE[0]}" "${HACK_DIR}/image-lib.sh" "${HACK_DIR}/e2e/sh-shim.c"; \
  sha256sum /bin/busybox "${E2E_BIN}/agnhost" "${E2E_BIN}/nnp"; } | sha256sum | cut -c1-16)"
stamp="${IMG_DIR}/imported-$(printf '%s' "${CTR[2]}" | cksum | cut -d' ' -f1)"
if [[ "$(cat "${stamp}" 2>/dev/null)" == "${inputs_sum}" ]] \
   && "${CTR[@]}" images ls -q | grep -qxF "${R}/agnhost:2.66.1"; then
  log "e2e images already imported"
  exit 0
fi

PATH_ENV='"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]'

# Debian's netcat-openbsd (agnhost's checks use nc -u; busybox nc has no UDP).
nc_dir="${IMG_DIR}/netcat-openbsd"
if [[ ! -x "${nc_dir}/bin/nc.openbsd" ]]; then
  rm -rf "${nc_dir}"; mkdir -p "${nc_dir}"
  (cd "${IMG_DIR}" && rm -f netcat-openbsd_*.deb && apt-get download netcat-openbsd >/dev/null) \
    || die "apt-get download netcat-openbsd failed"
  dpkg-deb -x "${IMG_DIR}"/netcat-openbsd_*.deb "${nc_dir}"
fi
shim="${IMG_DIR}/sh-shim"
gcc -static -Os -o "${shim}" "${HACK_DIR}/e2e/sh-shim.c" || die "cannot build the /bin/sh shim (gcc, libc6-dev)"

base_rootfs() {
  local root="$1"
  rm -rf "${root}"; mkdir -p "${root}"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,etc,tmp,root,home,proc,sys,dev,var}
  chmod 1777 "${root}/tmp"
  link_busybox "${root}" /bin
  # Upstream's busybox image: these accounts and groups.
  cat > "${root}/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
P
  cat > "${root}/etc/group" <<'G'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nobody:x:65534:
G
}

busybox_rootfs() {
  local root="$1"
  base_rootfs "${root}"
  copy_dynamic "${root}" /bin/bash /bin/bash
  rm -f "${root}/bin/sh"
  cp "${shim}" "${root}/bin/sh"
}

log "assembling e2e images"
ROOT="${IMG_DIR}/rootfs"

busybox_rootfs "${ROOT}"
make_image "${ROOT}" "{${PATH_ENV},\"Cmd\":[\"sh\"]}" "${IMG_DIR}/busybox.tar" \
  "${R}/busybox:1.37.0-2" "${R}/busybox:1.36.1-1"
make_image "${ROOT}" "{${PATH_ENV},\"Cmd\":[\"sh\"],\"User\":\"1234\"}" "${IMG_DIR}/nonroot.tar" "${R}/nonroot:1.5"

# The pause image: upstream's build/pause/linux/pause.c from the module cache, alone in its image
# (it exits on SIGTERM/SIGINT, which `sleep` as PID 1 would ignore until SIGKILL).
kdir="$(cd "${CACHE_ROOT}/src/e2e-${K8S_VERSION}" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)"
pause_root="${IMG_DIR}/pause-rootfs"
rm -rf "${pause_root}"; mkdir -p "${pause_root}"
gcc -static -Os -DVERSION=3.10.2 -o "${pause_root}/pause" "${kdir}/build/pause/linux/pause.c" \
  || die "cannot build pause.c (gcc, libc6-dev)"
make_image "${pause_root}" "{${PATH_ENV},\"Entrypoint\":[\"/pause\"]}" "${IMG_DIR}/pause.tar" \
  "registry.k8s.io/pause:3.10.2"

install -m 4755 -o 0 -g 0 "${E2E_BIN}/nnp" "${ROOT}/usr/local/bin/nnp"
make_image "${ROOT}" "{${PATH_ENV},\"Cmd\":[\"nnp\"]}" "${IMG_DIR}/nonewprivs.tar" "${R}/nonewprivs:1.4"
rm -f "${ROOT}/usr/local/bin/nnp"

rm -f "${ROOT}/bin/hostname"
copy_dynamic "${ROOT}" /bin/hostname /bin/hostname
printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "${ROOT}/etc/nsswitch.conf"
make_image "${ROOT}" "{${PATH_ENV},\"Cmd\":[\"/bin/bash\"]}" "${IMG_DIR}/glibc-dns-testing.tar" "${R}/glibc-dns-testing:2.1.1"

# agnhost: alpine-like, bash as /bin/sh, curl, nc, the porter pair, /uploads, an image-defined user.
base_rootfs "${ROOT}"
copy_dynamic "${ROOT}" /bin/bash /bin/bash
rm -f "${ROOT}/bin/sh"; ln -s bash "${ROOT}/bin/sh"
copy_dynamic "${ROOT}" /usr/bin/curl /usr/bin/curl
rm -f "${ROOT}/usr/bin/nc" "${ROOT}/bin/nc"
LD_LIBRARY_PATH= copy_dynamic "${ROOT}" "${nc_dir}/bin/nc.openbsd" /usr/bin/nc
cp "${E2E_BIN}/agnhost" "${ROOT}/agnhost"
ln -s agnhost "${ROOT}/agnhost-2"
cp "${E2E_BIN}/localhost.crt" "${E2E_BIN}/localhost.key" "${ROOT}/"
mkdir -p "${ROOT}/uploads" "${ROOT}/home/user-defined-in-image"
echo 'user-defined-in-image:x:1000:1000:Linux User,,,:/home/user-defined-in-image:/bin/sh' >> "${ROOT}/etc/passwd"
echo 'user-defined-in-image:x:1000:' >> "${ROOT}/etc/group"
echo 'group-defined-in-image:x:50000:user-defined-in-image' >> "${ROOT}/etc/group"
chown 1000:1000 "${ROOT}/home/user-defined-in-image"
make_image "${ROOT}" "{${PATH_ENV},\"Entrypoint\":[\"/agnhost\"],\"Cmd\":[\"pause\"]}" "${IMG_DIR}/agnhost.tar" \
  "${R}/agnhost:2.66.1" "${R}/agnhost:2.55"

for t in busybox nonroot pause nonewprivs glibc-dns-testing agnhost; do
  log "importing e2e image ${t}"
  import_image "${CTR[@]}" -- "${IMG_DIR}/${t}.tar"
done
echo "${inputs_sum}" > "${stamp}"
"${CTR[@]}" images ls -q | grep -E "^(${R}|registry.k8s.io/pause)" >&2
