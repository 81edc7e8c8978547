import { describe, expect, it } from 'vitest';
import type { Pod } from '../../../src/api/types.js';
import type { ContainerRuntimeStatus, PodRuntimeStatus } from '../../../src/cri/runtimeState.js';
import { explainPod, explainRejection } from '../../../src/sync/explain.js';
import { containerHash } from '../../../src/sync/hash.js';
import { crashBackoffKey } from '../../../src/sync/kuberuntime/container.js';
import { renderExplain } from '../../../src/timeline/render.js';
import { Backoff } from '../../../src/util/backoff.js';

// The pure explain: the words for a running container whose liveness probe failed (the moment
// between the probe's verdict and the kill is too short to catch on the whole sync core).

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const web = {
  name: 'web',
  image: 'busybox',
  livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, failureThreshold: 3 },
};
const pod: Pod = {
  metadata: { name: 'p', namespace: 'ns', uid: 'u1' },
  spec: { restartPolicy: 'Always', containers: [web] },
};
const running: ContainerRuntimeStatus = {
  id: 'c1',
  name: 'web',
  podSandboxId: 's1',
  state: 'running',
  createdAt: NOW - 60_000,
  startedAt: NOW - 60_000,
  finishedAt: 0,
  exitCode: 0,
  reason: '',
  message: '',
  image: 'busybox',
  imageRef: 'sha256:1',
  hash: containerHash(web),
  restartCount: 0,
  logPath: '',
  terminationLogPath: '',
  labels: {},
  annotations: {},
};
const rt: PodRuntimeStatus = {
  uid: 'u1',
  name: 'p',
  namespace: 'ns',
  sandboxes: [
    {
      id: 's1',
      attempt: 0,
      ready: true,
      createdAt: NOW - 61_000,
      ips: ['10.0.0.5'],
      hostNetwork: false,
      labels: {},
      annotations: {},
    },
  ],
  containers: [running],
  ips: ['10.0.0.5'],
  observedAt: NOW,
};

describe('explainPod', () => {
  it('names the liveness probe, its threshold and when it failed as the reason for a restart', () => {
    const x = explainPod({
      pod,
      now: NOW,
      monoNow: 5_000,
      worker: 'sync',
      runtime: rt,
      liveness: (id) => (id === 'c1' ? 'Failure' : undefined),
      startup: () => undefined,
      crashBackoff: new Backoff(10_000, 300_000),
      backoffKey: crashBackoffKey,
      startFailures: new Map(),
      timeline: [
        {
          kind: 'probe',
          step: 'liveness Failure',
          container: 'web',
          at: 4_000,
          time: '2026-01-01T11:59:59.000Z',
        },
      ],
    });
    expect(x.actions).toEqual([
      {
        action: 'kill container',
        container: 'web',
        why: 'Container web failed liveness probe, will be restarted: liveness probe failed 3 times in a row (at 2026-01-01T11:59:59.000Z)',
      },
      {
        action: 'start container',
        container: 'web',
        why: 'Container web failed liveness probe, will be restarted',
      },
    ]);
    expect(x.summary).toBe(
      'kill container web: Container web failed liveness probe, will be restarted: liveness probe failed 3 times in a row (at 2026-01-01T11:59:59.000Z)',
    );
  });

  it('says nothing is to be done for a healthy pod', () => {
    const x = explainPod({
      pod,
      now: NOW,
      monoNow: 5_000,
      worker: 'sync',
      runtime: rt,
      liveness: () => 'Success',
      startup: () => undefined,
      crashBackoff: new Backoff(10_000, 300_000),
      backoffKey: crashBackoffKey,
      startFailures: new Map(),
      timeline: [],
    });
    expect(x.actions).toEqual([]);
    expect(x.summary).toBe('nothing to do: every container is as it should be');
    expect(x.containers.web).toBe('running since 2026-01-01T11:59:00.000Z');
  });
});

describe('explainRejection', () => {
  it('puts upstream InsufficientResourceError numbers in units', () => {
    expect(
      explainRejection({
        reason: 'OutOfmemory',
        message: `Node didn't have enough resource: memory, requested: ${512 * 2 ** 20}, used: ${724 * 2 ** 20}, capacity: ${1024 * 2 ** 20}`,
      }),
    ).toBe(
      'not admitted: OutOfmemory, 512Mi memory requested, 300Mi allocatable left (724Mi of 1Gi used by other pods)',
    );
    expect(
      explainRejection({
        reason: 'OutOfcpu',
        message: "Node didn't have enough resource: cpu, requested: 1500, used: 1000, capacity: 2000",
      }),
    ).toBe(
      'not admitted: OutOfcpu, 1500m cpu requested, 1000m allocatable left (1000m of 2000m used by other pods)',
    );
    expect(
      explainRejection({
        reason: 'NodeAffinity',
        message: "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector",
      }),
    ).toBe(
      "not admitted: NodeAffinity: Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector",
    );
  });
});

describe('renderExplain', () => {
  it('puts the answer first, then the next actions, other waits and each container', () => {
    const text = renderExplain({
      pod: 'ns/p',
      uid: 'u1',
      state: 'sync',
      summary: 'container c: back-off 20s restarting failed container (CrashLoopBackOff), 12s left',
      actions: [
        {
          action: 'wait',
          container: 'c',
          why: 'back-off 20s restarting failed container (CrashLoopBackOff), 12s left',
        },
      ],
      waiting: [
        'container c: back-off 20s restarting failed container (CrashLoopBackOff), 12s left',
        'in progress: pull busybox for side, for 3s (since 2026-01-01T00:00:00.000Z)',
      ],
      containers: {
        c: 'exited with code 1 (Error) at 2026-01-01T00:00:00.000Z, restarted 2 time(s)',
        side: 'not created yet',
      },
    });
    expect(text).toBe(
      [
        'pod ns/p (uid u1), worker state: sync',
        '=> container c: back-off 20s restarting failed container (CrashLoopBackOff), 12s left',
        '',
        'the next sync would:',
        '  - wait c: back-off 20s restarting failed container (CrashLoopBackOff), 12s left',
        '',
        'also waiting on:',
        '  - in progress: pull busybox for side, for 3s (since 2026-01-01T00:00:00.000Z)',
        '',
        'containers:',
        '  c     exited with code 1 (Error) at 2026-01-01T00:00:00.000Z, restarted 2 time(s)',
        '  side  not created yet',
        '',
      ].join('\n'),
    );
  });
});
