/**
 * Eviction latency: the time from a memory threshold crossing to the evicted pod's status update
 * (phase Failed, reason Evicted, as stored in the status manager, i.e. the moment the status
 * patch is queued), for each way a crossing reaches the eviction manager:
 *
 *   threshold      the pressure monitor's 200 ms poll of the root cgroup's memory.stat sees
 *                  memory.available below memory.available's threshold;
 *   psi            the same poll sees the memory.pressure 'some' stall total jump (memory.stat
 *                  is not read by the monitor in this variant, so PSI is the only hint);
 *   memory.events  a watched memory.events file changes (fs.watch = inotify, no poll wait);
 *   poll-10s       no monitor: the eviction manager's 10 s round (upstream on cgroup v2).
 *
 * What is real and what is not: the kubelet's sync core (pod workers, syncer, status generation)
 * runs against the in-process CRI mock with synthetic container stats; the cgroup files live in
 * a fake cgroupfs tree in a temp dir (this host's cgroups are a v1/v2 hybrid that must not be
 * touched), where a "crossing" is a write of memory.stat / memory.pressure / memory.events. So
 * this measures the kubelet's reaction path, not the kernel's PSI accounting. Crossings happen
 * at a random phase of the 10 s round. Also measured: CPU time of one monitor poll.
 *
 *   npm run bench:eviction -- --samples 10 --poll-samples 4
 *
 * Prints a table, then ends with exactly one line of JSON.
 */
import { parseArgs } from 'node:util';
import type { Pod } from '../src/api/types.js';
import { CgroupFs } from '../src/cgroups/index.js';
import type { EvictionThreshold } from '../src/config/types.js';
import { CriMock } from '../src/cri/mock/index.js';
import { EvictionManager, PressureMonitor, StatsCollector } from '../src/eviction/index.js';
import { KubeletHarness, testPod } from '../test/helpers/kubeletHarness.js';
import { FakeCgroupfs, memoryStat } from '../test/unit/cgroups/fakeCgroupfs.js';
import { round, rounded, type Summary, summarize } from './lib/stats.js';
import { formatTable } from './lib/table.js';

const Mi = 1024 ** 2;
const Gi = 1024 ** 3;
const CAPACITY = 8 * Gi;
const THRESHOLD: EvictionThreshold = {
  signal: 'memory.available',
  operator: 'LessThan',
  value: { quantity: 500 * Mi },
  gracePeriodMs: 0,
};
type Variant = 'threshold' | 'psi' | 'memory.events' | 'poll-10s';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function options(): { samples: number; pollSamples: number } {
  const { values } = parseArgs({
    options: { samples: { type: 'string' }, 'poll-samples': { type: 'string' } },
    allowPositionals: false,
  });
  return {
    samples: Math.max(1, Number(values.samples ?? process.env.KUBELET_TS_BENCH_SAMPLES ?? 10)),
    pollSamples: Math.max(1, Number(values['poll-samples'] ?? 4)),
  };
}

async function runVariant(variant: Variant, samples: number): Promise<number[]> {
  const mock = await CriMock.start();
  const fake = await FakeCgroupfs.create();
  await fake.setRootMemory(2 * Gi, Gi, Gi / 2);
  await fake.write('/kubepods', 'memory.events', 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n');
  const h = await KubeletHarness.start(mock.endpoint);
  const ac = new AbortController();
  const fs = new CgroupFs({ root: fake.root, killProcess: () => {} });
  const stats = new StatsCollector({
    cri: h.cri,
    cgroupV2: fs,
    rootDir: h.dir,
    memoryCapacityBytes: CAPACITY,
  });
  const manager = new EvictionManager({
    nodeName: 'node-a',
    thresholds: [THRESHOLD],
    pressureTransitionPeriodMs: 300_000,
    maxPodGracePeriodSeconds: 0,
    stats,
    activePods: () => h.loop.activePods(),
    killPod: (pod, kill) => h.loop.killPod(pod.metadata?.uid ?? '', kill),
    podCleanedUp: (uid) => {
      const st = h.loop.workers.state(uid);
      return st !== 'sync' && st !== 'terminating';
    },
  });
  const monitor =
    variant === 'poll-10s'
      ? undefined
      : new PressureMonitor({
          nodeMemory: variant === 'threshold' ? () => stats.nodeMemory() : undefined,
          thresholds: [THRESHOLD],
          pressureFile: variant === 'psi' ? fake.path('/', 'memory.pressure') : undefined,
          eventsFiles: variant === 'memory.events' ? [fake.path('/kubepods', 'memory.events')] : [],
          onTrigger: (r) => manager.trigger(r),
          // The events variant relies on fs.watch; a slow poll keeps the poll out of the figure.
          pollMs: variant === 'memory.events' ? 5_000 : 200,
        });
  void manager.run(ac.signal);
  void monitor?.run(ac.signal);
  const out: number[] = [];
  let stall = 0;
  let events = 0;
  try {
    for (let i = 0; i < samples; i++) {
      const pod: Pod = testPod(`victim-${i}`);
      const uid = pod.metadata?.uid ?? '';
      mock.setStats({ podUid: uid }, { memoryWorkingSetBytes: 300 * Mi });
      h.setPods([pod]);
      await h.waitFor('Running', () => h.status(uid)?.phase === 'Running', 30_000);
      // A random phase of the 10 s round (and of the 200 ms poll).
      await sleep(variant === 'poll-10s' ? 500 + Math.random() * 10_000 : 300 + Math.random() * 400);
      const t0 = performance.now();
      await fake.write('/', 'memory.stat', memoryStat(Math.round(7.9 * Gi), 0, 0));
      if (variant === 'psi') {
        stall += 250_000;
        await fake.write('/', 'memory.pressure', `some avg10=5.00 avg60=1.00 avg300=0.20 total=${stall}\n`);
      }
      if (variant === 'memory.events') {
        events++;
        await fake.write('/kubepods', 'memory.events', `low 0\nhigh ${events}\nmax 0\noom 0\noom_kill 0\n`);
      }
      for (;;) {
        if (h.status(uid)?.reason === 'Evicted') break;
        if (performance.now() - t0 > 30_000) throw new Error(`${variant}: no eviction within 30 s`);
        await sleep(2);
      }
      out.push(performance.now() - t0);
      await fake.setRootMemory(2 * Gi, Gi, Gi / 2);
      await h.waitFor(
        'terminated',
        () => h.loop.workers.state(uid) !== 'sync' && h.loop.workers.state(uid) !== 'terminating',
        30_000,
      );
      h.setPods([]);
      await sleep(1_200);
    }
  } finally {
    ac.abort();
    await h.stop();
    await mock.stop();
    await fake.remove();
  }
  return out;
}

/** CPU time of one monitor poll (memory.stat + memory.pressure + one memory.events). */
async function pollCost(): Promise<number> {
  const fake = await FakeCgroupfs.create();
  await fake.setRootMemory(2 * Gi, Gi, Gi / 2);
  await fake.write('/kubepods', 'memory.events', 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n');
  const stats = new StatsCollector({
    cri: {} as never,
    cgroupV2: new CgroupFs({ root: fake.root }),
    rootDir: fake.root,
    memoryCapacityBytes: CAPACITY,
  });
  const monitor = new PressureMonitor({
    nodeMemory: () => stats.nodeMemory(),
    thresholds: [THRESHOLD],
    pressureFile: fake.path('/', 'memory.pressure'),
    eventsFiles: [fake.path('/kubepods', 'memory.events')],
    onTrigger: () => {},
  });
  const n = 2000;
  for (let i = 0; i < 100; i++) await monitor.poll();
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) await monitor.poll();
  const used = process.cpuUsage(start);
  await fake.remove();
  return (used.user + used.system) / n;
}

async function main(): Promise<void> {
  const o = options();
  const results: Partial<Record<Variant, Summary>> = {};
  for (const v of ['threshold', 'psi', 'memory.events', 'poll-10s'] as const) {
    const samples = await runVariant(v, v === 'poll-10s' ? o.pollSamples : o.samples);
    results[v] = rounded(summarize(samples));
    process.stderr.write(`${v}: ${samples.map((x) => Math.round(x)).join(' ')} ms\n`);
  }
  const pollUs = round(await pollCost(), 1);
  const rows: (string | number)[][] = [['path', 'n', 'min ms', 'p50 ms', 'mean ms', 'p90 ms', 'max ms']];
  for (const [v, s] of Object.entries(results)) rows.push([v, s.n, s.min, s.p50, s.mean, s.p90, s.max]);
  process.stdout.write(`${formatTable(rows)}\n`);
  process.stdout.write(
    `monitor poll: ${pollUs} µs CPU each (every 200 ms = ${round(pollUs / 2000, 3)}% of a core)\n`,
  );
  process.stdout.write(
    `${JSON.stringify({
      bench: 'eviction',
      unit: 'ms',
      measures: 'threshold crossing (fake cgroupfs write) -> evicted pod status stored (CRI mock)',
      ...results,
      monitorPollCpuUs: pollUs,
    })}\n`,
  );
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench:eviction failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
