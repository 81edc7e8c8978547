#!/usr/bin/env bash
# The `kubelet` systemd unit of a kubeadm node, emulated on a host that is not systemd-booted:
# upstream's kubelet.service (Restart=always, RestartSec=10) plus its 10-kubeadm.conf drop-in,
#
#   Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
#   Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
#   EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env      (KUBELET_KUBEADM_ARGS, written by kubeadm)
#   EnvironmentFile=-/etc/default/kubelet                    (KUBELET_EXTRA_ARGS; here: STATE/kubelet-extra-args)
#   ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
#
# run in the cluster's network namespace, by PID file. hack/kubeadm/systemctl maps kubeadm's
# `systemctl daemon-reload|start|stop|restart|status|is-active|is-enabled kubelet` onto this.
#
#   kubelet-unit.sh start|stop|restart|is-active|status|exec-start
#   KUBELET=upstream (cmd/kubelet of the pin) | ts (node dist/src/main.js of this checkout)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PID_NAME=kubeadm-kubelet
UNIT_LOG="${LOG_DIR}/${PID_NAME}.log"

# The command line systemd would run (ExecStart with the drop-in's variables expanded).
exec_start() {
  local kubeadm_args="" extra_args="" bin
  if [[ -f /var/lib/kubelet/kubeadm-flags.env ]]; then
    # shellcheck source=/dev/null # KUBELET_KUBEADM_ARGS="..."
    kubeadm_args="$(. /var/lib/kubelet/kubeadm-flags.env && printf '%s' "${KUBELET_KUBEADM_ARGS:-}")"
  fi
  [[ -f "${KSTATE}/kubelet-extra-args" ]] && extra_args="$(cat "${KSTATE}/kubelet-extra-args")"
  bin="${KSTATE}/bin/kubelet"
  # shellcheck disable=SC2086 # systemd splits $VAR on whitespace the same way
  exec "${bin}" --bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf \
    --config=/var/lib/kubelet/config.yaml ${kubeadm_args} ${extra_args}
}

start() {
  if pid_alive "${PID_NAME}"; then return 0; fi
  in_netns || die "kubelet-unit.sh start must run in netns ${KUBEADM_NETNS}"
  [[ -x "${KSTATE}/bin/kubelet" ]] || die "${KSTATE}/bin/kubelet missing: run hack/kubeadm/cluster.sh up"
  # Restart=always, RestartSec=10: the supervisor loop is the unit; stop kills its process group.
  start_bg "${PID_NAME}" bash -c '
    while :; do
      echo "==== [unit] $(date +%T.%N) ExecStart"
      bash "$1" exec-start; rc=$?
      echo "==== [unit] $(date +%T.%N) kubelet exited with status ${rc}; restarting in 10s"
      sleep 10
    done' _ "${BASH_SOURCE[0]}"
}

stop() {
  local f="${RUN_DIR}/${PID_NAME}.pid" pid
  [[ -f "${f}" ]] || return 0
  pid="$(cat "${f}")"
  if [[ -n "${pid}" ]] && kill -0 "${pid}" 2>/dev/null; then
    log "stopping the kubelet unit (process group ${pid})"
    # start_bg's setsid made the supervisor a process-group leader: TERM the whole group
    # (supervisor, kubelet), as systemd's KillMode=control-group would.
    kill -TERM -- "-${pid}" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 -- "-${pid}" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-${pid}" 2>/dev/null || true
  fi
  rm -f "${f}"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  is-active) pid_alive "${PID_NAME}" ;;
  status)
    echo "● kubelet.service - kubelet: The Kubernetes Node Agent (emulated by hack/kubeadm/kubelet-unit.sh)"
    echo "     Loaded: loaded (${BASH_SOURCE[0]}; enabled)"
    if pid_alive "${PID_NAME}"; then
      echo "     Active: active (running), main PID $(cat "${RUN_DIR}/${PID_NAME}.pid"), log ${UNIT_LOG}"
    else
      echo "     Active: inactive (dead)"; exit 3
    fi
    ;;
  exec-start) exec_start ;;
  *) die "usage: $0 start|stop|restart|is-active|status|exec-start" ;;
esac
