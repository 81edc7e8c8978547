#!/usr/bin/env bash
# up | down | status: the real containerd (Debian package) with its CRI plugin, a CNI bridge,
# and the local test images. Idempotent; started and stopped by PID.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# CONTAINERD_INSTANCE=name runs a separate containerd (own root, state dir, socket and PID file)
# beside the default one, so two kubelets or benchmarks never share a runtime.
INSTANCE="${CONTAINERD_INSTANCE:-}"
SUFFIX="${INSTANCE:+-${INSTANCE}}"
CONTAINERD_SOCK="${CONTAINERD_SOCK:-/run/containerd${SUFFIX}/containerd.sock}"
CONTAINERD_ROOT="/var/lib/containerd${SUFFIX}"
CONTAINERD_STATE="/run/containerd${SUFFIX}"
PID_NAME="containerd${SUFFIX}"
CONF_DIR="${LOCAL_DIR}/containerd${SUFFIX}"
# An instance may bring its own CNI network (conf dir, name = host-local IPAM store, bridge) and
# sandbox image; the defaults are the shared ones of the default instance.
CNI_CONF_DIR="${CNI_CONF_DIR:-/etc/cni/net.d}"
CNI_NETWORK="${CNI_NETWORK:-kubelet-ts}"
CNI_BRIDGE="${CNI_BRIDGE:-kts0}"
POD_SUBNET="${POD_SUBNET:-10.244.7.0/24}"
PAUSE_IMAGE="${CONTAINERD_SANDBOX_IMAGE:-localhost:5999/kubelet-ts/pause:3.10}"

write_config() {
  mkdir -p "${CONF_DIR}" "${CNI_CONF_DIR}"
  cat > "${CONF_DIR}/config.toml" <<TOML
version = 2
root = "${CONTAINERD_ROOT}"
state = "${CONTAINERD_STATE}"

[grpc]
  address = "${CONTAINERD_SOCK}"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  # This VM refuses to lower oom_score_adj: without this every RunPodSandbox fails.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
    # A second handler for RuntimeClass tests (the upstream e2e specs name it test-handler).
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.test-handler]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${CNI_CONF_DIR}"
TOML
  cat > "${CNI_CONF_DIR}/10-${CNI_NETWORK}.conflist" <<JSON
{
  "cniVersion": "0.4.0",
  "name": "${CNI_NETWORK}",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "${CNI_BRIDGE}",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": "${POD_SUBNET}" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
JSON
}

cri_ready() {
  # Both RuntimeReady and NetworkReady reported true by the CRI Status call.
  local out
  out="$(ctr --address "${CONTAINERD_SOCK}" version 2>/dev/null)" || return 1
  [[ -n "${out}" ]] || return 1
  node "${REPO_ROOT}/hack/cri-status.mjs" "${CONTAINERD_SOCK}" >/dev/null 2>&1
}

up() {
  command -v containerd >/dev/null || die "containerd not installed: run hack/install-deps.sh"
  write_config
  if ! pid_alive "${PID_NAME}"; then
    if [[ -S "${CONTAINERD_SOCK}" ]] && ctr --address "${CONTAINERD_SOCK}" version >/dev/null 2>&1; then
      die "a containerd we did not start already answers on ${CONTAINERD_SOCK}; stop it first"
    fi
    start_bg "${PID_NAME}" containerd --config "${CONF_DIR}/config.toml" --log-level info
  fi
  wait_for "containerd socket ${CONTAINERD_SOCK}" 60 ctr --address "${CONTAINERD_SOCK}" version
  CONTAINERD_SOCK="${CONTAINERD_SOCK}" bash "${HACK_DIR}/images.sh"
  wait_for "CRI RuntimeReady and NetworkReady (see ${LOG_DIR}/containerd.log)" 60 cri_ready
  log "containerd${SUFFIX} ready on ${CONTAINERD_SOCK}"
}

down() {
  stop_pid "${PID_NAME}"
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  status) pid_alive "${PID_NAME}" && cri_ready && echo "containerd: ready" || { echo "containerd: not ready"; exit 1; } ;;
  *) die "usage: $0 up|down|status" ;;
esac
