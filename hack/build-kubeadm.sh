#!/usr/bin/env bash
# Builds kubeadm, kube-proxy and kube-log-runner (upstream images' /go-runner) at the pinned release from a wrapper module beside the control
# plane's (hack/build-k8s.sh: same staging replaces, same Go build cache, same version ldflags)
# into ${CACHE_ROOT}/kubeadm-${K8S_VERSION}/bin. Idempotent: a no-op when both are there.
#   KUBEADM_BIN=... (lib.sh) is where the binaries land.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CMDS=(kubeadm kube-proxy kube-log-runner)
STAMP="${KUBEADM_BIN}/.built"
if [[ -f "${STAMP}" ]] && for c in "${CMDS[@]}"; do [[ -x "${KUBEADM_BIN}/${c}" ]] || exit 1; done; then
  log "kubeadm ${K8S_VERSION} binaries present in ${KUBEADM_BIN}"
  exit 0
fi
command -v go >/dev/null || die "go is not installed (needed to build kubeadm ${K8S_VERSION})"
# The control-plane wrapper module knows the staging replaces; build it first (warm: a no-op).
bash "${HACK_DIR}/build-k8s.sh"

K8S_SRC="${CACHE_ROOT}/src/k8s-${K8S_VERSION}"
SRC="${CACHE_ROOT}/src/kubeadm-${K8S_VERSION}"
pkg_of() {
  case "$1" in
    kube-log-runner) echo k8s.io/component-base/logs/kube-log-runner ;;
    *) echo "k8s.io/kubernetes/cmd/$1" ;;
  esac
}
mkdir -p "${SRC}" "${KUBEADM_BIN}"
cd "${SRC}"
sed 's#^module .*#module kubelet-ts.local/kubeadmbuild#' "${K8S_SRC}/go.mod" > go.mod
cp "${K8S_SRC}/go.sum" go.sum
{
  echo "//go:build tools"
  echo
  echo "package tools"
  echo
  echo "import ("
  for c in "${CMDS[@]}"; do echo "	_ \"$(pkg_of "${c}")\""; done
  echo ")"
} > tools.go
log "go mod tidy (kubeadm wrapper)"
GOFLAGS=-mod=mod go mod tidy

pkgs=()
for c in "${CMDS[@]}"; do pkgs+=("$(pkg_of "${c}")"); done
log "building ${CMDS[*]}"
start=$(date +%s)
go build -trimpath -ldflags "$(k8s_ldflags)" -o "${KUBEADM_BIN}/" "${pkgs[@]}"
log "built in $(( $(date +%s) - start ))s"
v="$("${KUBEADM_BIN}/kubeadm" version -o short)"
[[ "${v}" == "${K8S_VERSION}" ]] || die "kubeadm version -o short printed '${v}', want ${K8S_VERSION}"
"${KUBEADM_BIN}/kube-proxy" --version
touch "${STAMP}"
