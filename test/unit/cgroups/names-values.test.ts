import { describe, expect, it } from 'vitest';
import { qosClass } from '../../../src/api/qos.js';
import type { Pod } from '../../../src/api/types.js';
import {
  cgroupPath,
  cgroupV2Files,
  cpuSharesToWeight,
  expandSlice,
  milliCpuToQuota,
  milliCpuToShares,
  nodeAllocatableConfig,
  parseCgroupPath,
  podCgroupName,
  podUidFromCgroupDir,
  qosCgroupConfigs,
  qosCgroupNames,
  resourceConfigForPod,
  systemdProperties,
  systemdUnit,
  toSystemd,
} from '../../../src/cgroups/index.js';

const UID = '1234-abcd-5678';

function pod(
  containers: { requests?: Record<string, string>; limits?: Record<string, string> }[],
  extra: Partial<NonNullable<Pod['spec']>> = {},
): Pod {
  return {
    metadata: { name: 'p', namespace: 'default', uid: UID },
    spec: {
      containers: containers.map((r, i) => ({ name: `c${i}`, image: 'x', resources: r })),
      ...extra,
    },
  };
}
const qos = (p: Pod) => qosClass(p.spec ?? { containers: [] });

describe('cgroup names (upstream ToCgroupfs / ToSystemd)', () => {
  it.each([
    ['kubepods.slice', '/kubepods.slice'],
    ['kubepods-burstable.slice', '/kubepods.slice/kubepods-burstable.slice'],
    ['a-b-c.slice', '/a.slice/a-b.slice/a-b-c.slice'],
    ['-.slice', '/'],
  ])('expandSlice(%s) = %s', (slice, path) => {
    expect(expandSlice(slice)).toBe(path);
  });

  it.each(['test--a.slice', '-test.slice', 'a/b.slice', 'noslice'])('expandSlice rejects %s', (s) => {
    expect(() => expandSlice(s)).toThrow(/invalid slice name/);
  });

  it.each([
    ['Guaranteed', 'cgroupfs', `/kubepods/pod${UID}`],
    ['Burstable', 'cgroupfs', `/kubepods/burstable/pod${UID}`],
    ['BestEffort', 'cgroupfs', `/kubepods/besteffort/pod${UID}`],
    ['Guaranteed', 'systemd', '/kubepods.slice/kubepods-pod1234_abcd_5678.slice'],
    [
      'Burstable',
      'systemd',
      '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234_abcd_5678.slice',
    ],
    [
      'BestEffort',
      'systemd',
      '/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1234_abcd_5678.slice',
    ],
  ] as const)('%s pod with the %s driver lives at %s', (q, driver, path) => {
    expect(cgroupPath(podCgroupName('/', q, UID), driver)).toBe(path);
    expect(cgroupPath(podCgroupName('', q, UID), driver)).toBe(path);
  });

  it('honours a cgroupRoot below the root', () => {
    expect(cgroupPath(podCgroupName('/custom', 'Burstable', 'u1'), 'cgroupfs')).toBe(
      '/custom/kubepods/burstable/podu1',
    );
    expect(toSystemd(['custom', 'kubepods'])).toBe('/custom.slice/custom-kubepods.slice');
    expect(qosCgroupNames('/').besteffort).toEqual(['kubepods', 'besteffort']);
  });

  it('names the systemd unit and parses paths back', () => {
    expect(systemdUnit(['kubepods', 'burstable', `pod${UID}`])).toBe(
      'kubepods-burstable-pod1234_abcd_5678.slice',
    );
    expect(systemdUnit([])).toBe('-.slice');
    expect(
      parseCgroupPath('/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1_2.slice', 'systemd'),
    ).toEqual(['kubepods', 'burstable', 'pod1-2']);
    expect(parseCgroupPath('/kubepods/burstable/pod1-2', 'cgroupfs')).toEqual([
      'kubepods',
      'burstable',
      'pod1-2',
    ]);
  });

  it.each([
    ['/kubepods/burstable', `pod${UID}`, 'cgroupfs', UID],
    ['/kubepods', 'burstable', 'cgroupfs', undefined],
    ['/kubepods', 'besteffort', 'cgroupfs', undefined],
    [
      '/kubepods.slice/kubepods-besteffort.slice',
      'kubepods-besteffort-pod1234_abcd_5678.slice',
      'systemd',
      UID,
    ],
    ['/kubepods.slice', 'kubepods-burstable.slice', 'systemd', undefined],
    ['/kubepods.slice', 'kubepods-pod9_9.slice', 'systemd', '9-9'],
  ] as const)('pod UID of %s/%s (%s) is %s', (parent, dir, driver, uid) => {
    expect(podUidFromCgroupDir(parent, dir, driver)).toBe(uid);
  });
});

describe('cgroup values (upstream helpers_linux.go, getCPUWeight)', () => {
  it.each([
    [0, 2],
    [1, 2],
    [100, 102],
    [250, 256],
    [1000, 1024],
    [500_000, 262_144],
  ])('MilliCPUToShares(%i) = %i', (m, shares) => {
    expect(milliCpuToShares(m)).toBe(shares);
  });

  it.each([
    [2, 1],
    [102, 4],
    [256, 10],
    [512, 20],
    [1024, 39],
    [2048, 79],
    [262_144, 10_000],
  ])('cpu.weight of %i shares = %i', (shares, weight) => {
    expect(cpuSharesToWeight(shares)).toBe(weight);
  });

  it.each([
    [0, 0],
    [5, 1000],
    [100, 10_000],
    [1500, 150_000],
  ])('MilliCPUToQuota(%i) = %i µs', (m, q) => {
    expect(milliCpuToQuota(m)).toBe(q);
  });

  const opts = { enforceCpuLimits: true, podPidsLimit: 0 };
  it.each([
    [
      'Guaranteed',
      pod([{ requests: { cpu: '500m', memory: '128Mi' }, limits: { cpu: '500m', memory: '128Mi' } }]),
      opts,
      [
        ['memory.max', '134217728'],
        ['cpu.weight', '20'],
        ['cpu.max', '50000 100000'],
      ],
    ],
    [
      'Guaranteed without CFS quota',
      pod([{ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } }]),
      { enforceCpuLimits: false },
      [
        ['memory.max', '1073741824'],
        ['cpu.weight', '39'],
        ['cpu.max', 'max 100000'],
      ],
    ],
    [
      'Burstable with requests only',
      pod([{ requests: { cpu: '100m', memory: '64Mi' } }]),
      opts,
      [['cpu.weight', '4']],
    ],
    [
      'Burstable with limits on every container',
      pod([
        { requests: { cpu: '100m' }, limits: { cpu: '200m', memory: '64Mi' } },
        // (the apiserver defaults requests to limits)
        { requests: { cpu: '300m', memory: '32Mi' }, limits: { cpu: '300m', memory: '32Mi' } },
      ]),
      opts,
      [
        ['memory.max', String(96 * 1024 * 1024)],
        ['cpu.weight', '16'],
        ['cpu.max', '50000 100000'],
      ],
    ],
    [
      'Burstable with a limit missing on one container',
      pod([{ requests: { cpu: '100m' }, limits: { cpu: '200m', memory: '64Mi' } }, {}]),
      opts,
      [['cpu.weight', '4']],
    ],
    [
      'BestEffort',
      pod([{}]),
      { ...opts, podPidsLimit: 1024 },
      [
        ['pids.max', '1024'],
        ['cpu.weight', '1'],
      ],
    ],
  ] as const)('%s', (_name, p, o, files) => {
    expect(cgroupV2Files(resourceConfigForPod(p, qos(p), o))).toEqual(files);
  });

  it('counts init containers, sidecars and overhead as upstream PodRequests/PodLimits', () => {
    const p = pod([{ requests: { cpu: '100m', memory: '10Mi' }, limits: { cpu: '100m', memory: '10Mi' } }], {
      initContainers: [
        {
          name: 'init',
          image: 'x',
          resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } },
        },
        {
          name: 'side',
          image: 'x',
          restartPolicy: 'Always',
          resources: { requests: { cpu: '50m', memory: '5Mi' }, limits: { cpu: '50m', memory: '5Mi' } },
        },
      ],
      overhead: { cpu: '10m', memory: '1Mi' },
    });
    const cfg = resourceConfigForPod(p, 'Guaranteed', { enforceCpuLimits: true });
    expect(cfg.cpuShares).toBe(milliCpuToShares(1010));
    expect(cfg.memory).toBe(1024 ** 3 + 1024 ** 2);
    expect(cfg.cpuQuota).toBe(101_000);
  });

  it('gives burstable the summed requests of Burstable pods and besteffort 2 shares', () => {
    const a = pod([{ requests: { cpu: '300m' } }]);
    const b = pod([{ requests: { cpu: '200m', memory: '1Mi' } }]);
    const g = pod([{ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } }]);
    const cfg = qosCgroupConfigs([a, b, g], qos);
    expect(cfg.burstable).toEqual({ cpuShares: 512 });
    expect(cfg.besteffort).toEqual({ cpuShares: 2 });
    expect(qosCgroupConfigs([], qos).burstable).toEqual({ cpuShares: 2 });
  });

  it('limits kubepods to allocatable when enforceNodeAllocatable has pods, else capacity', () => {
    const capacity = { cpuMillis: 2000, memoryBytes: 8 * 1024 ** 3, pids: 4_194_304 };
    const kube = { cpuMillis: 100, memoryBytes: 512 * 1024 ** 2, pids: 1000 };
    const sys = { cpuMillis: 100, memoryBytes: 512 * 1024 ** 2, pids: 0 };
    expect(nodeAllocatableConfig(capacity, [kube, sys], true)).toEqual({
      cpuShares: 1843,
      memory: 7 * 1024 ** 3,
      pidsLimit: 4_193_304,
    });
    expect(nodeAllocatableConfig(capacity, [kube, sys], false)).toEqual({
      cpuShares: 2048,
      memory: 8 * 1024 ** 3,
      pidsLimit: 4_194_304,
    });
    expect(cgroupV2Files(nodeAllocatableConfig(capacity, [kube, sys], true))).toEqual([
      ['pids.max', '4193304'],
      ['memory.max', String(7 * 1024 ** 3)],
      ['cpu.weight', '71'],
    ]);
  });

  it('spells the same config as systemd properties', () => {
    expect(
      systemdProperties({
        cpuShares: 512,
        cpuQuota: 50_000,
        cpuPeriod: 100_000,
        memory: 134_217_728,
        pidsLimit: 100,
      }),
    ).toEqual([
      'MemoryMax=134217728',
      'CPUWeight=20',
      'CPUQuota=50%',
      'CPUQuotaPeriodSec=100ms',
      'TasksMax=100',
    ]);
    expect(systemdProperties({ cpuQuota: 1000, cpuPeriod: 100_000 })).toEqual([
      'CPUQuota=1%',
      'CPUQuotaPeriodSec=100ms',
    ]);
    expect(systemdProperties({ cpuQuota: -1, cpuPeriod: 100_000, memory: -1 })).toEqual([
      'MemoryMax=infinity',
      'CPUQuota=',
      'CPUQuotaPeriodSec=100ms',
    ]);
  });
});
