#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler, kubectl and kubelet from the
# Go module k8s.io/kubernetes at the pinned release, into a machine-level cache keyed by the
# pin. Idempotent: a no-op when the binaries for this pin are already there.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CMDS=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet)
STAMP="${K8S_BIN}/.built"

if [[ -f "${STAMP}" ]] && for c in "${CMDS[@]}"; do [[ -x "${K8S_BIN}/${c}" ]] || exit 1; done; then
  log "k8s ${K8S_VERSION} binaries present in ${K8S_BIN}"
  exit 0
fi

command -v go >/dev/null || die "go is not installed (needed to build k8s.io/kubernetes ${K8S_VERSION})"

SRC="${CACHE_ROOT}/src/k8s-${K8S_VERSION}"
mkdir -p "${SRC}" "${K8S_BIN}"
cd "${SRC}"

log "downloading k8s.io/kubernetes@${K8S_VERSION} go.mod"
upstream_gomod="$(go mod download -json "k8s.io/kubernetes@${K8S_VERSION}" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')"
[[ -f "${upstream_gomod}" ]] || die "could not download k8s.io/kubernetes@${K8S_VERSION} (go mod download gave no go.mod)"

# Every staging module the upstream go.mod points at ./staging/... is replaced by the
# published module of the same path at the matching v0 tag.
mapfile -t staging < <(awk '$2=="=>" && $3 ~ /^\.\/staging\// {print $1}' "${upstream_gomod}" | sort -u)
(( ${#staging[@]} > 0 )) || die "found no ./staging replace lines in ${upstream_gomod}"
log "${#staging[@]} staging modules replaced at ${K8S_STAGING_VERSION}"

{
  echo "module kubelet-ts.local/k8sbuild"
  echo
  echo "go 1.26.0"
  echo
  echo "require k8s.io/kubernetes ${K8S_VERSION}"
  echo
  echo "replace ("
  for m in "${staging[@]}"; do echo "	${m} => ${m} ${K8S_STAGING_VERSION}"; done
  echo ")"
} > go.mod

{
  echo "//go:build tools"
  echo
  echo "package tools"
  echo
  echo "import ("
  for c in "${CMDS[@]}"; do echo "	_ \"k8s.io/kubernetes/cmd/${c}\""; done
  echo ")"
} > tools.go

log "go mod tidy"
GOFLAGS=-mod=mod go mod tidy

ver="${K8S_VERSION#v}"
major="${ver%%.*}"; rest="${ver#*.}"; minor="${rest%%.*}"
build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X ${pkg}.gitVersion=${K8S_VERSION}"
  ldflags+=" -X ${pkg}.gitMajor=${major}"
  ldflags+=" -X ${pkg}.gitMinor=${minor}"
  ldflags+=" -X ${pkg}.gitCommit=module-${K8S_VERSION}"
  ldflags+=" -X ${pkg}.gitTreeState=clean"
  ldflags+=" -X ${pkg}.buildDate=${build_date}"
done

pkgs=()
for c in "${CMDS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/${c}"); done
log "building ${CMDS[*]} (cold build takes ~6 min on 2 cores)"
start=$(date +%s)
go build -trimpath -ldflags "${ldflags}" -o "${K8S_BIN}/" "${pkgs[@]}"
log "built in $(( $(date +%s) - start ))s"
"${K8S_BIN}/kube-apiserver" --version
touch "${STAMP}"
