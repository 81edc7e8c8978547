#!/usr/bin/env bash
# A worker node joins the kubeadm cluster (hack/kubeadm/cluster.sh) with the unmodified
# `kubeadm join`: the cgroup v2 node VM of hack/node-vm.sh, booted in tap mode (so the apiserver
# can dial its :10250 at 10.250.0.x) without its own kubelet, gets the kubeadm package layout —
# /usr/bin/kubeadm, /usr/bin/kubelet, kubelet.service + kubelet.service.d/10-kubeadm.conf
# (upstream's deb, enabled, crash-looping until the join) — then runs
#   kubeadm join 10.250.0.1:6443 --token T --discovery-token-ca-cert-hash sha256:H
# and the node must become Ready.
#
#   hack/kubeadm/vm-join.sh up [NAME]      (default NAME kadm-worker)
#   hack/kubeadm/vm-join.sh smoke [NAME]   a pod on NAME: logs, exec, DNS, a Service by name
#   hack/kubeadm/vm-join.sh reset [NAME]   kubeadm reset -f in the guest, node deleted
#   hack/kubeadm/vm-join.sh down [NAME]    reset, then the VM is stopped
#
#   KUBELET=upstream|ts   /usr/bin/kubelet in the guest: cmd/kubelet of the pin, or kubelet-ts
#                         (/opt/kubelet-ts/bin/node /opt/kubelet-ts/app/dist/src/main.js)
#   KADM_JOIN_NODE_IP=1   write /etc/default/kubelet KUBELET_EXTRA_ARGS=--node-ip=<tap IP> first
#                         (the packages' override file). Not needed by the upstream kubelet, which
#                         resolves the hostname (/etc/hosts names the tap IP); kubelet-ts, as of
#                         this writing, picks the user network's IPv6 fec0::… address without it.
#   KADM_JOIN_IGNORE=...  --ignore-preflight-errors for the join (default: none for upstream,
#                         KubeletVersion,SystemVerification for ts while `kubelet-ts --version` is not
#                         "Kubernetes v1.37.2")
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

KADM_DIR="${HACK_DIR}/kubeadm"
NAME="${2:-kadm-worker}"
VM_STATE="${KSTATE}/vm-${NAME}"
NODE_VM=(nice -n 10 env NODE_VM_NET=tap NODE_VM_KUBELET=none bash "${HACK_DIR}/node-vm.sh")
gexec() { NODE_VM_EXEC_TIMEOUT="${NODE_VM_EXEC_TIMEOUT:-600}" bash "${HACK_DIR}/node-vm.sh" exec "${NAME}" "$@"; }

write_extra() {
  local extra="${VM_STATE}/extra"
  rm -rf "${extra}"; mkdir -p "${extra}/units/kubelet.service.d"
  cp "${KUBEADM_BIN}/kubeadm" "${extra}/kubeadm"
  if [[ "${KUBELET}" == upstream ]]; then
    cp "${K8S_BIN}/kubelet" "${extra}/kubelet"
  else
    cat > "${extra}/kubelet" <<'SH'
#!/bin/sh
# kubelet-ts installed as /usr/bin/kubelet (KUBELET=ts)
exec /opt/kubelet-ts/bin/node /opt/kubelet-ts/app/dist/src/main.js "$@"
SH
    chmod +x "${extra}/kubelet"
  fi
  # Upstream's packaging (kubernetes/release, deb/rpm): the unit and the kubeadm drop-in.
  cat > "${extra}/units/kubelet.service" <<'UNIT'
[Unit]
Description=kubelet: The Kubernetes Node Agent
Documentation=https://kubernetes.io/docs/
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=/usr/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=10

[Install]
WantedBy=multi-user.target
UNIT
  cat > "${extra}/units/kubelet.service.d/10-kubeadm.conf" <<'UNIT'
# Note: This dropin only works with kubeadm and kubelet v1.11+
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
# This is a file that "kubeadm init" and "kubeadm join" generates at runtime, populating the KUBELET_KUBEADM_ARGS variable dynamically
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
# This is a file that the user can use for overrides of the kubelet args as a last resort. Preferably, the user should use
# the .NodeRegistration.KubeletExtraArgs object in the configuration files instead. KUBELET_EXTRA_ARGS should be sourced from this file.
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
UNIT
  cat > "${extra}/install.sh" <<'SH'
#!/bin/sh
# What installing the kubeadm and kubelet packages does (the guest's root is a throw-away snapshot).
set -eu
X=/opt/kubelet-ts/extra
install -m 0755 "$X/kubeadm" /usr/bin/kubeadm
install -m 0755 "$X/kubelet" /usr/bin/kubelet
install -m 0644 "$X/units/kubelet.service" /etc/systemd/system/kubelet.service
mkdir -p /etc/systemd/system/kubelet.service.d /etc/kubernetes/manifests /var/lib/kubelet
install -m 0644 "$X/units/kubelet.service.d/10-kubeadm.conf" /etc/systemd/system/kubelet.service.d/10-kubeadm.conf
systemctl daemon-reload
systemctl enable --now kubelet 2>&1
echo "installed: $(kubeadm version -o short), kubelet: $(kubelet --version 2>&1)"
SH
  chmod +x "${extra}/install.sh"
}

node_ready() {
  [[ "$(kctl get node "${NAME}" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}

kube_proxy_ready() {
  kctl -n kube-system get pods -l k8s-app=kube-proxy --field-selector "spec.nodeName=${NAME}" \
    -o jsonpath='{.items[0].status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -qx True
}

up() {
  local t0 imgdir join ignore
  t0=$(date +%s)
  kctl get --raw /readyz >/dev/null 2>&1 || die "the kubeadm cluster is not up: run hack/kubeadm/cluster.sh up"
  imgdir="$(bash "${KADM_DIR}/images.sh" --build-only)"
  mkdir -p "${VM_STATE}"
  write_extra
  NODE_VM_EXTRA_DIR="${VM_STATE}/extra" \
  NODE_VM_EXTRA_IMAGES="${imgdir}/kube-proxy.tar ${imgdir}/pause.tar ${imgdir}/coredns.tar" \
    "${NODE_VM[@]}" up "${NAME}"
  if gexec "test -f /etc/kubernetes/kubelet.conf" >/dev/null 2>&1; then
    log "guest ${NAME} has already joined (/etc/kubernetes/kubelet.conf); waiting for Ready"
    wait_for "node ${NAME} Ready" "${KADM_JOIN_READY_TIMEOUT:-600}" node_ready
    wait_for "kube-proxy Ready on ${NAME}" "${KADM_JOIN_READY_TIMEOUT:-600}" kube_proxy_ready
    return 0
  fi
  log "guest ${NAME}: installing kubeadm + kubelet (${KUBELET}) as packages would"
  gexec "sh /opt/kubelet-ts/extra/install.sh"
  # kube-proxy, pause and coredns images are imported at boot (kts-images.service).
  gexec "systemctl is-active kts-images >/dev/null || systemctl start kts-images; ctr -n k8s.io images ls -q | grep registry.k8s.io"
  if [[ "${KADM_JOIN_NODE_IP:-}" == 1 ]]; then
    local tap_ip
    tap_ip="$(bash "${KADM_DIR}/net.sh" vm-env "${NAME}" | sed -n 's/^TAP_IP=//p')"
    gexec "echo 'KUBELET_EXTRA_ARGS=--node-ip=${tap_ip}' > /etc/default/kubelet"
  fi
  join="$(in_ns "${KUBEADM_BIN}/kubeadm" token create --print-join-command --kubeconfig "${KADM_KUBECONFIG}")"
  ignore=""
  # kubeadm parses `kubelet --version` in two checks; kubelet-ts prints "kubelet-ts v1.37.2".
  [[ "${KUBELET}" == ts ]] && ignore=KubeletVersion,SystemVerification
  ignore="${KADM_JOIN_IGNORE-${ignore}}"
  [[ -n "${ignore}" ]] && join+=" --ignore-preflight-errors=${ignore}"
  log "guest ${NAME}: ${join%%--token*}--token … --discovery-token-ca-cert-hash …${ignore:+ --ignore-preflight-errors=${ignore}}"
  local t1
  t1=$(date +%s)
  if ! gexec "${join} 2>&1" > "${LOG_DIR}/kubeadm-join-${NAME}.log" 2>&1; then
    tail -n 30 "${LOG_DIR}/kubeadm-join-${NAME}.log" >&2
    gexec "journalctl --no-pager -u kubelet -n 40" >&2 || true
    die "kubeadm join in ${NAME} failed after $(( $(date +%s) - t1 ))s (see ${LOG_DIR}/kubeadm-join-${NAME}.log)"
  fi
  log "guest ${NAME}: kubeadm join done in $(( $(date +%s) - t1 ))s"
  wait_for "node ${NAME} Ready" "${KADM_JOIN_READY_TIMEOUT:-600}" node_ready
  log "node ${NAME} Ready, $(( $(date +%s) - t0 ))s after vm-join up started"
  # Services from the node's pods need its kube-proxy (it starts after Ready; slow under TCG).
  wait_for "kube-proxy Ready on ${NAME}" "${KADM_JOIN_READY_TIMEOUT:-600}" kube_proxy_ready
  log "kube-proxy Ready on ${NAME}, $(( $(date +%s) - t0 ))s after vm-join up started"
  kctl get nodes -o wide
}

smoke() {
  local ns=kadm-vm-smoke img=localhost:5999/kubelet-ts/busybox:1.36 ok=0 out t0
  t0=$(date +%s)
  kctl create namespace "${ns}" --dry-run=client -o yaml | kctl apply -f - >/dev/null
  kctl -n "${ns}" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: { name: on-vm, labels: { app: on-vm } }
spec:
  nodeName: ${NAME}
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: ${img}
    imagePullPolicy: IfNotPresent
    command: [sh, -c, 'echo hello-from-${NAME}; echo vm-smoke-ok > /tmp/index.html; exec httpd -f -p 8080 -h /tmp']
---
apiVersion: v1
kind: Service
metadata: { name: on-vm }
spec:
  selector: { app: on-vm }
  ports: [{ port: 80, targetPort: 8080 }]
YAML
  kctl -n "${ns}" wait pod/on-vm --for=condition=Ready --timeout=300s >/dev/null || ok=1
  kctl -n "${ns}" get pod on-vm -o wide
  out="$(kctl -n "${ns}" logs on-vm 2>&1)" && echo "kubectl logs (apiserver -> ${NAME}:10250): ${out}" || { echo "logs FAILED: ${out}"; ok=1; }
  out="$(kctl -n "${ns}" exec on-vm -- cat /tmp/index.html 2>&1)" && echo "kubectl exec: ${out}" || { echo "exec FAILED: ${out}"; ok=1; }
  out="$(kctl -n "${ns}" exec on-vm -- nslookup kubernetes.default.svc.cluster.local 2>&1)" && echo "DNS from the VM's pod: $(grep -A1 'Name:' <<< "${out}" | tail -n1)" || { echo "DNS FAILED: ${out}"; ok=1; }
  out="$(kctl -n "${ns}" exec on-vm -- sh -c "printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 5 on-vm.${ns}.svc.cluster.local 80 | tail -n 1" 2>&1)"
  [[ "${out}" == vm-smoke-ok ]] && echo "Service by name from the VM's pod: ${out}" || { echo "Service by name FAILED: ${out}"; ok=1; }
  echo "vm smoke: $(( $(date +%s) - t0 ))s"
  [[ "${KADM_SMOKE_KEEP:-}" == 1 ]] || kctl delete namespace "${ns}" --wait=false >/dev/null
  return "${ok}"
}

reset() {
  if bash "${HACK_DIR}/node-vm.sh" status 2>/dev/null | grep -q "^${NAME}: running"; then
    gexec "command -v kubeadm >/dev/null && kubeadm reset -f 2>&1 | tail -n 3; crictl --version >/dev/null 2>&1 || true; ctr -n k8s.io containers ls -q | wc -l | sed 's/^/containers left: /'" || true
  fi
  kctl delete node "${NAME}" --ignore-not-found >/dev/null 2>&1 || true
}

down() {
  reset
  bash "${HACK_DIR}/node-vm.sh" down "${NAME}"
  rm -rf "${VM_STATE}"
}

case "${1:-}" in
  up) up ;;
  smoke) smoke ;;
  reset) reset ;;
  down) down ;;
  *) sed -n '2,/^[^#]/{/^#/p}' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
