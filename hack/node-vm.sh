#!/usr/bin/env bash
# A real cgroup v2 Linux node for kubelet-ts: a Debian bookworm guest under qemu (TCG; KVM is not
# reliable on these machines) running containerd (SystemdCgroup = true) and kubelet-ts as systemd
# services, joined to the host's control plane through qemu's user network (10.0.2.2 in the guest
# is the host's loopback, where the apiserver listens).
#
#   hack/node-vm.sh build              the cached base image (debootstrap; keyed by a content hash)
#   hack/node-vm.sh up NAME            boot node NAME, wait until `kubectl get node NAME` is Ready
#   hack/node-vm.sh down [NAME]        stop NAME (by PID file), or every node VM this checkout started
#   hack/node-vm.sh exec NAME CMD...   run CMD (joined, through sh -c, like ssh) in the guest as root;
#                                      prints its stdout/stderr, exits with its exit code
#   hack/node-vm.sh status             the node VMs that run
#   hack/node-vm.sh console NAME       the guest's serial console log
#
# `up` environment:
#   NODE_VM_KUBELET_CONFIG=FILE  YAML/JSON merged over the guest's KubeletConfiguration
#   NODE_VM_KUBELET_ARGS="..."   extra kubelet flags (e.g. "--v 4")
#   NODE_VM_CGROUP_DRIVER=D      systemd (default: containerd SystemdCgroup = true, kubelet
#                                cgroupDriver systemd) or cgroupfs (both switched to cgroupfs)
#   NODE_VM_READY_TIMEOUT=S      how long to wait for Ready (default 480)
#   NODE_VM_KEEP_ON_FAILURE=1    leave a guest that did not become Ready running, to look at it
#   NODE_VM_MEMORY=MiB, NODE_VM_CPUS=N (defaults 2048, 2)
#   NODE_VM_NET=user|tap         user (default): qemu user networking only; the guest reaches the
#                                host as 10.0.2.2 but nothing can dial the guest (no kubectl
#                                logs/exec). tap: a second NIC (eth1) on the bridge of the lab
#                                netns of hack/kubeadm/net.sh (made if missing), with its own IP
#                                10.250.0.x (`hack/kubeadm/net.sh vm-env NAME`; NODE_VM_TAP_IP=IP
#                                to choose) as the node's InternalIP: the host (via kadm0), the
#                                shared apiserver and the kubeadm cluster all reach its :10250.
#   NODE_VM_KUBELET=kubelet-ts|none  none: boot without a kubelet and wait for the agent only (for
#                                flows such as `kubeadm join` driven through `exec`); the overlay
#                                still carries kubelet-ts (/opt/kubelet-ts/app, bin/node)
#   NODE_VM_EXTRA_DIR=DIR        copied into the overlay as /opt/kubelet-ts/extra
#   NODE_VM_EXTRA_IMAGES="A.tar B.tar"  more image tarballs imported into the guest's containerd
#   KUBELET_TS_SKIP_BUILD=1      use dist/ as it is (otherwise `tsc` builds it first)
#
# The base image lives in the machine-level cache ${CACHE_ROOT}/node-vm/<hash>/ and is always
# booted as a throw-away snapshot; what changes per run (dist/ + production node_modules + proto,
# the host's node binary, configs, kubeconfig, test images, the command agent) goes on a second
# small ext4 disk made with mke2fs -d, mounted read-only at /opt/kubelet-ts in the guest.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VM_HACK="${HACK_DIR}/node-vm"
VM_CACHE="${CACHE_ROOT}/node-vm"
VM_LOCAL="${LOCAL_DIR}/node-vm"
API_PORT="${API_PORT:-6443}"
GUEST_IP=10.0.2.15
GUEST_AGENT_PORT=7070
CGROUP_DRIVER="${NODE_VM_CGROUP_DRIVER:-systemd}"
NET_MODE="${NODE_VM_NET:-user}"
[[ "${NET_MODE}" == user || "${NET_MODE}" == tap ]] || die "NODE_VM_NET must be user or tap"
VM_KUBELET="${NODE_VM_KUBELET:-kubelet-ts}"
[[ "${VM_KUBELET}" == kubelet-ts || "${VM_KUBELET}" == none ]] || die "NODE_VM_KUBELET must be kubelet-ts or none"
# The guest's pod range (hack/node-vm/rootfs/etc/cni/net.d/10-kubelet-ts.conflist).
GUEST_POD_CIDR=10.244.9.0/24
[[ "${CGROUP_DRIVER}" == systemd || "${CGROUP_DRIVER}" == cgroupfs ]] || die "NODE_VM_CGROUP_DRIVER must be systemd or cgroupfs"
KUBECTL=("${K8S_BIN}/kubectl" --kubeconfig "${LOCAL_DIR}/kubeconfig/admin.kubeconfig")

usage() { sed -n '2,/^[^#]/{/^#/p}' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

valid_name() {
  [[ "$1" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ && ${#1} -le 63 ]] || die "invalid node name: '$1' (DNS label)"
}

ensure_tools() {
  local missing=()
  command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v mke2fs >/dev/null || missing+=(e2fsprogs)
  if (( ${#missing[@]} > 0 )); then
    (( EUID == 0 )) || die "need root to install: ${missing[*]}"
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || apt-get update
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
      || { sleep 3; apt-get install -y --no-install-recommends "${missing[@]}"; }
  fi
}

# The base image's cache key: the build script and the files it copies into the image.
base_hash() {
  (cd "${VM_HACK}" && find build.sh rootfs -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) \
    | sha256sum | cut -c1-16
}
base_dir() { echo "${VM_CACHE}/$(base_hash)"; }

build() {
  ensure_tools
  local dir
  dir="$(base_dir)"
  if [[ -f "${dir}/rootfs.img" ]]; then
    log "node VM base image cached: ${dir}"
    return 0
  fi
  mkdir -p "${VM_CACHE}"
  # One builder at a time per machine (a CI run and a session may share the cache).
  exec 8>"${VM_CACHE}/.build.lock"
  flock 8
  if [[ ! -f "${dir}/rootfs.img" ]]; then
    local tmp="${dir}.tmp.$$"
    rm -rf "${tmp}"
    bash "${VM_HACK}/build.sh" "${tmp}" "${VM_CACHE}/debs" || { rm -rf "${tmp}"; die "node VM image build failed"; }
    mv "${tmp}" "${dir}"
    # Images of older build scripts are dead weight once a week old.
    find "${VM_CACHE}" -mindepth 1 -maxdepth 1 -type d -regex '.*/[0-9a-f]\{16\}' \
      ! -path "${dir}" -mtime +7 -exec rm -rf {} + 2>/dev/null || true
  fi
  flock -u 8
  exec 8>&-
  log "node VM base image: ${dir}"
}

vm_dir() { echo "${VM_LOCAL}/$1"; }
# tap_env NAME: TAP_DEV, TAP_IP, TAP_PREFIX, TAP_MAC, TAP_ROUTES of node VM NAME (tap mode).
tap_env() { bash "${HACK_DIR}/kubeadm/net.sh" vm-env "$1"; }
pid_name() { echo "node-vm-$1"; }

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# Copies SRC to DST as hard links when both sit on one filesystem (fast), else as a copy.
link_or_copy() { cp -al "$1" "$2" 2>/dev/null || cp -a "$1" "$2"; }

# The guest's KubeletConfiguration: systemd cgroup driver, QoS cgroups, this VM's containerd,
# merged with NODE_VM_KUBELET_CONFIG when given.
kubelet_config() {
  node --input-type=module -e '
    import { readFileSync } from "node:fs";
    import { createRequire } from "node:module";
    const require = createRequire(process.argv[1] + "/package.json");
    const YAML = require("yaml");
    const base = {
      apiVersion: "kubelet.config.k8s.io/v1beta1",
      kind: "KubeletConfiguration",
      containerRuntimeEndpoint: "unix:///run/containerd/containerd.sock",
      cgroupDriver: process.argv[3],
      cgroupsPerQOS: true,
      failSwapOn: false,
      clusterDNS: ["10.96.0.10"],
      clusterDomain: "cluster.local",
      podLogsDir: "/var/log/pods",
      healthzPort: 10248,
      nodeStatusUpdateFrequency: "10s",
    };
    const merge = (a, b) => {
      for (const [k, v] of Object.entries(b ?? {})) {
        a[k] = v && typeof v === "object" && !Array.isArray(v) && a[k] && typeof a[k] === "object"
          ? merge({ ...a[k] }, v) : v;
      }
      return a;
    };
    const extra = process.argv[2] ? YAML.parse(readFileSync(process.argv[2], "utf8")) : {};
    process.stdout.write(YAML.stringify(merge(base, extra)));
  ' "${REPO_ROOT}" "${NODE_VM_KUBELET_CONFIG:-}" "${CGROUP_DRIVER}"
}

# Stages and writes the per-run overlay disk for node NAME.
make_overlay() {
  local name="$1" dir="$2" token="$3"
  local stage="${dir}/overlay"
  rm -rf "${stage}" "${dir}/overlay.img"
  mkdir -p "${stage}"/{bin,app,etc,images}

  # Node 20: bookworm's nodejs is 18, so the host's own (glibc-linked) binary goes in.
  link_or_copy "$(readlink -f "$(command -v node)")" "${stage}/bin/node"
  # The kubelet as built from this checkout, with its production dependencies only.
  [[ -f "${REPO_ROOT}/dist/src/main.js" ]] || die "dist/src/main.js missing: run npm run build"
  mkdir -p "${stage}/app/dist" "${stage}/app/node_modules"
  cp "${REPO_ROOT}/package.json" "${stage}/app/"
  cp -a "${REPO_ROOT}/dist/src" "${stage}/app/dist/src"
  cp -a "${REPO_ROOT}/proto" "${stage}/app/proto"
  local mod rel
  while read -r mod; do
    rel="${mod#"${REPO_ROOT}/node_modules/"}"
    [[ "${rel}" == "${mod}" || "${rel}" == */node_modules/* ]] && continue
    mkdir -p "${stage}/app/node_modules/$(dirname "${rel}")"
    link_or_copy "${mod}" "${stage}/app/node_modules/${rel}"
  done < <(cd "${REPO_ROOT}" && npm ls --omit=dev --all --parseable 2>/dev/null | sort -u)
  [[ -d "${stage}/app/node_modules/@grpc/grpc-js" ]] || die "could not stage production node_modules"

  # Test images (same tarballs as the host's containerd gets), imported at boot.
  bash "${HACK_DIR}/images.sh" --build-only >&2
  for t in pause busybox busybox-nonroot; do cp "${LOCAL_DIR}/images/${t}.tar" "${stage}/images/"; done

  local img
  for img in ${NODE_VM_EXTRA_IMAGES:-}; do link_or_copy "${img}" "${stage}/images/extra-$(basename "${img}")"; done
  if [[ -n "${NODE_VM_EXTRA_DIR:-}" ]]; then cp -a "${NODE_VM_EXTRA_DIR}" "${stage}/extra"; fi

  if [[ "${VM_KUBELET}" == kubelet-ts ]]; then
    # A node kubeconfig for NAME, pointing at the host's apiserver as the guest sees it.
    local kc
    kc="$(bash "${HACK_DIR}/pki.sh" node "${name}")"
    sed "s#server: https://127.0.0.1:${API_PORT}#server: https://10.0.2.2:${API_PORT}#" "${kc}" > "${stage}/etc/kubeconfig"
    grep -q "server: https://10.0.2.2:${API_PORT}" "${stage}/etc/kubeconfig" || die "could not rewrite ${kc} for the guest"
    chmod 600 "${stage}/etc/kubeconfig"
  fi
  kubelet_config > "${stage}/etc/kubelet-config.yaml"
  echo "${name}" > "${stage}/etc/node-name"
  echo "${token}" > "${stage}/etc/agent-token"
  printf '%s\n' "${NODE_VM_KUBELET_ARGS:-}" > "${stage}/etc/kubelet-args"
  printf 'GUEST_IP=%s\nAGENT_PORT=%s\nCGROUP_DRIVER=%s\n' "${GUEST_IP}" "${GUEST_AGENT_PORT}" "${CGROUP_DRIVER}" \
    > "${stage}/etc/vm.env"
  if [[ "${NET_MODE}" == tap ]]; then
    # eth1 on the lab bridge: its address is the node's IP (kubelet --node-ip, /etc/hosts).
    tap_env "${name}" | grep -E '^TAP_(IP|PREFIX|ROUTES)=' >> "${stage}/etc/vm.env"
    echo "NODE_IP=$(tap_env "${name}" | sed -n 's/^TAP_IP=//p')" >> "${stage}/etc/vm.env"
  fi
  cp "${VM_HACK}"/guest/* "${stage}/"
  # Without kubelet.sh the kubelet-ts unit's ConditionPathExists keeps it from starting.
  [[ "${VM_KUBELET}" == none ]] && rm -f "${stage}/kubelet.sh"
  chmod 600 "${stage}/etc/agent-token"

  local mb
  mb="$(du -sm "${stage}" | cut -f1)"
  mke2fs -q -F -t ext4 -L kts-overlay -d "${stage}" "${dir}/overlay.img" "$(( mb * 5 / 4 + 64 ))M" \
    || die "mke2fs -d of the overlay failed"
  rm -rf "${stage}"
}

# The apiserver's serving cert must name 10.0.2.2, or the guest's kubelet cannot verify it.
check_apiserver() {
  curl -fsS --max-time 3 --cacert "${PKI_DIR}/ca.crt" "https://127.0.0.1:${API_PORT}/readyz" 2>/dev/null | grep -qx ok \
    || die "the control plane does not answer on 127.0.0.1:${API_PORT}: run hack/env.sh up (or hack/control-plane.sh up)"
  openssl x509 -in "${PKI_DIR}/apiserver.crt" -noout -ext subjectAltName 2>/dev/null | grep -qF 'IP Address:10.0.2.2' \
    || die "${PKI_DIR}/apiserver.crt has no SAN 10.0.2.2: delete it and rerun hack/pki.sh cluster, then restart the apiserver"
}

node_ready() {
  [[ "$("${KUBECTL[@]}" get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}

guest_exec() {
  local name="$1"; shift
  local dir
  dir="$(vm_dir "${name}")"
  [[ -f "${dir}/port" && -f "${dir}/token" ]] || die "node VM ${name} is not up (no ${dir}/port)"
  node "${VM_HACK}/client.mjs" "$(cat "${dir}/port")" "${dir}/token" "$*"
}

fail_up() {
  local name="$1" why="$2" console
  console="${LOG_DIR}/$(pid_name "$1").log"
  {
    echo "==== node VM ${name}: ${why}"
    echo "==== last 100 lines of the guest console (${console}):"
    tail -n 100 "${console}" 2>/dev/null || true
    if pid_alive "$(pid_name "${name}")"; then
      echo "==== in the guest (through the agent): failed units, then the journals of containerd and the kubelet:"
      NODE_VM_EXEC_TIMEOUT=20 guest_exec "${name}" "systemctl --failed --no-pager; \
        journalctl --no-pager -o short-precise -n 15 -u kts-boot -u kts-images -u containerd; \
        echo '---- kubelet-ts:'; journalctl --no-pager -o short-precise -n 50 -u kubelet-ts" 2>&1 || true
    fi
  } >&2
  if [[ "${NODE_VM_KEEP_ON_FAILURE:-}" != 1 ]]; then down_one "${name}"; fi
  die "node VM ${name}: ${why}"
}

up() {
  local name="${1:-}"
  [[ -n "${name}" ]] || die "usage: $0 up NAME"
  valid_name "${name}"
  local dir pn
  dir="$(vm_dir "${name}")"
  pn="$(pid_name "${name}")"
  if pid_alive "${pn}"; then
    log "node VM ${name} already running (pid $(cat "${RUN_DIR}/${pn}.pid"))"
    [[ "${VM_KUBELET}" == none ]] || wait_for "node ${name} Ready" "${NODE_VM_READY_TIMEOUT:-480}" node_ready "${name}"
    return 0
  fi
  local t0
  t0=$(date +%s)
  build
  [[ "${VM_KUBELET}" == none ]] || check_apiserver
  if [[ "${KUBELET_TS_SKIP_BUILD:-}" != 1 ]]; then
    (cd "${REPO_ROOT}" && { [[ -d node_modules/.bin ]] || npm ci --no-audit --no-fund; } && npx tsc -p tsconfig.json)
  fi
  mkdir -p "${dir}"
  local token port base
  token="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  make_overlay "${name}" "${dir}" "${token}"
  port="$(free_port)"
  base="$(base_dir)"
  umask 077
  echo "${token}" > "${dir}/token"
  echo "${port}" > "${dir}/port"
  umask 022
  log "node VM ${name}: overlay ready after $(( $(date +%s) - t0 ))s; booting (agent on 127.0.0.1:${port})"

  local console="${LOG_DIR}/${pn}.log" tap_args=() TAP_DEV="" TAP_IP="" TAP_MAC=""
  : > "${console}"
  if [[ "${NET_MODE}" == tap ]]; then
    bash "${HACK_DIR}/kubeadm/net.sh" up
    eval "$(tap_env "${name}" | grep -E '^TAP_(DEV|IP|MAC)=')"
    ip link show "${TAP_DEV}" >/dev/null 2>&1 && die "a device ${TAP_DEV} already exists in the host netns"
    # qemu (in the host netns, where its user-network hostfwd must listen) creates the tap; it is
    # moved into the lab netns once qemu holds it (a tap keeps its queue across namespaces).
    tap_args=(-netdev "tap,id=n1,ifname=${TAP_DEV},script=no,downscript=no"
              -device "virtio-net-pci,netdev=n1,mac=${TAP_MAC},romfile=")
    echo "${TAP_DEV}" > "${dir}/tap"
  fi
  # -snapshot semantics per drive: the cached base is never written; guest writes go to a
  # temporary file that disappears with qemu.
  start_bg "${pn}" qemu-system-x86_64 \
    -name "kts-${name}" -machine pc -accel tcg,thread=multi -cpu max \
    -m "${NODE_VM_MEMORY:-2048}" -smp "${NODE_VM_CPUS:-2}" \
    -nographic -no-reboot \
    -kernel "${base}/vmlinuz" -initrd "${base}/initrd.img" \
    -append "console=ttyS0 root=/dev/vda rw net.ifnames=0 systemd.unified_cgroup_hierarchy=1 panic=-1 loglevel=4" \
    -drive "file=${base}/rootfs.img,if=virtio,format=raw,snapshot=on" \
    -drive "file=${dir}/overlay.img,if=virtio,format=raw,readonly=on" \
    -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:${port}-${GUEST_IP}:${GUEST_AGENT_PORT}" \
    -device virtio-net-pci,netdev=n0,romfile= \
    "${tap_args[@]}" \
    -device virtio-rng-pci
  echo "${name}" > "${RUN_DIR}/${pn}.node"
  if [[ "${NET_MODE}" == tap ]]; then attach_tap "${name}" "${TAP_DEV}" "${TAP_IP}"; fi

  if [[ "${VM_KUBELET}" == none ]]; then
    local deadline=$(( $(date +%s) + ${NODE_VM_READY_TIMEOUT:-480} ))
    until NODE_VM_EXEC_TIMEOUT=5 guest_exec "${name}" true >/dev/null 2>&1; do
      pid_alive "${pn}" || fail_up "${name}" "qemu exited before the guest agent answered"
      (( $(date +%s) < deadline )) || fail_up "${name}" "guest agent not answering after ${NODE_VM_READY_TIMEOUT:-480}s"
      sleep 2
    done
    log "node VM ${name}: guest agent answers after $(( $(date +%s) - t0 ))s (no kubelet: NODE_VM_KUBELET=none)"
    return 0
  fi

  local deadline=$(( $(date +%s) + ${NODE_VM_READY_TIMEOUT:-480} )) agent_up=
  until node_ready "${name}"; do
    pid_alive "${pn}" || fail_up "${name}" "qemu exited before the node became Ready"
    if [[ -z "${agent_up}" ]] && NODE_VM_EXEC_TIMEOUT=5 guest_exec "${name}" true >/dev/null 2>&1; then
      agent_up=1
      log "node VM ${name}: guest agent answers ($(( $(date +%s) - t0 ))s)"
    fi
    (( $(date +%s) < deadline )) || fail_up "${name}" "not Ready after ${NODE_VM_READY_TIMEOUT:-480}s"
    sleep 2
  done
  log "node VM ${name}: node Ready after $(( $(date +%s) - t0 ))s (pid $(cat "${RUN_DIR}/${pn}.pid"), console ${console})"
}

# attach_tap NAME TAP IP: once qemu has opened TAP (its fdinfo names it), move it onto the lab
# bridge and route the guest's pod range to it.
attach_tap() {
  local name="$1" tap="$2" ip="$3" pid deadline=$(( $(date +%s) + 20 ))
  pid="$(cat "${RUN_DIR}/$(pid_name "${name}").pid")"
  until grep -qs "^iff:[[:space:]]*${tap}\$" /proc/"${pid}"/fdinfo/* 2>/dev/null; do
    kill -0 "${pid}" 2>/dev/null || fail_up "${name}" "qemu exited before opening tap ${tap}"
    (( $(date +%s) < deadline )) || fail_up "${name}" "qemu did not open tap ${tap} within 20s"
    sleep 0.1
  done
  bash "${HACK_DIR}/kubeadm/net.sh" attach-tap "${tap}"
  bash "${HACK_DIR}/kubeadm/net.sh" route "${GUEST_POD_CIDR}" "${ip}"
  log "node VM ${name}: tap ${tap} on the lab bridge, node IP ${ip}"
}

down_one() {
  local name="$1" dir
  dir="$(vm_dir "${name}")"
  stop_pid "$(pid_name "${name}")"
  # The tap goes away with qemu; its pod route with it (net.sh unroute is a no-op then).
  if [[ -f "${dir}/tap" ]]; then bash "${HACK_DIR}/kubeadm/net.sh" unroute "${GUEST_POD_CIDR}" 2>/dev/null || true; fi
  rm -f "${RUN_DIR}/$(pid_name "${name}").node"
  rm -rf "$(vm_dir "${name}")"
}

down() {
  if [[ -n "${1:-}" ]]; then
    valid_name "$1"
    down_one "$1"
    return 0
  fi
  local f
  for f in "${RUN_DIR}"/node-vm-*.pid; do
    [[ -e "${f}" ]] || continue
    f="$(basename "${f}" .pid)"
    down_one "${f#node-vm-}"
  done
}

status() {
  local f any=1 n
  for f in "${RUN_DIR}"/node-vm-*.pid; do
    [[ -e "${f}" ]] || continue
    n="$(basename "${f}" .pid)"
    if pid_alive "${n}"; then
      echo "${n#node-vm-}: running (pid $(cat "${f}"), agent 127.0.0.1:$(cat "$(vm_dir "${n#node-vm-}")/port" 2>/dev/null))"
      any=0
    fi
  done
  (( any == 0 )) || { echo "no node VM running"; return 1; }
}

cmd="${1:-}"
[[ $# -gt 0 ]] && shift
case "${cmd}" in
  build) build ;;
  up) up "${1:-}" ;;
  down) down "${1:-}" ;;
  exec)
    [[ $# -ge 2 ]] || die "usage: $0 exec NAME CMD..."
    name="$1"; shift
    valid_name "${name}"
    guest_exec "${name}" "$@"
    ;;
  status) status ;;
  console) [[ -n "${1:-}" ]] || die "usage: $0 console NAME"; cat "${LOG_DIR}/$(pid_name "$1").log" ;;
  hash) base_hash ;;
  *) usage ;;
esac
