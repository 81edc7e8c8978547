#!/usr/bin/env bash
# up [NODE] | down | status: runs the UPSTREAM kubelet (cmd/kubelet at the pinned release, built by
# hack/build-k8s.sh) as a node of the local control plane — the yardstick of bench/pod-startup.
# It runs against CONTAINERD_INSTANCE=name's containerd (default: the bench instance), never the
# default one: a kubelet removes every runtime pod it does not know, so only one kubelet may
# drive a containerd at a time. Its own PID file, root dir and ports (10350 / healthz 10358) keep
# it clear of kubelet-ts and of any other kubelet on this machine.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NODE_NAME="${NODE_NAME:-${2:-}}"
CONTAINERD_INSTANCE="${CONTAINERD_INSTANCE-bench}"
# UPSTREAM_KUBELET_INSTANCE=name: a second upstream kubelet (own PID file, root dir, config).
INSTANCE="${UPSTREAM_KUBELET_INSTANCE:-}"
SUFFIX="${INSTANCE:+-${INSTANCE}}"
PID_NAME="kubelet-upstream${SUFFIX}"
KUBELET_DIR="${LOCAL_DIR}/kubelet-upstream${SUFFIX}"
ROOT_DIR="${UPSTREAM_KUBELET_ROOT_DIR:-/var/lib/kubelet-upstream${SUFFIX}}"
CRI_SOCK="${CONTAINERD_SOCK:-/run/containerd${CONTAINERD_INSTANCE:+-${CONTAINERD_INSTANCE}}/containerd.sock}"
PORT="${UPSTREAM_KUBELET_PORT:-10350}"
HEALTHZ_PORT="${UPSTREAM_KUBELET_HEALTHZ_PORT:-10358}"
VERBOSITY="${UPSTREAM_KUBELET_V:-0}"
# UPSTREAM_KUBELET_CONFIG=file: use this KubeletConfiguration as it is (e.g. the one kubelet-ts
# runs with, to swap the two on one node) instead of writing one.
CONFIG_FILE="${UPSTREAM_KUBELET_CONFIG:-}"
KUBELET_BIN="${K8S_BIN}/kubelet"
KUBECTL=("${K8S_BIN}/kubectl" --kubeconfig "${LOCAL_DIR}/kubeconfig/admin.kubeconfig")

write_config() {
  mkdir -p "${KUBELET_DIR}"
  cat > "${KUBELET_DIR}/config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://${CRI_SOCK}
# This host's cgroups are a v1/v2 hybrid owned by the machine's supervisor: never touch them.
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failCgroupV1: false
failSwapOn: false
readOnlyPort: 0
port: ${PORT}
healthzBindAddress: 127.0.0.1
healthzPort: ${HEALTHZ_PORT}
clusterDNS: [10.96.0.10]
clusterDomain: cluster.local
podLogsDir: /var/log/pods
nodeStatusUpdateFrequency: 10s
YAML
}

up() {
  [[ -n "${NODE_NAME}" ]] || die "usage: NODE_NAME=name $0 up (or: $0 up NAME)"
  [[ -x "${KUBELET_BIN}" ]] || die "${KUBELET_BIN} is missing: run hack/build-k8s.sh"
  [[ -S "${CRI_SOCK}" ]] || die "no containerd socket at ${CRI_SOCK}: run CONTAINERD_INSTANCE=${CONTAINERD_INSTANCE} hack/containerd.sh up"
  [[ "${CRI_SOCK}" != /run/containerd/containerd.sock || "${UPSTREAM_KUBELET_ALLOW_DEFAULT_CONTAINERD:-}" == 1 ]] \
    || die "refusing to drive the default containerd (it belongs to kubelet-ts); set CONTAINERD_INSTANCE"
  if pid_alive "${PID_NAME}"; then
    log "upstream kubelet${SUFFIX} already running (pid $(cat "${RUN_DIR}/${PID_NAME}.pid"))"
    return 0
  fi
  local kubeconfig
  kubeconfig="$(bash "${HACK_DIR}/pki.sh" node "${NODE_NAME}")"
  local config="${CONFIG_FILE}"
  if [[ -z "${config}" ]]; then
    write_config
    config="${KUBELET_DIR}/config.yaml"
  fi
  mkdir -p "${ROOT_DIR}"
  start_bg "${PID_NAME}" "${KUBELET_BIN}" \
    --kubeconfig="${kubeconfig}" --config="${config}" \
    --hostname-override="${NODE_NAME}" --root-dir="${ROOT_DIR}" --v="${VERBOSITY}"
  echo "${NODE_NAME}" > "${RUN_DIR}/${PID_NAME}.node"
  # Like wait_for, but fails at once (with the log's tail) when the kubelet exits.
  local deadline=$(( $(date +%s) + 120 ))
  until [[ "$("${KUBECTL[@]}" get node "${NODE_NAME}" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]; do
    if ! pid_alive "${PID_NAME}"; then
      tail -n 20 "${LOG_DIR}/${PID_NAME}.log" >&2 || true
      die "upstream kubelet exited before node ${NODE_NAME} was Ready (see ${LOG_DIR}/${PID_NAME}.log)"
    fi
    (( $(date +%s) < deadline )) || die "timed out after 120s waiting for node ${NODE_NAME} Ready (see ${LOG_DIR}/${PID_NAME}.log)"
    sleep 0.25
  done
  log "upstream kubelet: node ${NODE_NAME} is Ready"
}

down() {
  stop_pid "${PID_NAME}"
  rm -f "${RUN_DIR}/${PID_NAME}.node"
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  status)
    if pid_alive "${PID_NAME}"; then
      echo "upstream kubelet${SUFFIX}: running as node $(cat "${RUN_DIR}/${PID_NAME}.node" 2>/dev/null)"
    else
      echo "upstream kubelet${SUFFIX}: stopped"
      exit 1
    fi
    ;;
  *) die "usage: $0 up [NODE] | down | status" ;;
esac
