#!/usr/bin/env bash
# Helpers to assemble container images without a registry or a Docker engine: a rootfs folder
# becomes a single-layer docker-archive tar that `ctr images import` takes under any name.
# Source it after lib.sh; do not run it.

# link_busybox ROOT [DIR]: /bin/busybox plus a link for every applet. DIR=/bin puts every applet in
# /bin as upstream's busybox image does (specs run /bin/sysctl and friends by absolute path);
# without DIR each applet goes where busybox --list-full says.
link_busybox() {
  local root="$1" flat="${2:-}" applet
  mkdir -p "${root}/bin"
  cp /bin/busybox "${root}/bin/busybox"
  while read -r applet; do
    [[ "${applet}" == "bin/busybox" ]] && continue
    if [[ -n "${flat}" ]]; then applet="bin/$(basename "${applet}")"; fi
    mkdir -p "${root}/$(dirname "${applet}")"
    [[ -e "${root}/${applet}" ]] || ln -sf /bin/busybox "${root}/${applet}"
  done < <(/bin/busybox --list-full)
}

# copy_dynamic ROOT BIN [DEST]: copies a dynamically linked host binary to ROOT/DEST (default: its
# own path) with every shared library ldd resolves and the dynamic loader, at their host paths.
copy_dynamic() {
  local root="$1" bin="$2" dest="${3:-$2}" lib
  mkdir -p "${root}$(dirname "${dest}")"
  cp -L "${bin}" "${root}${dest}"
  while read -r lib; do
    [[ -n "${lib}" && -e "${lib}" ]] || continue
    mkdir -p "${root}$(dirname "${lib}")"
    [[ -e "${root}${lib}" ]] || cp -L "${lib}" "${root}${lib}"
  done < <(ldd "${bin}" 2>/dev/null | awk '/=> \//{print $3} /^\t\/lib/{print $1}')
}

# make_image ROOTFS CONFIG_JSON_FRAGMENT OUT.tar NAME [NAME...]: one layer, fixed timestamps.
# IMAGE_XATTRS=1 keeps file capabilities (security.capability, e.g. from setcap) in the layer.
make_image() {
  local root="$1" cfg="$2" out="$3" work xattrs=(); shift 3
  work="$(mktemp -d)"
  [[ "${IMAGE_XATTRS:-}" == 1 ]] && xattrs=(--xattrs --xattrs-include=security.capability)
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner "${xattrs[@]}" -C "${root}" -cf "${work}/layer.tar" .
  local diff_id
  diff_id="sha256:$(sha256sum "${work}/layer.tar" | cut -d' ' -f1)"
  cat > "${work}/config.json" <<JSON
{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z",
 "config":${cfg},
 "rootfs":{"type":"layers","diff_ids":["${diff_id}"]},
 "history":[{"created":"1970-01-01T00:00:00Z","created_by":"kubelet-ts hack/image-lib.sh"}]}
JSON
  local cfg_sha tags="" n
  cfg_sha="$(sha256sum "${work}/config.json" | cut -d' ' -f1)"
  mv "${work}/config.json" "${work}/${cfg_sha}.json"
  for n in "$@"; do tags+="${tags:+,}\"${n}\""; done
  printf '[{"Config":"%s.json","RepoTags":[%s],"Layers":["layer.tar"]}]\n' "${cfg_sha}" "${tags}" > "${work}/manifest.json"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "${work}" -cf "${out}" manifest.json "${cfg_sha}.json" layer.tar
  rm -rf "${work}"
}

# import_image CTR_ARGS... -- TAR: imports into containerd, once more without unpack on failure.
import_image() {
  local tar="${*: -1}" args=("${@:1:$#-2}") err
  err="$(mktemp)"
  "${args[@]}" images import "${tar}" >/dev/null 2>"${err}" \
    || { sleep 1; "${args[@]}" images import "${tar}" >/dev/null 2>>"${err}"; } \
    || { cat "${err}" >&2; rm -f "${err}"; die "ctr import of ${tar} failed"; }
  rm -f "${err}"
}
