import { describe, expect, it } from 'vitest';
import { isCriticalPod } from '../../../src/api/pod.js';
import type { Pod } from '../../../src/api/types.js';
import type { EvictionThreshold } from '../../../src/config/types.js';
import {
  cgroupMemoryV2,
  diskRanking,
  type EvictionSignal,
  evictionMessage,
  makeSignalObservations,
  memoryRanking,
  mergeThresholds,
  nodeConditionMessage,
  nodeConditions,
  nodeConditionsLastObservedAt,
  nodeConditionsObservedSince,
  nodeMemoryV2,
  type Observation,
  type PodUsage,
  parsePressure,
  pidRanking,
  rankPods,
  reclaimableThreshold,
  sortByEvictionPriority,
  thresholdMetEventMessage,
  thresholdQuantity,
  thresholdsFirstObservedAt,
  thresholdsMet,
  thresholdsMetGracePeriod,
  thresholdsUpdatedStats,
} from '../../../src/eviction/index.js';
import { memoryStat } from '../cgroups/fakeCgroupfs.js';

const Mi = 1024 ** 2;
const Gi = 1024 ** 3;
const hard = (
  signal: EvictionSignal,
  value: EvictionThreshold['value'],
  minReclaim?: EvictionThreshold['value'],
): EvictionThreshold => ({
  signal,
  operator: 'LessThan',
  value,
  gracePeriodMs: 0,
  ...(minReclaim ? { minReclaim } : {}),
});
const soft = (
  signal: EvictionSignal,
  value: EvictionThreshold['value'],
  gracePeriodMs: number,
): EvictionThreshold => ({
  signal,
  operator: 'LessThan',
  value,
  gracePeriodMs,
});
const obs = (entries: [EvictionSignal, Partial<Observation> & { available: number }][]) =>
  new Map(entries.map(([s, o]) => [s, { capacity: 10 * Gi, time: 1, ...o }]));

describe('signals', () => {
  it('memory.available on cgroup v2: capacity − (anon + file − inactive_file) of the root memory.stat', () => {
    const m = nodeMemoryV2(memoryStat(3 * Gi, 2 * Gi, Gi), 8 * Gi, 5);
    expect(m).toEqual({ workingSetBytes: 4 * Gi, availableBytes: 4 * Gi, time: 5 });
    expect(nodeMemoryV2(memoryStat(0, Gi, 2 * Gi), 8 * Gi, 5).workingSetBytes).toBe(0);
    expect(nodeMemoryV2(memoryStat(9 * Gi, 0, 0), 8 * Gi, 5).availableBytes).toBe(0);
  });

  it('allocatableMemory.available from the pods cgroup: memory.max (or capacity) − working set', () => {
    expect(cgroupMemoryV2(3 * Gi, memoryStat(0, 0, Gi), String(6 * Gi), 8 * Gi, 1).availableBytes).toBe(
      4 * Gi,
    );
    expect(cgroupMemoryV2(3 * Gi, memoryStat(0, 0, Gi), 'max', 8 * Gi, 1).availableBytes).toBe(6 * Gi);
  });

  it('observes every signal the summary has, capacity of memory = available + working set', () => {
    const o = makeSignalObservations({
      node: {
        memory: { availableBytes: 3 * Gi, workingSetBytes: 5 * Gi, time: 1 },
        fs: { availableBytes: 10, capacityBytes: 100, inodesFree: 5, inodes: 50, time: 2 },
        imageFs: { availableBytes: 20, capacityBytes: 200, time: 3 },
        rlimit: { maxPid: 4_194_304, runningProcesses: 300, time: 4 },
      },
      pods: [],
    });
    expect(Object.fromEntries(o)).toEqual({
      'memory.available': { available: 3 * Gi, capacity: 8 * Gi, time: 1 },
      'nodefs.available': { available: 10, capacity: 100, time: 2 },
      'nodefs.inodesFree': { available: 5, capacity: 50, time: 2 },
      'imagefs.available': { available: 20, capacity: 200, time: 3 },
      'pid.available': { available: 4_194_004, capacity: 4_194_304, time: 4 },
    });
  });

  it('parses PSI', () => {
    expect(
      parsePressure(
        'some avg10=1.50 avg60=0.20 avg300=0.00 total=12345\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=99\n',
      ),
    ).toEqual({
      some: { avg10: 1.5, avg60: 0.2, avg300: 0, total: 12345 },
      full: { avg10: 0, avg60: 0, avg300: 0, total: 99 },
    });
  });
});

describe('thresholds', () => {
  it.each([
    [{ quantity: 100 * Mi }, 8 * Gi, 100 * Mi],
    [{ percentage: 0.1 }, 52_521_566_208, 5_252_156_699],
    [{ percentage: 0.05 }, 3_276_800, 163_840],
  ])('threshold quantity of %j with capacity %i = %i (float32 percentages as upstream)', (v, cap, q) => {
    expect(thresholdQuantity(v, cap)).toBe(q);
  });

  const mem = hard('memory.available', { quantity: 100 * Mi }, { quantity: 50 * Mi });
  const fs = hard('nodefs.available', { percentage: 0.1 });
  const pid = hard('pid.available', { quantity: 1000 });

  it.each([
    ['below → met', 99 * Mi, false, true],
    ['equal → not met', 100 * Mi, false, false],
    ['above → not met', 101 * Mi, false, false],
    ['within min reclaim → still met', 140 * Mi, true, true],
    ['past min reclaim → resolved', 151 * Mi, true, false],
  ])('memory %s', (_n, available, enforce, met) => {
    expect(thresholdsMet([mem], obs([['memory.available', { available }]]), enforce).length > 0).toBe(met);
  });

  it('skips signals without observation and uses % of capacity', () => {
    const o = obs([['nodefs.available', { available: 9, capacity: 100 }]]);
    expect(thresholdsMet([mem, fs], o, false)).toEqual([fs]);
  });

  it('soft thresholds wait for their grace period; first-observed times are kept while met', () => {
    const s = soft('memory.available', { quantity: 200 * Mi }, 30_000);
    let first = thresholdsFirstObservedAt([s, mem], [], 1000);
    expect(thresholdsMetGracePeriod(first, 1000)).toEqual([mem]);
    first = thresholdsFirstObservedAt([s, mem], first, 20_000);
    expect(first.map((f) => f.at)).toEqual([1000, 1000]);
    expect(thresholdsMetGracePeriod(first, 31_000)).toEqual([s, mem]);
    expect(thresholdsFirstObservedAt([s], first, 40_000)).toEqual([{ threshold: s, at: 1000 }]);
    expect(thresholdsFirstObservedAt([s], [], 40_000)).toEqual([{ threshold: s, at: 40_000 }]);
  });

  it('maps thresholds to node conditions and keeps them for the transition period', () => {
    expect(nodeConditions([pid, fs, mem])).toEqual(['MemoryPressure', 'DiskPressure', 'PIDPressure']);
    const at = nodeConditionsLastObservedAt(['MemoryPressure'], new Map(), 1000);
    expect(nodeConditionsObservedSince(at, 300_000, 200_000)).toEqual(['MemoryPressure']);
    expect(nodeConditionsObservedSince(at, 300_000, 301_000)).toEqual([]);
  });

  it('acts only on thresholds whose stats are newer than the last round', () => {
    const now = obs([['memory.available', { available: 1, time: 5 }]]);
    expect(
      thresholdsUpdatedStats([mem], now, obs([['memory.available', { available: 1, time: 5 }]])),
    ).toEqual([]);
    expect(
      thresholdsUpdatedStats([mem], now, obs([['memory.available', { available: 1, time: 4 }]])),
    ).toEqual([mem]);
    expect(thresholdsUpdatedStats([mem], now, new Map())).toEqual([mem]);
  });

  it('ranks memory first and picks the first reclaimable threshold; merges without duplicates', () => {
    expect(sortByEvictionPriority([fs, pid, mem])).toEqual([mem, fs, pid]);
    expect(reclaimableThreshold([pid, mem])).toEqual({ threshold: pid, resource: 'pids' });
    expect(reclaimableThreshold([fs])?.resource).toBe('ephemeral-storage');
    expect(mergeThresholds([mem, fs], [fs, pid])).toEqual([mem, fs, pid]);
  });
});

function pod(
  name: string,
  opts: { priority?: number; memRequest?: string; annotations?: Record<string, string> } = {},
): Pod {
  return {
    metadata: {
      name,
      namespace: 'default',
      uid: name,
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    },
    spec: {
      ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
      containers: [
        {
          name: 'app',
          image: 'x',
          resources: opts.memRequest ? { requests: { memory: opts.memRequest } } : {},
        },
      ],
    },
  };
}
const usage =
  (entries: Record<string, { mem?: number; procs?: number; disk?: number; inodes?: number }>) =>
  (uid: string): PodUsage | undefined => {
    const e = entries[uid];
    if (!e) return undefined;
    return {
      uid,
      memoryWorkingSetBytes: e.mem,
      processCount: e.procs,
      containers: [
        {
          name: 'app',
          memoryWorkingSetBytes: e.mem,
          rootfsUsedBytes: e.disk,
          rootfsInodesUsed: e.inodes,
          logsUsedBytes: 0,
        },
      ],
    };
  };
const names = (pods: Pod[]) => pods.map((p) => p.metadata?.name);

describe('ranking', () => {
  it('memory: no stats first, then usage above request, then lower priority, then usage − request', () => {
    const pods = [
      pod('guaranteed-under', { memRequest: '200Mi' }),
      pod('burstable-over-big', { memRequest: '10Mi' }),
      pod('besteffort', {}),
      pod('high-prio-over', { priority: 1000 }),
      pod('no-stats', { memRequest: '1Gi' }),
      pod('burstable-over-small', { memRequest: '90Mi' }),
    ];
    const stats = usage({
      'guaranteed-under': { mem: 150 * Mi },
      'burstable-over-big': { mem: 300 * Mi },
      besteffort: { mem: 100 * Mi },
      'high-prio-over': { mem: 900 * Mi },
      'burstable-over-small': { mem: 100 * Mi },
    });
    expect(names(rankPods(pods, memoryRanking(stats)))).toEqual([
      'no-stats',
      'burstable-over-big',
      'besteffort',
      'burstable-over-small',
      'high-prio-over',
      'guaranteed-under',
    ]);
  });

  it('memory: BestEffort goes before a Burstable pod within its request', () => {
    const pods = [pod('burstable', { memRequest: '500Mi' }), pod('besteffort')];
    const stats = usage({ burstable: { mem: 400 * Mi }, besteffort: { mem: 5 * Mi } });
    expect(names(rankPods(pods, memoryRanking(stats)))).toEqual(['besteffort', 'burstable']);
  });

  it('pids: lower priority first, then more processes', () => {
    const pods = [pod('few'), pod('many'), pod('low', { priority: -5 })];
    const stats = usage({ few: { procs: 3 }, many: { procs: 300 }, low: { procs: 1 } });
    expect(names(rankPods(pods, pidRanking(stats)))).toEqual(['low', 'many', 'few']);
  });

  it('disk: usage above request first, then priority, then usage', () => {
    const pods = [pod('small'), pod('big'), pod('zero')];
    const stats = usage({ small: { disk: 10 }, big: { disk: 1000 }, zero: { disk: 0 } });
    expect(names(rankPods(pods, diskRanking(stats, 'ephemeral-storage')))).toEqual(['big', 'small', 'zero']);
  });

  it.each([
    [pod('plain'), false],
    [pod('api', { annotations: { 'kubernetes.io/config.source': 'api' } }), false],
    [pod('static', { annotations: { 'kubernetes.io/config.source': 'file' } }), true],
    [pod('mirror', { annotations: { 'kubernetes.io/config.mirror': 'abc' } }), true],
    [pod('critical', { priority: 2_000_000_000 }), true],
    [pod('node-critical', { priority: 2_000_001_000 }), true],
    [pod('high', { priority: 1_999_999_999 }), false],
  ])('critical pod %#', (p, critical) => {
    expect(isCriticalPod(p)).toBe(critical);
  });
});

describe('messages', () => {
  it('builds the upstream eviction message and annotations', () => {
    const p = pod('web', { memRequest: '64Mi' });
    const thresholds = [hard('memory.available', { quantity: 100 * Mi })];
    const o = obs([['memory.available', { available: 50 * Mi }]]);
    const r = evictionMessage('memory', p, usage({ web: { mem: 300 * Mi } })('web'), thresholds, o);
    expect(r.message).toBe(
      'The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi. Container app was using 300Mi, request is 64Mi, has larger consumption of memory. ',
    );
    expect(r.annotations).toEqual({
      offending_containers: 'app',
      offending_containers_usage: '300Mi',
      starved_resource: 'memory',
    });
  });

  it('names no container within its request, prints request 0 when none, and has no annotations without stats', () => {
    const thresholds = [hard('memory.available', { quantity: 100 * Mi })];
    const o = obs([['memory.available', { available: 52_428_801 }]]);
    const within = evictionMessage(
      'memory',
      pod('a', { memRequest: '1Gi' }),
      usage({ a: { mem: 10 * Mi } })('a'),
      thresholds,
      o,
    );
    expect(within.message).toBe(
      'The node was low on resource: memory. Threshold quantity: 100Mi, available: 52428801. ',
    );
    expect(within.annotations.offending_containers).toBe('');
    const be = evictionMessage('memory', pod('b'), usage({ b: { mem: 1536 } })('b'), thresholds, o);
    expect(be.message).toContain(
      'Container app was using 1536, request is 0, has larger consumption of memory. ',
    );
    expect(evictionMessage('memory', pod('c'), undefined, thresholds, o).annotations).toEqual({});
  });

  it('prints percentages of capacity as BinarySI and counts in DecimalSI', () => {
    const o = obs([
      ['nodefs.available', { available: 1000, capacity: 10_240 }],
      ['pid.available', { available: 500, capacity: 4_194_304 }],
    ]);
    expect(
      evictionMessage(
        'ephemeral-storage',
        pod('x'),
        undefined,
        [hard('nodefs.available', { percentage: 0.5 })],
        o,
      ).message,
    ).toBe('The node was low on resource: ephemeral-storage. Threshold quantity: 5Ki, available: 1k. ');
    expect(
      evictionMessage('pids', pod('x'), undefined, [hard('pid.available', { quantity: 1000 })], o).message,
    ).toBe('The node was low on resource: pids. Threshold quantity: 1k, available: 500. ');
  });

  it('has the node event and admission texts', () => {
    expect(thresholdMetEventMessage('memory')).toBe('Attempting to reclaim memory');
    expect(nodeConditionMessage(['MemoryPressure'])).toBe('The node had condition: [MemoryPressure]. ');
    expect(nodeConditionMessage(['MemoryPressure', 'DiskPressure'])).toBe(
      'The node had condition: [MemoryPressure DiskPressure]. ',
    );
  });
});
