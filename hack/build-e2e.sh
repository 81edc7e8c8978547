#!/usr/bin/env bash
# Builds the upstream conformance tooling at the pinned release: e2e.test (k8s.io/kubernetes/test/e2e,
# reporting the pinned version), the ginkgo CLI at the version in the same module graph, and agnhost.
# Uses a wrapper module beside the control plane's (same staging replaces, same Go build cache), so
# a warm build takes a few minutes. Idempotent: a no-op when the binaries for this pin exist.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

E2E_BIN="${CACHE_ROOT}/e2e-${K8S_VERSION}/bin"
AGNHOST_VERSION="${AGNHOST_VERSION:-2.66.1}"
STAMP="${E2E_BIN}/.built"
if [[ -f "${STAMP}" && -x "${E2E_BIN}/e2e.test" && -x "${E2E_BIN}/ginkgo" && -x "${E2E_BIN}/agnhost" && -x "${E2E_BIN}/nnp" ]]; then
  log "e2e ${K8S_VERSION} binaries present in ${E2E_BIN}"
  exit 0
fi
command -v go >/dev/null || die "go is not installed (needed to build e2e.test ${K8S_VERSION})"
# The control-plane wrapper module knows the staging replaces; build it first (warm: a no-op).
bash "${HACK_DIR}/build-k8s.sh"

K8S_SRC="${CACHE_ROOT}/src/k8s-${K8S_VERSION}"
SRC="${CACHE_ROOT}/src/e2e-${K8S_VERSION}"
mkdir -p "${SRC}" "${E2E_BIN}"
cd "${SRC}"
sed 's#^module .*#module kubelet-ts.local/e2ebuild#' "${K8S_SRC}/go.mod" > go.mod
cp "${K8S_SRC}/go.sum" go.sum
cat > tools.go <<'GO'
//go:build tools

package tools

import (
	_ "github.com/onsi/ginkgo/v2/ginkgo"
	_ "k8s.io/kubernetes/test/e2e"
	_ "k8s.io/kubernetes/test/images/agnhost"
	_ "k8s.io/kubernetes/test/images/nonewprivs"
)
GO
log "go mod tidy (e2e wrapper)"
GOFLAGS=-mod=mod go mod tidy

ver="${K8S_VERSION#v}"
major="${ver%%.*}"; rest="${ver#*.}"; minor="${rest%%.*}"
build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X ${pkg}.gitVersion=${K8S_VERSION} -X ${pkg}.gitMajor=${major} -X ${pkg}.gitMinor=${minor}"
  ldflags+=" -X ${pkg}.gitCommit=module-${K8S_VERSION} -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=${build_date}"
done

start=$(date +%s)
log "building e2e.test (warm ~3 min, cold longer)"
GOFLAGS=-mod=mod go test -c -trimpath -ldflags "${ldflags}" -o "${E2E_BIN}/e2e.test" k8s.io/kubernetes/test/e2e
log "building ginkgo and agnhost ${AGNHOST_VERSION}"
GOFLAGS=-mod=mod go build -trimpath -o "${E2E_BIN}/ginkgo" github.com/onsi/ginkgo/v2/ginkgo
CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w -X main.Version=${AGNHOST_VERSION}" \
  -o "${E2E_BIN}/agnhost" k8s.io/kubernetes/test/images/agnhost
# nonewprivs' nnp: prints its effective uid (setuid root inside the image).
CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "-s -w" -o "${E2E_BIN}/nnp" k8s.io/kubernetes/test/images/nonewprivs
# The porter's TLS pair is part of the agnhost image (test/images/agnhost/porter/).
kdir="$(go list -m -f '{{.Dir}}' k8s.io/kubernetes)"
cp "${kdir}/test/images/agnhost/porter/localhost.crt" "${kdir}/test/images/agnhost/porter/localhost.key" "${E2E_BIN}/"
chmod 644 "${E2E_BIN}/localhost.crt" "${E2E_BIN}/localhost.key"
log "built in $(( $(date +%s) - start ))s"
"${E2E_BIN}/e2e.test" --version 2>/dev/null || true
"${E2E_BIN}/ginkgo" version
touch "${STAMP}"
