#!/usr/bin/env bash
# The whole test suite, on a fresh machine or a warm one: installs what is missing, checks
# formatting, lint, types and generated code, brings up the real containerd and control plane,
# runs both vitest projects (unit, integration), and ends with one line
#   tests: N passed, N failed[, N skipped]
# computed from vitest's own JSON results. Exits non-zero when anything failed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "${REPO_ROOT}"

t0=$(date +%s)
bash hack/install-deps.sh
if [[ ! -d node_modules/.bin ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "npm ci"
  npm ci --no-audit --no-fund
fi

log "static checks: generated CRI types, lint/format, typecheck"
bash hack/gen-cri.sh --check
npx biome ci --colors=off .
npx tsc -p tsconfig.json

log "test environment"
# The node environment (containerd, control plane, the kubelet) is shared with hack/e2e/run.sh:
# one user at a time.
exec 8>"${LOCAL_DIR}/node.lock"
flock -n 8 || { log "waiting for ${LOCAL_DIR}/node.lock (an e2e run?)"; flock 8; }
bash hack/env.sh up
export KUBELET_TS_ENV_READY=1 KUBELET_TS_SKIP_BUILD=1
# A kubelet left running by hack/local-up would fight the test kubelets over containerd.
bash hack/kubelet.sh down

results="${LOCAL_DIR}/vitest-results.json"
rm -f "${results}"
set +e
npx vitest run --reporter=default --reporter=json --outputFile.json="${results}" "$@"
vitest_rc=$?
set -e

if [[ ! -s "${results}" ]]; then
  echo "vitest wrote no results (exit ${vitest_rc})" >&2
  echo "tests: 0 passed, 1 failed"
  exit 1
fi
summary="$(node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  let failed = r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
  let skipped = r.numPendingTests + r.numTodoTests;
  // A failed file counts as failed: with no tests collected, as one; when its beforeAll failed
  // (vitest then reports its tests as skipped), each test that did not run counts as failed.
  for (const f of r.testResults) {
    if (f.status !== "failed") continue;
    if (f.assertionResults.length === 0) { failed += 1; continue; }
    const notRun = f.assertionResults.filter((a) => a.status !== "passed" && a.status !== "failed").length;
    failed += notRun;
    skipped -= notRun;
  }
  // A run that vitest itself failed (an unhandled error, a worker that died) counts as failed
  // even when every counted test passed.
  const rc = Number(process.argv[2]);
  const total = rc !== 0 && failed === 0 ? 1 : failed;
  let line = `tests: ${r.numPassedTests} passed, ${total} failed`;
  if (skipped) line += `, ${skipped} skipped`;
  console.log(line);
' "${results}" "${vitest_rc}")"
log "took $(( $(date +%s) - t0 ))s"
echo "${summary}"
if (( vitest_rc != 0 )) || [[ "${summary}" != *" 0 failed"* ]]; then exit 1; fi
