#!/usr/bin/env bash
# A kind-style single-node cluster made by the unmodified `kubeadm init` v1.37.2: etcd, apiserver,
# controller-manager and scheduler run as static pods from locally built images
# (hack/kubeadm/images.sh), CoreDNS and kube-proxy (nftables mode) as kubeadm deploys them.
#
#   hack/kubeadm/cluster.sh up        netns + containerd + images + kubeadm init; waits for the
#                                     node Ready, CoreDNS and kube-proxy available
#   hack/kubeadm/cluster.sh smoke     a pod runs; DNS answers; a Service answers by ClusterIP and name
#   hack/kubeadm/cluster.sh status
#   hack/kubeadm/cluster.sh down      kubeadm reset + removes everything `up` made (pods, files,
#                                     containerd-kubeadm's state, the netns with its nft rules)
#   hack/kubeadm/cluster.sh kubectl ARGS...   kubectl with the cluster's admin.conf
#   hack/kubeadm/cluster.sh join-command      `kubeadm join ...` for another node (a fresh token)
#
# Environment:
#   KUBELET=upstream|ts   the node's kubelet: cmd/kubelet of the pin (default) or kubelet-ts from
#                         this checkout (dist/, built with tsc first). The chosen binary is the
#                         `kubelet` on kubeadm's PATH and the ExecStart of the emulated unit.
#   KUBEADM_INIT_ARGS     extra `kubeadm init` flags (e.g. --v=5)
#   KUBEADM_WAIT=S        how long `up` waits for Ready/CoreDNS/kube-proxy after init (default 300)
#
# The host is not systemd-booted: hack/kubeadm/systemctl is first in kubeadm's PATH and emulates
# the `kubelet` unit (hack/kubeadm/kubelet-unit.sh). See hack/kubeadm/README.md.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

KADM_DIR="${HACK_DIR}/kubeadm"
CONFIG="${KSTATE}/kubeadm.yaml"
INIT_LOG="${LOG_DIR}/kubeadm-init.log"
# Paths kubeadm hard-codes (constants.KubernetesDir, KubeletRunDirectory, etcd dataDir) and the
# ones this script adds; `up` refuses to start when any of them exists without our marker.
OWNED_DIRS=(/etc/kubernetes /var/lib/kubelet /var/lib/etcd "${KADM_CNI_CONF_DIR}")
MARKER="${KSTATE}/owns-host-paths"

# Preflight errors that are expected on this host, each for a reason (README.md):
#   SystemVerification  the host's cgroups are a v1/v2 hybrid (kubeadm's validator wants pure
#                       v2 for 1.37); the kernel config check itself passes
#   Swap                the host may have swap; the kubelet runs with failSwapOn: false
#   NumCPU/Mem          2 cores are enough; listed in case a machine reports less
# (KubeletVersion passes with both kubelets: kubelet-ts prints "Kubernetes v1.37.2".)
PREFLIGHT_IGNORE="SystemVerification,Swap,NumCPU,Mem"
PREFLIGHT_IGNORE="${KADM_PREFLIGHT_IGNORE:-${PREFLIGHT_IGNORE}}"

write_kubelet_shim() {
  mkdir -p "${KSTATE}/bin"
  ln -sf "${KADM_DIR}/systemctl" "${KSTATE}/bin/systemctl"
  rm -f "${KSTATE}/bin/kubelet"
  if [[ "${KUBELET}" == upstream ]]; then
    ln -s "${K8S_BIN}/kubelet" "${KSTATE}/bin/kubelet"
  else
    [[ -f "${REPO_ROOT}/dist/src/main.js" ]] || die "dist/src/main.js missing (npm run build)"
    cat > "${KSTATE}/bin/kubelet" <<SH
#!/bin/sh
# kubelet-ts as /usr/bin/kubelet (KUBELET=ts)
exec "$(readlink -f "$(command -v node)")" "${REPO_ROOT}/dist/src/main.js" "\$@"
SH
    chmod +x "${KSTATE}/bin/kubelet"
  fi
  echo "${KUBELET}" > "${KSTATE}/kubelet-kind"
  : > "${KSTATE}/kubelet-extra-args"
}

netns_up() { bash "${KADM_DIR}/net.sh" up; }
netns_down() { bash "${KADM_DIR}/net.sh" down; }

# containerd_env CMD...: CMD in the netns with this cluster's containerd instance settings.
containerd_env() {
  in_ns env CONTAINERD_INSTANCE="${CONTAINERD_INSTANCE}" CNI_CONF_DIR="${KADM_CNI_CONF_DIR}" \
    CNI_NETWORK="${KADM_CNI_NETWORK}" CNI_BRIDGE="${KADM_CNI_BRIDGE}" POD_SUBNET="${KADM_NODE_POD_CIDR}" \
    CONTAINERD_SANDBOX_IMAGE="registry.k8s.io/pause:3.10.2" "$@"
}

write_config() {
  local token
  # A fixed-format bootstrap token, kept for the cluster's life (join-command mints more).
  [[ -f "${KSTATE}/token" ]] || printf '%s.%s\n' "$(tr -dc 'a-z0-9' </dev/urandom | head -c 6)" \
    "$(tr -dc 'a-z0-9' </dev/urandom | head -c 16)" > "${KSTATE}/token"
  token="$(cat "${KSTATE}/token")"
  cat > "${CONFIG}" <<YAML
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
bootstrapTokens:
- token: "${token}"
  ttl: 24h0m0s
  groups: [system:bootstrappers:kubeadm:default-node-token]
  usages: [signing, authentication]
localAPIEndpoint:
  advertiseAddress: ${KADM_NODE_IP}
  bindPort: 6443
nodeRegistration:
  name: ${KADM_NODE_NAME}
  criSocket: unix://${KADM_CRI_SOCK}
  imagePullPolicy: IfNotPresent
  kubeletExtraArgs:
  - name: node-ip
    value: ${KADM_NODE_IP}
  # A single-node cluster runs its workloads on the control plane (kind does the same).
  taints: []
patches:
  directory: ${KSTATE}/patches
timeouts:
  # kubeadm 1.37 obtains its admin client (a ClusterRoleBinding through super-admin.conf) right
  # after kubelet-start: the kubelet has this long to get the apiserver static pod serving.
  kubernetesAPICall: 3m0s
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: ${K8S_VERSION}
clusterName: kubeadm-kts
imageRepository: registry.k8s.io
controlPlaneEndpoint: ${KADM_NODE_IP}:6443
networking:
  dnsDomain: cluster.local
  serviceSubnet: ${KADM_SERVICE_SUBNET}
  podSubnet: ${KADM_POD_SUBNET}
apiServer:
  certSANs: [localhost, 127.0.0.1, ${KADM_NODE_IP}, ${KADM_HOST_IP}]
controllerManager:
  extraArgs:
  # The CNI here is a static bridge per node (host-local ranges), not node.spec.podCIDR.
  - name: allocate-node-cidrs
    value: "false"
etcd:
  local:
    dataDir: /var/lib/etcd
    extraArgs:
    # A throw-away test cluster on a shared disk: no fsync per write.
    - name: unsafe-no-fsync
      value: "true"
---
# The cluster-wide KubeletConfiguration (ConfigMap kube-system/kubelet-config, what joining nodes
# get): upstream's defaults (systemd cgroup driver, as the cgroup v2 node VM runs) plus kind's
# quirks. This host's own differences are a kubeadm patch (patches/kubeletconfiguration+merge.yaml).
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
failSwapOn: false
# kind's settings: never evict or GC images because of a full (shared) disk.
imageGCHighThresholdPercent: 100
evictionHard:
  nodefs.available: "0%"
  nodefs.inodesFree: "0%"
  imagefs.available: "0%"
---
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: nftables
# As kind v0.31 for nftables mode: leave nf_conntrack_max alone (it is global), be liberal with
# TCP window tracking (per netns). The TCP timeouts stay as the kernel has them.
conntrack:
  maxPerCore: 0
  tcpBeLiberal: true
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
YAML
}

# This node's kubelet differs from the cluster-wide config: the host's cgroups are a v1/v2 hybrid
# owned by the machine's supervisor, so cgroupfs driver, no QoS/pod cgroups and no enforcement (as
# hack/kubelet.sh and hack/upstream-kubelet.sh run here). A JSON merge patch: an empty list stays
# empty (kubeadm's own marshalling drops `enforceNodeAllocatable: []`, which defaults to [pods]).
# Its own podLogsDir: this cluster shares the host's mount namespace with the kubelets of the test
# environment, and a kubelet removes every directory of /var/log/pods whose pod it does not know.
write_patches() {
  rm -rf "${KSTATE}/patches"; mkdir -p "${KSTATE}/patches"
  cat > "${KSTATE}/patches/kubeletconfiguration+merge.yaml" <<YAML
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
podLogsDir: /var/log/pods-kubeadm
YAML
}

api_ready() {
  curl -fsS --max-time 3 --cacert /etc/kubernetes/pki/ca.crt "https://${KADM_NODE_IP}:6443/readyz" 2>/dev/null | grep -qx ok
}

node_ready() {
  [[ "$(kctl get node "${KADM_NODE_NAME}" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}

deploy_available() {
  [[ "$(kctl -n kube-system get deploy "$1" -o jsonpath='{.status.availableReplicas}' 2>/dev/null)" -ge 1 ]] 2>/dev/null
}

ds_ready() {
  local want have
  want="$(kctl -n kube-system get ds "$1" -o jsonpath='{.status.desiredNumberScheduled}' 2>/dev/null)"
  have="$(kctl -n kube-system get ds "$1" -o jsonpath='{.status.numberReady}' 2>/dev/null)"
  [[ -n "${want}" && "${want}" != 0 && "${want}" == "${have}" ]]
}

check_owned_paths() {
  [[ -f "${MARKER}" ]] && return 0
  local p
  for p in "${OWNED_DIRS[@]}"; do
    [[ ! -e "${p}" ]] || die "${p} exists and was not made by this script: not touching it (remove it, or run down from the checkout that made it)"
  done
  printf '%s\n' "${OWNED_DIRS[@]}" > "${MARKER}"
}

# kubeadm_env CMD...: CMD in the netns, finding our systemctl and kubelet first on PATH; the
# environment reaches the kubelet unit through kubeadm and the systemctl shim.
kubeadm_env() {
  in_ns env PATH="${KSTATE}/bin:${PATH}" KADM_SHIM_LOG="${LOG_DIR}/kubeadm-systemctl.log" \
    KUBELET="${KUBELET}" KUBELET_TS_LOCAL="${LOCAL_DIR}" "$@"
}

up() {
  local t0 t1
  t0=$(date +%s)
  bash "${HACK_DIR}/install-deps.sh"
  bash "${KADM_DIR}/images.sh" --build-only >/dev/null
  if [[ "${KUBELET}" == ts && "${KUBELET_TS_SKIP_BUILD:-}" != 1 ]]; then
    (cd "${REPO_ROOT}" && { [[ -d node_modules/.bin ]] || npm ci --no-audit --no-fund; } && npx tsc -p tsconfig.json)
  fi
  check_owned_paths
  netns_up
  containerd_env bash "${HACK_DIR}/containerd.sh" up
  CONTAINERD_SOCK="${KADM_CRI_SOCK}" bash "${KADM_DIR}/images.sh"
  write_kubelet_shim
  write_config
  write_patches

  if [[ -f "${KADM_KUBECONFIG}" && ! -f "${KSTATE}/initialised" ]]; then
    die "a previous kubeadm init did not finish (see ${INIT_LOG}): run $0 down first"
  elif [[ -f "${KADM_KUBECONFIG}" ]]; then
    log "cluster already initialised (${KADM_KUBECONFIG}); making sure the kubelet runs"
    kubeadm_env bash "${KADM_DIR}/kubelet-unit.sh" start
  else
    log "kubeadm init (KUBELET=${KUBELET}; log ${INIT_LOG}, kubelet ${LOG_DIR}/kubeadm-kubelet.log)"
    [[ -f "${LOG_DIR}/kubeadm-kubelet.log" ]] && mv "${LOG_DIR}/kubeadm-kubelet.log" "${LOG_DIR}/kubeadm-kubelet.prev.log"
    t1=$(date +%s)
    # shellcheck disable=SC2086 # KUBEADM_INIT_ARGS is a list of flags
    if ! kubeadm_env "${KUBEADM_BIN}/kubeadm" init --config "${CONFIG}" \
          --ignore-preflight-errors="${PREFLIGHT_IGNORE}" ${KUBEADM_INIT_ARGS:-} > "${INIT_LOG}" 2>&1; then
      tail -n 40 "${INIT_LOG}" >&2
      echo "---- kubelet unit log (${LOG_DIR}/kubeadm-kubelet.log), last 30 lines:" >&2
      tail -n 30 "${LOG_DIR}/kubeadm-kubelet.log" >&2 2>/dev/null || true
      die "kubeadm init failed after $(( $(date +%s) - t1 ))s (see ${INIT_LOG})"
    fi
    touch "${KSTATE}/initialised"
    log "kubeadm init done in $(( $(date +%s) - t1 ))s"
  fi
  local wait="${KUBEADM_WAIT:-300}"
  wait_for "node ${KADM_NODE_NAME} Ready" "${wait}" node_ready
  wait_for "kube-proxy DaemonSet ready" "${wait}" ds_ready kube-proxy
  wait_for "CoreDNS available" "${wait}" deploy_available coredns
  log "kubeadm cluster up in $(( $(date +%s) - t0 ))s: export KUBECONFIG=${KADM_KUBECONFIG}  (apiserver https://${KADM_NODE_IP}:6443)"
}

down() {
  local kind vm
  # Node VMs joined by vm-join.sh first: their taps hang off this cluster's netns.
  for vm in "${KSTATE}"/vm-*; do
    [[ -d "${vm}" ]] && bash "${KADM_DIR}/vm-join.sh" down "${vm##*/vm-}"
  done
  kind="$(cat "${KSTATE}/kubelet-kind" 2>/dev/null || echo "${KUBELET}")"
  if netns_exists && [[ -x "${KUBEADM_BIN}/kubeadm" && -d /etc/kubernetes && -f "${MARKER}" ]]; then
    log "kubeadm reset"
    KUBELET="${kind}" kubeadm_env "${KUBEADM_BIN}/kubeadm" reset -f --cri-socket "unix://${KADM_CRI_SOCK}" \
      > "${LOG_DIR}/kubeadm-reset.log" 2>&1 || log "kubeadm reset failed (see ${LOG_DIR}/kubeadm-reset.log); cleaning up anyway"
  fi
  KUBELET="${kind}" bash "${KADM_DIR}/kubelet-unit.sh" stop
  if pid_alive "containerd-${CONTAINERD_INSTANCE}"; then
    node "${HACK_DIR}/cri-cleanup.mjs" "${KADM_CRI_SOCK}" || log "runtime cleanup incomplete"
  fi
  CONTAINERD_INSTANCE="${CONTAINERD_INSTANCE}" bash "${HACK_DIR}/containerd.sh" down
  # Mounts left under the kubelet's and this containerd's directories (volumes, shm, rootfs; the
  # kubelet bind-mounts its root dir onto itself to make it rshared).
  local m
  while read -r m; do
    umount -l "${m}" 2>/dev/null || true
  done < <(findmnt -rn -o TARGET | grep -E "^(/var/lib/kubelet|/run/containerd-${CONTAINERD_INSTANCE}|/var/lib/containerd-${CONTAINERD_INSTANCE})(/|$)" | sort -r)
  if [[ -f "${MARKER}" ]]; then
    local p
    while read -r p; do [[ -n "${p}" ]] && rm -rf "${p}"; done < "${MARKER}"
  fi
  rm -rf "/run/containerd-${CONTAINERD_INSTANCE}" "/var/lib/containerd-${CONTAINERD_INSTANCE}" \
    "/var/lib/cni/networks/${KADM_CNI_NETWORK}" "${LOCAL_DIR}/containerd-${CONTAINERD_INSTANCE}"
  netns_down
  # The node's podLogsDir (patches above): a static pod's UID is a hash of its manifest, so a
  # new cluster's control plane would otherwise find its predecessor's logs and count restarts.
  rm -rf /var/log/pods-kubeadm
  rm -rf "${KSTATE}" "${LOCAL_DIR}/kubeadm-images"
  log "kubeadm cluster removed"
}

status() {
  local rc=0
  netns_exists && echo "netns ${KUBEADM_NETNS}: present" || { echo "netns ${KUBEADM_NETNS}: absent"; rc=1; }
  pid_alive "containerd-${CONTAINERD_INSTANCE}" && echo "containerd-${CONTAINERD_INSTANCE}: running" || { echo "containerd-${CONTAINERD_INSTANCE}: stopped"; rc=1; }
  bash "${KADM_DIR}/kubelet-unit.sh" status | sed -n 3p || rc=1
  if api_ready; then
    echo "apiserver https://${KADM_NODE_IP}:6443: ready"
    kctl get nodes -o wide 2>&1 || true
    kctl get pods -A -o wide 2>&1 || true
  else
    echo "apiserver https://${KADM_NODE_IP}:6443: not ready"; rc=1
  fi
  return "${rc}"
}

# A pod on the node; DNS through CoreDNS; a Service by ClusterIP and by name, from a pod.
smoke() {
  local img=localhost:5999/kubelet-ts/busybox:1.36 ns=kadm-smoke ip t0
  t0=$(date +%s)
  kctl create namespace "${ns}" --dry-run=client -o yaml | kctl apply -f - >/dev/null
  kctl -n "${ns}" apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 1
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
      - name: httpd
        image: ${img}
        imagePullPolicy: IfNotPresent
        command: [sh, -c, 'echo kadm-smoke-ok > /tmp/index.html; exec httpd -f -p 8080 -h /tmp']
        ports: [{ containerPort: 8080 }]
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: v1
kind: Pod
metadata: { name: client }
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: ${img}
    imagePullPolicy: IfNotPresent
    command: [sleep, "3600"]
YAML
  kctl -n "${ns}" rollout status deploy/web --timeout=120s >/dev/null
  kctl -n "${ns}" wait pod/client --for=condition=Ready --timeout=120s >/dev/null
  ip="$(kctl -n "${ns}" get svc web -o jsonpath='{.spec.clusterIP}')"
  local ok=0 out
  echo "pods:"; kctl -n "${ns}" get pods -o wide
  out="$(kctl -n "${ns}" exec client -- nslookup kubernetes.default.svc.cluster.local 2>&1)" && echo "DNS kubernetes.default: $(grep -A1 'Name:' <<< "${out}" | tail -n1)" || { echo "DNS FAILED: ${out}"; ok=1; }
  # busybox-static's wget segfaults (static glibc NSS); nc speaks the HTTP request by hand.
  http_get() { kctl -n "${ns}" exec client -- sh -c "printf 'GET /index.html HTTP/1.0\r\n\r\n' | nc -w 5 $1 80 | tail -n 1" 2>&1; }
  out="$(http_get "${ip}")"; [[ "${out}" == kadm-smoke-ok ]] && echo "Service by ClusterIP ${ip}: ${out}" || { echo "Service by ClusterIP ${ip} FAILED: ${out}"; ok=1; }
  out="$(http_get "web.${ns}.svc.cluster.local")"; [[ "${out}" == kadm-smoke-ok ]] && echo "Service by name web.${ns}.svc.cluster.local: ${out}" || { echo "Service by name FAILED: ${out}"; ok=1; }
  echo "kube-proxy: $(kctl -n kube-system logs ds/kube-proxy 2>/dev/null | grep -o 'Using [a-z]* Proxier' | head -n1); nft tables in the netns: $(in_ns nft list tables 2>/dev/null | tr '\n' ' ')"
  out="$(kctl -n "${ns}" logs deploy/web 2>&1)" && echo "kubectl logs: ok" || { echo "kubectl logs FAILED: ${out}"; ok=1; }
  echo "smoke: $(( $(date +%s) - t0 ))s"
  if [[ "${KADM_SMOKE_KEEP:-}" != 1 ]]; then kctl delete namespace "${ns}" --wait=true --timeout=60s >/dev/null; fi
  return "${ok}"
}

join_command() {
  kctl get --raw /readyz >/dev/null || die "cluster not up"
  in_ns "${KUBEADM_BIN}/kubeadm" token create --print-join-command --kubeconfig "${KADM_KUBECONFIG}"
}

cmd="${1:-up}"
[[ $# -gt 0 ]] && shift
case "${cmd}" in
  up) up ;;
  down) down ;;
  status) status ;;
  smoke) smoke ;;
  kubectl) kctl "$@" ;;
  join-command) join_command ;;
  *) sed -n '2,/^[^#]/{/^#/p}' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
