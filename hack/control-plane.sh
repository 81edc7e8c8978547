#!/usr/bin/env bash
# up | down | status: etcd, kube-apiserver, kube-controller-manager and kube-scheduler at the
# pinned release, all listening on 127.0.0.1 only, each waited on until healthy.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

API_PORT="${API_PORT:-6443}"
ADMIN_KUBECONFIG="${LOCAL_DIR}/kubeconfig/admin.kubeconfig"
KUBECTL=("${K8S_BIN}/kubectl" --kubeconfig "${ADMIN_KUBECONFIG}")

curl_ok() { curl -fsS --max-time 3 --cacert "${PKI_DIR}/ca.crt" --cert "${PKI_DIR}/admin.crt" --key "${PKI_DIR}/admin.key" "$1" | grep -qx ok; }
curl_insecure_ok() { curl -fsSk --max-time 3 "$1" | grep -qx ok; }

up() {
  bash "${HACK_DIR}/build-etcd.sh"
  bash "${HACK_DIR}/build-k8s.sh"
  bash "${HACK_DIR}/pki.sh" cluster
  local hip
  hip="$(host_ip)"

  mkdir -p "${LOCAL_DIR}/etcd"
  start_bg etcd "${ETCD_BIN}/etcd" --name local --data-dir "${LOCAL_DIR}/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster local=http://127.0.0.1:2380 --listen-metrics-urls http://127.0.0.1:2381 \
    --quota-backend-bytes 4294967296 --unsafe-no-fsync --log-level warn
  wait_for "etcd health (${LOG_DIR}/etcd.log)" 60 bash -c "curl -fsS --max-time 2 http://127.0.0.1:2381/health | grep -q '\"health\":\"true\"'"

  start_bg kube-apiserver "${K8S_BIN}/kube-apiserver" \
    --etcd-servers=http://127.0.0.1:2379 \
    --bind-address=127.0.0.1 --secure-port="${API_PORT}" --advertise-address="${hip}" \
    --service-cluster-ip-range=10.96.0.0/16 \
    --tls-cert-file="${PKI_DIR}/apiserver.crt" --tls-private-key-file="${PKI_DIR}/apiserver.key" \
    --client-ca-file="${PKI_DIR}/ca.crt" \
    --kubelet-client-certificate="${PKI_DIR}/apiserver-kubelet-client.crt" \
    --kubelet-client-key="${PKI_DIR}/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types=InternalIP,Hostname \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="${PKI_DIR}/sa.pub" \
    --service-account-signing-key-file="${PKI_DIR}/sa.key" \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --enable-bootstrap-token-auth=true --allow-privileged=true \
    --requestheader-client-ca-file="${PKI_DIR}/front-proxy-ca.crt" \
    --requestheader-allowed-names=front-proxy-client \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --requestheader-group-headers=X-Remote-Group --requestheader-username-headers=X-Remote-User \
    --proxy-client-cert-file="${PKI_DIR}/front-proxy-client.crt" \
    --proxy-client-key-file="${PKI_DIR}/front-proxy-client.key" \
    --profiling=false --v=1
  wait_for "kube-apiserver /readyz (${LOG_DIR}/kube-apiserver.log)" 120 curl_ok "https://127.0.0.1:${API_PORT}/readyz"

  start_bg kube-controller-manager "${K8S_BIN}/kube-controller-manager" \
    --kubeconfig="${LOCAL_DIR}/kubeconfig/controller-manager.kubeconfig" \
    --authentication-kubeconfig="${LOCAL_DIR}/kubeconfig/controller-manager.kubeconfig" \
    --authorization-kubeconfig="${LOCAL_DIR}/kubeconfig/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false \
    --cluster-signing-cert-file="${PKI_DIR}/ca.crt" --cluster-signing-key-file="${PKI_DIR}/ca.key" \
    --root-ca-file="${PKI_DIR}/ca.crt" \
    --service-account-private-key-file="${PKI_DIR}/sa.key" --use-service-account-credentials=true \
    --controllers='*,bootstrapsigner,tokencleaner' \
    --service-cluster-ip-range=10.96.0.0/16 --allocate-node-cidrs=false \
    --profiling=false --v=1
  start_bg kube-scheduler "${K8S_BIN}/kube-scheduler" \
    --kubeconfig="${LOCAL_DIR}/kubeconfig/scheduler.kubeconfig" \
    --authentication-kubeconfig="${LOCAL_DIR}/kubeconfig/scheduler.kubeconfig" \
    --authorization-kubeconfig="${LOCAL_DIR}/kubeconfig/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --leader-elect=false --profiling=false --v=1
  wait_for "kube-controller-manager /healthz (${LOG_DIR}/kube-controller-manager.log)" 120 curl_insecure_ok https://127.0.0.1:10257/healthz
  wait_for "kube-scheduler /healthz (${LOG_DIR}/kube-scheduler.log)" 120 curl_insecure_ok https://127.0.0.1:10259/healthz

  bootstrap_rbac
  log "control plane ready: export KUBECONFIG=${ADMIN_KUBECONFIG}"
}

# The RBAC and token Secret kubeadm creates for kubelet TLS bootstrapping, applied idempotently.
bootstrap_rbac() {
  local token id secret
  token="$(cat "${PKI_DIR}/bootstrap-token")"; id="${token%%.*}"; secret="${token#*.}"
  "${KUBECTL[@]}" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Secret
metadata: { name: bootstrap-token-${id}, namespace: kube-system }
type: bootstrap.kubernetes.io/token
stringData:
  token-id: "${id}"
  token-secret: "${secret}"
  usage-bootstrap-authentication: "true"
  usage-bootstrap-signing: "true"
  auth-extra-groups: system:bootstrappers:kubeadm:default-node-token
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: "kubeadm:kubelet-bootstrap" }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:node-bootstrapper" }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:bootstrappers:kubeadm:default-node-token" }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: "kubeadm:node-autoapprove-bootstrap" }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:certificates.k8s.io:certificatesigningrequests:nodeclient" }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:bootstrappers:kubeadm:default-node-token" }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: "kubeadm:node-autoapprove-certificate-rotation" }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient" }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:nodes" }]
YAML
}

down() {
  stop_pid kube-scheduler
  stop_pid kube-controller-manager
  stop_pid kube-apiserver
  stop_pid etcd
}

status() {
  local ok=0
  for c in etcd kube-apiserver kube-controller-manager kube-scheduler; do
    if pid_alive "${c}"; then echo "${c}: running"; else echo "${c}: stopped"; ok=1; fi
  done
  return "${ok}"
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) die "usage: $0 up|down|status" ;;
esac
