#!/usr/bin/env bash
# Installs the host packages the local environment needs, from Debian, when missing.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PKGS=(containerd runc containernetworking-plugins busybox-static openssl iproute2 iptables
      ca-certificates curl jq socat conntrack procps util-linux
      qemu-system-x86 debootstrap e2fsprogs)  # the last three: the cgroup v2 node VM (hack/node-vm.sh)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "${p}" 2>/dev/null | grep -q "install ok installed" || missing+=("${p}")
done
if (( ${#missing[@]} > 0 )); then
  (( EUID == 0 )) || die "need root to install: ${missing[*]}"
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || apt-get update
  # --no-install-recommends keeps it small; retry once (mirrors occasionally blip).
  apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    || { sleep 3; apt-get install -y --no-install-recommends "${missing[@]}"; }
fi

command -v node >/dev/null || die "node (>= 20) is not installed"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
(( node_major >= 20 )) || die "node >= 20 required, found $(node -v)"
command -v go >/dev/null || die "go is not installed (needed to build the control plane)"
log "host packages ok"
