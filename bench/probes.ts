/**
 * Probe load: N pods (default 100) × 3 probes, every periodSeconds 1 — an exec startup probe
 * (runs until it passes), an httpGet readiness probe and a tcpSocket liveness probe — run by
 * kubelet-ts's sync core (the KubeletHarness: pod workers, PLEG at 1 s, probe manager, status
 * generation; no apiserver) in this process, against
 *   - the CRI mock, in a child process (its gRPC server and fake containers cost this process
 *     nothing), with the HTTP/TCP probes answered by a server in that child on 127.0.0.1;
 *   - a real containerd, where each pod runs busybox httpd and the probes go to the pod IPs.
 *
 *   npm run bench:probes -- [--pods 100] [--seconds 20] [--target both|mock|containerd]
 *   CONTAINERD_INSTANCE=probes npm run bench:probes        (containerd at /run/containerd-probes)
 *
 * Once every pod is Ready it measures a window with probes running and then, after stopping
 * the probe workers, the same window without them: this process's CPU share (% of one core),
 * the event-loop delay p99 (perf_hooks.monitorEventLoopDelay), and the probe latency (one run:
 * connect + request, or ExecSync). Prints a table, then ONE line of JSON with every figure.
 *
 * The sync core removes runtime pods it does not know, so the containerd target must be a
 * runtime of your own: it refuses the default socket and any runtime with other running pods.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { Pod } from '../src/api/types.js';
import { CriClient } from '../src/cri/client.js';
import { CriMock } from '../src/cri/mock/index.js';
import type { ProbeRunMetric } from '../src/probes/index.js';
import { KubeletHarness } from '../test/helpers/kubeletHarness.js';
import { round, rounded, type Summary, summarize } from './lib/stats.js';
import { formatTable } from './lib/table.js';

const IMAGE = 'localhost:5999/kubelet-ts/busybox:1.36';
/** The 1-minute load average: the machine is shared, so every figure comes with it. */
const load1 = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
const NAMESPACE = 'kts-bench-probes';
const DEFAULT_CONTAINERD = '/run/containerd/containerd.sock';

interface Options {
  pods: number;
  seconds: number;
  targets: ('mock' | 'containerd')[];
  endpoint: string | undefined;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      pods: { type: 'string' },
      seconds: { type: 'string' },
      target: { type: 'string' },
      endpoint: { type: 'string' },
      child: { type: 'string' },
    },
    allowPositionals: false,
  });
  const pods = Number(values.pods ?? process.env.KUBELET_TS_BENCH_PODS ?? 100);
  const seconds = Number(values.seconds ?? 20);
  if (!Number.isInteger(pods) || pods < 1)
    throw new Error(`--pods must be a positive integer, got ${values.pods}`);
  if (!(seconds >= 5)) throw new Error(`--seconds must be at least 5, got ${values.seconds}`);
  const target = values.target ?? 'both';
  const targets = target === 'both' ? (['mock', 'containerd'] as const) : [target];
  for (const t of targets) if (t !== 'mock' && t !== 'containerd') throw new Error(`unknown --target ${t}`);
  const inst = process.env.CONTAINERD_INSTANCE;
  const endpoint =
    values.endpoint ??
    process.env.KUBELET_TS_CRI_ENDPOINT ??
    (inst ? `unix:///run/containerd-${inst}/containerd.sock` : undefined);
  return { pods, seconds, targets: [...targets] as Options['targets'], endpoint };
}

// ---- child process: the CRI mock and the probe target --------------------------------------------

async function child(socketPath: string): Promise<void> {
  const mock = await CriMock.start({ socketPath, journalLimit: 100 });
  const server = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  process.stdout.write(`${JSON.stringify({ endpoint: mock.endpoint, port })}\n`);
  const stop = async () => {
    server.close();
    await mock.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.stdin.on('end', () => void stop());
  process.stdin.resume();
}

async function startChild(): Promise<{ endpoint: string; port: number; stop(): void }> {
  const socketPath = `/tmp/kts-bench-probes-${process.pid}.sock`;
  const proc = spawn(process.execPath, [process.argv[1] ?? '', '--child', socketPath], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    proc.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const i = buf.indexOf('\n');
      if (i >= 0) resolve(buf.slice(0, i));
    });
    proc.once('exit', (code) => reject(new Error(`mock child exited with ${code}`)));
  });
  const info = JSON.parse(line) as { endpoint: string; port: number };
  return { ...info, stop: () => proc.kill('SIGTERM') };
}

// ---- the pods -------------------------------------------------------------------------------------

function benchPod(i: number, probeHost: string | undefined, port: number): Pod {
  const host = probeHost ? { host: probeHost } : {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `probes-${i}`,
      namespace: NAMESPACE,
      uid: `bench-probes-${process.pid}-${i}`,
      creationTimestamp: new Date().toISOString(),
    },
    spec: {
      nodeName: 'node-a',
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'web',
          image: IMAGE,
          imagePullPolicy: 'IfNotPresent',
          command: ['httpd', '-f', '-p', String(port), '-h', '/var/www'],
          ports: [{ name: 'http', containerPort: port }],
          startupProbe: { exec: { command: ['true'] }, periodSeconds: 1, failureThreshold: 30 },
          readinessProbe: { httpGet: { ...host, port: 'http', path: '/' }, periodSeconds: 1 },
          livenessProbe: { tcpSocket: { ...host, port }, periodSeconds: 1 },
        },
      ],
    },
    status: { phase: 'Pending' },
  };
}

const ready = (h: KubeletHarness, p: Pod) =>
  h.status(p.metadata?.uid ?? '')?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ===
  true;

/** monitorEventLoopDelay's sampling interval: an idle loop reports ~this, so it is subtracted. */
const ELD_RESOLUTION_MS = 10;

interface Window {
  /** user + system CPU of this process, % of one core. */
  cpuSharePct: number;
  cpuUserPct: number;
  cpuSystemPct: number;
  /** How late the event loop ran a timer, p99 and max (beyond the sampling interval). */
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
}

async function measure(seconds: number): Promise<Window> {
  const eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  eld.enable();
  await sleep(seconds * 1000);
  eld.disable();
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  return {
    cpuSharePct: round(((cpu.user + cpu.system) / 1000 / wallMs) * 100, 2),
    cpuUserPct: round((cpu.user / 1000 / wallMs) * 100, 2),
    cpuSystemPct: round((cpu.system / 1000 / wallMs) * 100, 2),
    eventLoopDelayP99Ms: round(Math.max(0, eld.percentile(99) / 1e6 - ELD_RESOLUTION_MS), 2),
    eventLoopDelayMaxMs: round(Math.max(0, eld.max / 1e6 - ELD_RESOLUTION_MS), 2),
  };
}

interface TargetResult {
  target: 'mock' | 'containerd';
  runtime: string;
  pods: number;
  probesPerPod: 3;
  periodSeconds: 1;
  timeToAllReadyMs: number;
  windowSeconds: number;
  probesPerSecond: number;
  probeFailures: number;
  probeErrors: number;
  probesOn: Window;
  probesOff: Window;
  cpuMsPer1000Probes: number;
  probeLatency: Summary;
  probeLatencyByType: Record<string, Summary>;
  probeLagP99Ms: number;
  probeWaitP99Ms: number;
}

async function runTarget(target: 'mock' | 'containerd', o: Options): Promise<TargetResult> {
  let child: Awaited<ReturnType<typeof startChild>> | undefined;
  let endpoint: string;
  let probeHost: string | undefined;
  let port = 8080;
  if (target === 'mock') {
    child = await startChild();
    endpoint = child.endpoint;
    probeHost = '127.0.0.1';
    port = child.port;
  } else {
    if (!o.endpoint) {
      throw new Error(
        'containerd target: set CONTAINERD_INSTANCE (or --endpoint): the sync core removes every runtime pod it does not own',
      );
    }
    endpoint = o.endpoint;
    if (endpoint.replace(/^unix:\/\//, '') === DEFAULT_CONTAINERD) {
      throw new Error(`refusing the shared default containerd ${DEFAULT_CONTAINERD}: use your own instance`);
    }
    const cri = new CriClient({ endpoint });
    const others = (await cri.listPodSandbox({ state: { state: 'SANDBOX_READY' } })).filter(
      (s) => s.metadata?.namespace !== NAMESPACE,
    );
    cri.close();
    if (others.length > 0) {
      throw new Error(`${endpoint} runs ${others.length} other pod(s): the benchmark would remove them`);
    }
  }

  let active = false;
  const metrics: ProbeRunMetric[] = [];
  const h = await KubeletHarness.start(endpoint, {
    relistPeriodMs: 1_000,
    housekeepingMs: 2_000,
    resyncMs: 60_000,
    observeProbe: (m) => {
      if (active) metrics.push(m);
    },
  });
  const version = await h.cri.version();
  const pods = Array.from({ length: o.pods }, (_, i) => benchPod(i, probeHost, port));
  try {
    const t0 = performance.now();
    h.setPods(pods);
    await h.waitFor(
      `${o.pods} pods Ready`,
      () => pods.every((p) => ready(h, p)),
      target === 'mock' ? 120_000 : 900_000,
    );
    const timeToAllReadyMs = round(performance.now() - t0);
    await sleep(3_000);
    active = true;
    const on = await measure(o.seconds);
    active = false;
    const notReady = pods.filter((p) => !ready(h, p)).length;
    if (notReady > 0) process.stderr.write(`warning: ${notReady} pods lost readiness during the window\n`);
    h.probes.stop();
    await sleep(2_000);
    const off = await measure(o.seconds);

    const byType: Record<string, Summary> = {};
    for (const t of ['startup', 'readiness', 'liveness']) {
      const d = metrics.filter((m) => m.type === t).map((m) => m.durationMs);
      if (d.length > 0) byType[t] = rounded(summarize(d));
    }
    const probesPerSecond = round(metrics.length / o.seconds);
    const cpuMsPer1000Probes = round(
      (((on.cpuSharePct - off.cpuSharePct) / 100) * o.seconds * 1000 * 1000) / Math.max(1, metrics.length),
      2,
    );
    return {
      target,
      runtime: `${version.runtimeName} ${version.runtimeVersion}`,
      pods: o.pods,
      probesPerPod: 3,
      periodSeconds: 1,
      timeToAllReadyMs,
      windowSeconds: o.seconds,
      probesPerSecond,
      probeFailures: metrics.filter((m) => m.result === 'Failure').length,
      probeErrors: metrics.filter((m) => m.result === 'Error').length,
      probesOn: on,
      probesOff: off,
      cpuMsPer1000Probes,
      probeLatency: rounded(summarize(metrics.map((m) => m.durationMs))),
      probeLatencyByType: byType,
      probeLagP99Ms: round(summarize(metrics.map((m) => m.lagMs)).p99),
      probeWaitP99Ms: round(summarize(metrics.map((m) => m.waitMs)).p99),
    };
  } finally {
    h.setPods([]);
    await h
      .waitFor(
        'bench pods removed',
        () => h.loop.workers.size === 0 || undefined,
        target === 'mock' ? 60_000 : 300_000,
      )
      .catch((err: unknown) => process.stderr.write(`cleanup: ${String(err)}\n`));
    if (target === 'containerd') {
      const left = (await h.cri.listPodSandbox()).filter((s) => s.metadata?.namespace === NAMESPACE);
      for (const s of left) {
        await h.cri.stopPodSandbox(s.id).catch(() => {});
        await h.cri.removePodSandbox(s.id).catch(() => {});
      }
    }
    await h.stop();
    child?.stop();
  }
}

async function main(): Promise<void> {
  const o = options();
  const results: TargetResult[] = [];
  const loadBefore = load1();
  for (const t of o.targets) {
    process.stderr.write(`probes bench: ${t}, ${o.pods} pods...\n`);
    results.push(await runTarget(t, o));
  }
  const loadAfter = load1();

  const rows: (string | number)[][] = [
    [
      'target',
      'pods',
      'probes/s',
      'cpu % on',
      '(user+sys)',
      'cpu % off',
      'cpu ms/1k probes',
      'eld p99 ms on',
      'eld p99 ms off',
      'probe p50 ms',
      'probe p99 ms',
      'lag p99 ms',
      'all Ready ms',
    ],
  ];
  for (const r of results) {
    rows.push([
      r.target,
      r.pods,
      r.probesPerSecond,
      r.probesOn.cpuSharePct,
      `${r.probesOn.cpuUserPct}+${r.probesOn.cpuSystemPct}`,
      r.probesOff.cpuSharePct,
      r.cpuMsPer1000Probes,
      r.probesOn.eventLoopDelayP99Ms,
      r.probesOff.eventLoopDelayP99Ms,
      r.probeLatency.p50,
      r.probeLatency.p99,
      r.probeLagP99Ms,
      r.timeToAllReadyMs,
    ]);
  }
  console.log(
    `Probes: ${o.pods} pods × 3 probes (startup exec until it passes, readiness httpGet, liveness tcpSocket), periodSeconds 1; windows of ${o.seconds} s`,
  );
  console.log(
    `cpu % = this process (the kubelet core) as % of one core; "off" = same pods after stopping the probe workers. Load average ${loadBefore} → ${loadAfter} on a shared machine.\n`,
  );
  console.log(formatTable(rows));
  console.log('');
  console.log(
    JSON.stringify({
      bench: 'probes',
      unit: 'ms',
      load1: { before: loadBefore, after: loadAfter },
      results,
    }),
  );
}

const childIdx = process.argv.indexOf('--child');
if (childIdx >= 0) {
  child(process.argv[childIdx + 1] ?? '').catch((err: unknown) => {
    process.stderr.write(`probes bench child: ${String(err)}\n`);
    process.exit(1);
  });
} else {
  main().catch((err: unknown) => {
    process.stderr.write(`probes bench: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  });
}
