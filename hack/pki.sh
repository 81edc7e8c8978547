#!/usr/bin/env bash
# The local cluster's PKI, made with openssl. Idempotent: existing keys and certs are kept.
#   hack/pki.sh            cluster CA, apiserver, service-account keys, component certs, kubeconfigs
#   hack/pki.sh node NAME  a node kubeconfig for NAME (O=system:nodes, CN=system:node:NAME)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

API_PORT="${API_PORT:-6443}"
API_SERVER="https://127.0.0.1:${API_PORT}"
FIRST_SERVICE_IP="10.96.0.1"
DAYS=3650
mkdir -p "${PKI_DIR}" "${LOCAL_DIR}/kubeconfig"
umask 077

# new_key FILE: an ECDSA P-256 private key (PKCS#8 PEM).
new_key() { [[ -f "$1" ]] || openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# new_ca NAME CN
new_ca() {
  local n="$1" cn="$2"
  new_key "${PKI_DIR}/${n}.key"
  [[ -f "${PKI_DIR}/${n}.crt" ]] && return 0
  openssl req -x509 -new -key "${PKI_DIR}/${n}.key" -subj "/CN=${cn}" -days "${DAYS}" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
    -out "${PKI_DIR}/${n}.crt"
}

# new_cert NAME SUBJECT EXT_USAGE [SANS] [CA]: a leaf cert signed by CA (default: ca).
new_cert() {
  local n="$1" subj="$2" usage="$3" sans="${4:-}" ca="${5:-ca}"
  new_key "${PKI_DIR}/${n}.key"
  [[ -f "${PKI_DIR}/${n}.crt" ]] && return 0
  local ext
  ext="$(mktemp)"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=${usage}"
    [[ -n "${sans}" ]] && echo "subjectAltName=${sans}"
  } > "${ext}"
  openssl req -new -key "${PKI_DIR}/${n}.key" -subj "${subj}" 2>/dev/null \
    | openssl x509 -req -CA "${PKI_DIR}/${ca}.crt" -CAkey "${PKI_DIR}/${ca}.key" -CAcreateserial \
        -days "${DAYS}" -extfile "${ext}" -out "${PKI_DIR}/${n}.crt" 2>/dev/null
  rm -f "${ext}"
}

# kubeconfig FILE USER CERT_NAME
kubeconfig() {
  local file="$1" user="$2" cert="$3"
  cat > "${file}" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: ${API_SERVER}
    certificate-authority-data: $(base64 -w0 < "${PKI_DIR}/ca.crt")
users:
- name: ${user}
  user:
    client-certificate-data: $(base64 -w0 < "${PKI_DIR}/${cert}.crt")
    client-key-data: $(base64 -w0 < "${PKI_DIR}/${cert}.key")
contexts:
- name: ${user}@local
  context: { cluster: local, user: ${user} }
current-context: ${user}@local
YAML
}

cluster() {
  local hip
  hip="$(host_ip)"
  new_ca ca kubelet-ts-local-ca
  new_ca front-proxy-ca kubelet-ts-front-proxy-ca
  # The advertise address can change between boots of a dev VM: reissue the serving cert then.
  if [[ -f "${PKI_DIR}/apiserver.crt" ]] && ! openssl x509 -in "${PKI_DIR}/apiserver.crt" -noout -ext subjectAltName | grep -qF "IP Address:${hip}"; then
    rm -f "${PKI_DIR}/apiserver.crt"
  fi
  new_cert apiserver "/CN=kube-apiserver" serverAuth \
    "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.0.2.2,IP:${FIRST_SERVICE_IP},IP:${hip}"
  new_cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
  new_cert front-proxy-client "/CN=front-proxy-client" clientAuth "" front-proxy-ca
  new_cert admin "/O=system:masters/CN=kubernetes-admin" clientAuth
  new_cert controller-manager "/CN=system:kube-controller-manager" clientAuth
  new_cert scheduler "/CN=system:kube-scheduler" clientAuth
  if [[ ! -f "${PKI_DIR}/sa.key" ]]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "${PKI_DIR}/sa.key" 2>/dev/null
    openssl pkey -in "${PKI_DIR}/sa.key" -pubout -out "${PKI_DIR}/sa.pub"
  fi
  # Bootstrap token (id.secret) for TLS bootstrapping; the Secret is created by control-plane.sh.
  if [[ ! -f "${PKI_DIR}/bootstrap-token" ]]; then
    printf '%s.%s\n' "$(tr -dc 'a-z0-9' </dev/urandom | head -c 6)" "$(tr -dc 'a-z0-9' </dev/urandom | head -c 16)" > "${PKI_DIR}/bootstrap-token"
  fi
  kubeconfig "${LOCAL_DIR}/kubeconfig/admin.kubeconfig" kubernetes-admin admin
  kubeconfig "${LOCAL_DIR}/kubeconfig/controller-manager.kubeconfig" system:kube-controller-manager controller-manager
  kubeconfig "${LOCAL_DIR}/kubeconfig/scheduler.kubeconfig" system:kube-scheduler scheduler
  cat > "${LOCAL_DIR}/kubeconfig/bootstrap.kubeconfig" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: ${API_SERVER}
    certificate-authority-data: $(base64 -w0 < "${PKI_DIR}/ca.crt")
users:
- name: tls-bootstrap-token-user
  user:
    token: $(cat "${PKI_DIR}/bootstrap-token")
contexts:
- name: tls-bootstrap-token-user@local
  context: { cluster: local, user: tls-bootstrap-token-user }
current-context: tls-bootstrap-token-user@local
YAML
}

node() {
  local name="$1"
  [[ "${name}" =~ ^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$ ]] || die "invalid node name: ${name}"
  [[ -f "${PKI_DIR}/ca.key" ]] || cluster
  new_cert "node-${name}" "/O=system:nodes/CN=system:node:${name}" clientAuth
  kubeconfig "${LOCAL_DIR}/kubeconfig/node-${name}.kubeconfig" "system:node:${name}" "node-${name}"
  echo "${LOCAL_DIR}/kubeconfig/node-${name}.kubeconfig"
}

case "${1:-cluster}" in
  cluster) cluster ;;
  node) [[ -n "${2:-}" ]] || die "usage: $0 node NAME"; node "$2" ;;
  *) die "usage: $0 [cluster | node NAME]" ;;
esac
