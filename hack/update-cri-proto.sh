#!/usr/bin/env bash
# Refreshes proto/cri/api.proto from the Go module k8s.io/cri-api at the pinned release
# (v0.X.Y matching the Kubernetes pin). The file's license header is kept as published.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dir="$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "k8s.io/cri-api@${K8S_STAGING_VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
src="${dir}/pkg/apis/runtime/v1/api.proto"
[[ -f "${src}" ]] || die "k8s.io/cri-api@${K8S_STAGING_VERSION} has no pkg/apis/runtime/v1/api.proto"
mkdir -p "${REPO_ROOT}/proto/cri"
install -m 0644 "${src}" "${REPO_ROOT}/proto/cri/api.proto"
printf 'k8s.io/cri-api %s pkg/apis/runtime/v1/api.proto\n' "${K8S_STAGING_VERSION}" > "${REPO_ROOT}/proto/cri/SOURCE"
log "proto/cri/api.proto <- k8s.io/cri-api@${K8S_STAGING_VERSION}"
