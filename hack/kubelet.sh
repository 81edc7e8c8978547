#!/usr/bin/env bash
# up [NODE] | down | status: runs kubelet-ts (built from this checkout) as a node of the local
# control plane, against the local containerd. Only one kubelet may drive a containerd at a
# time (a kubelet removes runtime pods it does not know), so `up` refuses to start a second one.
# KUBELET_V=N starts it with --v N (default 0).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NODE_NAME="${NODE_NAME:-${2:-$(hostname | tr '[:upper:]' '[:lower:]')}}"
# KUBELET_INSTANCE=name runs a second kubelet-ts (own PID file, root dir, healthz port) against
# CONTAINERD_INSTANCE=name's containerd; the default instance uses the default containerd.
INSTANCE="${KUBELET_INSTANCE:-}"
SUFFIX="${INSTANCE:+-${INSTANCE}}"
PID_NAME="kubelet${SUFFIX}"
KUBELET_DIR="${LOCAL_DIR}/kubelet${SUFFIX}"
ROOT_DIR="${KUBELET_ROOT_DIR:-/var/lib/kubelet-ts${SUFFIX}}"
CRI_SOCK="${CONTAINERD_SOCK:-/run/containerd${CONTAINERD_INSTANCE:+-${CONTAINERD_INSTANCE}}/containerd.sock}"
# A named instance gets its own ports (derived from its name) unless told otherwise.
if [[ -n "${INSTANCE}" ]]; then
  port_base=$(( 20000 + ($(printf '%s' "${INSTANCE}" | cksum | cut -d' ' -f1) % 4000) * 2 ))
else
  port_base=""
fi
HEALTHZ_PORT="${KUBELET_HEALTHZ_PORT:-${port_base:+$(( port_base + 1 ))}}"
HEALTHZ_PORT="${HEALTHZ_PORT:-10248}"
KUBELET_PORT="${KUBELET_PORT:-${port_base:-10250}}"
# KUBELET_CONFIG=file: use this KubeletConfiguration as it is (e.g. the upstream kubelet's, to
# swap the two on one node) instead of writing one.
CONFIG_FILE="${KUBELET_CONFIG:-}"
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
failSwapOn: false
failCgroupV1: false
clusterDNS: [10.96.0.10]
clusterDomain: cluster.local
podLogsDir: /var/log/pods
healthzPort: ${HEALTHZ_PORT}
port: ${KUBELET_PORT}
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: ${PKI_DIR}/ca.crt }
authorization:
  mode: Webhook
nodeStatusUpdateFrequency: 10s
syncFrequency: ${KUBELET_SYNC_FREQUENCY:-1m}
YAML
  # KUBELET_STATIC_POD_PATH: run the static pods of this file or directory (test/integration/static-pods).
  if [[ -n "${KUBELET_STATIC_POD_PATH:-}" ]]; then
    printf 'staticPodPath: %s\nfileCheckFrequency: %s\n' "${KUBELET_STATIC_POD_PATH}" \
      "${KUBELET_FILE_CHECK_FREQUENCY:-20s}" >> "${KUBELET_DIR}/config.yaml"
  fi
}

up() {
  if pid_alive "${PID_NAME}"; then
    log "kubelet-ts${SUFFIX} already running (pid $(cat "${RUN_DIR}/${PID_NAME}.pid"))"
    return 0
  fi
  if [[ "${KUBELET_TS_SKIP_BUILD:-}" != 1 ]]; then
    (cd "${REPO_ROOT}" && { [[ -d node_modules/.bin ]] || npm ci --no-audit --no-fund; } && npx tsc -p tsconfig.json)
  fi
  local -a creds
  if [[ "${KUBELET_BOOTSTRAP:-}" == 1 ]]; then
    # TLS bootstrap: a bootstrap token asks for the node's client certificate through a CSR.
    bash "${HACK_DIR}/pki.sh" cluster
    creds=(--bootstrap-kubeconfig "${LOCAL_DIR}/kubeconfig/bootstrap.kubeconfig"
           --kubeconfig "${KUBELET_DIR}/kubelet.kubeconfig" --cert-dir "${KUBELET_DIR}/pki")
  else
    creds=(--kubeconfig "$(bash "${HACK_DIR}/pki.sh" node "${NODE_NAME}")")
  fi
  local config="${CONFIG_FILE}"
  if [[ -z "${config}" ]]; then
    write_config
    config="${KUBELET_DIR}/config.yaml"
  fi
  mkdir -p "${ROOT_DIR}"
  start_bg "${PID_NAME}" node "${REPO_ROOT}/dist/src/main.js" \
    "${creds[@]}" --config "${config}" \
    --hostname-override "${NODE_NAME}" --root-dir "${ROOT_DIR}" --v "${KUBELET_V:-0}" \
    ${KUBELET_TS_CRI_CONCURRENCY:+--cri-concurrency "${KUBELET_TS_CRI_CONCURRENCY}"}
  echo "${NODE_NAME}" > "${RUN_DIR}/${PID_NAME}.node"
  local deadline=$(( $(date +%s) + 90 ))
  until [[ "$("${KUBECTL[@]}" get node "${NODE_NAME}" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]; do
    if ! pid_alive "${PID_NAME}"; then
      tail -n 20 "${LOG_DIR}/${PID_NAME}.log" >&2 || true
      die "kubelet-ts exited before node ${NODE_NAME} became Ready (log above: ${LOG_DIR}/${PID_NAME}.log)"
    fi
    (( $(date +%s) < deadline )) || die "timed out after 90s waiting for node ${NODE_NAME} Ready (see ${LOG_DIR}/${PID_NAME}.log)"
    sleep 0.25
  done
  log "node ${NODE_NAME} is Ready"
}

down() {
  stop_pid "${PID_NAME}"
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  status) pid_alive "${PID_NAME}" && echo "kubelet-ts${SUFFIX}: running as node $(cat "${RUN_DIR}/${PID_NAME}.node" 2>/dev/null)" || { echo "kubelet-ts: stopped"; exit 1; } ;;
  *) die "usage: $0 up [NODE] | down | status" ;;
esac
