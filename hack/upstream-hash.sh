#!/usr/bin/env bash
# upstream-hash.sh NAME IMAGE [NAME IMAGE...]: prints io.kubernetes.container.hash as the upstream
# kubelet at the pin writes it, by running k8s.io/kubernetes/pkg/kubelet/container.HashContainer
# itself (hack/upstream-hash/main.go) in the module hack/build-k8s.sh prepared. The vectors in
# test/unit/sync/hash.test.ts come from here.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SRC="${CACHE_ROOT}/src/k8s-${K8S_VERSION}"
[[ -f "${SRC}/go.mod" ]] || bash "${HACK_DIR}/build-k8s.sh"
WORK="${CACHE_ROOT}/src/upstream-hash-${K8S_VERSION}"
mkdir -p "${WORK}"
sed 's#^module .*#module kubelet-ts.local/upstreamhash#' "${SRC}/go.mod" > "${WORK}/go.mod"
cp "${SRC}/go.sum" "${WORK}/go.sum"
cp "${HACK_DIR}/upstream-hash/main.go" "${WORK}/main.go"
cd "${WORK}" && go run -trimpath . "$@"
