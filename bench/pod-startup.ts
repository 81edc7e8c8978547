/**
 * Pod start-up: N pods created at once, create → Running/Ready as a pod watch sees it, for
 *
 *   floor     the CRI floor: the same N pods straight through the CRI of the bench containerd
 *             (RunPodSandbox + CreateContainer + StartContainer, all in parallel), no kubelet;
 *   ours      kubelet-ts as a node on the bench containerd (hack/kubelet.sh, KUBELET_INSTANCE=bench);
 *   upstream  the upstream kubelet of the pinned release on the same containerd
 *             (hack/upstream-kubelet.sh), run after ours — never both at once, a kubelet removes
 *             the runtime pods it does not know;
 *   mock      kubelet-ts against an in-process CRI mock (this process): kubelet-only overhead.
 *
 *   npm run bench:pod-startup                       (N = 30 and 100)
 *   npm run bench:pod-startup -- --pods 5           (quick)
 *   npm run bench:pod-startup -- --pods 30 --only ours --variants sa --ts-concurrency 2,4,8,16
 *
 * Pods are bound to the kubelet's node directly (spec.nodeName, no scheduler): busybox
 * `sleep 3600`, imagePullPolicy IfNotPresent (the image is local), terminationGracePeriodSeconds 1,
 * with the default service-account token volume ("sa") and, as a variant, without it ("nosa").
 * Latencies count from the batch start (just before the N creates are sent at once). Per kubelet:
 * CPU seconds (utime+stime, children included) over create → all Ready, per pod; RSS with the N
 * pods running once the kubelet settled; idle CPU with them running. Between batches every pod
 * is deleted and the runtime is waited on until nothing runs; each kubelet's batches are
 * preceded by a one-pod warm-up (not reported).
 *
 * Prints a table and the ratios ours/upstream and ours/floor, then ends with exactly one JSON
 * line. It starts the control plane and the bench containerd through hack/ (idempotent) and
 * fails (exit 1) with a clear message when a prerequisite is missing. Everything it creates —
 * pods, namespace, nodes, leases, node certificates, kubelet processes (by PID file), sandboxes —
 * is removed at the end, also on Ctrl-C.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { RestClient } from '../src/api/rest.js';
import { CriClient } from '../src/cri/client.js';
import { CriMock } from '../src/cri/mock/index.js';
import {
  BENCH_IMAGE,
  criPodFactory,
  RUN_LABEL,
  removeSandboxes,
  requireImage,
  runParallelBatch,
  runtimeActivity,
} from './lib/cri-pods.js';
import { k8sBin, localDir, logDir, pkiDir, repoRoot, runDir, runHack } from './lib/hack.js';
import {
  adminRest,
  benchPod,
  createNamespace,
  deleteNamespace,
  deleteNode,
  deletePods,
  describeNotReady,
  PodWatcher,
  podsPath,
  pollUntil,
} from './lib/kube.js';
import { cpuSeconds, machineLoad, pidFromFile, processAlive, rssBytes } from './lib/proc.js';
import { round, rounded, type Summary, summarize } from './lib/stats.js';
import { formatTable } from './lib/table.js';

const KINDS = ['floor', 'ours', 'upstream', 'mock'] as const;
type Kind = (typeof KINDS)[number];
const VARIANTS = ['sa', 'nosa'] as const;
type Variant = (typeof VARIANTS)[number];

const CONTAINERD_INSTANCE = 'bench';
const BENCH_CRI_ENDPOINT = `unix:///run/containerd-${CONTAINERD_INSTANCE}/containerd.sock`;
const CONTAINERD_PID_FILE = join(runDir, `containerd-${CONTAINERD_INSTANCE}.pid`);
const OURS_INSTANCE = 'bench';
const MOCK_INSTANCE = 'bench-mock';
const UPSTREAM_INSTANCE = 'bench';
/** Healthz ports clear of the default kubelets' 10248 (the upstream one uses 10350/10358). */
const OURS_HEALTHZ_PORT = '10359';
const MOCK_HEALTHZ_PORT = '10360';
const COMMAND = ['sleep', '3600'] as const;
const BATCH_LABEL = 'kubelet-ts.io/bench-batch';
const SETTLE_MS = 3_000;

interface Options {
  pods: number[];
  only: Set<Kind>;
  variants: Variant[];
  /** KUBELET_TS_CRI_CONCURRENCY values for "ours" (undefined: the kubelet's default / env). */
  tsConcurrency: (number | undefined)[];
  repeat: number;
  warmup: number;
  idleSeconds: number;
  kubeletNodeOptions: string | undefined;
  /** Directory for CPU profiles of kubelet-ts (bench/lib/cpu-profile preload). */
  kubeletCpuProf: string | undefined;
  keepContainerd: boolean;
}

function list(v: string | undefined, what: string): string[] {
  const items = (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new Error(`${what} must not be empty`);
  return items;
}

function positiveInt(s: string, what: string, min = 1): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < min) throw new Error(`${what} must be an integer >= ${min}, got "${s}"`);
  return n;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      pods: { type: 'string' },
      only: { type: 'string' },
      variants: { type: 'string' },
      'ts-concurrency': { type: 'string' },
      repeat: { type: 'string' },
      warmup: { type: 'string' },
      'idle-seconds': { type: 'string' },
      'kubelet-node-options': { type: 'string' },
      'kubelet-cpu-prof': { type: 'string' },
      'keep-containerd': { type: 'boolean' },
      help: { type: 'boolean' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(
      [
        'usage: npm run bench:pod-startup -- [options]',
        '  --pods 30,100            batch sizes (default 30,100; KUBELET_TS_BENCH_PODS)',
        `  --only ${KINDS.join(',')}  which rows to measure (default all)`,
        '  --variants sa,nosa       with / without the service-account token volume (default both)',
        '  --ts-concurrency 2,4,8   KUBELET_TS_CRI_CONCURRENCY values for kubelet-ts (one row each)',
        '  --repeat R               batches per row and N, samples pooled (default 1)',
        '  --warmup P               warm-up pods per kubelet before measuring (default 1; 0: none)',
        '  --idle-seconds S         idle CPU window with the pods running (default 10; 0: skip)',
        '  --kubelet-node-options=O NODE_OPTIONS for kubelet-ts, e.g. --kubelet-node-options=--max-old-space-size=256',
        '  --kubelet-cpu-prof DIR   CPU-profile kubelet-ts: DIR/<pid>-<ms>.cpuprofile when it stops',
        '  --keep-containerd        leave the bench containerd running if this run started it',
        '',
      ].join('\n'),
    );
    process.exit(0);
  }
  const pods = list(values.pods ?? process.env.KUBELET_TS_BENCH_PODS ?? '30,100', '--pods').map((s) =>
    positiveInt(s, '--pods'),
  );
  const only = new Set(
    list(values.only ?? KINDS.join(','), '--only').map((k) => {
      if (!(KINDS as readonly string[]).includes(k))
        throw new Error(`--only: unknown "${k}" (${KINDS.join(', ')})`);
      return k as Kind;
    }),
  );
  const variants = list(values.variants ?? VARIANTS.join(','), '--variants').map((v) => {
    if (!(VARIANTS as readonly string[]).includes(v))
      throw new Error(`--variants: unknown "${v}" (sa, nosa)`);
    return v as Variant;
  });
  const tsConcurrency = values['ts-concurrency']
    ? list(values['ts-concurrency'], '--ts-concurrency').map((s) => positiveInt(s, '--ts-concurrency'))
    : [undefined];
  return {
    pods,
    only,
    variants,
    tsConcurrency,
    repeat: positiveInt(values.repeat ?? '1', '--repeat'),
    warmup: positiveInt(values.warmup ?? '1', '--warmup', 0),
    idleSeconds: positiveInt(values['idle-seconds'] ?? '10', '--idle-seconds', 0),
    kubeletNodeOptions: values['kubelet-node-options'],
    kubeletCpuProf: values['kubelet-cpu-prof'] ? resolve(values['kubelet-cpu-prof']) : undefined,
    keepContainerd: values['keep-containerd'] ?? false,
  };
}

/** One measured batch: N pods created at once. All times in ms from the batch start. */
interface Batch {
  running: number[];
  ready: number[];
  /** ms from each pod's create call returning to its Ready (kubelet rows only). */
  readyFromCreated: number[];
  /** ms from the batch start to the first status the kubelet reported (kubelet rows only). */
  firstStatus: number[];
  wallMs: number;
  kubeletCpuS?: number;
  containerdCpuS?: number;
  rssBytes?: number;
  idleCores?: number;
}

/** A table row: one kind/variant/concurrency at one N, its batches pooled. */
interface Row {
  row: string;
  kind: Kind;
  variant: Variant | 'cri';
  concurrency?: number;
  pods: number;
  batches: Batch[];
}

interface Kubelet {
  kind: Exclude<Kind, 'floor'>;
  label: string;
  node: string;
  pid: number;
  /** The runtime it drives (to wait until nothing runs there). */
  cri: CriClient;
  concurrency?: number;
  stop(): Promise<void>;
}

const rand = () => randomBytes(3).toString('hex');
const nsName = (runId: string) => `bench-${runId}`;
const mib = (b: number) => b / 1024 / 1024;

async function main(): Promise<void> {
  const opts = options();
  const runId = rand();
  const loadStart = machineLoad();
  const needsContainerd = opts.only.has('floor') || opts.only.has('ours') || opts.only.has('upstream');
  const needsTs = opts.only.has('ours') || opts.only.has('mock');
  const upstreamBin = join(k8sBin, 'kubelet');

  // ---- prerequisites (fail loudly) -------------------------------------------------------------
  if (process.platform !== 'linux') throw new Error('pod-startup needs Linux (/proc, containerd)');
  if (process.getuid?.() !== 0) throw new Error('pod-startup must run as root (it runs kubelets)');
  if (needsTs && !existsSync(join(repoRoot, 'dist', 'src', 'main.js'))) {
    throw new Error('dist/src/main.js is missing: build first (npm run bench:pod-startup builds it)');
  }
  if (opts.kubeletCpuProf) await mkdir(opts.kubeletCpuProf, { recursive: true });
  log('control plane: hack/control-plane.sh up (idempotent)');
  await runHack('control-plane.sh', ['up']);
  if (opts.only.has('upstream') && !existsSync(upstreamBin)) {
    throw new Error(`${upstreamBin} is missing: run hack/build-k8s.sh (it builds cmd/kubelet)`);
  }
  // Stale kubelets of an interrupted run would fight over the runtime: stop them (our PID files).
  await stopStaleKubelets();
  let startedContainerd = false;
  if (needsContainerd) {
    startedContainerd = !alivePidFile(CONTAINERD_PID_FILE);
    log(`containerd: CONTAINERD_INSTANCE=${CONTAINERD_INSTANCE} hack/containerd.sh up`);
    await runHack('containerd.sh', ['up'], { CONTAINERD_INSTANCE });
  }

  const rest = await adminRest();
  const ns = nsName(runId);
  const watcher = new PodWatcher(rest, ns);
  const cri = needsContainerd
    ? new CriClient({ endpoint: BENCH_CRI_ENDPOINT, requestTimeoutMs: 120_000 })
    : undefined;
  const registeredNodes: string[] = [];
  const rows: Row[] = [];
  let current: Kubelet | undefined;
  let mock: CriMock | undefined;
  let runtimeDesc = '';

  const ac = new AbortController();
  const onSigint = () => {
    if (ac.signal.aborted) process.exit(130);
    ac.abort();
    process.stderr.write('\ninterrupted: cleaning up (Ctrl-C again to quit now)\n');
  };
  process.on('SIGINT', onSigint);
  const checkInterrupted = () => {
    if (ac.signal.aborted) throw new Error('interrupted');
  };

  try {
    await createNamespace(rest, ns);
    await watcher.start();
    let containerdPid: number | undefined;
    if (cri) {
      await cri.waitForReady(10_000);
      const v = await cri.version();
      runtimeDesc = `${v.runtimeName} ${v.runtimeVersion}`;
      await requireImage(cri);
      containerdPid = pidFromFile(CONTAINERD_PID_FILE, 'containerd');
      const leftover = await removeSandboxes(cri);
      if (leftover > 0) log(`removed ${leftover} leftover sandbox(es) from the bench containerd`);
    }

    // ---- one batch through a kubelet --------------------------------------------------------------
    const kubeletBatch = async (
      k: Kubelet,
      n: number,
      variant: Variant,
      tag: string,
      measureIdle = true,
    ): Promise<Batch> => {
      checkInterrupted();
      const batchId = `${runId}-${tag}`;
      const names = Array.from({ length: n }, (_, i) => `${tag}-${i}`);
      const labels = { [RUN_LABEL]: runId, [BATCH_LABEL]: batchId };
      const pods = names.map((name) =>
        benchPod({
          name,
          nodeName: k.node,
          image: BENCH_IMAGE,
          labels,
          automountServiceAccountToken: variant === 'sa',
        }),
      );
      const cpu0 = cpuSeconds(k.pid);
      const ctrd0 = containerdPid && k.kind !== 'mock' ? cpuSeconds(containerdPid) : undefined;
      const t0 = performance.now();
      const createdAt = await Promise.all(
        pods.map(async (p) => {
          await rest.create(podsPath(ns), p);
          return performance.now();
        }),
      );
      const allReady = () => {
        if (!processAlive(k.pid)) {
          throw new Error(`${k.label} (pid ${k.pid}) exited during the batch: see ${logDir}`);
        }
        return names.every((nm) => {
          const s = watcher.get(nm);
          return s?.readyAt !== undefined && s.runningAt !== undefined;
        });
      };
      await watcher
        .until(`${n} pods Running and Ready on ${k.label}`, allReady, 120_000 + n * 2_000, ac.signal)
        .catch((err: unknown) => {
          const batchPods = watcher.pods.filter((p) => p.metadata?.labels?.[BATCH_LABEL] === batchId);
          throw new Error(`${(err as Error).message}; pods: ${describeNotReady(batchPods)}`);
        });
      const kubeletCpuS = cpuSeconds(k.pid) - cpu0;
      const containerdCpuS =
        ctrd0 !== undefined && containerdPid ? cpuSeconds(containerdPid) - ctrd0 : undefined;
      const seen = names.map((nm) => watcher.get(nm)!);
      const running = seen.map((s) => (s.runningAt ?? Number.NaN) - t0);
      const ready = seen.map((s) => (s.readyAt ?? Number.NaN) - t0);
      const readyFromCreated = seen.map((s, i) => (s.readyAt ?? Number.NaN) - (createdAt[i] ?? t0));
      const firstStatus = seen.map((s) => (s.firstStatusAt ?? Number.NaN) - t0);
      const wallMs = Math.max(...ready);
      const median = summarize(ready).p50;
      const late = names.filter((_, i) => (ready[i] ?? 0) > Math.max(10_000, 3 * median));
      if (late.length > 0) {
        log(
          `WARNING ${k.label}: ${late.length} pod(s) Ready more than 3x the median (${fmt(median)} ms) late: ` +
            late.map((nm) => `${nm} ${fmt(ready[names.indexOf(nm)])} ms`).join(', '),
        );
      }

      // Idle with the N pods running.
      let rss: number | undefined;
      let idleCores: number | undefined;
      if (measureIdle) {
        await sleep(SETTLE_MS);
        rss = rssBytes(k.pid);
      }
      if (measureIdle && opts.idleSeconds > 0) {
        const c0 = cpuSeconds(k.pid);
        await sleep(opts.idleSeconds * 1000);
        idleCores = (cpuSeconds(k.pid) - c0) / opts.idleSeconds;
      }

      // Tear down: delete, wait until the API has none of them and the runtime runs nothing.
      await deletePods(rest, ns, `${BATCH_LABEL}=${batchId}`);
      await watcher.until(
        `the ${n} pods of ${k.label} deleted`,
        () => names.every((nm) => !watcher.has(nm)),
        60_000 + n * 1_000,
        ac.signal,
      );
      await waitRuntimeIdle(k.cri, k.label);
      return {
        running,
        ready,
        readyFromCreated,
        firstStatus,
        wallMs,
        kubeletCpuS,
        containerdCpuS,
        rssBytes: rss,
        idleCores,
      };
    };

    const runKubelet = async (start: () => Promise<Kubelet>) => {
      checkInterrupted();
      current = await start();
      const k = current;
      log(`${k.label}: node ${k.node} Ready (pid ${k.pid})`);
      await sleep(SETTLE_MS);
      if (opts.warmup > 0) {
        log(`${k.label}: warm-up (${opts.warmup} pod(s))`);
        await kubeletBatch(k, opts.warmup, 'sa', `${k.kind[0]}w${rand()}`, false);
      }
      for (const n of opts.pods) {
        for (const variant of opts.variants) {
          const row: Row = {
            row: rowLabel(k.kind, variant, k.concurrency),
            kind: k.kind,
            variant,
            concurrency: k.concurrency,
            pods: n,
            batches: [],
          };
          rows.push(row);
          for (let r = 0; r < opts.repeat; r++) {
            log(`${row.row}: ${n} pods (batch ${r + 1}/${opts.repeat}), load ${machineLoad().load1}`);
            const b = await kubeletBatch(
              k,
              n,
              variant,
              `${k.kind[0]}${variant === 'sa' ? 's' : 'n'}${rand()}`,
            );
            row.batches.push(b);
            log(
              `${row.row}: ${n} pods Ready p50 ${fmt(summarize(b.ready).p50)} ms, wall ${fmt(b.wallMs)} ms`,
            );
          }
        }
      }
      current = undefined;
      await k.stop();
      if (k.kind !== 'mock' && cri) {
        const removed = await removeSandboxes(cri);
        if (removed > 0)
          log(`removed ${removed} sandbox(es) ${k.label} left behind (NotReady, awaiting its GC)`);
      }
      await deleteNode(rest, k.node);
    };

    // ---- (a) the CRI floor ---------------------------------------------------------------------
    if (opts.only.has('floor') && cri) {
      const logRoot = await mkdtemp(join(tmpdir(), 'kubelet-ts-bench-'));
      try {
        const factory = criPodFactory(runId, logRoot);
        for (const n of opts.pods) {
          const row: Row = { row: 'floor', kind: 'floor', variant: 'cri', pods: n, batches: [] };
          rows.push(row);
          for (let r = 0; r < opts.repeat; r++) {
            checkInterrupted();
            log(
              `floor: ${n} pods through the CRI (batch ${r + 1}/${opts.repeat}), load ${machineLoad().load1}`,
            );
            const configs = Array.from({ length: n }, () => factory.sandbox(`n${n}`));
            const ctrd0 = containerdPid ? cpuSeconds(containerdPid) : undefined;
            const b = await runParallelBatch(cri, factory, configs, COMMAND);
            const containerdCpuS =
              ctrd0 !== undefined && containerdPid ? cpuSeconds(containerdPid) - ctrd0 : undefined;
            row.batches.push({
              running: b.toRunning,
              ready: b.toRunning,
              readyFromCreated: [],
              firstStatus: [],
              wallMs: b.wallMs,
              containerdCpuS,
            });
            await removeSandboxes(cri, runId);
            log(
              `floor: ${n} pods running p50 ${fmt(summarize(b.toRunning).p50)} ms, wall ${fmt(b.wallMs)} ms`,
            );
          }
        }
      } finally {
        await removeSandboxes(cri, runId).catch(() => 0);
        await rm(logRoot, { recursive: true, force: true });
      }
    }

    // ---- (b) kubelet-ts on the bench containerd --------------------------------------------------
    if (opts.only.has('ours') && cri) {
      for (const c of opts.tsConcurrency) {
        await runKubelet(async () => {
          const node = `bench-ts-${rand()}`;
          registeredNodes.push(node);
          const env = {
            KUBELET_INSTANCE: OURS_INSTANCE,
            CONTAINERD_INSTANCE,
            NODE_NAME: node,
            KUBELET_HEALTHZ_PORT: OURS_HEALTHZ_PORT,
            KUBELET_TS_SKIP_BUILD: '1',
            KUBELET_TS_CRI_CONCURRENCY: c === undefined ? process.env.KUBELET_TS_CRI_CONCURRENCY : String(c),
            ...kubeletTsNodeEnv(opts),
          };
          await runHack('kubelet.sh', ['up'], env, 180_000);
          return {
            kind: 'ours',
            label: rowLabel('ours', 'sa', c),
            node,
            pid: pidFromFile(join(runDir, `kubelet-${OURS_INSTANCE}.pid`), 'dist/src/main.js'),
            cri,
            concurrency: c,
            stop: () => stopKubeletTs(OURS_INSTANCE),
          };
        });
      }
    }

    // ---- (c) the upstream kubelet on the same containerd, after ours ------------------------------
    if (opts.only.has('upstream') && cri) {
      await runKubelet(async () => {
        const node = `bench-up-${rand()}`;
        registeredNodes.push(node);
        const env = { UPSTREAM_KUBELET_INSTANCE: UPSTREAM_INSTANCE, CONTAINERD_INSTANCE, NODE_NAME: node };
        await runHack('upstream-kubelet.sh', ['up'], env, 180_000);
        return {
          kind: 'upstream',
          label: 'upstream',
          node,
          pid: pidFromFile(join(runDir, `kubelet-upstream-${UPSTREAM_INSTANCE}.pid`), upstreamBin),
          cri,
          stop: stopUpstreamKubelet,
        };
      });
    }

    // ---- (d) kubelet-ts on the in-process CRI mock -------------------------------------------------
    if (opts.only.has('mock')) {
      mock = await CriMock.start();
      const mockCri = new CriClient({ endpoint: mock.endpoint, requestTimeoutMs: 60_000 });
      const socketPath = mock.socketPath;
      try {
        await runKubelet(async () => {
          const node = `bench-mock-${rand()}`;
          registeredNodes.push(node);
          const env = {
            KUBELET_INSTANCE: MOCK_INSTANCE,
            CONTAINERD_SOCK: socketPath,
            NODE_NAME: node,
            KUBELET_HEALTHZ_PORT: MOCK_HEALTHZ_PORT,
            KUBELET_TS_SKIP_BUILD: '1',
            ...kubeletTsNodeEnv(opts),
          };
          await runHack('kubelet.sh', ['up'], env, 180_000);
          return {
            kind: 'mock',
            label: 'ours-on-mock',
            node,
            pid: pidFromFile(join(runDir, `kubelet-${MOCK_INSTANCE}.pid`), 'dist/src/main.js'),
            cri: mockCri,
            stop: () => stopKubeletTs(MOCK_INSTANCE),
          };
        });
      } finally {
        mockCri.close();
      }
    }

    report(rows, opts, { runtime: runtimeDesc, loadStart, loadEnd: machineLoad() });
  } finally {
    process.removeListener('SIGINT', onSigint);
    await cleanup({
      rest,
      ns,
      watcher,
      cri,
      current,
      mock,
      registeredNodes,
      stopContainerd: startedContainerd && !opts.keepContainerd,
    });
  }
}

/** NODE_OPTIONS (and the profile directory) for a kubelet-ts process. */
function kubeletTsNodeEnv(opts: Options): Record<string, string | undefined> {
  const nodeOptions = [
    opts.kubeletNodeOptions,
    opts.kubeletCpuProf ? `--import=${join(repoRoot, 'dist', 'bench', 'lib', 'cpu-profile.js')}` : undefined,
  ].filter(Boolean);
  return {
    NODE_OPTIONS: nodeOptions.length > 0 ? nodeOptions.join(' ') : undefined,
    KUBELET_TS_CPU_PROF_DIR: opts.kubeletCpuProf,
  };
}

function rowLabel(kind: Kind, variant: Variant | 'cri', concurrency?: number): string {
  const base = kind === 'mock' ? 'ours-on-mock' : kind;
  return `${base}${variant === 'nosa' ? ' (no SA token)' : ''}${concurrency !== undefined ? ` c=${concurrency}` : ''}`;
}

function alivePidFile(path: string): boolean {
  try {
    pidFromFile(path);
    return true;
  } catch {
    return false;
  }
}

/** Stops kubelets left running by this or an interrupted run (by their PID files only). */
async function stopStaleKubelets(): Promise<void> {
  const stale: [string, () => Promise<void>][] = [
    [`kubelet-${OURS_INSTANCE}`, () => stopKubeletTs(OURS_INSTANCE)],
    [`kubelet-${MOCK_INSTANCE}`, () => stopKubeletTs(MOCK_INSTANCE)],
    [`kubelet-upstream-${UPSTREAM_INSTANCE}`, stopUpstreamKubelet],
  ];
  for (const [pidName, stop] of stale) {
    if (alivePidFile(join(runDir, `${pidName}.pid`))) {
      log(`${pidName} is still running: stopping it`);
      await stop();
    }
  }
}

/** hack/upstream-kubelet.sh down (by its PID file). */
async function stopUpstreamKubelet(): Promise<void> {
  await runHack('upstream-kubelet.sh', ['down'], { UPSTREAM_KUBELET_INSTANCE: UPSTREAM_INSTANCE });
}

/** hack/kubelet.sh down (by its PID file), and the node-name file `up` left beside it. */
async function stopKubeletTs(instance: string): Promise<void> {
  await runHack('kubelet.sh', ['down'], { KUBELET_INSTANCE: instance });
  await rm(join(runDir, `kubelet-${instance}.node`), { force: true });
}

/**
 * Waits until the runtime runs nothing (no READY sandbox, no RUNNING container) and the kubelet
 * stopped removing what is left: the number of sandboxes did not change for 2 s (a kubelet may
 * keep NotReady sandboxes for its garbage collection; upstream does, for up to a minute).
 */
async function waitRuntimeIdle(cri: CriClient, label: string): Promise<void> {
  let last = { sandboxes: -1, containers: -1 };
  await pollUntil(
    `the runtime of ${label} to run nothing`,
    async () => {
      last = await runtimeActivity(cri);
      return last.sandboxes === 0 && last.containers === 0 ? true : undefined;
    },
    90_000,
  ).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}; still running: ${JSON.stringify(last)}`);
  });
  let count = -1;
  let stableSince = performance.now();
  await pollUntil(
    `the sandboxes of ${label} to stop changing`,
    async () => {
      const n = (await cri.listPodSandbox()).length;
      if (n !== count) {
        count = n;
        stableSince = performance.now();
      }
      return n === 0 || performance.now() - stableSince >= 2_000 ? true : undefined;
    },
    60_000,
    250,
  );
}

async function cleanup(c: {
  rest: RestClient;
  ns: string;
  watcher: PodWatcher;
  cri: CriClient | undefined;
  current: Kubelet | undefined;
  mock: CriMock | undefined;
  registeredNodes: string[];
  stopContainerd: boolean;
}): Promise<void> {
  const step = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      process.stderr.write(`cleanup: ${what}: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  };
  // A kubelet still running (failure or Ctrl-C): let it terminate its pods, then stop it.
  if (c.current) {
    const k = c.current;
    await step('graceful pod deletion', async () => {
      await deletePods(c.rest, c.ns);
      await c.watcher.until('pods deleted', () => c.watcher.pods.length === 0, 60_000);
    });
    await step(`stopping ${k.label}`, () => k.stop());
  }
  // A kubelet whose start failed half-way (it runs, but `up` gave up waiting for it).
  await step('kubelets', () => stopStaleKubelets());
  await step('force-deleting pods', () => deletePods(c.rest, c.ns, undefined, true));
  await step('pod watch', () => c.watcher.stop());
  await step(`namespace ${c.ns}`, () => deleteNamespace(c.rest, c.ns));
  if (c.cri) {
    const cri = c.cri;
    await step('bench containerd sandboxes', () => removeSandboxes(cri));
    cri.close();
  }
  for (const node of c.registeredNodes) {
    await step(`node ${node}`, () => deleteNode(c.rest, node));
    await step(`node ${node} credentials`, () =>
      Promise.all(
        [
          join(pkiDir, `node-${node}.key`),
          join(pkiDir, `node-${node}.crt`),
          join(localDir, 'kubeconfig', `node-${node}.kubeconfig`),
        ].map((f) => rm(f, { force: true })),
      ),
    );
  }
  if (c.mock) await step('CRI mock', () => c.mock!.stop());
  if (c.stopContainerd) {
    await step('bench containerd', () => runHack('containerd.sh', ['down'], { CONTAINERD_INSTANCE }));
  }
  c.rest.close();
}

// ---- report -----------------------------------------------------------------------------------

interface RowFigures {
  row: string;
  kind: Kind;
  variant: Variant | 'cri';
  concurrency?: number;
  pods: number;
  batches: number;
  running: Summary;
  ready: Summary;
  readyFromCreated?: Summary;
  /** From the batch start to the first status the kubelet reported (its first PATCH seen). */
  firstStatus?: Summary;
  /** Median over batches of the time until the last pod was Ready. */
  wallMs: number;
  rssMiB?: number;
  cpuMsPerPod?: number;
  containerdCpuMsPerPod?: number;
  idleMillicores?: number;
}

function median(xs: number[]): number {
  return summarize(xs).p50;
}

function figures(r: Row): RowFigures {
  const all = (f: (b: Batch) => number[]) => r.batches.flatMap(f);
  const pods = r.pods * r.batches.length;
  const sum = (f: (b: Batch) => number | undefined) => {
    const xs = r.batches.map(f).filter((x): x is number => x !== undefined);
    return xs.length === r.batches.length && xs.length > 0 ? xs.reduce((a, b) => a + b, 0) : undefined;
  };
  const kubeletCpu = sum((b) => b.kubeletCpuS);
  const ctrdCpu = sum((b) => b.containerdCpuS);
  const rss = r.batches.map((b) => b.rssBytes).filter((x): x is number => x !== undefined);
  const idle = r.batches.map((b) => b.idleCores).filter((x): x is number => x !== undefined);
  const fromCreated = all((b) => b.readyFromCreated);
  const firstStatus = all((b) => b.firstStatus);
  return {
    row: r.row,
    kind: r.kind,
    variant: r.variant,
    ...(r.concurrency !== undefined ? { concurrency: r.concurrency } : {}),
    pods: r.pods,
    batches: r.batches.length,
    running: rounded(summarize(all((b) => b.running))),
    ready: rounded(summarize(all((b) => b.ready))),
    ...(fromCreated.length ? { readyFromCreated: rounded(summarize(fromCreated)) } : {}),
    ...(firstStatus.length ? { firstStatus: rounded(summarize(firstStatus)) } : {}),
    wallMs: round(median(r.batches.map((b) => b.wallMs))),
    ...(rss.length ? { rssMiB: round(mib(Math.max(...rss))) } : {}),
    ...(kubeletCpu !== undefined ? { cpuMsPerPod: round((kubeletCpu * 1000) / pods) } : {}),
    ...(ctrdCpu !== undefined ? { containerdCpuMsPerPod: round((ctrdCpu * 1000) / pods) } : {}),
    ...(idle.length ? { idleMillicores: round((idle.reduce((a, b) => a + b, 0) / idle.length) * 1000) } : {}),
  };
}

const fmt = (x: number | undefined, digits = 0) =>
  x === undefined || Number.isNaN(x) ? '-' : x.toFixed(digits);
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || b === 0 ? undefined : round(a / b, 2);

function report(
  rows: Row[],
  opts: Options,
  meta: {
    runtime: string;
    loadStart: ReturnType<typeof machineLoad>;
    loadEnd: ReturnType<typeof machineLoad>;
  },
): void {
  const figs = rows.filter((r) => r.batches.length > 0).map(figures);
  const table: (string | number)[][] = [
    [
      'row',
      'N',
      'run p50',
      'run p99',
      'ready p50',
      'ready p99',
      'wall',
      '1st status p50',
      'RSS MiB',
      'cpu ms/pod',
      'ctrd ms/pod',
      'idle mcore',
    ],
  ];
  for (const n of opts.pods) {
    for (const f of figs.filter((x) => x.pods === n)) {
      table.push([
        f.row,
        n,
        fmt(f.running.p50),
        fmt(f.running.p99),
        fmt(f.ready.p50),
        fmt(f.ready.p99),
        fmt(f.wallMs),
        fmt(f.firstStatus?.p50),
        fmt(f.rssMiB, 1),
        fmt(f.cpuMsPerPod, 1),
        fmt(f.containerdCpuMsPerPod, 1),
        fmt(f.idleMillicores, 1),
      ]);
    }
  }

  // Ratios of every kubelet-ts row on containerd against upstream (same variant) and the floor.
  const ratios: Record<string, unknown>[] = [];
  const ratioTable: (string | number)[][] = [
    ['ratio', 'N', 'ready p50', 'ready p99', 'wall', 'RSS', 'cpu/pod'],
  ];
  for (const f of figs.filter((x) => x.kind === 'ours')) {
    const up = figs.find((x) => x.kind === 'upstream' && x.variant === f.variant && x.pods === f.pods);
    const floor = figs.find((x) => x.kind === 'floor' && x.pods === f.pods);
    for (const [vs, b] of [
      ['upstream', up],
      ['floor', floor],
    ] as const) {
      if (!b) continue;
      const r = {
        row: f.row,
        vs,
        pods: f.pods,
        readyP50: ratio(f.ready.p50, b.ready.p50),
        readyP99: ratio(f.ready.p99, b.ready.p99),
        wall: ratio(f.wallMs, b.wallMs),
        ...(vs === 'upstream'
          ? { rss: ratio(f.rssMiB, b.rssMiB), cpuPerPod: ratio(f.cpuMsPerPod, b.cpuMsPerPod) }
          : {}),
      };
      ratios.push(r);
      ratioTable.push([
        `${f.row} / ${vs === 'upstream' ? b.row : 'floor'}`,
        f.pods,
        fmt(r.readyP50, 2),
        fmt(r.readyP99, 2),
        fmt(r.wall, 2),
        fmt(r.rss, 2),
        fmt(r.cpuPerPod, 2),
      ]);
    }
  }

  const load = (l: ReturnType<typeof machineLoad>) => `${l.load1} ${l.load5} ${l.load15}`;
  console.log(
    `\npod start-up: ${opts.pods.join(', ')} pods at once, busybox ${JSON.stringify(COMMAND)}, ${BENCH_IMAGE} (IfNotPresent)`,
  );
  console.log(
    `runtime: ${meta.runtime || 'n/a'} (bench containerd); ${cpus().length} CPUs; load average at start ${load(meta.loadStart)}, at end ${load(meta.loadEnd)}`,
  );
  console.log(
    'times in ms from the batch start to the watch seeing phase Running ("run") / condition Ready ("ready");',
  );
  console.log(
    'floor: StartContainer returned. "1st status": the first status the kubelet wrote (ContainerCreating).',
  );
  console.log(
    'cpu: the kubelet process over create -> all Ready, per pod; ctrd: the containerd daemon (shims not counted).',
  );
  console.log(
    `RSS with the pods running, ${SETTLE_MS / 1000} s after the last Ready; idle: CPU over ${opts.idleSeconds} s after that.\n`,
  );
  console.log(formatTable(table));
  if (ratioTable.length > 1) console.log(`\n${formatTable(ratioTable)}`);
  console.log('');
  console.log(
    JSON.stringify({
      bench: 'pod-startup',
      unit: 'ms',
      runtime: meta.runtime,
      image: BENCH_IMAGE,
      pods: opts.pods,
      repeat: opts.repeat,
      warmup: opts.warmup,
      cpus: cpus().length,
      load: { start: meta.loadStart, end: meta.loadEnd },
      rows: figs,
      ratios,
    }),
  );
}

function log(msg: string): void {
  process.stderr.write(`[pod-startup ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

// Exit explicitly: a lingering socket or timer of a failed step must not keep the bench alive
// (stdout/stderr to files and pipes are synchronous on Linux, so nothing printed is lost).
main().then(
  () => process.exit(0),
  (err: unknown) => {
    // An interruption is no bug: its message says enough.
    const text =
      err instanceof Error
        ? /^interrupted/.test(err.message)
          ? err.message
          : (err.stack ?? err.message)
        : err;
    process.stderr.write(`pod-startup: FAILED: ${String(text)}\n`);
    process.exit(1);
  },
);
