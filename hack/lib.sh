#!/usr/bin/env bash
# Shared helpers for hack/ scripts. Source it; do not run it.
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${HACK_DIR}/.." && pwd)"

# The pinned releases. Changing one rebuilds what depends on it.
K8S_VERSION="${K8S_VERSION:-v1.37.2}"
K8S_STAGING_VERSION="v0${K8S_VERSION#v1}"   # v1.37.2 -> v0.37.2
ETCD_VERSION="${ETCD_VERSION:-v3.6.16}"

# Machine-level cache of built binaries, keyed by the pin (survives a fresh clone).
CACHE_ROOT="${KUBELET_TS_CACHE:-/var/cache/kubelet-ts}"
K8S_BIN="${CACHE_ROOT}/k8s-${K8S_VERSION}/bin"
ETCD_BIN="${CACHE_ROOT}/etcd-${ETCD_VERSION}/bin"
KUBEADM_BIN="${CACHE_ROOT}/kubeadm-${K8S_VERSION}/bin"

# Everything the local environment writes at run time lives here (git-ignored).
LOCAL_DIR="${KUBELET_TS_LOCAL:-${REPO_ROOT}/.local}"
LOG_DIR="${LOCAL_DIR}/logs"
RUN_DIR="${LOCAL_DIR}/run"
PKI_DIR="${LOCAL_DIR}/pki"
mkdir -p "${LOG_DIR}" "${RUN_DIR}"

export GOTOOLCHAIN=local
export GOFLAGS="${GOFLAGS:--buildvcs=false}"

log() { printf '[hack %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[hack] ERROR: %s\n' "$*" >&2; exit 1; }

# Address the apiserver advertises: this host's own non-loopback IPv4.
host_ip() {
  local ip
  ip="$(ip -4 route get 1.1.1.1 2>/dev/null | awk '{for(i=1;i<=NF;i++) if($i=="src"){print $(i+1); exit}}')"
  if [[ -z "${ip}" ]]; then
    ip="$(hostname -I 2>/dev/null | awk '{print $1}')"
  fi
  [[ -n "${ip}" ]] || die "cannot find a non-loopback IPv4 address for --advertise-address"
  printf '%s\n' "${ip}"
}

# pid_alive NAME: true when RUN_DIR/NAME.pid names a live process.
pid_alive() {
  local f="${RUN_DIR}/$1.pid"
  [[ -f "${f}" ]] || return 1
  local pid
  pid="$(cat "${f}")"
  [[ -n "${pid}" ]] && kill -0 "${pid}" 2>/dev/null
}

# start_bg NAME CMD...: start CMD in the background (own session), log to LOG_DIR/NAME.log,
# keep its PID in RUN_DIR/NAME.pid. A no-op when it already runs.
start_bg() {
  local name="$1"; shift
  if pid_alive "${name}"; then
    log "${name} already running (pid $(cat "${RUN_DIR}/${name}.pid"))"
    return 0
  fi
  log "starting ${name}"
  # Locks held on fds 8/9 (node.lock, image builds) must not live on in a daemon.
  setsid "$@" >>"${LOG_DIR}/${name}.log" 2>&1 < /dev/null 8>&- 9>&- &
  echo $! > "${RUN_DIR}/${name}.pid"
}

# stop_pid NAME: stop the process in RUN_DIR/NAME.pid (TERM, then KILL after 10 s).
stop_pid() {
  local name="$1" f="${RUN_DIR}/$1.pid"
  [[ -f "${f}" ]] || return 0
  local pid
  pid="$(cat "${f}")"
  if [[ -n "${pid}" ]] && kill -0 "${pid}" 2>/dev/null; then
    log "stopping ${name} (pid ${pid})"
    kill -TERM "${pid}" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "${pid}" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "${pid}" 2>/dev/null; then
      log "${name} ignored SIGTERM; killing"
      kill -KILL "${pid}" 2>/dev/null || true
    fi
  fi
  rm -f "${f}"
}

# wait_for DESC TIMEOUT_S CMD...: poll CMD until it succeeds, or fail loudly.
wait_for() {
  local desc="$1" timeout="$2"; shift 2
  local deadline=$(( $(date +%s) + timeout ))
  until "$@" >/dev/null 2>&1; do
    if (( $(date +%s) >= deadline )); then
      die "timed out after ${timeout}s waiting for ${desc}"
    fi
    sleep 0.25
  done
}

# k8s_ldflags: the -ldflags that make k8s.io/kubernetes binaries report K8S_VERSION (without them
# they say v0.0.0-master, and kubeadm refuses to pick a control-plane version).
k8s_ldflags() {
  local ver="${K8S_VERSION#v}" major minor rest build_date pkg out="-s -w"
  major="${ver%%.*}"; rest="${ver#*.}"; minor="${rest%%.*}"
  build_date="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    out+=" -X ${pkg}.gitVersion=${K8S_VERSION} -X ${pkg}.gitMajor=${major} -X ${pkg}.gitMinor=${minor}"
    out+=" -X ${pkg}.gitCommit=module-${K8S_VERSION} -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=${build_date}"
  done
  printf '%s\n' "${out}"
}
