#!/usr/bin/env bash
# Builds etcd at the pinned release from its Go module through a tiny wrapper main
# (installing go.etcd.io/etcd/server/v3 directly fails: its go.mod has replace directives).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ -x "${ETCD_BIN}/etcd" ]]; then
  log "etcd ${ETCD_VERSION} present in ${ETCD_BIN}"
  exit 0
fi
command -v go >/dev/null || die "go is not installed (needed to build etcd ${ETCD_VERSION})"

SRC="${CACHE_ROOT}/src/etcd-${ETCD_VERSION}"
mkdir -p "${SRC}" "${ETCD_BIN}"
cd "${SRC}"
cat > go.mod <<GOMOD
module kubelet-ts.local/etcdbuild

go 1.26.0

require go.etcd.io/etcd/server/v3 ${ETCD_VERSION}
GOMOD
cat > main.go <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
log "building etcd ${ETCD_VERSION}"
GOFLAGS=-mod=mod go mod tidy
go build -trimpath -ldflags "-s -w" -o "${ETCD_BIN}/etcd" .
"${ETCD_BIN}/etcd" --version | head -1
