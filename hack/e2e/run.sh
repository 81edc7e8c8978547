#!/usr/bin/env bash
# The upstream NodeConformance selection (e2e.test at the pinned release) against kubelet-ts built
# from this checkout, as the only Node of the local control plane.
#
#   hack/e2e/run.sh                       the whole selection, 8 ginkgo workers
#   FOCUS='ConfigMap' hack/e2e/run.sh     a subset (FOCUS is ANDed with [NodeConformance])
#   SKIP='…' PROCS=4 hack/e2e/run.sh      extra skips, fewer workers
#
# Writes LOCAL_DIR/e2e/<stamp>/{junit.xml,report.json,summary.json}, prints one line
#   e2e: N passed, N failed
# and exits non-zero when a spec fails that is not listed in hack/e2e/known-failures.txt, or when
# a listed spec passes (the list must shrink as fixes land). Holds LOCAL_DIR/node.lock meanwhile.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

E2E_BIN="${CACHE_ROOT}/e2e-${K8S_VERSION}/bin"
ADMIN_KUBECONFIG="${LOCAL_DIR}/kubeconfig/admin.kubeconfig"
KUBECTL=("${K8S_BIN}/kubectl" --kubeconfig "${ADMIN_KUBECONFIG}")
KNOWN="${HACK_DIR}/e2e/known-failures.txt"
PROCS="${PROCS:-8}"

# The selection (../shared/docs/conformance.md). One spec is excluded everywhere, with its reason:
# "PrivilegedPod should enable privileged commands" first runs `ip link add dummy1 type dummy`,
# which fails with EOPNOTSUPP on these machines' kernel (no dummy netdev), on the host too.
BASE_FOCUS='\[NodeConformance\]'
BASE_SKIP='\[Serial\]|\[Slow\]|\[Disruptive\]|\[Flaky\]|\[Feature:|PrivilegedPod.*should enable privileged commands'

# The node environment is shared with hack/test.sh's integration tests: one user at a time.
exec 8>"${LOCAL_DIR}/node.lock"
flock -n 8 || { log "waiting for ${LOCAL_DIR}/node.lock (another e2e or test run)"; flock 8; }

bash "${HACK_DIR}/build-e2e.sh"
bash "${HACK_DIR}/env.sh" up
CONTAINERD_SOCK=/run/containerd/containerd.sock bash "${HACK_DIR}/e2e/images.sh"

if [[ "${KUBELET_TS_SKIP_BUILD:-}" != 1 ]]; then
  (cd "${REPO_ROOT}" && npx tsc -p tsconfig.json)
fi
# A fresh kubelet-ts from this checkout, the only Node of the cluster.
bash "${HACK_DIR}/kubelet.sh" down
NODE_NAME="$(hostname | tr '[:upper:]' '[:lower:]')"
for n in $("${KUBECTL[@]}" get nodes -o name 2>/dev/null); do
  [[ "${n}" == "node/${NODE_NAME}" ]] || "${KUBECTL[@]}" delete "${n}" --wait=false >/dev/null
done
# Namespaces left by earlier tests would keep their pods bound to this node.
for ns in $("${KUBECTL[@]}" get ns -o name); do
  case "${ns}" in namespace/default|namespace/kube-*) ;; *) "${KUBECTL[@]}" delete "${ns}" --wait=false >/dev/null 2>&1 || true ;; esac
done
"${KUBECTL[@]}" delete pods -n default --all --grace-period=0 --force --wait=false >/dev/null 2>&1 || true
KUBELET_TS_SKIP_BUILD=1 bash "${HACK_DIR}/kubelet.sh" up "${NODE_NAME}"

focus="${BASE_FOCUS}"
skip="${BASE_SKIP}${SKIP:+|${SKIP}}"
out="${LOCAL_DIR}/e2e/$(date +%Y%m%d-%H%M%S)"
mkdir -p "${out}"
ln -sfn "${out}" "${LOCAL_DIR}/e2e/latest"
log "e2e: ${PROCS} workers, focus ${FOCUS:-<all>}; results in ${out}"
t0=$(date +%s)
set +e
# Several --focus flags are ORed; a FOCUS subset keeps the selection through the label instead.
focus_args=(--focus="${focus}")
[[ -n "${FOCUS:-}" ]] && focus_args=(--focus="${FOCUS}" --label-filter=NodeConformance)
"${E2E_BIN}/ginkgo" run --procs="${PROCS}" --timeout=100m --flake-attempts=1 --no-color \
  "${focus_args[@]}" --skip="${skip}" \
  --json-report=report.json --junit-report=junit.xml --output-dir="${out}" \
  "${E2E_BIN}/e2e.test" -- \
  --kubeconfig="${ADMIN_KUBECONFIG}" --provider=skeleton --report-dir="${out}" \
  --allowed-not-ready-nodes=0 --node-schedulable-timeout=3m --system-pods-startup-timeout=2m \
  --disable-log-dump=true --dump-logs-on-failure=true --e2e-verify-service-account=true \
  > "${out}/ginkgo.log" 2>&1
ginkgo_rc=$?
set -e
secs=$(( $(date +%s) - t0 ))
cp "${LOG_DIR}/kubelet.log" "${out}/kubelet.log" 2>/dev/null || true

[[ -s "${out}/report.json" ]] || { tail -n 40 "${out}/ginkgo.log" >&2; echo "e2e: 0 passed, 1 failed"; exit 1; }
set +e
node "${HACK_DIR}/e2e/summarize.mjs" "${out}/report.json" "${KNOWN}" "${secs}" "${FOCUS:+subset}" \
  > "${out}/summary.txt"
rc=$?
set -e
cat "${out}/summary.txt"
log "ginkgo exit ${ginkgo_rc}; ${secs}s; log ${out}/ginkgo.log"
exit "${rc}"
