import { describe, expect, it } from 'vitest';
import type { Pod } from '../../../src/api/types.js';
import type { AdmissionNode, AdmissionRequirement } from '../../../src/sync/admission.js';
import { admitWithPreemption, podsToPreempt } from '../../../src/sync/preemption.js';
import { newSysctlAllowlist } from '../../../src/sync/sysctl.js';

// Vectors from upstream pkg/kubelet/preemption/preemption_test.go (v1.37.2) TestGetPodsToPreempt.
const Mi = 1024 * 1024;
const pod = (
  name: string,
  requests?: Record<string, string>,
  limits?: Record<string, string>,
  priority?: number,
): Pod => ({
  metadata: { name, uid: name, namespace: priority ? 'kube-system' : 'default', annotations: {} },
  spec: {
    ...(priority ? { priority } : {}),
    containers: [
      {
        name: `${name}-container`,
        resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) },
      },
    ],
  },
});
const small = { cpu: '100m', memory: '100Mi' };
const high = { cpu: '300m', memory: '300Mi' };
const all = {
  bestEffort: pod('bestEffort'),
  burstable: pod('burstable', small),
  guaranteed: pod('guaranteed', small, small),
  highRequestBurstable: pod('highRequestBurstable', high),
  highRequestGuaranteed: pod('highRequestGuaranteed', high, high),
  clusterCritical: pod('clusterCritical', small, undefined, 2_000_000_000),
  nodeCritical: pod('nodeCritical', small, undefined, 2_000_000_100),
};
const reqs = (cpu: number, memMi: number, pods: number): AdmissionRequirement[] => [
  ...(cpu > 0 ? [{ resourceName: 'cpu' as const, quantity: cpu }] : []),
  ...(memMi > 0 ? [{ resourceName: 'memory' as const, quantity: memMi * Mi }] : []),
  ...(pods > 0 ? [{ resourceName: 'pods' as const, quantity: pods }] : []),
];
type Name = keyof typeof all;

describe('podsToPreempt (upstream getPodsToPreempt)', () => {
  it.each<[string, Name, Name[], AdmissionRequirement[], Name[] | 'error']>([
    ['no requirements', 'clusterCritical', [], reqs(0, 0, 0), []],
    ['no pods', 'clusterCritical', [], reqs(0, 0, 1), 'error'],
    [
      'equal pods and resources requirements',
      'clusterCritical',
      ['burstable'],
      reqs(100, 100, 1),
      ['burstable'],
    ],
    ['higher requirements than pod requests', 'clusterCritical', ['burstable'], reqs(200, 200, 2), 'error'],
    [
      'choose between bestEffort and burstable',
      'clusterCritical',
      ['burstable', 'bestEffort'],
      reqs(0, 0, 1),
      ['bestEffort'],
    ],
    [
      'choose between burstable and guaranteed',
      'clusterCritical',
      ['burstable', 'guaranteed'],
      reqs(0, 0, 1),
      ['burstable'],
    ],
    [
      'choose lower request burstable if it meets requirements',
      'clusterCritical',
      ['bestEffort', 'highRequestBurstable', 'burstable'],
      reqs(100, 100, 0),
      ['burstable'],
    ],
    [
      'choose higher request burstable if lower does not meet requirements',
      'clusterCritical',
      ['bestEffort', 'burstable', 'highRequestBurstable'],
      reqs(150, 150, 0),
      ['highRequestBurstable'],
    ],
    [
      'multiple pods required',
      'clusterCritical',
      ['bestEffort', 'burstable', 'highRequestBurstable', 'guaranteed', 'highRequestGuaranteed'],
      reqs(350, 350, 0),
      ['burstable', 'highRequestBurstable'],
    ],
    [
      "evict guaranteed when we have to, and don't evict the extra burstable",
      'clusterCritical',
      ['bestEffort', 'burstable', 'highRequestBurstable', 'guaranteed', 'highRequestGuaranteed'],
      reqs(0, 550, 0),
      ['highRequestBurstable', 'highRequestGuaranteed'],
    ],
    [
      'evict cluster critical pod for node critical pod',
      'nodeCritical',
      ['clusterCritical'],
      reqs(100, 0, 0),
      ['clusterCritical'],
    ],
    [
      'can not evict node critical pod for cluster critical pod',
      'clusterCritical',
      ['nodeCritical'],
      reqs(100, 0, 0),
      'error',
    ],
  ])('%s', (_name, preemptor, input, requirements, want) => {
    const run = () =>
      podsToPreempt(
        all[preemptor],
        input.map((n) => all[n]),
        requirements,
      ).map((p) => p.metadata?.name);
    if (want === 'error') expect(run).toThrow(/no set of running pods found to reclaim resources/);
    else expect(run().sort()).toEqual([...want].sort());
  });
});

describe('admitWithPreemption', () => {
  const node: AdmissionNode = {
    name: 'n',
    labels: {},
    allocatable: { cpuMillis: 1000, memoryBytes: 1024 * Mi, ephemeralBytes: 10 * 1024 * Mi, pods: 2 },
    os: 'linux',
    sysctls: newSysctlAllowlist([]),
  };
  const staticPod: Pod = {
    metadata: {
      name: 'etcd-n',
      namespace: 'kube-system',
      uid: 's',
      annotations: { 'kubernetes.io/config.source': 'file' },
    },
    spec: { containers: [{ name: 'etcd', resources: { requests: { cpu: '100m' } } }] },
  };

  it('admits a critical static pod on a full node and names the pods to preempt', () => {
    const v = admitWithPreemption(staticPod, [all.bestEffort, all.burstable], node);
    expect(v).toEqual({ admit: true, preempt: [all.bestEffort] });
  });

  it('rejects a non-critical pod on a full node as before', () => {
    const v = admitWithPreemption(pod('x'), [all.bestEffort, all.burstable], node);
    expect(v).toMatchObject({ admit: false, reason: 'OutOfpods' });
  });

  it('reports UnexpectedAdmissionError when preemption cannot free enough', () => {
    const v = admitWithPreemption(staticPod, [all.nodeCritical, all.clusterCritical], node);
    expect(v).toMatchObject({ admit: false, reason: 'UnexpectedAdmissionError' });
    expect(v.admit ? '' : v.message).toMatch(
      /^Unexpected error while attempting to recover from admission failure: preemption: error finding a set of pods to preempt: no set of running pods found to reclaim resources: \[\(res: pods, q: 1\), \]$/,
    );
  });
});
