/**
 * The CRI floor: how fast the real containerd runs pods when driven directly, with no kubelet
 * logic in between. Any kubelet's pod start-up latency is measured against these figures.
 *
 *   npm run bench:cri-floor -- --pods 50      (or KUBELET_TS_BENCH_PODS=50)
 *
 * Phase 1 (sequential): pod by pod, the latency of each CRI call of a pod's life:
 * RunPodSandbox, ImageStatus (the "image present" check: containerd's PullImage always resolves
 * the reference against the registry, even for an image it has, so a local pull hit is
 * ImageStatus, as the kubelet does for IfNotPresent), CreateContainer, StartContainer,
 * StopContainer (a PID 1 that exits on SIGTERM, stopped once its trap is set), RemoveContainer, StopPodSandbox,
 * RemovePodSandbox.
 * Phase 2 (parallel): N pods at once, each RunPodSandbox + CreateContainer + StartContainer;
 * per-pod time to running (from the batch start) and the batch's wall time.
 *
 * Prints a table, then ends with exactly one line of JSON holding every figure. Everything it
 * creates carries a per-run label and is stopped and removed at the end (also on Ctrl-C).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { CriClient, DEFAULT_CRI_ENDPOINT } from '../src/cri/client.js';
import {
  criPodFactory,
  BENCH_IMAGE as IMAGE,
  removeSandboxes,
  requireImage,
  runParallelBatch,
} from './lib/cri-pods.js';
import { round, rounded, type Summary, summarize } from './lib/stats.js';
import { formatTable } from './lib/table.js';

// PID 1 in its own PID namespace (as the kubelet runs containers) that exits at once on SIGTERM.
// It says "ready" once its trap is set: a SIGTERM before that is ignored (PID 1), and the stop
// would measure the 10 s grace period instead of the runtime.
const COMMAND = ['sh', '-c', 'trap "exit 0" TERM; echo ready; sleep 3600 & wait'];
const STOP_TIMEOUT_S = 10;

const SEQ_CALLS = [
  'RunPodSandbox',
  'ImageStatus',
  'CreateContainer',
  'StartContainer',
  'StopContainer',
  'RemoveContainer',
  'StopPodSandbox',
  'RemovePodSandbox',
] as const;
type SeqCall = (typeof SEQ_CALLS)[number];

interface Options {
  pods: number;
  endpoint: string;
}

function options(): Options {
  const { values } = parseArgs({
    options: { pods: { type: 'string' }, endpoint: { type: 'string' } },
    allowPositionals: false,
  });
  const pods = Number(values.pods ?? process.env.KUBELET_TS_BENCH_PODS ?? 50);
  if (!Number.isInteger(pods) || pods < 1)
    throw new Error(`--pods must be a positive integer, got ${values.pods}`);
  return { pods, endpoint: values.endpoint ?? process.env.KUBELET_TS_CRI_ENDPOINT ?? DEFAULT_CRI_ENDPOINT };
}

async function timed<T>(samples: number[], fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const out = await fn();
  samples.push(performance.now() - t0);
  return out;
}

/** Polls a container log until it contains `text` (not timed: the container's own start-up). */
async function waitForLog(path: string, text: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await readFile(path, 'utf8').catch(() => '')).includes(text)) {
    if (Date.now() > deadline) throw new Error(`${path}: no "${text}" after ${timeoutMs} ms`);
    await sleep(2);
  }
}

async function main(): Promise<void> {
  const opts = options();
  const runId = randomUUID().slice(0, 8);
  const logRoot = await mkdtemp(join(tmpdir(), 'kubelet-ts-bench-'));
  const client = new CriClient({ endpoint: opts.endpoint, requestTimeoutMs: 120_000 });
  const pods = criPodFactory(runId, logRoot);
  const podConfig = (phase: string) => pods.sandbox(phase);
  const containerConfig = () => pods.container(COMMAND);

  const cleanup = async () => {
    const removed = await removeSandboxes(client, runId);
    await rm(logRoot, { recursive: true, force: true });
    return removed;
  };
  // Ctrl-C: finish the step in flight, then clean up (a second Ctrl-C quits at once).
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write('\ninterrupted: cleaning up after the current step (Ctrl-C again to quit now)\n');
  };
  const checkInterrupted = () => {
    if (interrupted) throw new Error('interrupted');
  };
  process.on('SIGINT', onSigint);

  try {
    await client.waitForReady(10_000);
    const version = await client.version();
    await requireImage(client);

    // ---- phase 1: sequential ----------------------------------------------------------------------
    const samples = Object.fromEntries(SEQ_CALLS.map((c) => [c, [] as number[]])) as Record<
      SeqCall,
      number[]
    >;
    for (let i = 0; i < opts.pods; i += 1) {
      checkInterrupted();
      const config = podConfig('seq');
      const { podSandboxId } = await timed(samples.RunPodSandbox, () => client.runPodSandbox({ config }));
      await timed(samples.ImageStatus, () => client.imageStatus(IMAGE));
      const id = await timed(samples.CreateContainer, () =>
        client.createContainer({ podSandboxId, sandboxConfig: config, config: containerConfig() }),
      );
      await timed(samples.StartContainer, () => client.startContainer(id));
      await waitForLog(join(config.logDirectory ?? '', 'main/0.log'), 'ready');
      await timed(samples.StopContainer, () => client.stopContainer(id, STOP_TIMEOUT_S));
      await timed(samples.RemoveContainer, () => client.removeContainer(id));
      await timed(samples.StopPodSandbox, () => client.stopPodSandbox(podSandboxId));
      await timed(samples.RemovePodSandbox, () => client.removePodSandbox(podSandboxId));
    }
    const seqStats = Object.fromEntries(SEQ_CALLS.map((c) => [c, rounded(summarize(samples[c]))])) as Record<
      SeqCall,
      Summary
    >;
    const onePodToRunning = round(
      seqStats.RunPodSandbox.p50 + seqStats.CreateContainer.p50 + seqStats.StartContainer.p50,
    );

    // ---- phase 2: parallel ------------------------------------------------------------------------
    checkInterrupted();
    const configs = Array.from({ length: opts.pods }, () => podConfig('par'));
    const batch = await runParallelBatch(client, pods, configs, COMMAND);
    const wallMs = round(batch.wallMs);
    const par = rounded(summarize(batch.toRunning));
    const t1 = performance.now();
    const removed = await cleanup();
    const cleanupMs = round(performance.now() - t1);

    // ---- report -----------------------------------------------------------------------------------
    const rows: (string | number)[][] = [['call (sequential)', 'n', 'p50 ms', 'p99 ms', 'mean ms', 'max ms']];
    for (const c of SEQ_CALLS) {
      const s = seqStats[c];
      rows.push([c, s.n, ...[s.p50, s.p99, s.mean, s.max].map((x) => x.toFixed(1))]);
    }
    console.log(
      `CRI floor: ${version.runtimeName} ${version.runtimeVersion} at ${opts.endpoint}, ${opts.pods} pods, image ${IMAGE}`,
    );
    console.log(
      `container: ${JSON.stringify(COMMAND)} (PID 1, exits on SIGTERM); StopContainer timeout ${STOP_TIMEOUT_S}s`,
    );
    console.log(
      'ImageStatus stands for a local pull hit: containerd PullImage always contacts the registry.\n',
    );
    console.log(formatTable(rows));
    console.log(
      `\none pod to running (RunPodSandbox + CreateContainer + StartContainer, p50 sum): ${onePodToRunning} ms`,
    );
    console.log(
      `parallel (${opts.pods} pods at once, run+create+start): time to running p50 ${par.p50} ms, p99 ${par.p99} ms, wall ${wallMs} ms`,
    );
    console.log(`cleanup of the parallel batch (stop+remove ${removed} pods): ${cleanupMs} ms\n`);
    console.log(
      JSON.stringify({
        bench: 'cri-floor',
        runtime: `${version.runtimeName} ${version.runtimeVersion}`,
        pods: opts.pods,
        unit: 'ms',
        sequential: seqStats,
        onePodToRunningP50: onePodToRunning,
        parallel: { pods: opts.pods, timeToRunning: par, wallMs },
        parallelCleanupMs: cleanupMs,
      }),
    );
  } finally {
    process.removeListener('SIGINT', onSigint);
    await cleanup().catch((err: unknown) => process.stderr.write(`cleanup failed: ${String(err)}\n`));
    client.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`cri-floor: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
