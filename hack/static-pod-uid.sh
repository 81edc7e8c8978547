#!/usr/bin/env bash
# static-pod-uid.sh [-dump] NODE FILE...: the UID the upstream kubelet at the pin gives each static
# pod manifest, computed by upstream's own decoding and hashing (hack/static-pod-uid/main.go) in
# the module hack/build-k8s.sh prepared. The vectors of test/unit/sync/staticPodUid.test.ts come
# from here.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SRC="${CACHE_ROOT}/src/k8s-${K8S_VERSION}"
[[ -f "${SRC}/go.mod" ]] || bash "${HACK_DIR}/build-k8s.sh"
WORK="${CACHE_ROOT}/src/static-pod-uid-${K8S_VERSION}"
mkdir -p "${WORK}"
sed 's#^module .*#module kubelet-ts.local/staticpoduid#' "${SRC}/go.mod" > "${WORK}/go.mod"
cp "${SRC}/go.sum" "${WORK}/go.sum"
cp "${HACK_DIR}/static-pod-uid/main.go" "${WORK}/main.go"
cd "${WORK}" && go run -trimpath . "$@"
