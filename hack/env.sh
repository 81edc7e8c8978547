#!/usr/bin/env bash
# up | down | status: the whole local test environment (host packages, containerd with test
# images, etcd + control plane). Idempotent. The kubelet itself is not part of it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
case "${1:-up}" in
  up)
    bash "${HACK_DIR}/install-deps.sh"
    [[ -d "${REPO_ROOT}/node_modules/@grpc/grpc-js" ]] || (cd "${REPO_ROOT}" && npm ci --no-audit --no-fund)
    bash "${HACK_DIR}/containerd.sh" up
    bash "${HACK_DIR}/control-plane.sh" up
    ;;
  down)
    bash "${HACK_DIR}/control-plane.sh" down
    bash "${HACK_DIR}/containerd.sh" down
    ;;
  status)
    rc=0
    bash "${HACK_DIR}/control-plane.sh" status || rc=1
    bash "${HACK_DIR}/containerd.sh" status || rc=1
    exit "${rc}"
    ;;
  *) die "usage: $0 up|down|status" ;;
esac
