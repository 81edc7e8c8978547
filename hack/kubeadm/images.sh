#!/usr/bin/env bash
# Builds every image `kubeadm config images list --kubernetes-version ${K8S_VERSION}` names, under
# its exact name, from locally built binaries (no registry is reachable here), and imports them
# into the k8s.io namespace of the containerd at CONTAINERD_SOCK.
#
#   hack/kubeadm/images.sh              build (cached) and import into CONTAINERD_SOCK
#   hack/kubeadm/images.sh --build-only build the tarballs only; print their directory
#   hack/kubeadm/images.sh --check      run each imported image once (`<bin> --version`)
#
#   registry.k8s.io/kube-{apiserver,controller-manager,scheduler}:v1.37.2
#       hack/build-k8s.sh's binary in /usr/local/bin, /go-runner (kube-log-runner) as entrypoint,
#       glibc + ca-certificates + passwd: what upstream's go-runner/distroless base gives
#   registry.k8s.io/kube-proxy:v1.37.2
#       the same, plus nft (Debian's nftables) and iptables/ip6tables (xtables nft + legacy, with
#       their extension modules) and conntrack: upstream's distroless-iptables base
#   registry.k8s.io/etcd:<kubeadm's DefaultEtcdVersion, 3.7.0-0>  etcd built by hack/build-etcd.sh
#   registry.k8s.io/coredns/coredns:v1.14.6   static CoreDNS (hack/build-coredns.sh), file cap
#       cap_net_bind_service, USER 65532 (nonroot), as upstream's Dockerfile
#   registry.k8s.io/pause:3.10.2              upstream pause.c, static, USER 65535
#
# The tarballs are cached in ${CACHE_ROOT}/kubeadm-${K8S_VERSION}/images/ (keyed by a hash of the
# binaries and this script); an import stamp per containerd socket lives in LOCAL_DIR.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
source "${HACK_DIR}/image-lib.sh"

KUBEADM_ETCD_VERSION="${KUBEADM_ETCD_VERSION:-3.7.0-0}"     # kubeadm v1.37.2 constants.DefaultEtcdVersion
KUBEADM_COREDNS_VERSION="${KUBEADM_COREDNS_VERSION:-v1.14.6}" # constants.CoreDNSVersion
KUBEADM_PAUSE_VERSION="${KUBEADM_PAUSE_VERSION:-3.10.2}"      # constants.PauseVersion
ETCD_SRC_VERSION="v${KUBEADM_ETCD_VERSION%-*}"                # 3.7.0-0 -> v3.7.0
R=registry.k8s.io
CONTAINERD_SOCK="${CONTAINERD_SOCK:-/run/containerd-kubeadm/containerd.sock}"
CTR=(ctr --address "${CONTAINERD_SOCK}" -n k8s.io)
IMG_CACHE="${CACHE_ROOT}/kubeadm-${K8S_VERSION}/images"
PATH_ENV='"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]'

# name:tarball, in `kubeadm config images list` order.
IMAGES=(
  "${R}/kube-apiserver:${K8S_VERSION}:kube-apiserver"
  "${R}/kube-controller-manager:${K8S_VERSION}:kube-controller-manager"
  "${R}/kube-scheduler:${K8S_VERSION}:kube-scheduler"
  "${R}/kube-proxy:${K8S_VERSION}:kube-proxy"
  "${R}/coredns/coredns:${KUBEADM_COREDNS_VERSION}:coredns"
  "${R}/pause:${KUBEADM_PAUSE_VERSION}:pause"
  "${R}/etcd:${KUBEADM_ETCD_VERSION}:etcd"
)
image_name() { echo "${1%:*}"; }
image_tar() { echo "${1##*:}"; }

ensure_packages() {
  local missing=() p
  # nft for kube-proxy's nftables mode; setcap for CoreDNS; gcc/libc6-dev for pause.c.
  for p in nftables libcap2-bin gcc libc6-dev; do
    dpkg-query -W -f='${Status}' "${p}" 2>/dev/null | grep -q "install ok installed" || missing+=("${p}")
  done
  if (( ${#missing[@]} > 0 )); then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || apt-get update
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
      || { sleep 3; apt-get install -y --no-install-recommends "${missing[@]}"; }
  fi
}

build_binaries() {
  bash "${HACK_DIR}/build-k8s.sh"
  bash "${HACK_DIR}/build-kubeadm.sh"
  ETCD_VERSION="${ETCD_SRC_VERSION}" bash "${HACK_DIR}/build-etcd.sh"
  COREDNS_VERSION="${KUBEADM_COREDNS_VERSION}" bash "${HACK_DIR}/build-coredns.sh"
}

ETCD_BIN_V="${CACHE_ROOT}/etcd-${ETCD_SRC_VERSION}/bin"
COREDNS_BIN="${CACHE_ROOT}/coredns-${KUBEADM_COREDNS_VERSION}/bin"

inputs_hash() {
  { cat "${BASH_SOURCE[0]}" "${HACK_DIR}/image-lib.sh"
    sha256sum "${K8S_BIN}"/kube-{apiserver,controller-manager,scheduler} "${KUBEADM_BIN}"/{kube-proxy,kube-log-runner} \
      "${ETCD_BIN_V}/etcd" "${COREDNS_BIN}/coredns" /usr/sbin/nft /usr/sbin/xtables-nft-multi; } | sha256sum | cut -c1-16
}

# A distroless-like base: accounts (root, nonroot 65532), nsswitch, CA bundle, /tmp.
base_rootfs() {
  local root="$1"
  rm -rf "${root}"; mkdir -p "${root}"/{etc/ssl/certs,tmp,root,home/nonroot,usr/local/bin,var/run,proc,sys,dev}
  chmod 1777 "${root}/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "${root}/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' > "${root}/etc/group"
  printf 'hosts: files dns\n' > "${root}/etc/nsswitch.conf"
  cp /etc/ssl/certs/ca-certificates.crt "${root}/etc/ssl/certs/ca-certificates.crt"
  chown 65532:65532 "${root}/home/nonroot"
}

# server_image NAME BIN TAR [extra rootfs step]: upstream's server-image layout.
server_image() {
  local name="$1" bin="$2" tar="$3" root="${WORK}/${3}"
  base_rootfs "${root}"
  copy_dynamic "${root}" "${bin}" "/usr/local/bin/$(basename "${bin}")"
  copy_dynamic "${root}" "${KUBEADM_BIN}/kube-log-runner" /go-runner
  if [[ "${tar}" == kube-proxy ]]; then proxy_tools "${root}"; fi
  make_image "${root}" "{${PATH_ENV},\"Entrypoint\":[\"/go-runner\"]}" "${WORK}/${tar}.tar" "${name}"
}

# kube-proxy's userspace: nft (nftables mode), iptables-nft/-legacy (iptables mode and the cleanup
# of the other mode's rules), conntrack. xtables loads its match/target modules with dlopen.
proxy_tools() {
  local root="$1" l
  copy_dynamic "${root}" /usr/sbin/nft
  copy_dynamic "${root}" /usr/sbin/xtables-nft-multi
  copy_dynamic "${root}" /usr/sbin/xtables-legacy-multi
  copy_dynamic "${root}" /usr/sbin/conntrack
  mkdir -p "${root}/usr/lib/x86_64-linux-gnu/xtables"
  cp -a /usr/lib/x86_64-linux-gnu/xtables/. "${root}/usr/lib/x86_64-linux-gnu/xtables/"
  for l in /usr/lib/x86_64-linux-gnu/xtables/*.so; do
    while read -r dep; do
      [[ -n "${dep}" && -e "${dep}" && ! -e "${root}${dep}" ]] || continue
      mkdir -p "${root}$(dirname "${dep}")"; cp -L "${dep}" "${root}${dep}"
    done < <(ldd "${l}" 2>/dev/null | awk '/=> \//{print $3}')
  done
  # iptables defaults to the nf_tables backend (as upstream's iptables-wrapper picks on a host
  # whose rules live in nf_tables); the -legacy names stay available.
  for l in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore \
           iptables-nft iptables-nft-save iptables-nft-restore ip6tables-nft ip6tables-nft-save ip6tables-nft-restore; do
    ln -sf xtables-nft-multi "${root}/usr/sbin/${l}"
  done
  for l in iptables-legacy iptables-legacy-save iptables-legacy-restore ip6tables-legacy ip6tables-legacy-save ip6tables-legacy-restore; do
    ln -sf xtables-legacy-multi "${root}/usr/sbin/${l}"
  done
  mkdir -p "${root}/run" "${root}/var/lib/kube-proxy"
}

build_images() {
  local hash="$1" dir="${IMG_CACHE}/${hash}"
  [[ -f "${dir}/.done" ]] && return 0
  mkdir -p "${IMG_CACHE}"
  WORK="$(mktemp -d "${IMG_CACHE}/.build.XXXXXX")"
  log "assembling kubeadm images into ${dir}"
  server_image "${R}/kube-apiserver:${K8S_VERSION}" "${K8S_BIN}/kube-apiserver" kube-apiserver
  server_image "${R}/kube-controller-manager:${K8S_VERSION}" "${K8S_BIN}/kube-controller-manager" kube-controller-manager
  server_image "${R}/kube-scheduler:${K8S_VERSION}" "${K8S_BIN}/kube-scheduler" kube-scheduler
  server_image "${R}/kube-proxy:${K8S_VERSION}" "${KUBEADM_BIN}/kube-proxy" kube-proxy

  # etcd: upstream's image has etcd in /usr/local/bin and runs as root; kubeadm's manifest says
  # `command: [etcd, ...]`.
  local root="${WORK}/etcd"
  base_rootfs "${root}"
  copy_dynamic "${root}" "${ETCD_BIN_V}/etcd" /usr/local/bin/etcd
  mkdir -p "${root}/var/etcd" "${root}/var/lib/etcd"
  make_image "${root}" "{${PATH_ENV},\"Cmd\":[\"/usr/local/bin/etcd\"]}" "${WORK}/etcd.tar" "${R}/etcd:${KUBEADM_ETCD_VERSION}"

  # CoreDNS: static binary with cap_net_bind_service as a file capability, run as nonroot.
  root="${WORK}/coredns"
  base_rootfs "${root}"
  cp "${COREDNS_BIN}/coredns" "${root}/coredns"
  setcap cap_net_bind_service=+ep "${root}/coredns" || die "setcap on coredns failed"
  IMAGE_XATTRS=1 make_image "${root}" "{${PATH_ENV},\"Entrypoint\":[\"/coredns\"],\"User\":\"65532:65532\",\"WorkingDir\":\"/\",\"ExposedPorts\":{\"53/tcp\":{},\"53/udp\":{}}}" \
    "${WORK}/coredns.tar" "${R}/coredns/coredns:${KUBEADM_COREDNS_VERSION}"

  # pause: build/pause/linux/pause.c of the pinned k8s.io/kubernetes, static, USER 65535.
  local kdir
  kdir="$(cd "${CACHE_ROOT}/src/k8s-${K8S_VERSION}" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)"
  root="${WORK}/pause"
  rm -rf "${root}"; mkdir -p "${root}"
  gcc -static -Os -DVERSION="${KUBEADM_PAUSE_VERSION}" -o "${root}/pause" "${kdir}/build/pause/linux/pause.c" \
    || die "cannot build pause.c (gcc, libc6-dev)"
  strip "${root}/pause" 2>/dev/null || true
  make_image "${root}" "{${PATH_ENV},\"Entrypoint\":[\"/pause\"],\"User\":\"65535:65535\"}" "${WORK}/pause.tar" "${R}/pause:${KUBEADM_PAUSE_VERSION}"

  local i
  mkdir -p "${dir}"
  for i in "${IMAGES[@]}"; do mv "${WORK}/$(image_tar "${i}").tar" "${dir}/"; done
  rm -rf "${WORK}"
  touch "${dir}/.done"
  # Older builds of this pin are dead weight.
  find "${IMG_CACHE}" -mindepth 1 -maxdepth 1 -type d ! -path "${dir}" -exec rm -rf {} + 2>/dev/null || true
}

import_all() {
  local hash="$1" dir="${IMG_CACHE}/${hash}" stamp i missing=0
  stamp="${LOCAL_DIR}/kubeadm-images/imported-$(printf '%s' "${CONTAINERD_SOCK}" | cksum | cut -d' ' -f1)"
  mkdir -p "$(dirname "${stamp}")"
  if [[ "$(cat "${stamp}" 2>/dev/null)" == "${hash}" ]]; then
    local have
    have="$("${CTR[@]}" images ls -q)"
    for i in "${IMAGES[@]}"; do
      grep -qxF "$(image_name "${i}")" <<< "${have}" || missing=1
    done
    if (( missing == 0 )); then log "kubeadm images already imported into ${CONTAINERD_SOCK}"; return 0; fi
  fi
  for i in "${IMAGES[@]}"; do
    log "importing $(image_name "${i}")"
    import_image "${CTR[@]}" -- "${dir}/$(image_tar "${i}").tar"
  done
  echo "${hash}" > "${stamp}"
}

# Runs each image's binary once, as the image says (entrypoint overridden like kubeadm's
# manifests do), in a throw-away container.
check_images() {
  local out rc=0 spec name cmd
  for spec in \
    "${R}/kube-apiserver:${K8S_VERSION}|kube-apiserver --version" \
    "${R}/kube-controller-manager:${K8S_VERSION}|kube-controller-manager --version" \
    "${R}/kube-scheduler:${K8S_VERSION}|kube-scheduler --version" \
    "${R}/kube-proxy:${K8S_VERSION}|kube-proxy --version" \
    "${R}/kube-proxy:${K8S_VERSION}|nft --version" \
    "${R}/kube-proxy:${K8S_VERSION}|iptables --version" \
    "${R}/kube-proxy:${K8S_VERSION}|iptables-legacy --version" \
    "${R}/etcd:${KUBEADM_ETCD_VERSION}|etcd --version" \
    "${R}/coredns/coredns:${KUBEADM_COREDNS_VERSION}|/coredns -version" \
    "${R}/pause:${KUBEADM_PAUSE_VERSION}|/pause -v" \
    "${R}/kube-apiserver:${K8S_VERSION}|/go-runner --help"; do
    name="${spec%%|*}"; cmd="${spec#*|}"
    # shellcheck disable=SC2086 # cmd is split into argv on purpose
    if out="$("${CTR[@]}" run --rm "${name}" "kadm-check-$$-${RANDOM}" ${cmd} 2>&1)"; then
      printf '%-52s %-28s %s\n' "${name}" "${cmd%% *}" "$(head -n1 <<< "${out}")"
    else
      printf '%-52s %-28s FAILED: %s\n' "${name}" "${cmd%% *}" "$(tr '\n' ' ' <<< "${out}")"; rc=1
    fi
  done
  return "${rc}"
}

mode="${1:-import}"
mkdir -p "${IMG_CACHE}"
exec 9>"${IMG_CACHE}.lock"
flock 9
ensure_packages
build_binaries
hash="$(inputs_hash)"
build_images "${hash}"
case "${mode}" in
  --build-only) echo "${IMG_CACHE}/${hash}" ;;
  import) import_all "${hash}" ;;
  --check) import_all "${hash}"; check_images ;;
  *) die "usage: $0 [--build-only | --check]" ;;
esac
