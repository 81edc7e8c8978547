import { describe, expect, it } from 'vitest';
import type { Node } from '../../../src/api/types.js';
import type { HostFacts } from '../../../src/host/types.js';
import { nodeStatusPatch, reconcileExistingNode, requiredLabels } from '../../../src/node/patch.js';
import { buildInitialNode, buildNodeStatus, type NodeStatusInput } from '../../../src/node/setters.js';

const facts: HostFacts = {
  hostname: 'n1',
  machineId: 'm',
  systemUuid: 'u',
  bootId: 'b',
  kernelVersion: 'k',
  osImage: 'os',
  operatingSystem: 'linux',
  architecture: 'arm64',
  cpuCores: 2,
  memoryBytes: 4 * 1024 ** 3,
  ephemeralStorageBytes: 20 * 1024 ** 3,
  hugepages: { '2Mi': 0 },
  addresses: ['10.0.0.1'],
};
const T0 = Date.parse('2026-01-01T00:00:00Z');

function input(over: Partial<NodeStatusInput> = {}): NodeStatusInput {
  return {
    config: { nodeName: 'n1' },
    facts,
    runtime: { name: 'containerd', version: '2.0' },
    health: { ready: true, message: '' },
    pressure: { memory: false, disk: false, pid: false },
    now: T0,
    ...over,
  };
}

const registered = (): Node => buildInitialNode(input()).node;

describe('nodeStatusPatch', () => {
  it('is undefined when nothing changed', () => {
    const node = registered();
    expect(nodeStatusPatch(node, structuredClone(node.status ?? {}))).toBeUndefined();
  });

  it('sends only the conditions (merged by type, order kept) when only heartbeats moved', () => {
    const node = registered();
    const { status } = buildNodeStatus(node.status, input({ now: T0 + 10_000 }));
    const patch = nodeStatusPatch(node, status);
    expect(Object.keys(patch ?? {})).toEqual(['status']);
    const s = patch?.status as Record<string, unknown>;
    expect(Object.keys(s).sort()).toEqual(['$setElementOrder/conditions', 'conditions']);
    expect(s['$setElementOrder/conditions']).toEqual([
      { type: 'MemoryPressure' },
      { type: 'DiskPressure' },
      { type: 'PIDPressure' },
      { type: 'Ready' },
    ]);
    expect((s.conditions as unknown[]).length).toBe(4);
  });

  it('replaces addresses wholesale with a $patch: replace element when they changed', () => {
    const node = registered();
    const { status } = buildNodeStatus(
      node.status,
      input({ config: { nodeName: 'n1', nodeIPs: ['10.9.9.9'] } }),
    );
    const s = nodeStatusPatch(node, status)?.status as Record<string, unknown>;
    expect(s.addresses).toEqual([
      { type: 'InternalIP', address: '10.9.9.9' },
      { type: 'Hostname', address: 'n1' },
      { $patch: 'replace' },
    ]);
  });

  it('sends plain addresses when there were none', () => {
    const node = registered();
    const old: Node = { ...node, status: { ...node.status, addresses: undefined } };
    const s = nodeStatusPatch(old, node.status ?? {})?.status as Record<string, unknown>;
    expect(s.addresses).toEqual(node.status?.addresses);
  });

  it('diffs maps key by key and deletes with null', () => {
    const node = registered();
    const next = structuredClone(node.status ?? {});
    next.capacity = { ...next.capacity, pods: '50' };
    delete next.capacity['hugepages-2Mi'];
    next.nodeInfo = { ...(next.nodeInfo ?? ({} as never)), kernelVersion: 'k2' };
    const s = nodeStatusPatch(node, next)?.status;
    expect(s).toEqual({
      capacity: { pods: '50', 'hugepages-2Mi': null },
      nodeInfo: { kernelVersion: 'k2' },
    });
  });

  it('adds missing os/arch labels in metadata', () => {
    const node = registered();
    delete node.metadata?.labels?.['kubernetes.io/arch'];
    const labels = requiredLabels(node, 'linux', 'arm64');
    expect(labels).toEqual({ 'kubernetes.io/arch': 'arm64' });
    expect(nodeStatusPatch(node, node.status ?? {}, labels)).toEqual({
      metadata: { labels: { 'kubernetes.io/arch': 'arm64' } },
    });
  });
});

describe('reconcileExistingNode', () => {
  it('is undefined for a node that matches', () => {
    const n = registered();
    expect(reconcileExistingNode(n, structuredClone(n))).toBeUndefined();
  });

  it('restores default labels and the CMAD annotation, leaves foreign labels alone', () => {
    const initial = registered();
    const existing = structuredClone(initial);
    existing.metadata = {
      name: 'n1',
      labels: { 'kubernetes.io/hostname': 'old', team: 'x', 'kubernetes.io/os': 'linux' },
    };
    expect(reconcileExistingNode(initial, existing)).toEqual({
      metadata: {
        labels: {
          'kubernetes.io/hostname': 'n1',
          'kubernetes.io/arch': 'arm64',
          'beta.kubernetes.io/os': 'linux',
          'beta.kubernetes.io/arch': 'arm64',
        },
        annotations: { 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
      },
    });
  });

  it('removes the annotation when attach/detach is not controller-managed any more', () => {
    const initial = buildInitialNode(
      input({ config: { nodeName: 'n1', enableControllerAttachDetach: false } }),
    ).node;
    const existing = registered();
    expect(reconcileExistingNode(initial, existing)?.metadata).toEqual({
      annotations: { 'volumes.kubernetes.io/controller-managed-attach-detach': null },
    });
  });

  it('zeroes extended resources and fixes hugepages', () => {
    const initial = registered();
    const existing = structuredClone(initial);
    existing.status = {
      ...existing.status,
      capacity: {
        ...existing.status?.capacity,
        'example.com/gpu': '4',
        'hugepages-1Gi': '1Gi',
        'hugepages-2Mi': '4Mi',
      },
      allocatable: { ...existing.status?.allocatable, 'example.com/gpu': '4', 'hugepages-1Gi': '1Gi' },
    };
    expect(reconcileExistingNode(initial, existing)?.status).toEqual({
      capacity: { 'example.com/gpu': '0', 'hugepages-1Gi': null, 'hugepages-2Mi': '0' },
      allocatable: { 'example.com/gpu': '0', 'hugepages-1Gi': null },
    });
  });
});
