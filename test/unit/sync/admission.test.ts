import { describe, expect, it } from 'vitest';
import type { Pod } from '../../../src/api/types.js';
import { type AdmissionNode, admitPod, podRequests } from '../../../src/sync/admission.js';
import { newSysctlAllowlist, safeSysctlAllowlist } from '../../../src/sync/sysctl.js';

const node: AdmissionNode = {
  name: 'n1',
  labels: { 'kubernetes.io/hostname': 'n1', disk: 'ssd', rack: '7' },
  allocatable: { cpuMillis: 2000, memoryBytes: 4 * 1024 ** 3, ephemeralBytes: 10 * 1024 ** 3, pods: 3 },
  os: 'linux',
  sysctls: newSysctlAllowlist(safeSysctlAllowlist('6.1.0-18-amd64')),
};

function pod(name: string, spec: Partial<NonNullable<Pod['spec']>> = {}, cpu?: string, memory?: string): Pod {
  const requests: Record<string, string> = {};
  if (cpu) requests.cpu = cpu;
  if (memory) requests.memory = memory;
  return {
    metadata: { name, namespace: 'default', uid: name },
    spec: { containers: [{ name: 'c', image: 'x', resources: { requests } }], ...spec },
  };
}

describe('admitPod', () => {
  it('admits a pod that fits', () => {
    expect(admitPod(pod('a', {}, '500m', '1Gi'), [], node)).toEqual({ admit: true });
  });

  it('rejects on cpu with upstream reason and message', () => {
    const r = admitPod(pod('b', {}, '1500m'), [pod('a', {}, '1')], node);
    expect(r).toEqual({
      admit: false,
      reason: 'OutOfcpu',
      message: "Node didn't have enough resource: cpu, requested: 1500, used: 1000, capacity: 2000",
    });
  });

  it('rejects on memory and on the pod count', () => {
    expect(admitPod(pod('m', {}, undefined, '5Gi'), [], node)).toMatchObject({
      admit: false,
      reason: 'OutOfmemory',
    });
    const three = [pod('1'), pod('2'), pod('3')];
    expect(admitPod(pod('4'), three, node)).toEqual({
      admit: false,
      reason: 'OutOfpods',
      message: "Node didn't have enough resource: pods, requested: 1, used: 3, capacity: 3",
    });
  });

  it('checks nodeSelector and required node affinity', () => {
    expect(admitPod(pod('s', { nodeSelector: { disk: 'ssd' } }), [], node)).toEqual({ admit: true });
    expect(admitPod(pod('s', { nodeSelector: { disk: 'hdd' } }), [], node)).toEqual({
      admit: false,
      reason: 'NodeAffinity',
      message: "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector",
    });
    const affinity = (op: string, values: string[]) => ({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'rack', operator: op, values }] }],
        },
      },
    });
    expect(admitPod(pod('g', { affinity: affinity('Gt', ['5']) }), [], node).admit).toBe(true);
    expect(admitPod(pod('l', { affinity: affinity('Lt', ['5']) }), [], node).admit).toBe(false);
    expect(admitPod(pod('n', { affinity: affinity('NotIn', ['7']) }), [], node).admit).toBe(false);
  });

  it('rejects a pod bound to another node and conflicting host ports', () => {
    expect(admitPod(pod('x', { nodeName: 'other' }), [], node)).toMatchObject({
      admit: false,
      reason: 'NodeName',
    });
    const hp = (name: string, hostIP?: string) =>
      pod(name, {
        containers: [
          {
            name: 'c',
            image: 'x',
            ports: [{ containerPort: 80, hostPort: 8080, ...(hostIP ? { hostIP } : {}) }],
          },
        ],
      });
    expect(admitPod(hp('b'), [hp('a')], node)).toMatchObject({ admit: false, reason: 'NodePorts' });
    expect(admitPod(hp('b', '10.0.0.2'), [hp('a', '10.0.0.1')], node)).toEqual({ admit: true });
  });

  it('counts init containers and sidecars like upstream', () => {
    const p = pod('i', {
      initContainers: [
        { name: 'side', image: 'x', restartPolicy: 'Always', resources: { requests: { cpu: '100m' } } },
        { name: 'init', image: 'x', resources: { requests: { cpu: '1' } } },
      ],
      containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '200m' } } }],
    });
    // max(regular 200m + sidecar 100m, init 1000m + sidecar started before it 100m)
    expect(podRequests(p).cpu).toBe(1100);
  });

  // upstream lifecycle/predicate.go: the OS checks come before the general filter.
  it('rejects a pod whose spec.os is not the node OS (PodOSNotSupported)', () => {
    expect(admitPod(pod('w', { os: { name: 'windows' }, nodeName: 'n1' }), [], node)).toEqual({
      admit: false,
      reason: 'PodOSNotSupported',
      message: "Failed to admit pod as the OS field doesn't match node OS",
    });
    expect(admitPod(pod('l', { os: { name: 'linux' } }), [], node)).toEqual({ admit: true });
  });

  it('rejects a pod whose own kubernetes.io/os label is not the node OS', () => {
    const p = pod('w', { os: { name: 'windows' } });
    p.metadata = { ...p.metadata, labels: { 'kubernetes.io/os': 'windows' } };
    expect(admitPod(p, [], node)).toEqual({
      admit: false,
      reason: 'PodOSSelectorNodeLabelDoesNotMatch',
      message: "Failed to admit pod as the `kubernetes.io/os` label doesn't match node label",
    });
    // the node's label is taken as its OS even when the Node object lacks it
    const q = pod('l');
    q.metadata = { ...q.metadata, labels: { 'kubernetes.io/os': 'linux' } };
    expect(admitPod(q, [], node)).toEqual({ admit: true });
  });

  it('reports resources before node affinity, node name and ports (scheduler AdmissionCheck order)', () => {
    expect(
      admitPod(pod('x', { nodeName: 'other', nodeSelector: { disk: 'hdd' } }, '3'), [], node),
    ).toMatchObject({
      reason: 'OutOfcpu',
    });
    expect(admitPod(pod('x', { nodeName: 'other', nodeSelector: { disk: 'hdd' } }), [], node)).toMatchObject({
      reason: 'NodeAffinity',
    });
  });

  it('rejects an unsafe sysctl that is not allowed with SysctlForbidden', () => {
    const p = pod('s', { securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '10000000000' }] } });
    expect(admitPod(p, [], node)).toEqual({
      admit: false,
      reason: 'SysctlForbidden',
      message: 'forbidden sysctl: "kernel.msgmax" not allowlisted',
    });
    const allowed = { ...node, sysctls: newSysctlAllowlist(['kernel.msg*']) };
    expect(admitPod(p, [], allowed)).toEqual({ admit: true });
  });
});

describe('names joined into paths', () => {
  it('admits DNS-1123 names, 253-character pod names and UUIDs', () => {
    const p = pod('n'.repeat(253));
    p.metadata = { ...p.metadata, uid: '0b8f2c4e-7a51-4d8e-9b3f-2f6d1c9a0e11' };
    expect(admitPod(p, [], node)).toEqual({ admit: true });
  });

  it.each([
    ['namespace', (p: Pod) => Object.assign(p.metadata ?? {}, { namespace: '../etc' }), 'namespace "../etc"'],
    ['name', (p: Pod) => Object.assign(p.metadata ?? {}, { name: 'a/b' }), 'name "a/b"'],
    ['uid', (p: Pod) => Object.assign(p.metadata ?? {}, { uid: '..' }), 'uid ".."'],
    ['empty uid', (p: Pod) => Object.assign(p.metadata ?? {}, { uid: '' }), 'uid ""'],
    [
      'container',
      (p: Pod) => Object.assign(p.spec?.containers[0] ?? {}, { name: '../../x' }),
      'container name "../../x"',
    ],
    [
      'volume',
      (p: Pod) => Object.assign(p.spec ?? {}, { volumes: [{ name: '.', emptyDir: {} }] }),
      'volume name "."',
    ],
    ['NUL', (p: Pod) => Object.assign(p.metadata ?? {}, { name: 'a\u0000b' }), 'name "a\\u0000b"'],
  ])('refuses a %s that is not one path component (InvalidPod)', (_, mutate, what) => {
    const p = pod('x');
    mutate(p);
    expect(admitPod(p, [], node)).toEqual({
      admit: false,
      reason: 'InvalidPod',
      message: `its ${what} cannot be used as a file name`,
    });
  });
});
