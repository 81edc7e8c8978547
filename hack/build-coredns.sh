#!/usr/bin/env bash
# Builds CoreDNS at the version kubeadm deploys (COREDNS_VERSION, default the one kubeadm
# v1.37.2 pins: v1.14.6) from its Go module, statically (CGO_ENABLED=0, as upstream's image),
# into ${CACHE_ROOT}/coredns-${COREDNS_VERSION}/bin. Idempotent.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

COREDNS_VERSION="${COREDNS_VERSION:-v1.14.6}"
BIN="${CACHE_ROOT}/coredns-${COREDNS_VERSION}/bin"
if [[ -x "${BIN}/coredns" ]]; then
  log "coredns ${COREDNS_VERSION} present in ${BIN}"
  exit 0
fi
command -v go >/dev/null || die "go is not installed (needed to build coredns ${COREDNS_VERSION})"
SRC="${CACHE_ROOT}/src/coredns-${COREDNS_VERSION}"
mkdir -p "${SRC}" "${BIN}"
cd "${SRC}"
cat > go.mod <<GOMOD
module kubelet-ts.local/corednsbuild

go 1.26.0

require github.com/coredns/coredns ${COREDNS_VERSION}
GOMOD
# coredns.go of the module itself: every plugin of its plugin.cfg, compiled in.
cat > main.go <<'GO'
package main

import (
	_ "github.com/coredns/coredns/core/plugin"
	"github.com/coredns/coredns/coremain"
)

func main() { coremain.Run() }
GO
log "building coredns ${COREDNS_VERSION}"
start=$(date +%s)
GOFLAGS=-mod=mod go mod tidy
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=module-${COREDNS_VERSION}" \
  -o "${BIN}/coredns.tmp" .
mv "${BIN}/coredns.tmp" "${BIN}/coredns"
log "built in $(( $(date +%s) - start ))s"
"${BIN}/coredns" -version
