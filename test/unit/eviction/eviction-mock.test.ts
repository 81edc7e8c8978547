import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { podQOSClass } from '../../../src/api/qos.js';
import type { Pod } from '../../../src/api/types.js';
import { CgroupFs, CgroupManager } from '../../../src/cgroups/index.js';
import type { EvictionThreshold } from '../../../src/config/types.js';
import { CriMock } from '../../../src/cri/mock/index.js';
import {
  EvictionManager,
  type EvictionManagerOptions,
  PressureMonitor,
  StatsCollector,
} from '../../../src/eviction/index.js';
import { ImageGC } from '../../../src/sync/imageGC.js';
import { ContainerGC } from '../../../src/sync/kuberuntime/gc.js';
import { FILE_SOURCE } from '../../../src/sync/podConfig.js';
import { KubeletHarness, testPod } from '../../helpers/kubeletHarness.js';
import { FakeCgroupfs } from '../cgroups/fakeCgroupfs.js';

// Node-pressure eviction against the CRI mock (synthetic container stats) and a fake cgroupfs
// (the root's memory.stat decides memory.available).

const Mi = 1024 ** 2;
const Gi = 1024 ** 3;
const CAPACITY = 8 * Gi;
const IMAGE = 'localhost:5999/kubelet-ts/busybox:1.36';

let mock: CriMock;
let fake: FakeCgroupfs;
let h: KubeletHarness;
let m: EvictionManager;
let cgroups: CgroupManager;
let nodeEvents: { type: string; reason: string; message: string }[];
let podEvents: { name: string; reason: string; message: string; annotations?: Record<string, string> }[];
let ac: AbortController;

const memHard: EvictionThreshold = {
  signal: 'memory.available',
  operator: 'LessThan',
  value: { quantity: 500 * Mi },
  gracePeriodMs: 0,
};

function withResources(
  name: string,
  resources: { requests?: Record<string, string>; limits?: Record<string, string> },
  extra: Partial<NonNullable<Pod['spec']>> = {},
): Pod {
  return testPod(name, {
    containers: [{ name: 'app', image: IMAGE, command: ['sleep', 'infinity'], resources }],
    ...extra,
  });
}

async function setup(over: Partial<EvictionManagerOptions> = {}): Promise<void> {
  ac = new AbortController();
  mock = await CriMock.start();
  fake = await FakeCgroupfs.create();
  await fake.setRootMemory(2 * Gi, Gi, Gi / 2);
  nodeEvents = [];
  podEvents = [];
  const fs = new CgroupFs({ root: fake.root, killProcess: () => {} });
  cgroups = new CgroupManager({
    fs,
    driver: 'cgroupfs',
    cgroupsPerQOS: true,
    cgroupRoot: '/',
    cpuCFSQuota: true,
    podPidsLimit: -1,
    capacity: { cpuMillis: 2000, memoryBytes: CAPACITY },
    kubeReserved: { cpuMillis: 0, memoryBytes: 0, pids: 0 },
    systemReserved: { cpuMillis: 0, memoryBytes: 0, pids: 0 },
    enforceNodeAllocatable: ['pods'],
    qosOf: (p) => podQOSClass(p) as 'Guaranteed' | 'Burstable' | 'BestEffort',
  });
  await cgroups.start();
  let manager: EvictionManager | undefined;
  h = await KubeletHarness.start(mock.endpoint, {
    pressure: () => manager?.nodeConditions() ?? [],
    cgroups,
  });
  cgroups.setActivePods(() => h.loop.activePods());
  const stats = new StatsCollector({
    cri: h.cri,
    cgroupV2: fs,
    podsCgroupPath: cgroups.nodeAllocatablePath(),
    rootDir: h.dir,
    memoryCapacityBytes: CAPACITY,
  });
  manager = new EvictionManager({
    nodeName: 'node-a',
    thresholds: [memHard],
    pressureTransitionPeriodMs: 300_000,
    maxPodGracePeriodSeconds: 0,
    stats,
    activePods: () => h.loop.activePods(),
    killPod: (pod, kill) => h.loop.killPod(pod.metadata?.uid ?? '', kill),
    podCleanedUp: (uid) => {
      const st = h.loop.workers.state(uid);
      return st !== 'sync' && st !== 'terminating';
    },
    events: {
      event: (ref, type, reason, message, annotations) => {
        if (ref.kind === 'Node') nodeEvents.push({ type, reason, message });
        else podEvents.push({ name: ref.name, reason, message, ...(annotations ? { annotations } : {}) });
      },
    },
    cleanupPollMs: 50,
    ...over,
  });
  m = manager;
}

afterEach(async () => {
  ac.abort();
  await h?.stop();
  await mock?.stop();
  await fake?.remove();
});

async function running(pods: Pod[]): Promise<void> {
  for (const p of pods) {
    await h.waitFor(
      `${p.metadata?.name} Running`,
      () => h.status(p.metadata?.uid ?? '')?.phase === 'Running',
    );
  }
}

const uid = (p: Pod) => p.metadata?.uid ?? '';

describe('node-pressure eviction against the CRI mock', () => {
  beforeEach(async () => {
    await setup();
  });

  it('evicts the BestEffort pod first with the upstream status, event and annotations; higher priority ranks later', async () => {
    const critical = withResources('critical', {}, { priority: 2_000_000_000 });
    const besteffort = withResources('besteffort', {});
    const burstable = withResources('burstable', { requests: { memory: '200Mi', cpu: '100m' } });
    const guaranteed = withResources('guaranteed', {
      requests: { memory: '64Mi', cpu: '100m' },
      limits: { memory: '64Mi', cpu: '100m' },
    });
    mock.setStats({ podUid: uid(critical) }, { memoryWorkingSetBytes: 900 * Mi });
    mock.setStats({ podUid: uid(besteffort) }, { memoryWorkingSetBytes: 100 * Mi });
    mock.setStats({ podUid: uid(burstable) }, { memoryWorkingSetBytes: 150 * Mi });
    mock.setStats({ podUid: uid(guaranteed) }, { memoryWorkingSetBytes: 50 * Mi });
    h.setPods([critical, besteffort, burstable, guaranteed]);
    await running([critical, besteffort, burstable, guaranteed]);

    // Each sandbox was placed in its pod cgroup.
    const parents = mock.calls('RunPodSandbox').map((r) => r.config?.linux?.cgroupParent);
    expect(parents).toEqual(
      expect.arrayContaining([
        `/kubepods/besteffort/pod${uid(besteffort)}`,
        `/kubepods/burstable/pod${uid(burstable)}`,
        `/kubepods/pod${uid(guaranteed)}`,
      ]),
    );
    expect(await fake.read(`/kubepods/pod${uid(guaranteed)}`, 'memory.max')).toBe(String(64 * Mi));

    expect(await m.synchronize()).toBeUndefined();
    expect(m.pressure()).toEqual({ memory: false, disk: false, pid: false });

    // memory.available = 8Gi − (7.8Gi anon + 0.1Gi file − 0.1Gi inactive) = 0.2Gi < 500Mi.
    await fake.setRootMemory(Math.round(7.8 * Gi), Math.round(0.1 * Gi), Math.round(0.1 * Gi));
    const evicted = await m.synchronize();
    expect(evicted?.metadata?.name).toBe('besteffort');
    expect(m.pressure()).toEqual({ memory: true, disk: false, pid: false });
    expect(m.nodeConditions()).toEqual(['MemoryPressure']);

    const available = CAPACITY - Math.round(7.8 * Gi);
    const message =
      `The node was low on resource: memory. Threshold quantity: 500Mi, available: ${available}. ` +
      'Container app was using 100Mi, request is 0, has larger consumption of memory. ';
    const st = await h.waitFor('Evicted status', () => {
      const s = h.status(uid(besteffort));
      return s?.phase === 'Failed' && s.reason === 'Evicted' ? s : undefined;
    });
    expect(st.message).toBe(message);
    expect(st.conditions?.find((c) => c.type === 'DisruptionTarget')).toMatchObject({
      status: 'True',
      reason: 'TerminationByKubelet',
      message,
    });
    expect(podEvents).toEqual([
      {
        name: 'besteffort',
        reason: 'Evicted',
        message,
        annotations: {
          offending_containers: 'app',
          offending_containers_usage: '100Mi',
          starved_resource: 'memory',
        },
      },
    ]);
    expect(nodeEvents).toEqual([
      { type: 'Warning', reason: 'EvictionThresholdMet', message: 'Attempting to reclaim memory' },
    ]);
    for (const p of [critical, burstable, guaranteed]) expect(h.status(uid(p))?.phase).toBe('Running');

    // Its containers were stopped and its cgroup removed once it terminated.
    await h.waitFor(
      'besteffort terminated',
      () =>
        h.loop.workers.state(uid(besteffort)) === 'terminated' ||
        h.loop.workers.state(uid(besteffort)) === 'finished',
    );
    const cgroup = `/kubepods/besteffort/pod${uid(besteffort)}`;
    for (let i = 0; i < 100 && (await fake.exists(cgroup)); i++) await new Promise((r) => setTimeout(r, 50));
    expect(await fake.exists(cgroup)).toBe(false);
    expect(await fake.exists(`/kubepods/burstable/pod${uid(burstable)}`)).toBe(true);
  });

  it('never evicts a critical pod, even one ranked first: it passes to the next, or evicts nobody', async () => {
    // Ranked first: static (priority 0, over its requests), then critical (over its requests,
    // priority 2e9), then the burstable pod within its requests. Upstream evictPod refuses
    // IsCriticalPod pods ("cannot evict a critical pod") and tries the next one.
    const staticPod = withResources('static', {});
    staticPod.metadata = {
      ...staticPod.metadata,
      annotations: { 'kubernetes.io/config.source': 'file' },
    };
    const critical = withResources('critical', {}, { priority: 2_000_000_000 });
    const victim = withResources('victim', { requests: { memory: '200Mi', cpu: '100m' } });
    mock.setStats({ podUid: uid(staticPod) }, { memoryWorkingSetBytes: 900 * Mi });
    mock.setStats({ podUid: uid(critical) }, { memoryWorkingSetBytes: 800 * Mi });
    mock.setStats({ podUid: uid(victim) }, { memoryWorkingSetBytes: 150 * Mi });
    // The static pod comes from the file source (PodConfig stamps config.source from the source).
    h.loop.podConfig.snapshot([staticPod], FILE_SOURCE);
    h.setPods([critical, victim]);
    await running([staticPod, critical, victim]);
    await fake.setRootMemory(Math.round(7.8 * Gi), Math.round(0.1 * Gi), Math.round(0.1 * Gi));

    expect((await m.synchronize())?.metadata?.name).toBe('victim');
    await h.waitFor('victim Evicted', () => h.status(uid(victim))?.reason === 'Evicted');
    expect(podEvents.map((e) => `${e.name} ${e.reason}`)).toEqual(['victim Evicted']);

    // With only critical pods left, pressure evicts nobody.
    h.setPods([critical]);
    await h.waitFor('victim gone', () => h.loop.activePods().length === 2);
    expect(await m.synchronize()).toBeUndefined();
    expect(await m.synchronize()).toBeUndefined();
    expect(m.nodeConditions()).toEqual(['MemoryPressure']);
    expect(podEvents.map((e) => `${e.name} ${e.reason}`)).toEqual(['victim Evicted']);
    for (const p of [staticPod, critical]) {
      expect(h.status(uid(p))?.phase).toBe('Running');
      expect(h.loop.workers.state(uid(p))).toBe('sync');
    }
  });

  it('refuses BestEffort pods under memory pressure and admits the others', async () => {
    const hog = withResources('hog', { requests: { memory: '10Mi' } });
    mock.setStats({ podUid: uid(hog) }, { memoryWorkingSetBytes: 700 * Mi });
    h.setPods([hog]);
    await running([hog]);
    await fake.setRootMemory(Math.round(7.9 * Gi), 0, 0);
    await m.synchronize();
    expect(m.nodeConditions()).toEqual(['MemoryPressure']);

    const be = withResources('late-besteffort', {});
    const bu = withResources('late-burstable', { requests: { memory: '10Mi' } });
    const tolerant = withResources(
      'tolerant',
      {},
      {
        tolerations: [
          { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
        ],
      },
    );
    const critical = withResources('late-critical', {}, { priority: 2_000_000_000 });
    for (const p of [be, bu, tolerant, critical]) h.update(p);
    const rejected = await h.waitFor('rejection', () => {
      const s = h.status(uid(be));
      return s?.phase === 'Failed' ? s : undefined;
    });
    expect(rejected).toMatchObject({
      phase: 'Failed',
      reason: 'Evicted',
      message: 'Pod was rejected: The node had condition: [MemoryPressure]. ',
    });
    expect(h.events.find((e) => e.reason === 'Evicted' && e.ref.name === 'late-besteffort')?.message).toBe(
      'The node had condition: [MemoryPressure]. ',
    );
    await running([bu, tolerant, critical]);
  });

  it('acts on a crossing within 1 s through the pressure monitor, not the 10 s round', async () => {
    const be = withResources('victim', {});
    mock.setStats({ podUid: uid(be) }, { memoryWorkingSetBytes: 300 * Mi });
    h.setPods([be]);
    await running([be]);
    const stats = new StatsCollector({
      cri: h.cri,
      cgroupV2: new CgroupFs({ root: fake.root }),
      rootDir: h.dir,
      memoryCapacityBytes: CAPACITY,
    });
    const monitor = new PressureMonitor({
      nodeMemory: () => stats.nodeMemory(),
      thresholds: [memHard],
      pressureFile: fake.path('/', 'memory.pressure'),
      onTrigger: (r) => m.trigger(r),
      pollMs: 100,
    });
    void m.run(ac.signal);
    void monitor.run(ac.signal);
    await new Promise((r) => setTimeout(r, 300));
    expect(m.stats.evictions).toBe(0);

    const crossed = Date.now();
    await fake.setRootMemory(Math.round(7.9 * Gi), 0, 0);
    await h.waitFor('evicted', () => h.status(uid(be))?.reason === 'Evicted', 5_000);
    const ms = Date.now() - crossed;
    expect(ms).toBeLessThan(1_000);
    expect(m.stats.triggered.threshold).toBe(1);
    ac.abort();
  });
});

describe('disk pressure reclaims node-level resources first', () => {
  it('removes dead containers and unused images and evicts nobody when that is enough', async () => {
    let reclaimed = false;
    const reclaimer = {
      deleteAllUnusedContainers: async (_s?: AbortSignal) => {},
      deleteUnusedImages: async (_s?: AbortSignal) => {},
    };
    await setup({
      thresholds: [
        { signal: 'nodefs.available', operator: 'LessThan', value: { percentage: 0.1 }, gracePeriodMs: 0 },
      ],
      reclaim: {
        deleteAllUnusedContainers: (s) => reclaimer.deleteAllUnusedContainers(s),
        deleteUnusedImages: async (s) => {
          await reclaimer.deleteUnusedImages(s);
          reclaimed = true;
        },
      },
      stats: {
        summary: async () => ({
          node: {
            fs: { availableBytes: reclaimed ? 50 * Gi : Gi, capacityBytes: 100 * Gi, time: Date.now() },
          },
          pods: [],
        }),
      },
    });
    const containerGC = new ContainerGC({ cri: h.cri });
    const imageGC = new ImageGC({ cri: h.cri, imageMinimumGCAgeMs: 0 });
    reclaimer.deleteAllUnusedContainers = async (s?: AbortSignal) =>
      void (await containerGC.deleteAllUnusedContainers(() => true, s));
    reclaimer.deleteUnusedImages = async (s?: AbortSignal) => void (await imageGC.deleteUnusedImages(s));
    mock.addImage({ ref: 'localhost:5999/unused/image:1', sizeBytes: 5 * 1024 ** 2 });
    const p = withResources('web', {});
    h.setPods([p]);
    await running([p]);

    expect(await m.synchronize()).toBeUndefined();
    expect(m.nodeConditions()).toEqual(['DiskPressure']);
    expect(nodeEvents.map((e) => e.message)).toEqual(['Attempting to reclaim ephemeral-storage']);
    const left = (await h.cri.listImages()).flatMap((i) => i.repoTags);
    expect(left).not.toContain('localhost:5999/unused/image:1');
    expect(left).toContain(IMAGE);
    expect(h.status(uid(p))?.phase).toBe('Running');
  });
});
