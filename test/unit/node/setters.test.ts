import { describe, expect, it } from 'vitest';
import type { NodeCondition, NodeStatus } from '../../../src/api/types.js';
import type { HostFacts } from '../../../src/host/types.js';
import {
  aggregateErrors,
  buildInitialNode,
  buildNodeStatus,
  DEFAULT_EVICTION_HARD,
  type NodeStatusInput,
  nodeImages,
  nodeStatusChanged,
  schedulableEvent,
} from '../../../src/node/setters.js';

const Mi = 1024 * 1024;
const Gi = 1024 * Mi;

const facts: HostFacts = {
  hostname: 'Worker-1',
  machineId: 'm-123',
  systemUuid: 'uuid-abc',
  bootId: 'boot-1',
  kernelVersion: '6.1.0-18-amd64',
  osImage: 'Debian GNU/Linux 12 (bookworm)',
  operatingSystem: 'linux',
  architecture: 'amd64',
  cpuCores: 4,
  memoryBytes: 16 * Gi,
  ephemeralStorageBytes: 100 * Gi,
  hugepages: { '2Mi': 0, '1Gi': 0 },
  addresses: ['10.0.0.5', '192.168.1.9'],
};

const T0 = Date.parse('2026-11-25T14:00:00Z');
const T1 = Date.parse('2026-11-25T14:00:10Z');
const T2 = Date.parse('2026-11-25T14:00:20Z');
const ts = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

function input(over: Partial<NodeStatusInput> = {}): NodeStatusInput {
  return {
    config: { nodeName: 'worker-1', evictionHard: DEFAULT_EVICTION_HARD },
    facts,
    runtime: { name: 'containerd', version: '1.6.20~ds1' },
    health: { ready: true, message: '' },
    pressure: { memory: false, disk: false, pid: false },
    images: [],
    now: T0,
    ...over,
  };
}

const cond = (s: NodeStatus, type: string): NodeCondition | undefined =>
  s.conditions?.find((c) => c.type === type);

describe('conditions', () => {
  it('starts healthy: pressure False (with events), Ready True last (no event for a new Ready)', () => {
    const { status, events } = buildNodeStatus(undefined, input());
    expect(status.conditions?.map((c) => [c.type, c.status, c.reason, c.message])).toEqual([
      ['MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
      ['DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
      ['PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
      ['Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'],
    ]);
    for (const c of status.conditions ?? []) {
      expect(c.lastHeartbeatTime).toBe(ts(T0));
      expect(c.lastTransitionTime).toBe(ts(T0));
    }
    expect(events).toEqual([
      {
        type: 'Normal',
        reason: 'NodeHasSufficientMemory',
        message: 'Node worker-1 status is now: NodeHasSufficientMemory',
      },
      {
        type: 'Normal',
        reason: 'NodeHasNoDiskPressure',
        message: 'Node worker-1 status is now: NodeHasNoDiskPressure',
      },
      {
        type: 'Normal',
        reason: 'NodeHasSufficientPID',
        message: 'Node worker-1 status is now: NodeHasSufficientPID',
      },
    ]);
  });

  it('keeps lastTransitionTime and moves only the heartbeat when nothing changes', () => {
    const first = buildNodeStatus(undefined, input()).status;
    const { status, events } = buildNodeStatus(first, input({ now: T1 }));
    expect(events).toEqual([]);
    for (const c of status.conditions ?? []) {
      expect(c.lastHeartbeatTime).toBe(ts(T1));
      expect(c.lastTransitionTime).toBe(ts(T0));
    }
    expect(nodeStatusChanged(first, status)).toBe(false);
  });

  it.each([
    [
      'memory',
      'MemoryPressure',
      'KubeletHasInsufficientMemory',
      'kubelet has insufficient memory available',
      'NodeHasInsufficientMemory',
    ],
    ['disk', 'DiskPressure', 'KubeletHasDiskPressure', 'kubelet has disk pressure', 'NodeHasDiskPressure'],
    [
      'pid',
      'PIDPressure',
      'KubeletHasInsufficientPID',
      'kubelet has insufficient PID available',
      'NodeHasInsufficientPID',
    ],
  ] as const)('%s pressure → %s True %s', (flag, type, reason, message, event) => {
    const first = buildNodeStatus(undefined, input()).status;
    const pressure = { memory: false, disk: false, pid: false, [flag]: true };
    const { status, events } = buildNodeStatus(first, input({ now: T1, pressure }));
    expect(cond(status, type)).toEqual({
      type,
      status: 'True',
      reason,
      message,
      lastHeartbeatTime: ts(T1),
      lastTransitionTime: ts(T1),
    });
    expect(events).toEqual([
      { type: 'Normal', reason: event, message: `Node worker-1 status is now: ${event}` },
    ]);
    expect(nodeStatusChanged(first, status)).toBe(true);
  });

  it('Ready goes False KubeletNotReady with the runtime message, then back to True', () => {
    const first = buildNodeStatus(undefined, input()).status;
    const down = buildNodeStatus(
      first,
      input({ now: T1, health: { ready: false, message: 'container runtime is down' } }),
    );
    expect(cond(down.status, 'Ready')).toEqual({
      type: 'Ready',
      status: 'False',
      reason: 'KubeletNotReady',
      message: 'container runtime is down',
      lastHeartbeatTime: ts(T1),
      lastTransitionTime: ts(T1),
    });
    expect(down.events.map((e) => e.reason)).toEqual(['NodeNotReady']);
    expect(down.events[0]?.message).toBe('Node worker-1 status is now: NodeNotReady');

    const up = buildNodeStatus(down.status, input({ now: T2 }));
    expect(cond(up.status, 'Ready')).toMatchObject({
      status: 'True',
      reason: 'KubeletReady',
      lastTransitionTime: ts(T2),
    });
    expect(up.events.map((e) => e.reason)).toEqual(['NodeReady']);
  });

  it('a changed not-ready message is a change but not a transition', () => {
    const a = buildNodeStatus(
      undefined,
      input({ health: { ready: false, message: 'PLEG is not healthy: x' } }),
    );
    const b = buildNodeStatus(
      a.status,
      input({ now: T1, health: { ready: false, message: 'container runtime network not ready: y' } }),
    );
    expect(cond(b.status, 'Ready')).toMatchObject({
      status: 'False',
      message: 'container runtime network not ready: y',
      lastTransitionTime: ts(T0),
    });
    expect(b.events).toEqual([]);
    expect(nodeStatusChanged(a.status, b.status)).toBe(true);
  });

  it('keeps foreign conditions and their order, Ready stays where it was', () => {
    const prev: NodeStatus = {
      conditions: [
        { type: 'NetworkUnavailable', status: 'False', reason: 'RouteCreated', message: 'ok' },
        { type: 'Ready', status: 'True', reason: 'KubeletReady', lastTransitionTime: ts(T0) },
      ],
    };
    const { status } = buildNodeStatus(prev, input({ now: T1 }));
    expect(status.conditions?.map((c) => c.type)).toEqual([
      'NetworkUnavailable',
      'Ready',
      'MemoryPressure',
      'DiskPressure',
      'PIDPressure',
    ]);
    expect(cond(status, 'NetworkUnavailable')).toEqual(prev.conditions?.[0]);
    expect(cond(status, 'Ready')?.lastTransitionTime).toBe(ts(T0));
  });

  it('a pressure condition only rewrites reason/message when its status flips (upstream)', () => {
    const prev: NodeStatus = {
      conditions: [{ type: 'MemoryPressure', status: 'False', reason: 'Other', message: 'set by someone' }],
    };
    const { status, events } = buildNodeStatus(prev, input());
    expect(cond(status, 'MemoryPressure')).toMatchObject({ reason: 'Other', message: 'set by someone' });
    expect(events.map((e) => e.reason)).not.toContain('NodeHasSufficientMemory');
  });

  it('reports missing capacity like upstream', () => {
    const prev = buildNodeStatus(undefined, input()).status;
    expect(cond(prev, 'Ready')?.status).toBe('True');
    expect(aggregateErrors(['container runtime is down', 'missing node capacity for resources: pods'])).toBe(
      '[container runtime is down, missing node capacity for resources: pods]',
    );
  });
});

describe('aggregateErrors', () => {
  it.each([
    [[], ''],
    [['a'], 'a'],
    [['a', 'b'], '[a, b]'],
    [['a', 'a'], 'a'],
    [['a', '', 'b', 'a'], '[a, b]'],
  ])('%j → %s', (msgs, want) => {
    expect(aggregateErrors(msgs)).toBe(want);
  });
});

describe('capacity and allocatable', () => {
  it('reports capacity and subtracts reservations, eviction thresholds and hugepages', () => {
    const { status } = buildNodeStatus(
      undefined,
      input({
        facts: { ...facts, hugepages: { '2Mi': 0, '1Gi': 2 * Gi } },
        config: {
          nodeName: 'worker-1',
          kubeReserved: { cpuMillis: 100, memoryBytes: 256 * Mi, ephemeralStorageBytes: Gi, pids: 1000 },
          systemReserved: { cpuMillis: 200 },
          evictionHard: DEFAULT_EVICTION_HARD,
        },
      }),
    );
    expect(status.capacity).toEqual({
      cpu: '4',
      memory: '16Gi',
      pods: '110',
      'ephemeral-storage': '100Gi',
      'hugepages-2Mi': '0',
      'hugepages-1Gi': '2Gi',
    });
    expect(status.allocatable).toEqual({
      cpu: '3700m',
      // 16Gi − 256Mi − 100Mi − 2Gi of hugepages
      memory: '13980Mi',
      pods: '110',
      // 100Gi − 1Gi − trunc(100Gi × float32(0.1))
      'ephemeral-storage': String(100 * Gi - Gi - 10737418400),
      'hugepages-2Mi': '0',
      'hugepages-1Gi': '2Gi',
    });
  });

  it('without reservations allocatable equals capacity', () => {
    const { status } = buildNodeStatus(undefined, input({ config: { nodeName: 'n' } }));
    expect(status.allocatable).toEqual(status.capacity);
  });

  it('clamps allocatable at zero', () => {
    const { status } = buildNodeStatus(
      undefined,
      input({ config: { nodeName: 'n', kubeReserved: { cpuMillis: 8000, memoryBytes: 32 * Gi } } }),
    );
    expect(status.allocatable?.cpu).toBe('0');
    expect(status.allocatable?.memory).toBe('0');
  });

  it.each([
    [undefined, undefined, '110'],
    [50, undefined, '50'],
    [110, 10, '40'],
    [20, 10, '20'],
  ])('maxPods %s podsPerCore %s → pods %s', (maxPods, podsPerCore, want) => {
    const { status } = buildNodeStatus(undefined, input({ config: { nodeName: 'n', maxPods, podsPerCore } }));
    expect(status.capacity?.pods).toBe(want);
  });

  it('keeps device-plugin resources and drops hugepage sizes the machine no longer has', () => {
    const prev: NodeStatus = {
      capacity: { 'example.com/gpu': '2', 'hugepages-32Mi': '0', cpu: '2' },
      allocatable: { 'example.com/gpu': '1', 'hugepages-32Mi': '0', cpu: '2' },
    };
    const { status } = buildNodeStatus(prev, input());
    expect(status.capacity?.['example.com/gpu']).toBe('2');
    expect(status.allocatable?.['example.com/gpu']).toBe('1');
    expect(status.capacity).not.toHaveProperty('hugepages-32Mi');
    expect(status.allocatable).not.toHaveProperty('hugepages-32Mi');
    expect(status.capacity?.cpu).toBe('4');
  });
});

describe('addresses, nodeInfo, endpoints', () => {
  it('uses the first host address and the lower-cased hostname by default', () => {
    const { status } = buildNodeStatus(undefined, input());
    expect(status.addresses).toEqual([
      { type: 'InternalIP', address: '10.0.0.5' },
      { type: 'Hostname', address: 'worker-1' },
    ]);
  });

  it('uses --node-ip (dual-stack) and a hostname override', () => {
    const { status } = buildNodeStatus(
      undefined,
      input({ config: { nodeName: 'n', nodeIPs: ['10.1.1.1', 'fd00::1'], hostname: 'Custom.Example' } }),
    );
    expect(status.addresses).toEqual([
      { type: 'InternalIP', address: '10.1.1.1' },
      { type: 'InternalIP', address: 'fd00::1' },
      { type: 'Hostname', address: 'custom.example' },
    ]);
  });

  it('fills nodeInfo and the kubelet endpoint', () => {
    const { status } = buildNodeStatus(undefined, input());
    expect(status.nodeInfo).toEqual({
      machineID: 'm-123',
      systemUUID: 'uuid-abc',
      bootID: 'boot-1',
      kernelVersion: '6.1.0-18-amd64',
      osImage: 'Debian GNU/Linux 12 (bookworm)',
      containerRuntimeVersion: 'containerd://1.6.20~ds1',
      kubeletVersion: 'v1.37.2',
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: 'amd64',
    });
    expect(status.daemonEndpoints).toEqual({ kubeletEndpoint: { Port: 10250 } });
  });

  it('reports an unknown runtime version as Unknown, a custom kubelet version and port', () => {
    const { status } = buildNodeStatus(
      undefined,
      input({
        runtime: { name: 'containerd', version: '' },
        config: { nodeName: 'n', kubeletVersion: 'v1.37.9', kubeletPort: 12345 },
        swapBytes: 0,
      }),
    );
    expect(status.nodeInfo?.containerRuntimeVersion).toBe('containerd://Unknown');
    expect(status.nodeInfo?.kubeletVersion).toBe('v1.37.9');
    expect(status.nodeInfo?.swap).toEqual({ capacity: 0 });
    expect(status.daemonEndpoints?.kubeletEndpoint?.Port).toBe(12345);
  });

  it('emits Rebooted (Warning) when the boot id changed', () => {
    const prev = buildNodeStatus(undefined, input()).status;
    const { events, status } = buildNodeStatus(
      prev,
      input({ now: T1, facts: { ...facts, bootId: 'boot-2' } }),
    );
    expect(events).toEqual([
      { type: 'Warning', reason: 'Rebooted', message: 'Node worker-1 has been rebooted, boot id: boot-2' },
    ]);
    expect(status.nodeInfo?.bootID).toBe('boot-2');
    expect(nodeStatusChanged(prev, status)).toBe(true);
  });
});

describe('images', () => {
  it('sorts largest first (ties: higher id first), keeps 50 and 5 names each', () => {
    const many = Array.from({ length: 60 }, (_, i) => ({ names: [`img-${i}`], sizeBytes: i * 10 }));
    const out = nodeImages([
      ...many,
      { names: ['a', 'b', 'c', 'd', 'e', 'f'], sizeBytes: 10_000, id: 'sha256:1' },
      { names: ['tie'], sizeBytes: 10_000, id: 'sha256:2' },
    ]);
    expect(out).toHaveLength(50);
    expect(out[0]).toEqual({ names: ['tie'], sizeBytes: 10_000 });
    expect(out[1]).toEqual({ names: ['a', 'b', 'c', 'd', 'e'], sizeBytes: 10_000 });
    expect(out[2]).toEqual({ names: ['img-59'], sizeBytes: 590 });
    expect(nodeImages(many, -1)).toHaveLength(60);
  });

  it('omits the field when there are no images; keeps the previous list when unknown', () => {
    const prev: NodeStatus = { images: [{ names: ['x'], sizeBytes: 1 }] };
    expect(buildNodeStatus(prev, input({ images: [] })).status.images).toBeUndefined();
    expect(buildNodeStatus(prev, input({ images: undefined })).status.images).toEqual(prev.images);
  });
});

describe('buildInitialNode', () => {
  it('labels, annotation, spec and status like upstream initialNode', () => {
    const { node, events } = buildInitialNode(
      input({
        config: {
          nodeName: 'worker-1',
          nodeLabels: { 'node.kubernetes.io/instance-type': 'big', 'kubernetes.io/hostname': 'override' },
          registerWithTaints: [{ key: 'dedicated', value: 'infra', effect: 'NoExecute' }],
          registerSchedulable: false,
          providerID: 'local://worker-1',
        },
      }),
    );
    expect(node.metadata).toEqual({
      name: 'worker-1',
      labels: {
        'kubernetes.io/hostname': 'override',
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': 'amd64',
        'node.kubernetes.io/instance-type': 'big',
      },
      annotations: { 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    });
    expect(node.spec).toEqual({
      unschedulable: true,
      taints: [
        { key: 'dedicated', value: 'infra', effect: 'NoExecute' },
        { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' },
      ],
      providerID: 'local://worker-1',
    });
    expect(node.status?.conditions?.at(-1)?.type).toBe('Ready');
    expect(events).toHaveLength(3);
  });

  it('a schedulable node has an empty spec; CMAD can be turned off', () => {
    const { node } = buildInitialNode(
      input({ config: { nodeName: 'n', enableControllerAttachDetach: false } }),
    );
    expect(node.spec).toEqual({});
    expect(node.metadata?.annotations).toBeUndefined();
    expect(node.metadata?.labels?.['kubernetes.io/hostname']).toBe('worker-1');
  });
});

describe('nodeStatusChanged', () => {
  const base = buildNodeStatus(undefined, input()).status;
  it.each<[string, NodeStatus | undefined, NodeStatus | undefined, boolean]>([
    ['both missing', undefined, undefined, false],
    ['one missing', base, undefined, true],
    ['identical', base, structuredClone(base), false],
    ['conditions reordered', base, { ...base, conditions: [...(base.conditions ?? [])].reverse() }, false],
    ['missing vs empty list', { ...base, images: undefined }, { ...base, images: [] }, false],
    ['capacity changed', base, { ...base, capacity: { ...base.capacity, pods: '100' } }, true],
    ['condition removed', base, { ...base, conditions: base.conditions?.slice(1) }, true],
    [
      'condition transition time changed',
      base,
      {
        ...base,
        conditions: base.conditions?.map((c) =>
          c.type === 'Ready' ? { ...c, lastTransitionTime: ts(T2) } : c,
        ),
      },
      true,
    ],
  ])('%s → %s', (_name, a, b, want) => {
    expect(nodeStatusChanged(a, b)).toBe(want);
  });
});

describe('schedulableEvent', () => {
  it('fires only on a change', () => {
    expect(schedulableEvent('n', false, false)).toBeUndefined();
    expect(schedulableEvent('n', false, true)).toEqual({
      type: 'Normal',
      reason: 'NodeNotSchedulable',
      message: 'Node n status is now: NodeNotSchedulable',
    });
    expect(schedulableEvent('n', true, false)?.reason).toBe('NodeSchedulable');
  });
});
