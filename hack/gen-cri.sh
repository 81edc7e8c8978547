#!/usr/bin/env bash
# Generates TypeScript types for proto/cri/api.proto into src/cri/gen with proto-loader's own
# type generator. The options MUST match CRI_LOADER_OPTIONS in src/cri/proto.ts.
# --check: fail when the committed files differ from a fresh generation (CI drift check).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "${REPO_ROOT}"

out="src/cri/gen"
if [[ "${1:-}" == "--check" ]]; then out="$(mktemp -d)"; fi
rm -rf "${out:?}/runtime" "${out}/api.ts"
npx proto-loader-gen-types --longs=String --enums=String --defaults --oneofs \
  --grpcLib=@grpc/grpc-js --importFileExtension=.js --outDir="${out}" proto/cri/api.proto >/dev/null
if [[ "${1:-}" == "--check" ]]; then
  diff -r "${out}" src/cri/gen >/dev/null || die "src/cri/gen is stale: run npm run gen:cri"
  rm -rf "${out}"
  log "src/cri/gen is up to date"
fi
